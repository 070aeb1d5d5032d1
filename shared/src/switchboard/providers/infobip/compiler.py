"""A flow as one Infobip advanced voice message (``infobip.md`` §3.3).

Infobip places the call and plays the message itself; nothing comes back until the delivery
report (§1, §5). So a flow runs on Infobip when it is, in effect, one message:

- what is spoken: SAY (text, SSML allowed), PAUSE (``,`` per 0.5 s, §3.3 ``text``), or a single
  PLAY (``audioFileUrl``: one file *or* text, never both);
- DETECT (answering-machine detection, ``machineDetection`` ``hangup``/``continue``) for the
  whole message;
- at most one COLLECT, at the top level, last among what is heard: its prompts are spoken, then
  ``maxDtmf`` keys (``num_digits``; 20 when unset, ``#`` ends the input early) within
  ``dtmfTimeout`` (its ``timeout``, in whole seconds); only ``#`` may finish the input (§3.3:
  ``#`` is reserved as the terminator);
- after the COLLECT, transfers on a key: ``IF $keyPresses == '0'`` with ``then: [TRANSFER]`` and
  nothing else becomes ``callTransfers`` ``{if: dtmf, equals: '0', transferTo}``; a repeat on a
  key, ``IF $keyPresses == '1'`` with ``then: [GOTO <a LABEL before anything is heard>]``,
  becomes ``repeatDtmf`` (Infobip plays the message again, at most 5 times); then HANGUP,
  SET, SESSIONDATA, STOP or the end. SET and SESSIONDATA after the COLLECT run when the report
  arrives (they see the keys pressed) and land in the CDR.

Server-side actions before the COLLECT (SET, IF, FOREACH, SESSIONDATA) are run at dial time with
the call's data, exactly as the interpreter runs them for the other providers: the message is the
first turn's provider actions (:func:`message`). What cannot be one message is refused by
validation (:func:`refusals`), each with its JSON pointer and reason: branching on the keys
pressed (other than a transfer or a repeat), speaking after the COLLECT, a second COLLECT, loops (GOTO),
WEBHOOK, REDIRECT, DIAL, QUEUE, DEQUEUE, CONFERENCE, RECORD, REJECT.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from switchboard.errors import FlowError
from switchboard.flow.document import pointer_of, walk
from switchboard.providers.actions import Detect, GetDigits, Hangup, Pause, Play, ProviderAction, Say

ONE_WAY = "an Infobip voice message has no live call (infobip.md §1)"
ON_KEY = "write IF $keyPresses == 'N' then TRANSFER after the COLLECT (callTransfers, infobip.md §3.3)"
REFUSED = {
    "GOTO": f"loops need a live call; {ONE_WAY}",
    "WEBHOOK": f"a request in the middle of the call needs a live call; {ONE_WAY}",
    "REDIRECT": f"handing the call to an application needs a live call; {ONE_WAY}",
    "DIAL": f"Infobip voice messages connect a caller only on a key press: {ON_KEY}",
    "QUEUE": f"queues need a live call; {ONE_WAY}",
    "DEQUEUE": f"queues need a live call; {ONE_WAY}",
    "CONFERENCE": f"conferences need a live call; {ONE_WAY}",
    "RECORD": "Infobip voice messages do not record (the legacy 'record' field is removed, infobip.md §3.3)",
    "REJECT": "Infobip places the call itself; there is no incoming call to reject (infobip.md §1)",
}
AFTER_COLLECT = frozenset({"HANGUP", "SET", "SESSIONDATA", "STOP", "LABEL"})
DEFAULT_MAX_DTMF = 20
_KEY_TEST = re.compile(r"""^\s*\$?keyPresses\s*===?\s*(?:'([0-9*])'|"([0-9*])"|([0-9]))\s*$""")


def transfer_on_key(action: dict[str, Any]) -> tuple[str, str] | None:
    """``(key, number)`` when ``action`` is ``IF $keyPresses == '<key>'`` whose only branch is one
    TRANSFER, else None."""
    if action.get("type") != "IF" or action.get("orElse") or action.get("else"):
        return None
    m = _KEY_TEST.match(str(action.get("condition", "")))
    then = action.get("then") or []
    if not m or len(then) != 1 or then[0].get("type") != "TRANSFER":
        return None
    number = (then[0].get("params") or {}).get("no")
    return (next(g for g in m.groups() if g), str(number)) if number else None


def _label(action: dict[str, Any]) -> str | None:
    if action.get("type") != "LABEL":
        return None
    name = (action.get("params") or {}).get("name", action.get("name"))
    return str(name) if name is not None else None


def repeat_on_key(action: dict[str, Any], actions: Sequence[dict[str, Any]]) -> str | None:
    """The key when ``action`` is ``IF $keyPresses == '<key>'`` whose only branch is a GOTO to a
    top-level LABEL with nothing heard before it (so going back plays the whole message again:
    Infobip's ``repeatDtmf``, §3.3), else None."""
    if action.get("type") != "IF" or action.get("orElse") or action.get("else"):
        return None
    m = _KEY_TEST.match(str(action.get("condition", "")))
    then = action.get("then") or []
    if not m or len(then) != 1 or then[0].get("type") != "GOTO":
        return None
    target = (then[0].get("params") or {}).get("label")
    for before in actions:
        if _label(before) == target:
            return next(g for g in m.groups() if g)
        if str(before.get("type")) not in ("LABEL", "SET", "SESSIONDATA"):
            return None
    return None


def refusals(actions: Sequence[dict[str, Any]]) -> list[tuple[str, str]]:
    """What of the (normalised) top-level ``actions`` one voice message cannot carry, as
    ``(JSON pointer, reason)`` pairs; empty when the flow compiles."""
    out: list[tuple[str, str]] = []
    collect_at: int | None = None
    audio: list[str] = []
    text: list[str] = []
    allowed_transfers: set[tuple[int | str, ...]] = set()
    for i, action in enumerate(actions):
        if collect_at is None and action.get("type") == "COLLECT":
            collect_at = i
        elif collect_at is not None and (transfer_on_key(action) or repeat_on_key(action, actions)):
            allowed_transfers.add((i, "then", 0))
    collect_at = None
    for path, action in walk(list(actions), prompts=True):
        kind, pointer = str(action.get("type")), pointer_of(path)
        if kind == "GOTO" and path in allowed_transfers:
            continue  # back to the top on a key: repeatDtmf
        if kind in REFUSED:
            out.append((f"{pointer}/type", f"Infobip cannot carry out {kind}: {REFUSED[kind]}"))
        elif kind == "TRANSFER" and path not in allowed_transfers:
            out.append(
                (f"{pointer}/type", f"Infobip transfers only on a key press: {REFUSED['DIAL'].split(': ', 1)[1]}")
            )
        elif kind == "PLAY":
            audio.append(pointer)
        elif kind in ("SAY", "PAUSE"):
            text.append(pointer)
        elif kind == "COLLECT":
            key = (action.get("params") or {}).get("finish_on_key")
            if key not in (None, "#", "pound"):
                out.append((f"{pointer}/params/finish_on_key", "Infobip ends DTMF input with # only (infobip.md §3.3)"))
            if len(path) != 1:
                out.append((pointer, f"a COLLECT inside {path[-2]!s} needs a live call; {ONE_WAY}"))
            elif collect_at is not None:
                out.append((pointer, f"a second COLLECT needs a live call: one message collects once; {ONE_WAY}"))
            else:
                collect_at = int(path[0])
    if len(audio) > 1:
        out.append((audio[1], "an Infobip message plays one audio file (audioFileUrl, infobip.md §3.3)"))
    if audio and text:
        out.append((audio[0], "an Infobip message is text or one audio file, not both (infobip.md §3.3)"))
    if collect_at is not None:
        for i in range(collect_at + 1, len(actions)):
            kind = str(actions[i].get("type"))
            if kind in AFTER_COLLECT or transfer_on_key(actions[i]) or repeat_on_key(actions[i], actions):
                continue
            if kind in REFUSED:
                continue
            out.append(
                (
                    f"/actions/{i}",
                    f"after its COLLECT an Infobip message can only transfer on a key (IF $keyPresses == 'N' "
                    f"then TRANSFER) or end: {kind} would need what was pressed during the call; {ONE_WAY}",
                )
            )
    return out


def message(
    actions: Sequence[ProviderAction],
    flow_actions: Sequence[dict[str, Any]],
) -> dict[str, Any]:
    """The advanced-message fields (no ``from``/``destinations``/``notifyUrl``) for the first
    turn's provider ``actions`` (what the interpreter produced up to the COLLECT) and the flow's
    top-level ``flow_actions`` (for the transfers after the COLLECT). Raises :class:`FlowError`
    for an action a message cannot carry (validation refuses such flows first)."""
    parts: list[str] = []
    audio: str | None = None
    fields: dict[str, Any] = {}

    def speak(action: Say | Play) -> None:
        nonlocal audio
        if isinstance(action, Play):
            audio = action.url
        else:
            parts.append(action.text.strip())

    for action in actions:
        if isinstance(action, Say | Play):
            speak(action)
        elif isinstance(action, Pause):
            parts.append("," * (2 * action.length_s))
        elif isinstance(action, Detect):
            fields["machineDetection"] = "hangup" if action.on_machine == "hangup" else "continue"
        elif isinstance(action, GetDigits):
            if action.prompt is not None:
                speak(action.prompt)
            fields["maxDtmf"] = action.num_digits or DEFAULT_MAX_DTMF
            fields["dtmfTimeout"] = max(1, math.ceil(action.timeout_s)) if action.timeout_s else 10
        elif isinstance(action, Hangup):
            break
        else:
            raise FlowError(f"Infobip cannot carry out {action.kind}: {ONE_WAY}")
    if audio is not None and parts:
        raise FlowError("an Infobip message is text or one audio file, not both (infobip.md §3.3)")
    if audio is not None:
        fields["audioFileUrl"] = audio
    else:
        text = " ".join(p for p in parts if p)
        if not text.strip(", "):
            raise FlowError("an Infobip message needs something to say (REJECTED_MESSAGE_IS_EMPTY, infobip.md §7)")
        fields["text"] = text[:1400]
    repeats = [key for key in (repeat_on_key(a, flow_actions) for a in flow_actions) if key]
    if repeats and "maxDtmf" in fields:
        fields["repeatDtmf"] = repeats[0]
    transfers = [t for t in (transfer_on_key(a) for a in flow_actions) if t]
    if transfers and "maxDtmf" in fields:
        fields["callTransfers"] = [
            {"if": "dtmf", "equals": key, "transferTo": number.lstrip("+")} for key, number in transfers
        ]
    return fields
