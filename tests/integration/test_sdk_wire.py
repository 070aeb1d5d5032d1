"""The ingress accepts Telesign events signed the way the official SDK's helper reads them, and a
correctly signed event next to a stale second header (telesign.md §5; issue 9)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid

import orjson
import pytest

from switchboard_devstack.stack import TS_SIM_KEY

pytestmark = pytest.mark.integration


def signed(event: dict) -> tuple[bytes, str]:
    raw = orjson.dumps(event)
    return raw, base64.b64encode(hmac.new(base64.b64decode(TS_SIM_KEY), raw, hashlib.sha256).digest()).decode()


def incoming() -> dict:
    ref = uuid.uuid4().hex.upper()
    return {"event": "incoming_call", "reference_id": ref, "data": {"to": "15550000920", "from": "15550000001"}}


async def test_a_correct_authorization_next_to_a_stale_x_ts_authorization_is_accepted(stack, http):
    raw, good = signed(incoming())
    _, stale = signed(incoming())
    headers = {
        "Content-Type": "application/json",
        "Authorization": f"TSA SIM-CUSTOMER-0001:{good}",
        "X-TS-Authorization": stale,
    }
    r = await http.post(stack.config.ts_callback_url, content=raw, headers=headers)
    assert r.status_code == 200 and r.json()["method"] == "speak", r.text


async def test_the_sdk_form_bare_signature_in_authorization_is_accepted(stack, http):
    raw, good = signed(incoming())
    headers = {"Content-Type": "application/json", "Authorization": good}
    r = await http.post(stack.config.ts_callback_url, content=raw, headers=headers)
    assert r.status_code == 200 and r.json()["method"] == "speak", r.text
    _, stale = signed(incoming())
    r = await http.post(stack.config.ts_callback_url, content=raw, headers={**headers, "Authorization": stale})
    assert r.status_code == 401
