"""The supervisor console: server-rendered pages under ``/console``, served by the api itself.

**Shape.** Each page is a Jinja template (navigation, headings, labelled forms and tables: it reads
without JavaScript) plus one small ES module of our own (``static/<page>.js``) that fills it from
the same JSON API any client uses (``/v1/...``) and, on the live page, from a server-sent event
stream. There is no bundle and no build step: the only third-party browser code is Chart.js and
its funnel chart, vendored from npm (``scripts/vendor-console.sh``, versions pinned in
``services/api/console-vendor/package-lock.json``). The console adds no second data path: what a
page shows is what ``/v1`` answers the same key, with the same scopes, tenant and rate.

**Login.** With an API key (:mod:`switchboard_api.auth`, console sessions): a supervisor is given
a key with the scopes they need (``switchboard keys create --scopes calls:read,cdrs:read``), so
least privilege, the tenant and revocation are the keys' own; per-user passwords would add a user
store, password hashing and resets for no new control. The session cookie is HttpOnly and
SameSite=Strict, changes need the session's CSRF token, and every console response carries a
Content-Security-Policy that allows only the api's own scripts, styles and connections.

Routes: ``GET /console/login``, ``POST /console/login`` (form: ``key``), ``POST /console/logout``;
pages ``/console/live``, ``/console/campaigns``, ``/console/calls``, ``/console/calls/{id}``,
``/console/reports``, ``/console/flows``, ``/console/flows/{name}``; ``GET /console/live/events``
(``text/event-stream``: a :class:`~switchboard_api.console.live.LiveView` snapshot every second,
``calls:read``); ``GET /console/live/calls/{call_key}`` (a live call's trail); and, where
``SB_CONSOLE_SIMULATOR_URL`` is set, the simulator's interactive phone for "call it from the
browser": ``POST /console/try/phones``, ``GET /console/try/phones/{number}``, ``POST
/console/try/phones/{number}/keys``, ``POST /console/try/phones/{number}/hangup``.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field
from redis.asyncio import Redis

from switchboard.errors import NotFound, ServiceUnavailable
from switchboard.flow.repository import FlowRepository
from switchboard.logging import get_logger
from switchboard.redis import as_bytes, console_phone_key
from switchboard.state import StateStore
from switchboard_api.auth import SESSION_COOKIE, Auth
from switchboard_api.console.live import LiveView, call_row
from switchboard_api.settings import ApiSettings
from switchboard_api.tenancy import Principal

log = get_logger(__name__)
HERE = Path(__file__).parent
PAGES = {
    "live": "Live",
    "campaigns": "Campaigns",
    "calls": "Calls",
    "reports": "Reports",
    "flows": "Flows",
}
"""The navigation: page name → its title."""
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
STREAM_S = 300.0
"""A live stream ends after this long (the browser's EventSource reconnects at once): an api
replica being drained is never held up by an open stream for longer."""


class KeysIn(BaseModel):
    digits: str = Field(pattern=r"^[0-9*#]{1,32}$", description="DTMF keys pressed")


def secure(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    return response


def mount(app: FastAPI, settings: ApiSettings, auth: Auth, redis: Redis, flows: FlowRepository) -> None:
    """Add the console's routes and static files to ``app``."""
    app.mount("/console/static", StaticFiles(directory=HERE / "static"), name="console-static")
    app.include_router(build_router(settings, auth, redis, flows))


def build_router(settings: ApiSettings, auth: Auth, redis: Redis, flows: FlowRepository) -> APIRouter:
    router = APIRouter(prefix="/console", include_in_schema=False)
    templates = Jinja2Templates(directory=HERE / "templates")
    live = LiveView(redis, flows, settings.kafka_bootstrap)
    states = StateStore(redis)
    sim = settings.console_simulator_url
    calls_read = auth.require("calls:read")
    calls_write = auth.require("calls:write")

    def page(request: Request, name: str, principal: Principal, csrf: str, **context: Any) -> Response:
        response = templates.TemplateResponse(
            request,
            f"{name}.html",
            {
                "page": name,
                "pages": PAGES,
                "tenant": principal.tenant,
                "key_id": principal.key_id,
                "scopes": sorted(principal.scopes),
                "csrf": csrf,
                "simulator": sim is not None,
                "try_provider": settings.console_try_provider,
                "try_account": settings.console_try_account,
                **context,
            },
        )
        return secure(response)

    async def who(request: Request) -> tuple[Principal, str] | None:
        principal, session, _ = await auth.session_principal(request)
        return (principal, session["csrf"]) if principal and session else None

    def to_login(request: Request) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return secure(RedirectResponse(f"/console/login?next={target}", status_code=303))

    @router.get("")
    @router.get("/")
    async def home() -> Response:
        return secure(RedirectResponse("/console/live", status_code=303))

    @router.get("/login")
    async def login_form(request: Request, next: str = "/console/live") -> Response:
        response = templates.TemplateResponse(
            request, "login.html", {"next": _local(next), "error": None, "page": "login", "pages": {}}
        )
        return secure(response)

    @router.post("/login")
    async def login(
        request: Request, key: str = Form("", max_length=200), next: str = Form("/console/live")
    ) -> Response:
        principal, key_id, reason = await auth.store.authenticate(key.strip())
        log.info("console login", key_id=key_id, result="ok" if principal else "refused", reason=reason)
        if principal is None:
            refused = templates.TemplateResponse(
                request,
                "login.html",
                {"next": _local(next), "error": "That key was not accepted.", "page": "login", "pages": {}},
                status_code=401,
            )
            return secure(refused)
        session_id, _ = await auth.sessions.open(principal)
        response = RedirectResponse(_local(next), status_code=303)
        response.set_cookie(
            SESSION_COOKIE, session_id, max_age=settings.console_session_s, httponly=True, samesite="strict",
            secure=request.url.scheme == "https", path="/",
        )  # fmt: skip
        return secure(response)

    @router.post("/logout")
    async def logout(request: Request, csrf: str = Form("")) -> Response:
        found = await who(request)
        if found and secrets.compare_digest(csrf.encode(), found[1].encode()):
            await auth.sessions.close(request.cookies.get(SESSION_COOKIE, ""))
        response = RedirectResponse("/console/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return secure(response)

    def page_route(path: str, name: str) -> None:
        async def show(request: Request) -> Response:
            found = await who(request)
            if found is None:
                return to_login(request)
            return page(request, name, *found, params=dict(request.path_params))

        show.__name__ = f"console_{name}"
        router.add_api_route(path, show, methods=["GET"], response_class=HTMLResponse)

    for name in PAGES:
        page_route(f"/{name}", name)
    page_route("/calls/{call_id}", "call")
    page_route("/flows/{name}", "flow")

    @router.get("/live/events")
    async def live_events(request: Request, principal: Principal = Depends(calls_read)) -> Response:
        tenant_id = principal.tenant.tenant_id

        async def stream() -> AsyncIterator[bytes]:
            ends = time.monotonic() + STREAM_S
            yield b"retry: 2000\n\n"
            while time.monotonic() < ends and not await request.is_disconnected():
                try:
                    snap = await live.snapshot(tenant_id)
                except Exception as exc:  # Redis down: say so on the page, keep the stream
                    log.warning("live snapshot failed", error=repr(exc))
                    snap = {"error": "live data unavailable", "at_ms": int(time.time() * 1000)}
                yield b"event: live\ndata: " + orjson.dumps(snap) + b"\n\n"
                await asyncio.sleep(1.0)

        response = StreamingResponse(stream(), media_type="text/event-stream")
        response.headers["X-Accel-Buffering"] = "no"  # no proxy buffering of the stream
        return secure(response)

    @router.get("/live/calls/{call_key:path}")
    async def live_call(call_key: str, principal: Principal = Depends(calls_read)) -> Response:
        state = await states.load(call_key)
        if state is None or state.tenant_id != principal.tenant.tenant_id:
            raise NotFound(f"no live call {call_key!r}", field="call_key")
        body = {**call_row(state, flows), "trail": state.trail, "collected": state.collected}
        return secure(Response(orjson.dumps(body), media_type="application/json"))

    # --- call a flow from the browser: the simulator's interactive phone ----------------------
    async def simulator(method: str, path: str, **kwargs: Any) -> Any:
        if sim is None:
            raise NotFound("no simulator is configured (SB_CONSOLE_SIMULATOR_URL)")
        try:
            async with httpx.AsyncClient(base_url=sim, timeout=5) as http:
                r = await http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(f"the provider simulator did not answer: {exc!r}") from None
        if r.status_code == 404:
            raise NotFound("no such phone on the simulator", field="number")
        r.raise_for_status()
        return r.json()

    async def try_number(number: str, principal: Principal) -> str:
        """``number`` when it is a console phone this tenant made, else 404 (another tenant's
        phone is not named to it, as everywhere in the api)."""
        owner = await redis.get(console_phone_key(number)) if number.startswith("+25470") else None
        if owner is None or as_bytes(owner).decode() != principal.tenant.tenant_id:
            raise NotFound("not a console phone of yours", field="number")
        return number

    @router.post("/try/phones")
    async def new_phone(principal: Principal = Depends(calls_write)) -> Response:
        """A fresh interactive phone on the simulator (a Kenyan mobile number of the +25470 range
        the console keeps to itself): the page then places a call to it with ``POST /v1/calls``."""
        number = "+25470" + "".join(secrets.choice("0123456789") for _ in range(7))
        await simulator("PUT", f"/sim/phones/{number}", json={"answer": "answer", "interactive": True})
        await redis.set(
            console_phone_key(number), principal.tenant.tenant_id, ex=3600
        )  # whose phone it is, for an hour
        body = {"number": number, "provider": settings.console_try_provider, "account": settings.console_try_account}
        return secure(Response(orjson.dumps(body), media_type="application/json", status_code=201))

    @router.get("/try/phones/{number}")
    async def phone(number: str, principal: Principal = Depends(calls_write)) -> Response:
        """The phone's latest call: state and transcript (what was said, played, pressed)."""
        calls = (await simulator("GET", f"/sim/phones/{await try_number(number, principal)}/calls"))["calls"]
        return secure(Response(orjson.dumps({"call": calls[0] if calls else None}), media_type="application/json"))

    @router.post("/try/phones/{number}/keys")
    async def press(number: str, keys: KeysIn, principal: Principal = Depends(calls_write)) -> Response:
        await simulator("POST", f"/sim/phones/{await try_number(number, principal)}/keys", json={"digits": keys.digits})
        return secure(Response(status_code=204))

    @router.post("/try/phones/{number}/hangup")
    async def hang_up(number: str, principal: Principal = Depends(calls_write)) -> Response:
        await simulator("POST", f"/sim/phones/{await try_number(number, principal)}/hangup")
        return secure(Response(status_code=204))

    return router


def _local(target: str) -> str:
    """Only a path of the console itself: never an open redirect."""
    return target if target.startswith("/console/") and not target.startswith("//") else "/console/live"
