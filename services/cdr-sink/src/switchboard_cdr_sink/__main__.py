"""``switchboard-cdr-sink [serve|migrate]``: run the cdr-sink, or apply the database migrations."""

from __future__ import annotations

from collections.abc import Sequence

from switchboard.entrypoint import parse_command_line, serve
from switchboard_cdr_sink.settings import CdrSinkSettings

DESCRIPTION = (
    "Switchboard's cdr-sink: consumes voice.sessions-ended and voice.dial-attempts in batches and "
    "upserts one CDR per call into PostgreSQL (SB_DATABASE_URL), committing offsets after the database. "
    "Serves /health and /ready on SB_SINK_HOST:SB_SINK_PORT."
)
COMMANDS = {"serve": "run the consumer", "migrate": "apply the Alembic migrations to SB_DATABASE_URL and exit"}


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_command_line("switchboard-cdr-sink", DESCRIPTION, CdrSinkSettings, argv, commands=COMMANDS)
    settings = CdrSinkSettings()
    if args.command == "migrate":
        from switchboard_cdr_sink.migrate import upgrade

        upgrade(settings.database_url)
        return
    from switchboard_cdr_sink.app import build_app

    serve(build_app(settings), host=settings.sink_host, port=settings.sink_port, drain_s=settings.drain_s)


if __name__ == "__main__":
    main()
