"""Switchboard's own API over the providers' call-control REST calls, where a provider has them
(Africa's Talking, spec §2; :class:`~switchboard.providers.base.CallTransfer`,
:class:`~switchboard.providers.base.QueueStatus`, :class:`~switchboard.providers.base.MediaUpload`).

- ``POST /v1/calls/{call_id}/transfer``: move a bridged call to another number.
- ``GET /v1/queues?phone_numbers=…``: callers waiting per queue.
- ``POST /v1/media``: make an ``.mp3``/``.wav`` URL playable.

Every route needs an API key (:mod:`switchboard_api.auth`): transfer ``calls:write``, queues
``calls:read``, media ``flows:write``; and acts only on the key's tenant: another tenant's call or
provider account is answered 404, exactly as one that does not exist.

Errors (problem+json): 400 naming the field for bad input, 401/403/429 from the key check, 404 for
an unknown call or an account the tenant does not have, 409 when the provider aborts a transfer
(with its reason) or has no such feature, 502 when the provider fails or cannot be reached.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import AfterValidator, BaseModel, Field

from switchboard.accounts import ProviderClients
from switchboard.errors import Conflict, InvalidEvent, NotFound
from switchboard.flow.actions.play import check_media_url
from switchboard.logging import get_logger
from switchboard.phone import E164, to_e164
from switchboard.problems import responses
from switchboard.providers import ProviderName
from switchboard.providers.base import CallTransfer, MediaUpload, QueueStatus
from switchboard.state import StateStore
from switchboard_api.auth import Auth
from switchboard_api.calls import account_of
from switchboard_api.tenancy import Principal

log = get_logger(__name__)

MediaUrl = Annotated[str, Field(max_length=2048), AfterValidator(check_media_url)]


class TransferRequest(BaseModel):
    """``phone_number``: the transfer target; ``call_leg``: which leg moves (``callee`` default);
    ``hold_music_url``: played while on hold."""

    phone_number: E164
    call_leg: Literal["caller", "callee"] = "callee"
    hold_music_url: MediaUrl | None = None


class TransferAnswer(BaseModel):
    call_id: str
    call_key: str
    status: str = Field(description="the provider's word, e.g. Success")


class MediaRequest(BaseModel):
    """``phone_number``: the provider number the media is for; ``url``: an http(s) ``.mp3`` or
    ``.wav``; ``provider`` and ``account``: whose media store."""

    phone_number: E164
    url: MediaUrl
    provider: ProviderName = "africastalking"
    account: str = Field(default="default", max_length=100)


class MediaAnswer(BaseModel):
    status: Literal["uploaded"] = "uploaded"
    phone_number: str
    url: str


class QueueAnswer(BaseModel):
    class Queue(BaseModel):
        phone_number: str
        queue_name: str | None
        num_calls: int

    queues: list[Queue]


def build_router(clients: ProviderClients, store: StateStore, auth: Auth) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["call control"])

    def client_for(principal: Principal, provider: str, account: str) -> object:
        account_of(clients, principal, provider, account)
        client = clients.client(provider, account)
        if client is None:
            raise NotFound(f"no {provider} account named {account!r} for this tenant", field="account")
        return client

    @router.post(
        "/calls/{call_id}/transfer",
        summary="Transfer a bridged call (AT /callTransfer; calls:write)",
        response_model=TransferAnswer,
        responses=responses(400, 401, 403, 404, 409, 429, 502),
    )
    async def transfer(
        call_id: str, body: TransferRequest, principal: Principal = Depends(auth.require("calls:write"))
    ) -> TransferAnswer:
        call_key = await store.call_key_of(call_id)
        state = await store.load(call_key) if call_key else None
        if call_key is None or state is None or state.tenant_id != principal.tenant.tenant_id:
            raise NotFound(f"no live call {call_id!r}")
        provider, _, session_id = call_key.partition(":")
        client = client_for(principal, provider, state.account)
        if not isinstance(client, CallTransfer):
            raise Conflict(f"transfer is not available on {provider}")
        outcome = await client.transfer(
            session_id=session_id, phone_number=body.phone_number, call_leg=body.call_leg,
            hold_music_url=body.hold_music_url,
        )  # fmt: skip
        if not outcome.ok:
            raise Conflict(f"the provider did not transfer the call ({outcome.status}): {outcome.error}")
        return TransferAnswer(call_id=call_id, call_key=call_key, status=outcome.status)

    @router.get(
        "/queues",
        summary="Callers waiting per queue (AT /queueStatus; calls:read)",
        response_model=QueueAnswer,
        responses=responses(400, 401, 403, 404, 409, 429, 502),
    )
    async def queues(
        phone_numbers: str = Query(..., max_length=4096, description="comma-separated provider numbers"),
        provider: ProviderName = Query("africastalking", description="the provider"),
        account: str = Query("default", max_length=100, description="the provider account"),
        principal: Principal = Depends(auth.require("calls:read")),
    ) -> QueueAnswer:
        numbers = []
        for raw in phone_numbers.split(","):
            try:
                numbers.append(to_e164(raw))
            except InvalidEvent as exc:
                raise InvalidEvent(str(exc), field="phone_numbers") from None
        client = client_for(principal, provider, account)
        if not isinstance(client, QueueStatus):
            raise Conflict(f"queue status is not available on {provider}")
        entries = await client.queued_calls(numbers)
        return QueueAnswer(queues=[QueueAnswer.Queue(**vars(e)) for e in entries])

    @router.post(
        "/media",
        summary="Upload a media URL for Play/hold music (AT /mediaUpload; flows:write)",
        status_code=201,
        response_model=MediaAnswer,
        responses=responses(400, 401, 403, 404, 409, 429, 502),
    )
    async def media(body: MediaRequest, principal: Principal = Depends(auth.require("flows:write"))) -> MediaAnswer:
        client = client_for(principal, body.provider, body.account)
        if not isinstance(client, MediaUpload):
            raise Conflict(f"media upload is not available on {body.provider}")
        await client.upload_media(phone_number=body.phone_number, url=body.url)
        return MediaAnswer(phone_number=body.phone_number, url=body.url)

    return router
