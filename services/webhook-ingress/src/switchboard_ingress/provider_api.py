"""Switchboard's own API over the provider's call-control REST calls (Africa's Talking, spec §2).

- ``POST /v1/calls/{call_id}/transfer`` → ``/callTransfer``: move a bridged call to another number.
- ``GET /v1/queues?phone_numbers=…`` → ``/queueStatus``: callers waiting per queue.
- ``POST /v1/media`` → ``/mediaUpload``: make an ``.mp3``/``.wav`` URL playable (201 only counts).

Errors: 400 naming the field for bad input, 404 for an unknown call, 409 when the provider aborts a
transfer (with its reason), 502 when the provider fails or cannot be reached.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from switchboard.accounts import ProviderClients
from switchboard.errors import InvalidEvent, ProviderError
from switchboard.flow.actions.play import check_media_url
from switchboard.logging import get_logger
from switchboard.phone import to_e164
from switchboard.providers.africastalking import AfricasTalkingClient
from switchboard.state import StateStore

log = get_logger(__name__)


class TransferRequest(BaseModel):
    """``phone_number``: the transfer target; ``call_leg``: which leg moves (``callee`` default);
    ``hold_music_url``: played while on hold."""

    phone_number: str
    call_leg: Literal["caller", "callee"] = "callee"
    hold_music_url: str | None = None


class MediaRequest(BaseModel):
    """``phone_number``: the AT number the media is for; ``url``: an http(s) ``.mp3`` or ``.wav``;
    ``account``: the Africa's Talking account."""

    phone_number: str
    url: str
    account: str = "default"


def at_client(clients: ProviderClients, account: str) -> AfricasTalkingClient | None:
    client = clients.client("africastalking", account)
    return client if isinstance(client, AfricasTalkingClient) else None


def bad(field: str, message: str) -> JSONResponse:
    return JSONResponse({"error": message, "field": field}, status_code=400)


def provider_failed(exc: ProviderError) -> JSONResponse:
    log.error("provider call failed", error=str(exc), status=exc.status_code)
    return JSONResponse({"error": f"provider error: {exc}"}, status_code=502)


def build_router(clients: ProviderClients, store: StateStore) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["call control"])

    @router.post("/calls/{call_id}/transfer", summary="Transfer a bridged call (AT /callTransfer)")
    async def transfer(call_id: str, body: TransferRequest) -> JSONResponse:
        try:
            target = to_e164(body.phone_number)
        except InvalidEvent as exc:
            return bad("phone_number", str(exc))
        if body.hold_music_url is not None:
            try:
                check_media_url(body.hold_music_url)
            except ValueError as exc:
                return bad("hold_music_url", str(exc))
        call_key = await store.call_key_of(call_id)
        if call_key is None:
            return JSONResponse({"error": f"no live call {call_id!r}"}, status_code=404)
        provider, _, session_id = call_key.partition(":")
        if provider != "africastalking":
            return JSONResponse({"error": f"transfer is not available on {provider}"}, status_code=409)
        state = await store.load(call_key)
        client = at_client(clients, state.account if state else "default")
        if client is None:
            return JSONResponse({"error": "the call's account is not configured here"}, status_code=409)
        try:
            result = await client.call_transfer(
                session_id=session_id, phone_number=target, call_leg=body.call_leg, hold_music_url=body.hold_music_url
            )
        except ProviderError as exc:
            return provider_failed(exc)
        answer = {"call_id": call_id, "call_key": call_key, "status": result.status, "error": result.error_message}
        return JSONResponse(answer, status_code=200 if result.status == "Success" else 409)

    @router.get("/queues", summary="Callers waiting per queue (AT /queueStatus)")
    async def queues(
        phone_numbers: str = Query(..., description="comma-separated AT numbers"),
        account: str = Query("default", description="the Africa's Talking account"),
    ) -> JSONResponse:
        client = at_client(clients, account)
        if client is None:
            return bad("account", f"no africastalking account named {account!r}")
        numbers = []
        for raw in phone_numbers.split(","):
            try:
                numbers.append(to_e164(raw))
            except InvalidEvent as exc:
                return bad("phone_numbers", str(exc))
        try:
            entries = await client.queue_status(numbers)
        except ProviderError as exc:
            return provider_failed(exc)
        return JSONResponse(
            {
                "queues": [
                    {"phone_number": e.phone_number, "queue_name": e.queue_name, "num_calls": e.num_calls}
                    for e in entries
                ]
            }
        )

    @router.post("/media", summary="Upload a media URL for Play/hold music (AT /mediaUpload)")
    async def media(body: MediaRequest) -> JSONResponse:
        try:
            number = to_e164(body.phone_number)
        except InvalidEvent as exc:
            return bad("phone_number", str(exc))
        try:
            check_media_url(body.url)
        except ValueError as exc:
            return bad("url", f"url {exc}")
        client = at_client(clients, body.account)
        if client is None:
            return bad("account", f"no africastalking account named {body.account!r}")
        try:
            await client.media_upload(phone_number=number, url=body.url)
        except ProviderError as exc:
            return provider_failed(exc)
        return JSONResponse({"status": "uploaded", "phone_number": number, "url": body.url}, status_code=201)

    return router
