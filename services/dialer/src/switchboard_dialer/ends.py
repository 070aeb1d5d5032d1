"""The dialer's side of a call's end: ``voice.sessions-ended``, read twice.

:meth:`Ends.on_session_ended` gives back the live-call leases the call held (account, tenant,
campaign; :mod:`switchboard.pacing`), so the next call of a full scope may be placed. Releasing is
idempotent (a redelivered end frees nothing twice); an end without a call id (an inbound call)
frees nothing. A record that does not parse is logged and skipped: the cdr-sink dead-letters it.

Two readers, because a consumer group alone pauses a campaign when a replica dies: until the
group hands the dead member's partitions over (the session timeout plus a rebalance, 3–14 s
measured), the ends on them are not read and their calls keep the account's slots.

- Consumer group ``dialer-ends`` (committed offsets): every end is applied at least once, across
  restarts of the whole dialer.
- Every replica also reads **all** partitions without a group, from the newest record at its
  start (``SB_DIALER_BROADCAST_ENDS``, default on): an end is released by whichever reader sees it
  first, so a dead replica's partitions never hold capacity while the group rebalances. This
  reader commits nothing; a failure in it is logged and left to the group reader.
"""

from __future__ import annotations

from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from pydantic import ValidationError

from switchboard.events import SessionEnded, decode
from switchboard.kafka import run_guarded
from switchboard.logging import get_logger
from switchboard.pacing import Admission
from switchboard.topics import Topic
from switchboard_dialer.settings import DialerSettings

GROUP_ID = "dialer-ends"
"""The consumer group that applies every end at least once."""
log = get_logger(__name__)


class Ends:
    """What the dialer does when a call ends."""

    def __init__(self, admission: Admission) -> None:
        self.admission = admission

    async def on_session_ended(self, event: SessionEnded) -> None:
        """Release every lease ``event``'s call holds. Raises redis-py's errors (retried)."""
        if event.call_id:
            await self.admission.release(event.call_id)


def subscribe(broker: KafkaBroker, ends: Ends, settings: DialerSettings) -> None:
    """Consume ``voice.sessions-ended`` in group ``dialer-ends`` (from the earliest record when the
    group is new: replaying ends is harmless, missing one holds a slot until its lease runs out)."""

    @broker.subscriber(
        Topic.SESSIONS_ENDED.value,
        group_id=GROUP_ID,
        ack_policy=AckPolicy.ACK,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=settings.fetch_max_wait_ms,
        session_timeout_ms=settings.dialer_session_timeout_ms,
        heartbeat_interval_ms=settings.dialer_heartbeat_ms,
    )
    async def on_end() -> None:
        msg = broker.context.get_local("message")
        body: bytes = msg.body
        try:
            event = decode(SessionEnded, body)
        except ValidationError as exc:
            log.warning("session end not understood; no lease released", error=str(exc)[:200])
            return
        await run_guarded(
            broker,
            Topic.SESSIONS_ENDED.value,
            body=body,
            key=msg.raw_message.key,
            handle=lambda: ends.on_session_ended(event),
            max_retries=settings.consumer_max_retries,
            transient_retry_s=settings.transient_retry_s,
        )

    if not settings.dialer_broadcast_ends:
        return

    @broker.subscriber(
        Topic.SESSIONS_ENDED.value,
        group_id=None,
        ack_policy=AckPolicy.MANUAL,
        auto_offset_reset="latest",
        fetch_max_wait_ms=settings.fetch_max_wait_ms,
    )
    async def on_end_broadcast() -> None:
        msg = broker.context.get_local("message")
        try:
            event = decode(SessionEnded, msg.body)
            await ends.on_session_ended(event)
        except Exception as exc:  # the group reader applies it
            log.debug("broadcast end not applied", error=str(exc)[:200])
