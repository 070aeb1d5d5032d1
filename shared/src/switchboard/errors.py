"""What can go wrong while handling an event, and what happens next (STYLE §7).

- :class:`InvalidEvent`: the message can never be processed → dead-letter topic with the reason.
- :class:`TransientError`: a dependency is briefly unavailable → retried with backoff, then DLQ.
- :class:`FlowError`: the flow cannot continue for this call → the caller hears the configured
  apology and the call ends; the runner goes on.

Over HTTP each error maps to one status and one body shape (:mod:`switchboard.problems`).
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


class Forbidden(SwitchboardError):
    """A request the guard refuses: wrong secret, source not allowed, missing scope, a destination
    the tenant's toll-fraud policy does not allow (403). ``field`` names the request field at fault."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class TooManyRequests(SwitchboardError):
    """Over a rate or a cap (per key requests, per tenant calls per second, live calls, calls per
    day): 429 with ``Retry-After`` = ``retry_after_s`` (whole seconds)."""

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = max(1, retry_after_s)
        self.headers = {"Retry-After": str(self.retry_after_s)}


class NotFound(SwitchboardError):
    """The thing a request names does not exist, or belongs to another tenant (404). ``field``
    names the request field at fault."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class Conflict(SwitchboardError):
    """The request cannot be carried out in the current state, e.g. a transfer the provider
    aborts or a provider without that feature (409)."""


class PayloadTooLarge(SwitchboardError):
    """A request body over the service's limit, refused before it is parsed (413)."""


class Unprocessable(SwitchboardError):
    """A well-formed request that names something that cannot run: an unknown account or flow, or
    a flow the provider cannot carry out (422). ``field`` names the request field; ``problems``
    are ``(JSON pointer, message)`` pairs into the flow."""

    def __init__(self, message: str, *, field: str | None = None, problems: list[tuple[str, str]] | None = None):
        super().__init__(message)
        self.field = field
        self.problems = problems or []


class ServiceUnavailable(SwitchboardError):
    """A dependency (broker, Redis) is down and the request was not carried out; retry (503)."""
