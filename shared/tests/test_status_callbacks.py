"""Status-callback signatures (docs/status-callbacks.md) and where a call's subscription comes from."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from pydantic import ValidationError

from switchboard import status_callbacks as sc
from switchboard.campaigns.models import CampaignSpec
from switchboard.campaigns.store import policy_json
from switchboard.events import StatusCallback


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
