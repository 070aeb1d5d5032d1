"""``switchboard-dialer``: run the dialer (health on ``SB_DIALER_HOST:SB_DIALER_PORT``)."""

from __future__ import annotations

import uvicorn

from switchboard_dialer.app import build_app
from switchboard_dialer.settings import DialerSettings


def main() -> None:
    settings = DialerSettings()
    uvicorn.run(
        build_app(settings), host=settings.dialer_host, port=settings.dialer_port, log_level="warning", access_log=False
    )


if __name__ == "__main__":
    main()
