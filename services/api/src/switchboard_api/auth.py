"""Who is calling: every control-plane route depends on :meth:`Auth.require` with its scope.

The key comes as ``Authorization: Bearer sb_…`` or, for clients that only do Basic, as the Basic
password (any user name). Answers, all ``problem+json``:

- 401 ``unauthenticated`` (with ``WWW-Authenticate``): no key, a malformed, unknown, revoked or
  expired key, or a wrong secret; the same detail for all of them, so the answer does not say
  which key ids exist.
- 403 ``forbidden``: a good key without the route's scope (``admin`` holds every scope).
- 429 ``too-many-requests`` with ``Retry-After``: over the tenant's ``requests_per_minute`` for
  this key (a fixed one-minute window counted in Redis, shared by every api replica).

The console (``/console``) logs in with a key once and then holds a **session**: a random id in
the ``sb_session`` cookie (HttpOnly, SameSite=Strict, Secure behind HTTPS), kept in Redis as
``sb:console:session:<sha256 of the id>`` with the key id and a CSRF token, for
``SB_CONSOLE_SESSION_S`` of idleness. Each request through a session is authorised as the key
itself: same scopes, same rate, and a revoked or expired key ends its sessions at once. A request
that changes something (not GET/HEAD) through a session must carry the session's token in
``X-CSRF-Token`` (403 otherwise); a Bearer or Basic key needs none.

Every decision is one audit log line ``api request`` with ``tenant``, ``key_id``, ``method``,
``route`` (the route's template, not the raw path), ``result`` and ``reason``; never the secret.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import time
from collections.abc import Awaitable, Callable

import orjson
from fastapi import Request
from redis.asyncio import Redis

from switchboard.errors import AuthenticationFailed, Forbidden, TooManyRequests
from switchboard.logging import get_logger
from switchboard.redis import as_bytes, console_session_key
from switchboard_api.tenancy import Principal, TenantStore

log = get_logger("switchboard_api.audit")
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="switchboard", Basic realm="switchboard"'}
SESSION_COOKIE = "sb_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class ConsoleSessions:
    """Console sessions in Redis (see the module docstring). ``ttl_s``: idle life in seconds."""

    def __init__(self, redis: Redis, *, ttl_s: int) -> None:
        self.redis = redis
        self.ttl_s = ttl_s

    async def open(self, principal: Principal) -> tuple[str, str]:
        """A new session for ``principal``: ``(session id for the cookie, CSRF token)``."""
        session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        record = orjson.dumps({"key_id": principal.key_id, "csrf": csrf, "opened": int(time.time())})
        await self.redis.set(console_session_key(session_id), record, ex=self.ttl_s)
        return session_id, csrf

    async def get(self, session_id: str) -> dict[str, str] | None:
        """The session's record (``key_id``, ``csrf``), its idle life renewed; None if unknown."""
        if not session_id or len(session_id) > 128:
            return None
        key = console_session_key(session_id)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.get(key)
            pipe.expire(key, self.ttl_s)
            raw, _ = await pipe.execute()
        return None if raw is None else dict(orjson.loads(as_bytes(raw)))

    async def close(self, session_id: str) -> None:
        await self.redis.delete(console_session_key(session_id))


def presented_key(request: Request) -> str | None:
    """The key in the ``Authorization`` header (Bearer token or Basic password), else None."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2] or None
    return None


def _route(request: Request) -> str:
    route = request.scope.get("route")
    return getattr(route, "path", request.url.path)


class Auth:
    def __init__(self, store: TenantStore, redis: Redis, *, session_ttl_s: int = 8 * 3600) -> None:
        self.store = store
        self.redis = redis
        self.sessions = ConsoleSessions(redis, ttl_s=session_ttl_s)

    async def session_principal(self, request: Request) -> tuple[Principal | None, dict[str, str] | None, str]:
        """``(principal, session, reason)`` for a request carrying a console session cookie;
        ``(None, None, reason)`` without one, or when the session or its key is no longer good."""
        session = await self.sessions.get(request.cookies.get(SESSION_COOKIE, ""))
        if session is None:
            return None, None, "no console session"
        principal, _, reason = await self.store.principal_of(session["key_id"])
        return principal, (session if principal else None), reason

    def _audit(self, request: Request, result: str, reason: str, *, tenant: str | None, key_id: str | None) -> None:
        log.info(
            "api request",
            tenant=tenant,
            key_id=key_id,
            method=request.method,
            route=_route(request),
            result=result,
            reason=reason,
        )

    async def _rate(self, principal: Principal) -> int | None:
        """Seconds to wait when this key is over its per-minute budget, else None."""
        now = time.time()
        window = int(now // 60)
        key = f"sb:api:rpm:{principal.key_id}:{window}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, 120)
            count, _ = await pipe.execute()
        if int(count) > principal.tenant.policy.requests_per_minute:
            return int(60 - now % 60) + 1
        return None

    def require(self, scope: str) -> Callable[[Request], Awaitable[Principal]]:
        """A FastAPI dependency: the request's :class:`Principal` when its key is good, has
        ``scope`` and is within its rate; else raises (401, 403, 429)."""

        async def dependency(request: Request) -> Principal:
            key = presented_key(request)
            if key is not None:
                principal, key_id, reason = await self.store.authenticate(key)
            elif SESSION_COOKIE in request.cookies:
                principal, session, reason = await self.session_principal(request)
                key_id = principal.key_id if principal else None
                if session is not None and request.method not in SAFE_METHODS:
                    sent = request.headers.get(CSRF_HEADER, "")
                    if not secrets.compare_digest(sent.encode(), session["csrf"].encode()):
                        self._audit(request, "forbidden", "console CSRF token", tenant=None, key_id=key_id)
                        raise Forbidden(f"a console request that changes something needs the {CSRF_HEADER} header")
            else:
                self._audit(request, "unauthenticated", "no key", tenant=None, key_id=None)
                raise _unauthenticated()
            if principal is None:
                self._audit(request, "unauthenticated", reason, tenant=None, key_id=key_id)
                raise _unauthenticated()
            tenant = principal.tenant.tenant_id
            if not principal.has(scope):
                self._audit(request, "forbidden", f"missing scope {scope}", tenant=tenant, key_id=key_id)
                raise Forbidden(f"this key lacks the {scope!r} scope")
            if (wait := await self._rate(principal)) is not None:
                self._audit(request, "rate-limited", "requests_per_minute", tenant=tenant, key_id=key_id)
                raise TooManyRequests(
                    f"over {principal.tenant.policy.requests_per_minute} requests per minute for this key",
                    retry_after_s=wait,
                )
            self._audit(request, "ok", scope, tenant=tenant, key_id=key_id)
            request.state.principal = principal
            return principal

        dependency.__name__ = f"require_{scope.replace(':', '_')}"
        return dependency


def _unauthenticated() -> AuthenticationFailed:
    exc = AuthenticationFailed("a valid API key is required: Authorization: Bearer sb_<key id>_<secret>")
    exc.headers = CHALLENGE  # type: ignore[attr-defined]
    return exc
