"""``switchboard-ingress``: serve the webhook-ingress on ``SB_INGRESS_HOST:SB_INGRESS_PORT``."""

from __future__ import annotations

from collections.abc import Sequence

from switchboard.entrypoint import parse_command_line, serve
from switchboard_ingress.settings import IngressSettings

DESCRIPTION = (
    "Switchboard's webhook-ingress: the HTTP front door. Answers provider callbacks under "
    "/providers/<provider>/t/<SB_CALLBACK_SECRET>/... (publishing each as a CallEvent and replying "
    "with the flow-runner's answer) and the call-control API under /v1 (docs at /docs). "
    "Listens on SB_INGRESS_HOST:SB_INGRESS_PORT."
)


def main(argv: Sequence[str] | None = None) -> None:
    parse_command_line("switchboard-webhook-ingress", DESCRIPTION, IngressSettings, argv, prog="switchboard-ingress")
    from switchboard_ingress.app import build_app

    settings = IngressSettings()
    serve(build_app(settings), host=settings.ingress_host, port=settings.ingress_port, drain_s=settings.drain_s)


if __name__ == "__main__":
    main()
