"""``switchboard-dialer``: run the dialer (health on ``SB_DIALER_HOST:SB_DIALER_PORT``)."""

from __future__ import annotations

from collections.abc import Sequence

from switchboard.entrypoint import parse_command_line, serve
from switchboard_dialer.settings import DialerSettings

DESCRIPTION = (
    "Switchboard's dialer: consumes voice.dial-requests, places each call through the provider's REST API "
    "at most SB_DIAL_CPS calls per second, writes the call's first state to Redis and publishes a DialAttempt. "
    "Provider accounts: SB_AT_*, SB_VOX_*, SB_TS_* (each provider's default account) and SB_ACCOUNTS (JSON, "
    "named accounts). Serves /health and /ready on SB_DIALER_HOST:SB_DIALER_PORT."
)


def main(argv: Sequence[str] | None = None) -> None:
    parse_command_line("switchboard-dialer", DESCRIPTION, DialerSettings, argv)
    from switchboard_dialer.app import build_app

    settings = DialerSettings()
    serve(build_app(settings), host=settings.dialer_host, port=settings.dialer_port, drain_s=settings.drain_s)


if __name__ == "__main__":
    main()
