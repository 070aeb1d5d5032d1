"""The control plane's guards on the real stack: API keys and scopes on every route (the routes are
enumerated from the app, so a new route without a probe here fails), tenant isolation, the
toll-fraud guards and caps (refused with the reason, and no dial request reaches the dialer), the
per-key rate limit, revocation and expiry, and the audit log."""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import phonenumbers
import pytest
import redis.asyncio as aioredis
from phonenumbers import PhoneNumberType
from sqlalchemy.ext.asyncio import create_async_engine

from switchboard.events import DialRequest, Direction, decode
from switchboard.state import CallState, StateStore
from switchboard.topics import Topic
from switchboard_api.app import build_app
from switchboard_api.settings import ApiSettings
from switchboard_api.tenancy import SCOPES, Policy, TenantStore

from .helpers import read_topic, wait_cdr, wait_for

pytestmark = pytest.mark.integration

OPS_ROUTES = {"/health", "/ready", "/metrics", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


def number() -> str:
    return f"+2547{uuid.uuid4().int % 10**8:08d}"


def e164(region: str, kind: int) -> str:
    example = phonenumbers.example_number_for_type(region, kind)
    assert example is not None
    return phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)


def control_plane_routes() -> set[tuple[str, str]]:
    """Every (method, path) the api app serves, from its OpenAPI document (FastAPI 0.165 nests
    included routers in private objects; every route of ours is in the schema)."""
    app = build_app(ApiSettings())
    assert all(getattr(r, "include_in_schema", True) for r in app.routes if getattr(r, "path", None) not in OPS_ROUTES)
    return {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path not in OPS_ROUTES
        for method in operations
    }


class Keys:
    """Tenants and keys made for this module, straight in the stack's database."""

    def __init__(self, stack) -> None:  # type: ignore[no-untyped-def]
        self.stack = stack
        self.engine = create_async_engine(stack.config.database_url.replace("postgresql://", "postgresql+asyncpg://"))
        self.store = TenantStore(self.engine)

    async def tenant(self, policy: Policy, scopes: list[str] | None = None, **key: Any) -> tuple[str, str]:
        """A new tenant with ``policy`` and a key with ``scopes`` (default: all): (tenant id, key)."""
        tenant_id = f"t-{uuid.uuid4().hex[:10]}"
        await self.store.create_tenant(tenant_id, policy=policy)
        _, full = await self.store.create_key(tenant_id, scopes or list(SCOPES), **key)
        return tenant_id, full

    async def key(self, tenant_id: str, scopes: list[str], **key: Any) -> str:
        return (await self.store.create_key(tenant_id, scopes, **key))[1]


@pytest.fixture(scope="module")
async def keys(stack) -> AsyncIterator[Keys]:  # type: ignore[no-untyped-def]
    made = Keys(stack)
    yield made
    await made.engine.dispose()


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def live_call_of(stack, tenant_id: str) -> str:  # type: ignore[no-untyped-def]
    """A call id whose state belongs to ``tenant_id`` (written as the dialer writes it)."""
    redis = aioredis.from_url(stack.config.redis_url)
    try:
        store = StateStore(redis)
        call_id = str(uuid.uuid4())
        call_key = f"africastalking:ATVId_{uuid.uuid4().hex[:12]}"
        state = CallState(
            call_key=call_key, call_id=call_id, tenant_id=tenant_id, provider="africastalking",
            direction=Direction.OUTBOUND, caller_number=number(), destination_number="+254711000100",
        )  # fmt: skip
        await store.create_if_absent(state)
        await store.link_call_id(call_id, call_key)
        return call_id
    finally:
        await redis.aclose()


def probes(
    call_id: str, campaign_id: str = "cmp_0000000000000000", contact_id: int = 1
) -> dict[tuple[str, str], dict[str, Any]]:
    """One well-formed request per control-plane route; every route must have one (see
    :func:`test_every_route_needs_a_key_and_its_scope`). ``scope``: what the route needs."""
    c = f"/v1/campaigns/{campaign_id}"
    csv = {"content": f"phone\n{number()}\n".encode(), "headers": {"Content-Type": "text/csv"}}
    return {
        ("GET", "/voice/"): {"url": "/voice/", "scope": "calls:read"},
        ("GET", "/voice/invoke-call"): {
            "url": "/voice/invoke-call", "params": {"phone": number(), "flow": "survey"}, "scope": "calls:write",
        },
        ("POST", "/v1/calls"): {
            "url": "/v1/calls", "json": {"to": number(), "flow": "survey"}, "scope": "calls:write",
        },
        ("POST", "/v1/calls/{call_id}/transfer"): {
            "url": f"/v1/calls/{call_id}/transfer", "json": {"phone_number": "+254700000020"}, "scope": "calls:write",
        },
        ("GET", "/v1/status-callbacks/key"): {"url": "/v1/status-callbacks/key", "scope": "calls:read"},
        ("GET", "/v1/queues"): {
            "url": "/v1/queues", "params": {"phone_numbers": "+254711000301"}, "scope": "calls:read",
        },
        ("POST", "/v1/media"): {
            "url": "/v1/media", "json": {"phone_number": "+254711000100", "url": "https://m.example.test/a.mp3"},
            "scope": "flows:write",
        },
        ("POST", "/v1/campaigns"): {
            "url": "/v1/campaigns", "json": {"name": "probe", "flow": "survey"}, "scope": "campaigns:write",
        },
        ("GET", "/v1/campaigns/{campaign_id}"): {"url": c, "scope": "campaigns:read"},
        ("POST", "/v1/campaigns/{campaign_id}/contacts"): {
            "url": f"{c}/contacts", **csv, "scope": "campaigns:write",
        },
        ("GET", "/v1/campaigns/{campaign_id}/contacts"): {"url": f"{c}/contacts", "scope": "campaigns:read"},
        ("POST", "/v1/campaigns/{campaign_id}/start"): {"url": f"{c}/start", "scope": "campaigns:write"},
        ("POST", "/v1/campaigns/{campaign_id}/pause"): {"url": f"{c}/pause", "scope": "campaigns:write"},
        ("POST", "/v1/campaigns/{campaign_id}/resume"): {"url": f"{c}/resume", "scope": "campaigns:write"},
        ("POST", "/v1/campaigns/{campaign_id}/cancel"): {"url": f"{c}/cancel", "scope": "campaigns:write"},
        ("GET", "/v1/campaigns/{campaign_id}/progress"): {"url": f"{c}/progress", "scope": "campaigns:read"},
        ("GET", "/v1/campaigns/{campaign_id}/contacts/{contact_id}/attempts"): {
            "url": f"{c}/contacts/{contact_id}/attempts", "scope": "campaigns:read",
        },
        ("POST", "/v1/dnc"): {"url": "/v1/dnc", "json": {"numbers": ["+254700000099"]}, "scope": "campaigns:write"},
        ("PUT", "/v1/dnc/lists/{name}"): {"url": "/v1/dnc/lists/probe", **csv, "scope": "campaigns:write"},
        ("GET", "/v1/dnc/lists"): {"url": "/v1/dnc/lists", "scope": "campaigns:read"},
        ("GET", "/v1/calls/{call_id}"): {"url": f"/v1/calls/{call_id}", "scope": "cdrs:read"},
        ("GET", "/v1/calls"): {"url": "/v1/calls", "scope": "cdrs:read"},
        ("GET", "/v1/calls.csv"): {"url": "/v1/calls.csv", "scope": "cdrs:read"},
        ("GET", "/v1/calls.ndjson"): {"url": "/v1/calls.ndjson", "scope": "cdrs:read"},
        ("GET", "/v1/reports/summary"): {
            "url": "/v1/reports/summary", "params": {"group_by": "day"}, "scope": "cdrs:read",
        },
        ("GET", "/v1/reports/funnel"): {
            "url": "/v1/reports/funnel", "params": {"flow": "survey"}, "scope": "cdrs:read",
        },
        ("GET", "/v1/campaigns"): {"url": "/v1/campaigns", "scope": "campaigns:read"},
        ("GET", "/v1/flows"): {"url": "/v1/flows", "scope": "flows:read"},
        ("GET", "/v1/flows/{name}"): {"url": "/v1/flows/survey", "scope": "flows:read"},
        ("POST", "/v1/flows/validate"): {
            "url": "/v1/flows/validate", "json": {"text": "actions: []"}, "scope": "flows:read",
        },
    }  # fmt: skip


async def send(client: httpx.AsyncClient, method: str, probe: dict[str, Any], **kw: Any) -> httpx.Response:
    headers = {**probe.get("headers", {}), **kw.pop("headers", {})}
    return await client.request(
        method, probe["url"], params=probe.get("params"), json=probe.get("json"), content=probe.get("content"),
        headers=headers, **kw,
    )  # fmt: skip


def assert_problem(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"] == "application/problem+json"
    return dict(r.json())


async def test_every_route_needs_a_key_and_its_scope(stack, keys, http):
    """Anonymous → 401, a bad or malformed key → 401, a key without the route's scope → 403."""
    routes = control_plane_routes()
    table = probes("any")
    assert routes == set(table), f"routes without a probe here: {routes - set(table)}"
    local = "local"
    forged = "sb_" + "0" * 16 + "_" + "A" * 43
    async with httpx.AsyncClient(base_url=stack.config.api_url, timeout=30) as api:
        for (method, _), probe in table.items():
            for headers in ({}, bearer(forged), bearer("not-a-key"), {"Authorization": "Basic !!"}):
                problem = assert_problem(await send(api, method, probe, headers=headers), 401)
                assert problem["type"] == "urn:switchboard:problem:unauthenticated"
            others = [s for s in SCOPES if s not in (probe["scope"], "admin")]
            narrow = await keys.key(local, others)
            problem = assert_problem(await send(api, method, probe, headers=bearer(narrow)), 403)
            assert probe["scope"] in problem["detail"]
    assert (await http.get(f"{stack.config.api_url}/voice/")).headers["www-authenticate"].startswith("Bearer")


async def test_another_tenants_key_gets_404_on_every_route(stack, keys):
    """A key of one tenant can neither read nor touch what belongs to another: the call of another
    tenant, a provider account it does not have. Routes that name nothing of anybody's say why."""
    call_id = await live_call_of(stack, "local")
    # a campaign of the local tenant, with one contact
    async with httpx.AsyncClient(base_url=stack.config.api_url, headers=bearer(stack.api_key()), timeout=30) as api:
        r = await api.post("/v1/campaigns", json={"name": "owned", "flow": "survey"})
        campaign_id = r.json()["campaign_id"]
        await api.post(f"/v1/campaigns/{campaign_id}/contacts", json=[{"phone": number()}])
        contact_id = (await api.get(f"/v1/campaigns/{campaign_id}/contacts")).json()[0]["contact_id"]
    # a tenant of its own: Kenyan numbers, but only the ke-ops account
    _, stranger = await keys.tenant(Policy(numbers=["+254711000555"], accounts=["africastalking:ke-ops"]))
    names_nothing = {
        ("GET", "/voice/"): "a status answer: names nothing that belongs to a tenant",
        ("POST", "/v1/dnc"): "adds to the caller's own do-not-call list",
        ("PUT", "/v1/dnc/lists/{name}"): "replaces the caller's own list of that name",
        ("GET", "/v1/dnc/lists"): "lists the caller's own lists",
        # lists, exports and reports answer with the key's own tenant's rows (none here), never 404
        ("GET", "/v1/calls"): "the stranger's own (empty) list",
        ("GET", "/v1/calls.csv"): "the stranger's own (empty) export",
        ("GET", "/v1/calls.ndjson"): "the stranger's own (empty) export",
        ("GET", "/v1/reports/summary"): "the stranger's own (empty) report",
        ("GET", "/v1/reports/funnel"): "the stranger's own (empty) funnel",
        ("GET", "/v1/status-callbacks/key"): "the stranger's own signing key",
        ("GET", "/v1/campaigns"): "the stranger's own (empty) campaign list",
        # a tenant without a flows folder runs the top-level flows: they are its own too
        ("GET", "/v1/flows"): "the flows the stranger's calls run",
        ("GET", "/v1/flows/{name}"): "a flow the stranger's calls run (its versions from its own CDRs)",
        ("POST", "/v1/flows/validate"): "checks the text sent, names nothing stored",
    }
    async with httpx.AsyncClient(base_url=stack.config.api_url, headers=bearer(stranger), timeout=30) as api:
        for (method, path), probe in probes(call_id, campaign_id, contact_id).items():
            r = await send(api, method, probe)
            if (method, path) in names_nothing:
                assert r.status_code == 200, (path, r.text)
                continue
            # transfer: another tenant's call; campaigns: another tenant's; the rest: the default
            # account, which it does not have
            assert_problem(r, 404)
        # the stranger's own lists do not hold the local tenant's numbers, nor the other way round
        assert {x["name"] for x in (await api.get("/v1/dnc/lists")).json()} == {"tenant", "probe"}
    # the owner of the call is not refused as a stranger (the provider has no such live call)
    async with httpx.AsyncClient(base_url=stack.config.api_url, headers=bearer(stack.api_key()), timeout=30) as api:
        r = await api.post(f"/v1/calls/{call_id}/transfer", json={"phone_number": "+254700000020"})
        assert r.status_code not in (401, 403, 404), r.text
        r = await api.get(f"/v1/campaigns/{campaign_id}/contacts/{contact_id}/attempts")
        assert r.status_code == 200, r.text


async def dialed(stack, numbers: set[str]) -> set[str]:  # type: ignore[no-untyped-def]
    """Which of ``numbers`` a dial request on ``voice.dial-requests`` was published for."""
    records = await read_topic(stack, Topic.DIAL_REQUESTS.value, idle_s=1.5)
    return {r.to for r in (decode(DialRequest, rec.value) for rec in records)} & numbers


async def test_destination_guards_refuse_before_anything_is_published(stack, keys):
    tenant_id, key = await keys.tenant(Policy(numbers=["+254711000100"], accounts=["*:*"]))
    refused: set[str] = set()
    async with httpx.AsyncClient(base_url=stack.config.api_url, headers=bearer(key), timeout=30) as api:
        premium = e164("KE", PhoneNumberType.PREMIUM_RATE)
        problem = assert_problem(await api.post("/v1/calls", json={"to": premium, "flow": "survey"}), 403)
        assert problem["field"] == "to" and "PREMIUM_RATE" in problem["detail"]
        refused.add(premium)
        abroad = e164("GB", PhoneNumberType.MOBILE)
        problem = assert_problem(await api.get("/voice/invoke-call", params={"phone": abroad}), 403)
        assert problem["field"] == "to" and "GB" in problem["detail"] and "KE" in problem["detail"]
        refused.add(abroad)
        fine = number()
        r = await api.post("/v1/calls", json={"to": fine, "flow": "survey"})
        assert r.status_code in (200, 202), r.text
    # a tenant that allows Great Britain still may not call its personal (070) or premium numbers
    _, uk = await keys.tenant(Policy(allowed_countries=["GB"], accounts=["*:*"]))
    async with httpx.AsyncClient(base_url=stack.config.api_url, headers=bearer(uk), timeout=30) as api:
        for kind, name in ((PhoneNumberType.PERSONAL_NUMBER, "PERSONAL_NUMBER"), (PhoneNumberType.UAN, "UAN")):
            to = e164("GB", kind)
            problem = assert_problem(await api.post("/v1/calls", json={"to": to, "flow": "survey"}), 403)
            assert name in problem["detail"]
            refused.add(to)
    published = await dialed(stack, refused | {fine})
    assert published == {fine}, f"refused calls reached the dialer: {published - {fine}}"
    assert (await keys.store.tenant(tenant_id)) is not None


async def test_caps_answer_429_with_retry_after_and_publish_nothing(stack, keys):
    async def over(policy: Policy, calls: int) -> tuple[list[httpx.Response], list[str]]:
        _, key = await keys.tenant(policy)
        tos = [number() for _ in range(calls)]
        async with httpx.AsyncClient(base_url=stack.config.api_url, headers=bearer(key), timeout=30) as api:
            answers = await asyncio.gather(*(api.post("/v1/calls", json={"to": to, "flow": "survey"}) for to in tos))
        return list(answers), tos

    base = {"numbers": ["+254711000100"], "accounts": ["*:*"]}
    refused_numbers: set[str] = set()
    placed_numbers: set[str] = set()
    for policy, calls, words in (
        (Policy(**base, cps=1), 3, "calls per second"),
        (Policy(**base, daily_calls=2), 4, "today"),
        (Policy(**base, max_live_calls=1), 3, "live calls"),
    ):
        answers, tos = await over(policy, calls)
        refused = [(r, to) for r, to in zip(answers, tos, strict=True) if r.status_code == 429]
        assert refused, [r.status_code for r in answers]
        for r, to in refused:
            problem = assert_problem(r, 429)
            assert words in problem["detail"] and int(r.headers["retry-after"]) >= 1
            refused_numbers.add(to)
        placed_numbers |= {to for r, to in zip(answers, tos, strict=True) if r.status_code in (200, 202)}
        if words == "today":
            assert len(placed_numbers & set(tos)) == 2
    assert await dialed(stack, refused_numbers | placed_numbers) == placed_numbers


async def test_a_finished_call_frees_its_live_slot(stack, keys, http):
    """The live-calls cap counts calls until their end is consumed, not forever."""
    _, key = await keys.tenant(Policy(numbers=["+254711000100"], accounts=["*:*"], max_live_calls=1))
    first, second = number(), number()
    for phone in (first, second):
        await http.put(f"{stack.config.sim_url}/sim/phones/{phone}", json={"answer": "busy"})
    async with httpx.AsyncClient(base_url=stack.config.api_url, headers=bearer(key), timeout=30) as api:
        r = await api.post("/v1/calls", json={"to": first, "flow": "survey"})
        assert r.status_code == 200, r.text
        assert (await api.post("/v1/calls", json={"to": second, "flow": "survey"})).status_code == 429
        await wait_cdr(stack, r.json()["call_key"])

        async def placed():  # type: ignore[no-untyped-def]
            again = await api.post("/v1/calls", json={"to": second, "flow": "survey"})
            return again.status_code == 200

        assert await wait_for(placed, 15, 0.5)


async def test_per_key_rate_limit(stack, keys):
    _, key = await keys.tenant(Policy(requests_per_minute=3))
    async with httpx.AsyncClient(base_url=stack.config.api_url, headers=bearer(key), timeout=30) as api:
        answers = [await api.get("/voice/") for _ in range(8)]
    # eight requests span at most two one-minute windows: at most six pass
    limited = [r for r in answers if r.status_code == 429]
    assert len(limited) >= 2 and {r.status_code for r in answers} == {200, 429}
    for r in limited:
        assert_problem(r, 429)
        assert 1 <= int(r.headers["retry-after"]) <= 61


async def test_basic_auth_revocation_and_expiry(stack, keys):
    tenant_id, key = await keys.tenant(Policy())
    basic = base64.b64encode(f"any-user:{key}".encode()).decode()
    async with httpx.AsyncClient(base_url=stack.config.api_url, timeout=30) as api:
        assert (await api.get("/voice/", headers={"Authorization": f"Basic {basic}"})).status_code == 200
        key_id = key.split("_")[1]
        assert await keys.store.revoke(key_id)
        assert_problem(await api.get("/voice/", headers=bearer(key)), 401)
        expired = await keys.key(tenant_id, ["calls:read"], expires_at=datetime.now(UTC) - timedelta(seconds=1))
        assert_problem(await api.get("/voice/", headers=bearer(expired)), 401)
        later = await keys.key(tenant_id, ["calls:read"], expires_at=datetime.now(UTC) + timedelta(days=1))
        assert (await api.get("/voice/", headers=bearer(later))).status_code == 200


async def test_the_audit_log_names_the_key_never_the_secret(stack, keys):
    tenant_id, key = await keys.tenant(Policy())
    key_id, secret = key.split("_")[1], key.split("_", 2)[2]
    async with httpx.AsyncClient(base_url=stack.config.api_url, timeout=30) as api:
        assert (await api.get("/voice/", headers=bearer(key))).status_code == 200
        assert (await api.get("/v1/queues", headers=bearer(key[:-4] + "AAAA"))).status_code == 401

    def lines() -> list[dict[str, Any]]:
        out = []
        for raw in (stack.logs / "api.log").read_bytes().splitlines():
            try:
                out.append(orjson.loads(raw))
            except orjson.JSONDecodeError:
                continue
        return out

    for _ in range(50):
        mine = [e for e in lines() if e.get("event") == "api request" and e.get("key_id") == key_id]
        if len(mine) >= 2:
            break
        await asyncio.sleep(0.1)
    assert {(e["tenant"], e["route"], e["result"]) for e in mine} == {
        (tenant_id, "/voice/", "ok"),
        (None, "/v1/queues", "unauthenticated"),
    }
    assert secret.encode() not in (stack.logs / "api.log").read_bytes()


def test_the_cli_creates_a_tenant_and_a_key_lists_and_revokes_it(stack):
    from typer.testing import CliRunner

    from switchboard_cli.main import app as cli

    runner = CliRunner()
    db = ["--database-url", stack.config.database_url]
    tenant_id = f"cli-{uuid.uuid4().hex[:8]}"
    made = runner.invoke(cli, ["tenants", "create", tenant_id, "--number", "+254711000100", "--cps", "3", *db])
    assert made.exit_code == 0, made.output
    assert runner.invoke(cli, ["tenants", "create", tenant_id, *db]).exit_code == 1  # exists
    assert runner.invoke(cli, ["keys", "create", tenant_id, "--scope", "calls:fly", *db]).exit_code == 1
    created = runner.invoke(cli, ["keys", "create", tenant_id, "--scope", "calls:read", *db])
    assert created.exit_code == 0, created.output
    key = created.output.strip().splitlines()[-1]
    key_id = key.split("_")[1]
    with httpx.Client(base_url=stack.config.api_url, timeout=30) as api:
        assert api.get("/voice/", headers=bearer(key)).status_code == 200
        listed = runner.invoke(cli, ["keys", "list", tenant_id, *db])
        assert key_id in listed.output and key.split("_", 2)[2] not in listed.output
        assert runner.invoke(cli, ["keys", "revoke", key_id, *db]).exit_code == 0
        assert runner.invoke(cli, ["keys", "revoke", key_id, *db]).exit_code == 1
        assert api.get("/voice/", headers=bearer(key)).status_code == 401


async def test_each_tenant_gets_its_own_status_callback_key(stack, keys):
    """``GET /v1/status-callbacks/key`` answers the key's own tenant's signing key."""
    _, stranger = await keys.tenant(Policy())
    async with httpx.AsyncClient(base_url=stack.config.api_url, timeout=30) as api:
        mine = (await api.get("/v1/status-callbacks/key", headers=bearer(stack.api_key()))).json()["key"]
        theirs = (await api.get("/v1/status-callbacks/key", headers=bearer(stranger))).json()["key"]
    assert len(mine) == len(theirs) == 64 and mine != theirs
