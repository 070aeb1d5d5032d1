"""``switchboard-cdr-sink [serve|migrate]``: run the cdr-sink, or apply the database migrations."""

from __future__ import annotations

import sys

import uvicorn

from switchboard_cdr_sink.settings import CdrSinkSettings


def main() -> None:
    settings = CdrSinkSettings()
    command = sys.argv[1] if len(sys.argv) > 1 else "serve"
    if command == "migrate":
        from switchboard_cdr_sink.migrate import upgrade

        upgrade(settings.database_url)
        return
    from switchboard_cdr_sink.app import build_app

    uvicorn.run(
        build_app(settings), host=settings.sink_host, port=settings.sink_port, log_level="warning", access_log=False
    )


if __name__ == "__main__":
    main()
