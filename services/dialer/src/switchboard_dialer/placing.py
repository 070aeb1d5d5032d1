"""Place one dial request (ARCHITECTURE §1, dialer).

Idempotency: ``SET NX sb:dialed:<idempotency key>`` before asking the provider, so a redelivered
request never rings the same person twice. The cost of that choice: if the dialer dies between the
``SET`` and the provider's answer, that request is not placed (at most once for placement; the
DialAttempt never appears and the campaign's accounting shows it). Connection failures where the
request surely did not reach the provider release the key and are retried.
"""

from __future__ import annotations

import orjson
from aiolimiter import AsyncLimiter
from faststream.kafka import KafkaBroker
from redis.asyncio import Redis

from switchboard.accounts import ProviderClients
from switchboard.errors import ProviderError, TransientError
from switchboard.events import DialAttempt, DialRequest, Direction, encode
from switchboard.logging import bind_call, get_logger
from switchboard.providers.base import dial_attempt
from switchboard.redis import dial_done_key, dial_result_key
from switchboard.state import CallState, StateStore
from switchboard.topics import Topic
from switchboard_dialer.settings import DialerSettings

log = get_logger(__name__)


def initial_state(attempt: DialAttempt, request: DialRequest) -> CallState:
    """What the first callback of the call will find. AT reports an outbound call with
    ``callerNumber`` = the person called and ``destinationNumber`` = our number (spec §3)."""
    assert attempt.call_key
    return CallState(
        call_key=attempt.call_key,
        call_id=request.call_id,
        tenant_id=request.tenant_id,
        provider=attempt.provider,
        account=request.account,
        direction=Direction.OUTBOUND,
        caller_number=request.to,
        destination_number=attempt.caller_id,
        flow_ref=request.flow,
        session_data=dict(request.session_data),
        status="dialing",
        campaign_id=request.campaign_id,
        attempt=attempt.attempt,
    )


class Dialer:
    def __init__(self, settings: DialerSettings, broker: KafkaBroker, redis: Redis, clients: ProviderClients) -> None:
        self.settings = settings
        self.broker = broker
        self.redis = redis
        self.clients = clients
        self.store = StateStore(redis)
        self.limiter = AsyncLimiter(settings.dial_cps, 1)

    async def place(self, request: DialRequest) -> DialAttempt | None:
        """Place ``request``; None when it was placed before (a redelivery)."""
        bind_call(call_id=request.call_id)
        done = dial_done_key(request.dedupe_key)
        if not await self.redis.set(done, request.call_id, nx=True, ex=7 * 24 * 3600):
            log.info("dial request already placed; skipped", request_id=request.request_id)
            return None
        async with self.limiter:
            try:
                attempt = await self._ask_provider(request)
            except ProviderError as exc:  # never reached the provider: safe to retry
                await self.redis.delete(done)
                raise TransientError(str(exc)) from exc
        if attempt.accepted:
            assert attempt.call_key
            await self.store.create_if_absent(initial_state(attempt, request))
            await self.store.link_call_id(request.call_id, attempt.call_key)
        key = (attempt.call_key or request.call_id).encode()
        await self.broker.publish(encode(attempt), Topic.DIAL_ATTEMPTS.value, key=key)
        await self._hand_back(attempt)
        log.info("dial attempt", accepted=attempt.accepted, status=attempt.provider_status, call_key=attempt.call_key)
        return attempt

    async def _ask_provider(self, request: DialRequest) -> DialAttempt:
        """The provider's answer as a DialAttempt (``Provider.client(...).place_call``). Raises
        :class:`ProviderError` only when the request surely did not reach the provider; refusals
        (and unknown accounts) become rejected attempts, so a CDR records them."""
        account = self.clients.account(request.provider, request.account)
        client = self.clients.client(request.provider, request.account)
        if account is None or client is None:
            return dial_attempt(
                request,
                request.caller_id or "",
                provider=request.provider,
                call_key=None,
                status="UnknownAccount",
                raw={"error": f"no {request.provider} account {request.account!r}"},
            )
        return await client.place_call(request, request.caller_id or account.from_number)

    async def _hand_back(self, attempt: DialAttempt) -> None:
        """Give the provider's answer to an API request waiting on it (``invoke-call``)."""
        key = dial_result_key(attempt.request_id)
        payload = orjson.dumps(
            attempt.model_dump(
                mode="json", include={"accepted", "provider_status", "provider_response", "call_key", "call_id"}
            )
        )
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.rpush(key, payload)
            pipe.expire(key, 60)
            await pipe.execute()
