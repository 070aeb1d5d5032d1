"""The Kafka topic registry (ARCHITECTURE §2). Every topic name used anywhere comes from here."""

from __future__ import annotations

from enum import StrEnum


class Topic(StrEnum):
    """Kafka topics and their keys.

    - ``CALL_EVENTS``: key = call key; producer webhook-ingress; consumer flow-runner.
    - ``DIAL_REQUESTS``: key = campaign id or request id; producer REST API; consumer dialer.
    - ``DIAL_ATTEMPTS``: key = call key (or call id when rejected); producer dialer; consumer cdr-sink.
    - ``SESSIONS_ENDED``: key = call key; producer flow-runner; consumers cdr-sink, dialer.
    - ``FLOW_ERRORS``: key = call key; producer flow-runner; consumers operators, alerting.
    - ``CDRS``: key = call key; producer cdr-sink (after the database commit); consumers analytics,
      notifier.
    - ``STATUS_CALLBACKS``: key = call key; producer notifier (each status callback delivered: the
      body POSTed, the URL and the answer in headers); consumers audit, analytics. Its ``.dlq`` holds
      the callbacks given up on.
    """

    CALL_EVENTS = "voice.call-events"
    DIAL_REQUESTS = "voice.dial-requests"
    DIAL_ATTEMPTS = "voice.dial-attempts"
    SESSIONS_ENDED = "voice.sessions-ended"
    FLOW_ERRORS = "voice.flow-errors"
    CDRS = "voice.cdrs"
    STATUS_CALLBACKS = "voice.status-callbacks"

    @property
    def dlq(self) -> str:
        """The dead-letter topic: the original bytes, the error in headers."""
        return f"{self.value}.dlq"


def all_topic_names() -> list[str]:
    """Every topic including its dead-letter topic, for topic creation."""
    return [name for t in Topic for name in (t.value, t.dlq)]
