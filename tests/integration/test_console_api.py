"""The console's server side against the real stack: login sessions (cookie flags, CSRF, a revoked
key ends them, no open redirect), security headers, scopes on the console's own routes, the live
stream (a call appears and leaves; fallbacks counted), the flow validator with lines."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import create_async_engine

from switchboard.redis import call_starts_key
from switchboard_api.tenancy import SCOPES, TenantStore
from switchboard_devstack.stack import Stack
from switchboard_devstack.testing import wait_for


@pytest.fixture(scope="module")
async def store(stack: Stack) -> AsyncIterator[TenantStore]:
    engine = create_async_engine(stack.config.database_url.replace("postgresql://", "postgresql+asyncpg://"))
    yield TenantStore(engine)
    await engine.dispose()


@contextlib.asynccontextmanager
async def logged_in(stack: Stack, key: str) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """A client holding a console session made with ``key``, and the session's CSRF token."""
    async with httpx.AsyncClient(base_url=stack.config.api_url, timeout=30) as client:
        r = await client.post("/console/login", data={"key": key, "next": "/console/flows"})
        assert r.status_code == 303 and r.headers["location"] == "/console/flows", r.text
        page = (await client.get("/console/flows")).text
        yield client, page.split('name="csrf-token" content="')[1].split('"')[0]


async def test_login_sets_a_strict_httponly_cookie_and_pages_carry_a_csp(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.config.api_url, timeout=30) as client:
        r = await client.get("/console/calls")
        assert r.status_code == 303 and r.headers["location"] == "/console/login?next=/console/calls"
        r = await client.post("/console/login", data={"key": stack.api_key(), "next": "/console/calls"})
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
        page = await client.get("/console/calls")
        assert page.status_code == 200
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert page.headers["x-content-type-options"] == "nosniff"


async def test_a_wrong_key_is_refused_and_next_never_leaves_the_console(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.config.api_url, timeout=30) as client:
        r = await client.post("/console/login", data={"key": "sb_" + "0" * 16 + "_" + "A" * 43})
        assert r.status_code == 401 and "That key was not accepted." in r.text
        assert "set-cookie" not in r.headers
        for target in ("https://evil.example/", "//evil.example/x", "/v1/calls", "javascript:alert(1)"):
            r = await client.post("/console/login", data={"key": stack.api_key(), "next": target})
            assert r.headers["location"] == "/console/live", target


async def test_a_session_acts_as_its_key_and_changes_need_the_csrf_token(stack: Stack) -> None:
    async with logged_in(stack, stack.api_key()) as (client, csrf):
        assert (await client.get("/v1/flows")).status_code == 200  # no Authorization header: the cookie
        body = {"text": "actions: []"}
        r = await client.post("/v1/flows/validate", json=body)
        assert r.status_code == 403 and "X-CSRF-Token" in r.json()["detail"]
        r = await client.post("/v1/flows/validate", json=body, headers={"X-CSRF-Token": "wrong" + csrf})
        assert r.status_code == 403
        r = await client.post("/v1/flows/validate", json=body, headers={"X-CSRF-Token": csrf})
        assert r.status_code == 200, r.text
        # logging out needs the token too, and ends the session
        await client.post("/console/logout", data={"csrf": csrf})
        assert (await client.get("/v1/flows")).status_code == 401


async def test_revoking_the_key_ends_its_sessions(stack: Stack, store: TenantStore) -> None:
    info, key = await store.create_key("local", list(SCOPES), name="supervisor")
    async with logged_in(stack, key) as (client, _):
        assert (await client.get("/v1/campaigns")).status_code == 200
        await store.revoke(info.key_id)
        assert (await client.get("/v1/campaigns")).status_code == 401
        r = await client.get("/console/live")
        assert r.status_code == 303 and r.headers["location"].startswith("/console/login")


async def test_a_read_only_key_sees_pages_but_cannot_call(stack: Stack, store: TenantStore) -> None:
    _, key = await store.create_key("local", ["cdrs:read", "flows:read"], name="analyst")
    async with logged_in(stack, key) as (client, csrf):
        assert (await client.get("/console/reports")).status_code == 200
        assert (await client.get("/v1/calls")).status_code == 200
        r = await client.post("/console/try/phones", headers={"X-CSRF-Token": csrf})
        assert r.status_code == 403 and "calls:write" in r.json()["detail"]
        assert (await client.get("/console/live/events")).status_code == 403  # calls:read


async def first_snapshots(client: httpx.AsyncClient, count: int) -> list[dict[str, Any]]:
    snaps = []
    async with client.stream("GET", "/console/live/events") as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        async for line in r.aiter_lines():
            if line.startswith("data: "):
                snaps.append(orjson.loads(line[6:]))
                if len(snaps) == count:
                    break
    return snaps


async def test_the_live_stream_shows_a_call_until_it_ends(stack: Stack, store: TenantStore) -> None:
    async with logged_in(stack, stack.api_key()) as (client, csrf):
        headers = {"X-CSRF-Token": csrf}
        r = await client.post("/console/try/phones", headers=headers)  # an interactive phone, as the flow page
        assert r.status_code == 201, r.text
        number = r.json()["number"]
        async with httpx.AsyncClient(base_url=stack.config.sim_url, timeout=10) as sim:
            r = await client.post("/v1/calls", json={"to": number, "flow": "survey"}, headers=headers)
            assert r.status_code in (200, 201, 202), r.text

            async def row() -> dict[str, Any] | None:
                snap = (await first_snapshots(client, 1))[0]
                found = next((c for c in snap["calls"] if c["number"] == number), None)
                seen.append(found)
                return found if found and found["waiting"] == "COLLECT" else None

            seen: list[dict[str, Any] | None] = []
            call = await wait_for(row, 30)
            assert call["flow"] == "survey" and call["action"] == "COLLECT" and call["answered"]
            assert call["pointer"] == "/actions/3" and call["direction"] == "outbound"
            snap = (await first_snapshots(client, 1))[0]
            assert snap["live_calls"] >= 1 and snap["cps_60s"] > 0
            assert set(snap["lag"]) == {"flow-runner", "dialer", "cdr-sink"}
            trail = (await client.get(f"/console/live/calls/{call['call_key']}")).json()["trail"]
            assert [e["a"] for e in trail if e["k"] == "act"][-1] == "COLLECT"
            # the phone's side, as the flow page reads it
            heard = (await client.get(f"/console/try/phones/{number}")).json()["call"]["transcript"]
            assert any("how satisfied" in e.get("text", "") for e in heard)
            await sim.post(f"/sim/phones/{number}/hangup")

            async def gone() -> bool:
                snap = (await first_snapshots(client, 1))[0]
                return all(c["number"] != number for c in snap["calls"])

            await wait_for(gone, 30)
        ended = await client.get(f"/console/live/calls/{call['call_key']}")  # kept a while for late duplicates
        assert ended.status_code == 200 and ended.json()["status"] == "ended"
        r = await client.get("/console/try/phones/+15550001111")  # not a console phone
        assert r.status_code == 404
    # another tenant's session is not told of this tenant's phone
    other = f"t-{secrets.token_hex(5)}"
    await store.create_tenant(other)
    _, key = await store.create_key(other, list(SCOPES), name="other")
    async with logged_in(stack, key) as (stranger, csrf):
        assert (await stranger.get(f"/console/try/phones/{number}")).status_code == 404
        r = await stranger.post(
            f"/console/try/phones/{number}/keys", json={"digits": "1"}, headers={"X-CSRF-Token": csrf}
        )
        assert r.status_code == 404


async def test_fallbacks_are_counted_for_the_live_page(stack: Stack) -> None:
    async with logged_in(stack, stack.api_key()) as (client, _):
        before = (await first_snapshots(client, 1))[0]["fallbacks_5m"]
        await asyncio.to_thread(stack.pause, "flow-runner")  # the runner hangs: the ingress falls back
        try:
            async with httpx.AsyncClient(base_url=stack.config.sim_url, timeout=10) as sim:
                caller = "+25470" + "".join(secrets.choice("0123456789") for _ in range(7))
                await sim.post("/sim/inbound", json={"caller": caller, "to": "+254711000100", "digits": ["3"]})

                async def counted() -> bool:
                    return (await first_snapshots(client, 1))[0]["fallbacks_5m"] > before

                await wait_for(counted, 20)
        finally:
            await asyncio.to_thread(stack.resume, "flow-runner")


async def test_the_validator_answers_problems_at_their_lines(stack: Stack) -> None:
    headers = {"Authorization": f"Bearer {stack.api_key()}"}
    async with httpx.AsyncClient(base_url=stack.config.api_url, headers=headers, timeout=30) as api:
        listed = {f["name"]: f for f in (await api.get("/v1/flows")).json()}
        survey = (await api.get("/v1/flows/survey")).json()
        assert survey["version"] == listed["survey"]["version"] and "type: COLLECT" in survey["source"]
        ok = (await api.post("/v1/flows/validate", json={"text": survey["source"]})).json()
        assert (ok["valid"], ok["version"], ok["problems"]) == (True, survey["version"], [])
        assert ok["document"]["name"] == "survey" and ok["document"]["actions"][3]["type"] == "COLLECT"
        text = "name: t\nactions:\n  - type: SAY\n    params:\n      txt: hello\n"
        answer = (await api.post("/v1/flows/validate", json={"text": text})).json()
        assert answer["valid"] is False and answer["version"] is None
        assert {(p["pointer"], p["line"]) for p in answer["problems"]} == {
            ("/actions/0/params", 4),
            ("/actions/0/params/txt", 5),
        }
        # what a provider cannot carry out, at its line
        pause = "actions:\n  - type: SAY\n    params: {text: hi}\n  - type: PAUSE\n    params: {length: 2}\n"
        assert (await api.post("/v1/flows/validate", json={"text": pause})).json()["valid"] is True
        on_at = (await api.post("/v1/flows/validate", json={"text": pause, "provider": "africastalking"})).json()
        assert on_at["valid"] is False and on_at["problems"][0]["line"] == 4
        r = await api.post("/v1/flows/validate", json={"text": pause, "provider": "nope"})
        assert r.status_code == 400 and r.json()["field"] == "provider"
        assert (await api.get("/v1/flows/no-such-flow")).status_code == 404


async def test_a_ringing_call_is_live_until_it_goes_unanswered(stack: Stack) -> None:
    number = "+25470" + "".join(secrets.choice("0123456789") for _ in range(7))
    async with logged_in(stack, stack.api_key()) as (client, csrf):
        async with httpx.AsyncClient(base_url=stack.config.sim_url, timeout=10) as sim:
            # rings for 300 simulated seconds (6 s at the test stack's speed), then nobody answers
            await sim.put(f"/sim/phones/{number}", json={"answer": "no-answer", "ring_s": 300})
        r = await client.post("/v1/calls", json={"to": number, "flow": "survey"}, headers={"X-CSRF-Token": csrf})
        assert r.status_code in (200, 201, 202), r.text

        async def ringing() -> dict[str, Any] | None:
            snap = (await first_snapshots(client, 1))[0]
            return next((c for c in snap["calls"] if c["number"] == number), None)

        call = await wait_for(ringing, 10)
        assert call["status"] == "dialing" and not call["answered"] and call["action"] is None

        async def gone() -> bool:
            return await ringing() is None

        await wait_for(gone, 30)


async def test_a_flow_document_needs_flows_write_and_is_checked_before_the_call(
    stack: Stack, store: TenantStore
) -> None:
    doc = {"name": "draft", "actions": [{"type": "SAY", "params": {"text": "hi"}}, {"type": "PAUSE"}]}
    body = {"to": "+254700000123", "flow": "survey", "flow_document": doc}
    _, caller = await store.create_key("local", ["calls:write"], name="caller only")
    async with httpx.AsyncClient(base_url=stack.config.api_url, timeout=30) as api:
        r = await api.post("/v1/calls", json=body, headers={"Authorization": f"Bearer {caller}"})
        assert r.status_code == 403 and r.json()["field"] == "flow_document"
        r = await api.post("/v1/calls", json=body, headers={"Authorization": f"Bearer {stack.api_key()}"})
        problem = r.json()
        assert r.status_code == 422 and problem["field"] == "flow_document", r.text
        assert problem["problems"][0]["pointer"] == "/flow_document/actions/1/type"  # no PAUSE on Africa's Talking


async def test_an_inbound_call_joins_the_live_set_once_and_leaves_it(stack: Stack) -> None:
    """Inbound calls reach the live set through the flow-runner (no dialer): counted as a start,
    gone when they end."""
    caller = "+25470" + "".join(secrets.choice("0123456789") for _ in range(7))
    key = orjson.loads((stack.root / "api-key-default.json").read_bytes())["key"]  # inbound numbers: default's
    async with logged_in(stack, key) as (client, _):
        placed_at = int(time.time())
        async with httpx.AsyncClient(base_url=stack.config.sim_url, timeout=10) as sim:
            r = await sim.post("/sim/inbound", json={"caller": caller, "to": "+254711000100", "digits": ["4"]})
            session = r.json()["session_id"]

            async def ended() -> bool:
                return bool((await sim.get(f"/sim/calls/{session}")).json()["final_posted"])

            await wait_for(ended, 30)

        async def gone() -> bool:
            snap = (await first_snapshots(client, 1))[0]
            return all(c["number"] != caller for c in snap["calls"])

        await wait_for(gone, 20)
        # counted as a start in the seconds since it was placed: the counters the page's calls per
        # second are made of, read here without the page's sliding minute (earlier tests' calls
        # leave that minute while this one runs)
        redis = aioredis.from_url(stack.config.redis_url)
        try:
            seconds = range(placed_at, int(time.time()) + 1)
            starts = await redis.mget([call_starts_key("default", second) for second in seconds])
        finally:
            await redis.aclose()
        assert sum(int(v) for v in starts if v) >= 1
