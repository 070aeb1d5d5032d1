"""``switchboard-notifier``: run the notifier (health on ``SB_NOTIFIER_HOST:SB_NOTIFIER_PORT``)."""

from __future__ import annotations

from collections.abc import Sequence

from switchboard.entrypoint import parse_command_line, serve
from switchboard_notifier.settings import NotifierSettings

DESCRIPTION = (
    "Switchboard's notifier: POSTs each call's progress (initiated, ringing, answered, completed with its CDR) "
    "to the status callback URL the call or its campaign named, signed per tenant (X-Switchboard-Signature), "
    "in order per call, retried with backoff, dead-lettered to voice.status-callbacks.dlq after "
    "SB_NOTIFY_GIVE_UP_S. Consumes voice.call-events and voice.cdrs; the outbox is in Redis. "
    "Serves /health and /ready on SB_NOTIFIER_HOST:SB_NOTIFIER_PORT."
)


def main(argv: Sequence[str] | None = None) -> None:
    parse_command_line("switchboard-notifier", DESCRIPTION, NotifierSettings, argv)
    from switchboard_notifier.app import build_app

    settings = NotifierSettings()
    serve(build_app(settings), host=settings.notifier_host, port=settings.notifier_port, drain_s=settings.drain_s)


if __name__ == "__main__":
    main()
