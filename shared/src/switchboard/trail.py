"""A call's step trail: what the flow-runner did for it, kept in ``CallState.trail`` and emitted
with the CDR (``SessionEnded.trail``, the ``cdrs.trail`` column, ``GET /v1/calls/{call_id}``).

Each entry is a small dict, ``t`` the time in milliseconds since the Unix epoch (UTC) and ``k``
its kind:

- ``{"t", "k": "cb", "e": <CallEventType>, "d": <digits>?}``: a provider callback received
  (``t``: when the ingress received it; ``d`` only when the callback carried DTMF digits);
- ``{"t", "k": "act", "p": <JSON pointer>, "a": <action type>}``: an action of the flow run;
- ``{"t", "k": "reply", "n": <provider actions>}``: the reply sent for the callback;
- ``{"k": "cut"}``: the trail was full (:data:`switchboard.events.MAX_TRAIL` entries); later
  steps are not recorded.

Cost on the hot path: one list append per action in the interpreter and a few dicts per callback.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from switchboard.events import MAX_TRAIL, CallEvent

CUT: dict[str, Any] = {"k": "cut"}


def extend(trail: list[dict[str, Any]], entries: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """``trail`` with ``entries`` added, at most :data:`MAX_TRAIL` entries (the last one ``CUT``
    when some were left out). A new list: states are copied, never shared."""
    if trail and trail[-1] == CUT:
        return trail
    out = [*trail, *entries]
    if len(out) > MAX_TRAIL:
        out = [*out[: MAX_TRAIL - 1], CUT]
    return out


def callback(event: CallEvent) -> dict[str, Any]:
    entry: dict[str, Any] = {"t": int(event.received_at.timestamp() * 1000), "k": "cb", "e": event.type.value}
    if event.digits is not None:
        entry["d"] = event.digits
    return entry


def turn(event: CallEvent, ran: Iterable[Any], replied: int) -> list[dict[str, Any]]:
    """The entries of one live callback: the callback, each action run (``Node``s with ``path``
    and ``type``), the reply with ``replied`` provider actions."""
    now = int(time.time() * 1000)
    entries = [callback(event)]
    entries.extend({"t": now, "k": "act", "p": "/actions/" + "/".join(map(str, n.path)), "a": n.type} for n in ran)
    entries.append({"t": now, "k": "reply", "n": replied})
    return entries
