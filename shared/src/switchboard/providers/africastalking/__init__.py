"""Africa's Talking Voice adapter. Reference: ``shared/specs/providers/africastalking.md``.

:data:`PROVIDER` is the package's :class:`~switchboard.providers.base.Provider`.
"""

from switchboard.providers.africastalking.callbacks import dedupe_key, parse_callback
from switchboard.providers.africastalking.capabilities import CAPABILITIES
from switchboard.providers.africastalking.client import (
    AfricasTalkingClient,
    PlaceCallResult,
    QueueEntry,
    TransferResult,
)
from switchboard.providers.africastalking.provider import PROVIDER
from switchboard.providers.africastalking.render import CONTENT_TYPE, render

__all__ = [
    "CAPABILITIES",
    "CONTENT_TYPE",
    "PROVIDER",
    "AfricasTalkingClient",
    "PlaceCallResult",
    "QueueEntry",
    "TransferResult",
    "dedupe_key",
    "parse_callback",
    "render",
]
