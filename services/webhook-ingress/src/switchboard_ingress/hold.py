"""The hold tone a caller hears while the flow-runner is away (a restart, a rebalance).

``GET /providers/media/hold.wav`` (public, beside the callbacks, so the provider can fetch it the
way it fetches the callback URL): 4 s of 8 kHz 16-bit mono PCM, two soft 425 Hz pips (the ITU-T
E.180 comfort-tone frequency), generated here so a deployment needs no media host. The fallback
plays it on every hold after the first, which says ``SB_HOLD_MESSAGE`` (``SB_HOLD_AUDIO_URL``
replaces it with the deployment's own music).
"""

from __future__ import annotations

import io
import math
import wave
from array import array
from urllib.parse import urlsplit

from fastapi import APIRouter
from fastapi.responses import Response

HOLD_AUDIO_PATH = "/providers/media/hold.wav"
RATE = 8000


def hold_tone(seconds: float = 4.0, *, frequency: float = 425.0, volume: float = 0.12) -> bytes:
    """A WAV file: a 0.4 s pip at ``frequency`` Hz every 2 s, ``volume`` of full scale, faded in and
    out over 20 ms so it does not click."""
    samples = array("h")
    fade = int(0.02 * RATE)
    for i in range(int(seconds * RATE)):
        t = (i % (2 * RATE)) / RATE
        on = t < 0.4
        if not on:
            samples.append(0)
            continue
        k = i % (2 * RATE)
        envelope = min(1.0, k / fade, (int(0.4 * RATE) - k) / fade)
        samples.append(int(32767 * volume * envelope * math.sin(2 * math.pi * frequency * i / RATE)))
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(samples.tobytes())
    return out.getvalue()


def hold_audio_url_for(callback_url: str) -> str:
    """The hold tone's URL on the same origin the provider reached the callback on."""
    parts = urlsplit(callback_url)
    return f"{parts.scheme}://{parts.netloc}{HOLD_AUDIO_PATH}"


def build_router() -> APIRouter:
    tone = hold_tone()
    router = APIRouter()

    @router.get(HOLD_AUDIO_PATH, tags=["media"], summary="The hold tone played while a reply is late")
    async def hold_audio() -> Response:
        return Response(tone, media_type="audio/wav", headers={"Cache-Control": "public, max-age=86400"})

    return router
