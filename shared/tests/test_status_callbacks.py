"""Status-callback signatures (docs/status-callbacks.md) and where a call's subscription comes from."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from switchboard import status_callbacks as sc
from switchboard.campaigns.models import CampaignSpec
from switchboard.campaigns.store import policy_json
from switchboard.events import StatusCallback
from switchboard.redis import notify_cfg_key, notify_early_key, notify_queue_key


def test_the_signature_is_the_documented_hmac_of_timestamp_dot_body() -> None:
    key, body, ts = "k" * 64, b'{"event":"completed"}', 1_765_000_000
    expected = hmac.new(key.encode(), b"1765000000." + body, hashlib.sha256).hexdigest()
    assert sc.sign(key, ts, body) == f"v1={expected}"
    headers = sc.headers(key, body, now=ts)
    assert headers[sc.TIMESTAMP_HEADER] == "1765000000"
    assert sc.verify(key, headers[sc.TIMESTAMP_HEADER], headers[sc.SIGNATURE_HEADER], body, now=ts + 10)


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"body": b'{"event":"answered"}'}, "another body"),
        ({"key": "x" * 64}, "another tenant's key"),
        ({"now": 1_765_000_000 + 301}, "older than five minutes"),
        ({"timestamp": "1765000001"}, "another timestamp"),
        ({"timestamp": "soon"}, "not a number"),
    ],
)
def test_a_changed_or_stale_request_does_not_verify(change: dict[str, object], why: str) -> None:
    key, body, ts = "k" * 64, b'{"event":"completed"}', 1_765_000_000
    signature = sc.sign(key, ts, body)
    args: dict[str, object] = {"key": key, "timestamp": str(ts), "body": body, "now": ts}
    args.update(change)
    assert not sc.verify(
        str(args["key"]),
        str(args["timestamp"]),
        signature,
        args["body"],
        now=float(args["now"]),  # type: ignore[arg-type]
    ), why


def test_each_tenant_has_its_own_key_from_the_platform_secret() -> None:
    a, b = sc.tenant_key("secret", "acme"), sc.tenant_key("secret", "globex")
    assert len(a) == 64 and a != b and sc.tenant_key("rotated", "acme") != a


def test_a_callback_url_must_be_http_or_https_and_events_known() -> None:
    assert StatusCallback(url="https://example.com/cb").events == ["completed"]
    for bad in ("ftp://example.com/cb", "javascript:alert(1)", "https://exa mple.com"):
        with pytest.raises(ValidationError):
            StatusCallback(url=bad)
    with pytest.raises(ValidationError):
        StatusCallback(url="https://example.com/cb", events=["hungup"])  # type: ignore[list-item]


def test_a_campaign_keeps_its_status_callback_in_its_policy() -> None:
    spec = CampaignSpec(
        name="n", flow="survey", status_callback={"url": "https://example.com/cb", "events": ["answered", "completed"]}
    )
    policy = policy_json(spec)
    assert policy["status_callback"] == {"url": "https://example.com/cb", "events": ["answered", "completed"]}
    assert "status_callback" not in policy_json(CampaignSpec(name="n", flow="survey"))


SUBSCRIPTION = {
    "url": "https://example.com/cb",
    "events": ["initiated", "ringing", "answered", "completed"],
    "tenant_id": "acme",
    "call_id": "c-1",
    "to": "+254711000001",
    "from_": "+254200000000",
    "campaign_id": None,
    "provider": "africastalking",
    "initiated_at": "2026-12-05T09:59:59Z",
}


async def queued(redis: Any, call_key: str) -> list[str]:
    return [orjson.loads(item)["e"] for item in await redis.zrange(notify_queue_key(call_key), 0, -1)]


async def test_a_ringing_that_beats_the_subscription_is_parked_and_queued_after_initiated(redis: Any) -> None:
    outbox, key = sc.Outbox(redis), "africastalking:ATVId_1"
    at = "2026-12-05T10:00:00Z"
    # the provider's callbacks come in before the dialer has subscribed the call
    assert not await outbox.queue(
        key, "answered", provider="africastalking", direction="outbound", occurred_at=at, park=True
    )
    assert not await outbox.queue(
        key, "ringing", provider="africastalking", direction="outbound", occurred_at=at, park=True
    )
    assert await queued(redis, key) == []
    early = await outbox.subscribe(key, **SUBSCRIPTION)
    assert await queued(redis, key) == ["initiated"]  # queued with the subscription, in one transaction
    assert [e["event"] for e in early] == ["ringing", "answered"]  # in the call's order
    for parked in early:
        assert await outbox.queue(key, **parked)
    assert await queued(redis, key) == ["initiated", "ringing", "answered"]
    items = [orjson.loads(orjson.loads(raw)["b"]) for raw in await redis.zrange(notify_queue_key(key), 0, -1)]
    assert items[0]["occurred_at"].startswith("2026-12-05T09:59:59") and items[0]["from"] == "+254200000000"
    assert items[1]["event"] == "ringing" and items[1]["call_id"] == "c-1" and items[1]["provider"] == "africastalking"
    # what was parked stays until it expires: a dialer that died before queuing it can do it again,
    # and queuing it twice is a no-op
    assert await redis.exists(notify_early_key(key))
    for parked in early:
        assert not await outbox.queue(key, **parked)
    assert await queued(redis, key) == ["initiated", "ringing", "answered"]
    # after the subscription nothing more is parked: the event goes to the queue (once)
    assert not await outbox.queue(
        key, "ringing", provider="africastalking", direction="outbound", occurred_at=at, park=True
    )
    assert await queued(redis, key) == ["initiated", "ringing", "answered"]


async def test_parking_refuses_once_the_call_is_subscribed_and_expires_otherwise(redis: Any) -> None:
    outbox = sc.Outbox(redis)
    await outbox.subscribe("k:subscribed", **SUBSCRIPTION)
    # the script is what decides, atomically: a subscription between the read and the park wins
    keys = [notify_cfg_key("k:subscribed"), notify_early_key("k:subscribed")]
    assert await outbox._park(keys=keys, args=["ringing", "{}", sc.EARLY_KEEP_S]) == 0
    # a call nobody subscribes (most calls) keeps its parked events two minutes at most
    await outbox.queue(
        "k:never", "ringing", provider="p", direction="outbound", occurred_at="2026-12-05T10:00:00Z", park=True
    )
    assert 0 < await redis.ttl(notify_early_key("k:never")) <= sc.EARLY_KEEP_S
    # without park (an inbound call, or completed) nothing is kept
    await outbox.queue("k:inbound", "ringing", provider="p", direction="inbound", occurred_at="2026-12-05T10:00:00Z")
    assert not await redis.exists(notify_early_key("k:inbound"))
