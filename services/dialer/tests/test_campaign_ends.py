"""The dialer's campaign-outcome consumers ask PostgreSQL only about campaign calls: an API call's
end or refusal is skipped before the database, so a database outage holds up campaign outcomes
only (in memory: FastStream's test broker runs the handler inside ``publish``)."""

from __future__ import annotations

from datetime import UTC, datetime

from faststream.kafka import TestKafkaBroker

from switchboard.events import DialAttempt, Direction, SessionEnded, encode
from switchboard.kafka import make_broker
from switchboard.topics import Topic
from switchboard_dialer import campaign_ends
from switchboard_dialer.settings import DialerSettings


def ended(**fields: object) -> SessionEnded:
    values = {
        "call_key": "africastalking:ATVId_1",
        "call_id": "c-1",
        "provider": "africastalking",
        "direction": Direction.OUTBOUND,
        "caller_number": "+254700000002",
        "destination_number": "+254711000999",
        "status": "busy",
        "ended_at": datetime.now(UTC),
        **fields,
    }
    return SessionEnded.model_validate(values)


def refused(**fields: object) -> DialAttempt:
    values = {
        "request_id": "r-1",
        "call_id": "c-2",
        "tenant_id": "default",
        "provider": "africastalking",
        "account": "default",
        "to": "+254700000002",
        "caller_id": "+254711000999",
        "flow": "survey",
        "accepted": False,
        "provider_status": "InvalidPhoneNumber",
        "requested_at": datetime.now(UTC),
        "attempted_at": datetime.now(UTC),
        **fields,
    }
    return DialAttempt.model_validate(values)


async def test_only_campaign_ends_and_refusals_reach_the_database() -> None:
    settings = DialerSettings(kafka_bootstrap="127.0.0.1:9", consumer_max_retries=1, transient_retry_s=0.1)
    broker = make_broker(settings, client_id="dialer")
    asked: list[str] = []

    async def db() -> object:
        asked.append("db")
        raise ConnectionRefusedError("PostgreSQL is down")

    campaign_ends.subscribe(broker, settings, db)  # type: ignore[arg-type]
    async with TestKafkaBroker(broker):
        await broker.publish(encode(ended()), Topic.SESSIONS_ENDED.value, key=b"k")  # an API call's end
        await broker.publish(encode(refused()), Topic.DIAL_ATTEMPTS.value, key=b"k")  # an API call refused
        accepted = refused(campaign_id="camp-1", accepted=True, provider_status="Queued", call_key="africastalking:x")
        await broker.publish(encode(accepted), Topic.DIAL_ATTEMPTS.value, key=b"k")  # it will end as a session
        assert asked == []
        await broker.publish(encode(ended(campaign_id="camp-1")), Topic.SESSIONS_ENDED.value, key=b"k")
        assert asked, "a campaign call's end is recorded"
        before = len(asked)
        await broker.publish(encode(refused(campaign_id="camp-1")), Topic.DIAL_ATTEMPTS.value, key=b"k")
        assert len(asked) > before, "a campaign call's refusal is recorded"
