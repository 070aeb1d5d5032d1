"""Who is calling: every control-plane route depends on :meth:`Auth.require` with its scope.

The key comes as ``Authorization: Bearer sb_…`` or, for clients that only do Basic, as the Basic
password (any user name). Answers, all ``problem+json``:

- 401 ``unauthenticated`` (with ``WWW-Authenticate``): no key, a malformed, unknown, revoked or
  expired key, or a wrong secret; the same detail for all of them, so the answer does not say
  which key ids exist.
- 403 ``forbidden``: a good key without the route's scope (``admin`` holds every scope).
- 429 ``too-many-requests`` with ``Retry-After``: over the tenant's ``requests_per_minute`` for
  this key (a fixed one-minute window counted in Redis, shared by every api replica).

Every decision is one audit log line ``api request`` with ``tenant``, ``key_id``, ``method``,
``route`` (the route's template, not the raw path), ``result`` and ``reason``; never the secret.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Awaitable, Callable

from fastapi import Request
from redis.asyncio import Redis

from switchboard.errors import AuthenticationFailed, Forbidden, TooManyRequests
from switchboard.logging import get_logger
from switchboard_api.tenancy import Principal, TenantStore

log = get_logger("switchboard_api.audit")
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="switchboard", Basic realm="switchboard"'}


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
    def __init__(self, store: TenantStore, redis: Redis) -> None:
        self.store = store
        self.redis = redis

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
            if key is None:
                self._audit(request, "unauthenticated", "no key", tenant=None, key_id=None)
                raise _unauthenticated()
            principal, key_id, reason = await self.store.authenticate(key)
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
