"""What can go wrong while handling an event, and what happens next (STYLE §7).

- :class:`InvalidEvent`: the message can never be processed → dead-letter topic with the reason.
- :class:`TransientError`: a dependency is briefly unavailable → retried with backoff, then DLQ.
- :class:`FlowError`: the flow cannot continue for this call → the caller hears the configured
  apology and the call ends; the runner goes on.
"""

from __future__ import annotations


class SwitchboardError(Exception):
    """Base class of Switchboard's own errors."""


class InvalidEvent(SwitchboardError):
    """A message or callback that does not parse or validate. ``field`` names the bad field."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class AuthenticationFailed(SwitchboardError):
    """A provider request whose signature or credentials do not check out (answer 401)."""


class TransientError(SwitchboardError):
    """A temporary failure of a dependency (Redis, PostgreSQL, provider API); safe to retry."""


class FlowError(SwitchboardError):
    """The flow cannot continue for this call. ``pointer`` is the JSON pointer of the action."""

    def __init__(self, message: str, *, pointer: str | None = None) -> None:
        super().__init__(message)
        self.pointer = pointer


class ProviderError(SwitchboardError):
    """The provider's API answered with an error or could not be reached."""

    def __init__(self, message: str, *, status_code: int | None = None, body: str = "") -> None:
        super().__init__(message)
        self.status_code = status_code
        self.body = body
