"""Render provider actions as Telesign JSON-RPC actions, one per reply (``telesign.md`` §3).

``render_batch`` returns the list of replies (each an encoded action) for one batch: SAY → ``speak``,
a COLLECT with a SAY prompt → ``speak`` with ``collect_digits.max``, PLAY → ``play``, DIAL/TRANSFER →
``dial`` (to one number, digits without ``+``), HANGUP → ``hangup``. Our own Redirects are dropped
(Telesign posts the next event by itself). Anything else raises :class:`FlowError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from switchboard.errors import FlowError
from switchboard.providers.actions import Dial, GetDigits, Hangup, Play, ProviderAction, Redirect, Say

CONTENT_TYPE = "application/json"


def _rpc(method: str, params: dict[str, Any]) -> bytes:
    return orjson.dumps({"jsonrpc": "2.0", "method": method, "params": params})


def _speak(text: str, collect: int | None = None, language: str = "en-US") -> bytes:
    params: dict[str, Any] = {"tts": {"message": text, "language": language}}
    if collect:
        params["collect_digits"] = {"max": collect}
    return _rpc("speak", params)


def _one(action: ProviderAction, caller_id: str | None) -> bytes | None:
    if isinstance(action, Say):
        return _speak(action.text)
    if isinstance(action, GetDigits):
        if isinstance(action.prompt, Play):
            raise FlowError("Telesign collects digits only during speak: the COLLECT prompt must be a SAY")
        return _speak(action.prompt.text if action.prompt else "", collect=action.num_digits or 1)
    if isinstance(action, Play):
        return _rpc("play", {"url": action.url})
    if isinstance(action, Dial):
        if len(action.numbers) != 1:
            raise FlowError("Telesign dials one number at a time")
        params = {"to": action.numbers[0].lstrip("+")}
        if caller_id:
            params["caller_id_number"] = caller_id.lstrip("+")
        return _rpc("dial", params)
    if isinstance(action, Hangup):
        return _rpc("hangup", {})
    if isinstance(action, Redirect):
        return None
    raise FlowError(f"Telesign cannot carry out {action.kind}")


def render_batch(actions: Sequence[ProviderAction], *, caller_id: str | None = None) -> list[bytes]:
    """One encoded JSON-RPC action per reply, in order. ``caller_id``: presented on a bridge (the
    ``from`` of the incoming call, spec §3)."""
    return [body for body in (_one(a, caller_id) for a in actions) if body is not None]
