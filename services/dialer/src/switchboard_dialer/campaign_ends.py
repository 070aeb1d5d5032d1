"""Campaign outcomes in the dialer: ``voice.sessions-ended`` (consumer group
``dialer-campaign-ends``) and the provider's refusals on ``voice.dial-attempts`` (group
``dialer-campaign-attempts``, since a refused dial never ends as a session) become the outcome of
the campaign attempt with the same ``call_id`` (:func:`switchboard.campaigns.outcomes.record_outcome`:
retry after the rule's delay, or final). Events of calls that are not campaign attempts are
skipped before the database is asked (an outage of PostgreSQL holds up campaign outcomes only);
ones that do not decode are skipped with a warning (the
cdr-sink dead-letters them: one DLQ record per bad record). A database outage is retried
(``run_guarded``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from pydantic import ValidationError

from switchboard.campaigns.outcomes import outcome_of, record_outcome
from switchboard.events import DialAttempt, SessionEnded, decode
from switchboard.kafka import run_guarded
from switchboard.logging import get_logger
from switchboard.topics import Topic
from switchboard_dialer.settings import DialerSettings

log = get_logger(__name__)
ENDS_GROUP = "dialer-campaign-ends"
ATTEMPTS_GROUP = "dialer-campaign-attempts"


def is_campaign_end(event: SessionEnded) -> bool:
    """The end of a campaign attempt (the others are not the campaigns' business)."""
    return event.campaign_id is not None and event.call_id is not None


def is_campaign_refusal(attempt: DialAttempt) -> bool:
    """A campaign attempt's dial the provider refused (it will never end as a session)."""
    return not attempt.accepted and attempt.campaign_id is not None


async def on_campaign_session_ended(pool: asyncpg.Pool, event: SessionEnded) -> str | None:
    """Record a campaign call's end; the contact's new state, or None for other calls."""
    if not is_campaign_end(event):
        return None
    assert event.call_id is not None
    state = await record_outcome(
        pool,
        call_id=event.call_id,
        outcome=outcome_of(event.status, event.hangup_cause, event.inputs),
        at=event.ended_at,
        hangup_cause=event.hangup_cause,
        duration_s=event.duration_s,
    )
    if state:
        log.info("campaign attempt ended", campaign_id=event.campaign_id, call_id=event.call_id, contact=state)
    return state


async def on_campaign_dial_attempt(pool: asyncpg.Pool, attempt: DialAttempt) -> str | None:
    """A dial the provider refused ends the attempt as ``failed`` (detail: the provider's word)."""
    if not is_campaign_refusal(attempt):
        return None
    return await record_outcome(
        pool,
        call_id=attempt.call_id,
        outcome="failed",
        at=attempt.attempted_at,
        detail=f"provider refused the dial: {attempt.provider_status}",
    )


def subscribe(broker: KafkaBroker, settings: DialerSettings, db: Callable[[], Awaitable[asyncpg.Pool]]) -> None:
    for topic, group, model, relevant, handler in (
        (Topic.SESSIONS_ENDED.value, ENDS_GROUP, SessionEnded, is_campaign_end, on_campaign_session_ended),
        (Topic.DIAL_ATTEMPTS.value, ATTEMPTS_GROUP, DialAttempt, is_campaign_refusal, on_campaign_dial_attempt),
    ):
        _subscribe_one(broker, settings, db, topic, group, model, relevant, handler)


def _subscribe_one(broker, settings, db, topic, group, model, relevant, handler) -> None:
    @broker.subscriber(
        topic,
        group_id=group,
        ack_policy=AckPolicy.ACK,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=settings.fetch_max_wait_ms,
    )
    async def consume() -> None:
        msg = broker.context.get_local("message")
        body: bytes = msg.body
        try:
            event = decode(model, body)
        except ValidationError as exc:  # the cdr-sink dead-letters it; here it is only skipped
            log.warning("record not understood; no campaign outcome", topic=topic, error=str(exc)[:200])
            return
        if not relevant(event):
            return

        async def handle() -> None:
            await handler(await db(), event)

        await run_guarded(
            broker, topic, body=body, key=msg.raw_message.key, handle=handle,
            max_retries=settings.consumer_max_retries, transient_retry_s=settings.transient_retry_s,
        )  # fmt: skip
