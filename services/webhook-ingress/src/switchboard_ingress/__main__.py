"""``switchboard-ingress``: serve the webhook-ingress on ``SB_INGRESS_HOST:SB_INGRESS_PORT``."""

from __future__ import annotations

import uvicorn

from switchboard_ingress.app import build_app
from switchboard_ingress.settings import IngressSettings


def main() -> None:
    settings = IngressSettings()
    uvicorn.run(
        build_app(settings),
        host=settings.ingress_host,
        port=settings.ingress_port,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
