"""Place one dial request (ARCHITECTURE §1, dialer).

Admission (:mod:`switchboard.pacing`): before anything else the call takes its live-call leases
(the provider account's, the tenant's, the campaign's) and a pace slot (the account's CPS, the
campaign's), all or none, in Redis, shared by every replica; then it sleeps until its slot. When a
lease is not free the request waits here, polling every ``SB_DIALER_ADMIT_POLL_S``: it is neither
failed nor committed past (the partition's later requests wait behind it; see docs/dialer.md). A
refused dial, or one that never reached the provider, gives its leases back at once; an accepted
one keeps them until its ``SessionEnded`` is consumed (:mod:`switchboard_dialer.ends`) or the lease
runs out (``SB_CALL_LEASE_S``).

Idempotency: ``SET NX sb:dialed:<idempotency key>`` right before asking the provider, so a
redelivered request never rings the same person twice (one already placed is skipped before it
takes anything). The cost of that choice: if the dialer dies between the ``SET`` and the provider's
answer, that request is not placed (at most once for placement; the DialAttempt never appears and
the campaign's accounting shows it); if it dies after the provider's answer but before the call is
linked to its call id, the flow-runner finds no state for the call and ends it with the apology.
In both cases no end will release the call's leases, so the redelivered request, finding its own
claim without a linked call, shortens them to ``SB_DIAL_UNCONFIRMED_LEASE_S``. Connection failures
where the request surely did not reach the provider release the key and are retried.
"""

from __future__ import annotations

import asyncio
import time

import orjson
from faststream.kafka import KafkaBroker
from redis.asyncio import Redis
from redis.exceptions import RedisError
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_delay, wait_exponential

from switchboard import metrics
from switchboard import status_callbacks as sc
from switchboard.accounts import ProviderClients
from switchboard.errors import ProviderError, TransientError
from switchboard.events import DialAttempt, DialRequest, Direction, encode
from switchboard.flow.document import Flow, FlowInvalid, build_flow
from switchboard.flow.repository import FlowRepository
from switchboard.logging import bind_call, get_logger
from switchboard.pacing import Admission, Grant, Lease, Pace
from switchboard.providers import PROVIDERS
from switchboard.providers.base import Account, MessageCalls, dial_attempt
from switchboard.redis import awaiting_report_key, dial_done_key, dial_result_key
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
        dynamic_doc=request.flow_document,  # a document sent with the request runs instead of the file
        session_data=dict(request.session_data),
        status="dialing",
        campaign_id=request.campaign_id,
        attempt=attempt.attempt,
    )


class Dialer:
    def __init__(
        self,
        settings: DialerSettings,
        broker: KafkaBroker,
        redis: Redis,
        clients: ProviderClients,
        flows: FlowRepository | None = None,
    ) -> None:
        self.settings = settings
        self.broker = broker
        self.redis = redis
        self.clients = clients
        self._flows = flows
        self.store = StateStore(redis)
        self.admission = Admission(redis, lease_s=settings.call_lease_s, max_ahead_s=settings.pace_max_ahead_s)
        self.outbox = sc.Outbox(redis)

    def scopes(self, request: DialRequest, account: Account) -> tuple[list[Lease], list[Pace]]:
        """The leases and pace scopes a request needs: the account's (``<provider>/<account>``),
        the tenant's and, with a campaign id, the campaign's (``<tenant>/<campaign id>``, so two
        tenants' campaigns of the same name never share a limiter)."""
        account_id = f"{request.provider}/{request.account}"
        headroom = 1 + self.settings.pace_headroom
        leases = [Lease("account", account_id, account.max_concurrent)]
        leases.append(Lease("tenant", request.tenant_id, request.tenant_max_live_calls))
        paces = [Pace("account", account_id, (account.cps or self.settings.dial_cps) / headroom)]
        if request.campaign_id:
            campaign = f"{request.tenant_id}/{request.campaign_id}"
            leases.append(Lease("campaign", campaign, request.policy.max_concurrent))
            if request.policy.cps:
                paces.append(Pace("campaign", campaign, request.policy.cps / headroom))
        return leases, paces

    async def admit(self, request: DialRequest, account: Account) -> Grant:
        """Wait until the call holds its leases and its pace slot has come (see the module
        docstring); returns the grant. Raises redis-py's errors (retried by the consumer)."""
        leases, paces = self.scopes(request, account)
        told = False
        while True:
            grant = await self.admission.admit(request.call_id, leases, paces)
            if grant.granted:
                if grant.wait_s > 0:
                    await asyncio.sleep(grant.wait_s)
                return grant
            if not told:
                full = f"{grant.full.scope} {grant.full.id}" if grant.full else "pace"
                log.info("waiting for a live-call slot", full=full, request_id=request.request_id)
                told = True
            await asyncio.sleep(min(max(grant.wait_s, 0.005), self.settings.dialer_admit_poll_s))

    async def place(self, request: DialRequest) -> DialAttempt | None:
        """Place ``request`` once it is admitted; None when it was placed before (a redelivery)."""
        bind_call(call_id=request.call_id)
        done = dial_done_key(request.dedupe_key)
        placed_as = await self.redis.get(done)
        if placed_as is not None:
            if placed_as == request.call_id.encode():  # this very request: was its placement finished?
                await self._bound_if_interrupted(request)
            log.info("dial request already placed; skipped", request_id=request.request_id)
            return None
        account = self.clients.account(request.provider, request.account)
        # The REST client (made on first use; an httpx client costs ~0.1 s to build) is made
        # before the wait, so the slot's moment goes to the request itself, not to setting up.
        self.clients.client(request.provider, request.account)
        waited = time.monotonic()
        grant = await self.admit(request, account) if account is not None else None
        metrics.DIAL_PACING_SECONDS.observe(time.monotonic() - waited)
        if not await self.redis.set(done, request.call_id, nx=True, ex=7 * 24 * 3600):
            # a twin with the same idempotency key got there first: its leases stay, ours go
            if await self.redis.get(done) != request.call_id.encode():
                await self.admission.release(request.call_id)
            log.info("dial request already placed; skipped", request_id=request.request_id)
            return None
        sent_us = time.time_ns() // 1000
        try:
            attempt, version = await self._ask_provider(request)
        except ProviderError as exc:  # never reached the provider: safe to retry
            await self.redis.delete(done)
            await self.admission.release(request.call_id)
            raise TransientError(str(exc)) from exc
        if attempt.accepted:
            assert attempt.call_key
            state = initial_state(attempt, request)
            state.flow_version = version
            await self._record_placed(request, attempt.call_key, state)
        else:  # refused: the call never went live
            await self.admission.release(request.call_id)
        if request.status_callback is not None:
            await self._subscribe_status(request, attempt)
        key = (attempt.call_key or request.call_id).encode()
        await self.broker.publish(encode(attempt), Topic.DIAL_ATTEMPTS.value, key=key)
        await self._hand_back(attempt)
        metrics.DIAL_ATTEMPTS.labels(
            attempt.provider, "accepted" if attempt.accepted else attempt.provider_status
        ).inc()
        log.info(
            "dial attempt",
            accepted=attempt.accepted,
            status=attempt.provider_status,
            call_key=attempt.call_key,
            slot_us=grant.at_us if grant else None,
            late_ms=round((sent_us - grant.at_us) / 1000, 1) if grant else None,
        )
        return attempt

    async def _record_placed(self, request: DialRequest, call_key: str, state: CallState) -> None:
        """Record an accepted call: its state, its report watch (one-message providers), its link
        to the call id, its leases confirmed for a full lease, then its place on the console's live
        page. The writes are idempotent and retried here on a Redis error for up to
        ``SB_DIAL_RECORD_RETRY_S``: a redelivery instead would find the claim without a link and
        take the call for an interrupted one (:meth:`_bound_if_interrupted`). Raises redis-py's
        errors past that."""
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(RedisError),
            stop=stop_after_delay(self.settings.dial_record_retry_s),
            wait=wait_exponential(multiplier=0.05, max=2),
            reraise=True,
        ):
            with attempt:
                await self.store.create_if_absent(state)
                if PROVIDERS[state.provider].capabilities.one_message:  # its outcome is a report
                    await self.redis.zadd(awaiting_report_key(state.provider), {call_key: time.time()})
                await self.store.link_call_id(request.call_id, call_key)
                await self.admission.confirm(request.call_id)
        try:
            await self.store.mark_live(state)  # ringing calls show on the console's live page too
        except RedisError as exc:  # the page's count, not the call: never worth a redelivery
            log.warning("call not marked live for the console", error=repr(exc))

    async def _bound_if_interrupted(self, request: DialRequest) -> None:
        """A redelivered request this dialer had claimed (``sb:dialed`` names its call id) but whose
        call was never linked: the replica placing it died between the claim and the link, so the
        provider may never have been asked, or may ring a call the flow-runner has no state for
        (it apologises and hangs up). Either way no end will ever release the call's leases: they
        now end within ``SB_DIAL_UNCONFIRMED_LEASE_S`` instead of ``SB_CALL_LEASE_S``. The link is
        checked in the same script; a replica still placing the call (the request was taken over,
        not orphaned) gives the leases a full life again when it links it (``Admission.confirm``).
        Not for one-message providers, whose end names our call id and may come much later."""
        if PROVIDERS[request.provider].capabilities.one_message:
            return  # its end names our call id (Infobip's callbackData); a bulk may ring minutes later
        shortened = await self.admission.bound(request.call_id, self.settings.dial_unconfirmed_lease_s)
        if shortened:
            log.warning(
                "dial interrupted before the provider's call was recorded; its leases end early",
                request_id=request.request_id,
                leases=shortened,
                within_s=self.settings.dial_unconfirmed_lease_s,
            )

    async def report_live_calls(self) -> None:
        """Set ``switchboard_live_calls`` for every configured account from its lease set, every
        ``SB_LIVE_CALLS_EVERY_S`` (until cancelled; a Redis error waits for the next round)."""
        while True:
            try:
                for provider, account in sorted(self.clients.accounts):
                    live = await self.admission.live("account", f"{provider}/{account}")
                    metrics.LIVE_CALLS.labels(provider, account).set(live)
            except Exception as exc:
                log.warning("live calls not read", error=repr(exc))
            await asyncio.sleep(self.settings.live_calls_every_s)

    async def _subscribe_status(self, request: DialRequest, attempt: DialAttempt) -> None:
        """Record where the call's status callbacks go and queue ``initiated`` (the notifier
        POSTs it; nothing here waits on the customer). A refused dial is keyed as its CDR is
        (``<provider>:rejected:<call id>``), so its ``completed`` follows."""
        assert request.status_callback is not None
        call_key = attempt.call_key or f"{attempt.provider}:rejected:{request.call_id}"
        early = await self.outbox.subscribe(
            call_key,
            url=request.status_callback.url,
            events=list(request.status_callback.events),
            tenant_id=request.tenant_id,
            call_id=request.call_id,
            to=request.to,
            from_=attempt.caller_id,
            campaign_id=request.campaign_id,
            provider=attempt.provider,
            initiated_at=attempt.attempted_at,
        )
        for parked in early:  # the provider's ringing can come before this subscription
            await self.outbox.queue(call_key, **parked)

    @property
    def flows(self) -> FlowRepository:
        """The flows (``SB_FLOWS_DIR``), read on first use: only providers whose calls are their
        flow compiled into one message (Infobip) need them here."""
        if self._flows is None:
            self._flows = FlowRepository(self.settings.flows_dir, redis=self.redis)
        return self._flows

    async def _ask_provider(self, request: DialRequest) -> tuple[DialAttempt, str | None]:
        """The provider's answer as a DialAttempt (``Provider.client(...).place_call``, or for a
        provider that takes a whole flow as one message, ``place_flow``), with the version of the
        flow compiled into the message (None for the others). Raises :class:`ProviderError` only
        when the request surely did not reach the provider; refusals (and unknown accounts, flows
        that cannot be one message) become rejected attempts, so a CDR records them."""
        account = self.clients.account(request.provider, request.account)
        client = self.clients.client(request.provider, request.account)
        caller_id = request.caller_id or (account.from_number if account else "")
        if account is None or client is None:
            raw = {"error": f"no {request.provider} account {request.account!r}"}
            return dial_attempt(
                request, caller_id, provider=request.provider, call_key=None, status="UnknownAccount", raw=raw
            ), None
        if PROVIDERS[request.provider].capabilities.one_message and isinstance(client, MessageCalls):
            flow = await self._flow(request)
            if flow is None:
                raw = {"error": f"unknown flow {request.flow!r}"}
                return dial_attempt(
                    request, caller_id, provider=request.provider, call_key=None, status="FlowRefused", raw=raw
                ), None
            # the state the call will have, for the flow's first turn (its data: session data, numbers)
            key = f"{request.provider}:{request.call_id}"
            draft = dial_attempt(request, caller_id, provider=request.provider, call_key=key, status="", raw={})
            return await client.place_flow(request, caller_id, flow, initial_state(draft, request)), flow.version
        return await client.place_call(request, caller_id), None

    async def _flow(self, request: DialRequest) -> Flow | None:
        """The current version of ``request``'s flow for its tenant (saved in Redis, so the
        runner replays the outcome against the same document)."""
        if request.flow_document is not None:  # checked by the api; a bad one is refused below
            try:
                return build_flow(request.flow_document, name=request.flow, provider=request.provider)
            except FlowInvalid:
                return None
        self.flows.refresh()
        flow = self.flows.for_tenant(request.tenant_id).get(request.flow) if request.flow else None
        await self.flows.save_versions()
        return flow

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
