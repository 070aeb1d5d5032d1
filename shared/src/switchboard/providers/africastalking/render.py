"""Render provider actions as Africa's Talking XML (``africastalking.md`` §4).

Built with ``xml.etree.ElementTree``, never by string concatenation: text and attribute values
are escaped by the builder (``&``, ``<``, ``>``, ``"``). Booleans render as ``true``/``false``,
numbers as integer seconds. ``Dial`` uses ``ringbackTone`` (§8) and never ``holdMusic``.
``Reject`` may follow other elements: AT's own example application answers
``<Say>Your balance is …</Say><Reject/>`` (speak, then end the call; §4, §8), so it is never refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.etree.ElementTree import Element, SubElement, tostring

from switchboard.errors import FlowError
from switchboard.providers.actions import (
    Conference,
    Dequeue,
    Dial,
    Enqueue,
    GetDigits,
    Hangup,
    Play,
    ProviderAction,
    Record,
    Redirect,
    Reject,
    Say,
)

CONTENT_TYPE = "application/xml"
DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'


def _set(el: Element, name: str, value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool):
        el.set(name, "true" if value else "false")
    else:
        el.set(name, str(value))


def _prompt(parent: Element, prompt: Say | Play | None) -> None:
    if isinstance(prompt, Say):
        _say(parent, prompt)
    elif isinstance(prompt, Play):
        SubElement(parent, "Play", url=prompt.url)


def _say(parent: Element, action: Say) -> None:
    el = SubElement(parent, "Say")
    el.text = action.text
    _set(el, "voice", action.voice)
    if action.play_beep:
        _set(el, "playBeep", True)


def _render_one(root: Element, action: ProviderAction) -> None:
    if isinstance(action, Say):
        _say(root, action)
    elif isinstance(action, Play):
        SubElement(root, "Play", url=action.url)
    elif isinstance(action, GetDigits):
        el = SubElement(root, "GetDigits")
        _set(el, "numDigits", action.num_digits)
        _set(el, "timeout", action.timeout_s)
        _set(el, "finishOnKey", action.finish_on_key)
        _set(el, "callbackUrl", action.callback_url)
        _prompt(el, action.prompt)
    elif isinstance(action, Record):
        el = SubElement(root, "Record")
        if not action.terminal:
            _set(el, "finishOnKey", action.finish_on_key)
            _set(el, "maxLength", action.max_length_s)
            _set(el, "timeout", action.timeout_s)
            _set(el, "trimSilence", action.trim_silence)
            _set(el, "playBeep", action.play_beep)
            _set(el, "callbackUrl", action.callback_url)
            _prompt(el, action.prompt)
    elif isinstance(action, Dial):
        el = SubElement(root, "Dial", phoneNumbers=",".join(action.numbers))
        _set(el, "record", action.record)
        _set(el, "sequential", action.sequential)
        _set(el, "callerId", action.caller_id)
        _set(el, "ringbackTone", action.ringback_url)
        _set(el, "maxDuration", action.max_duration_s)
    elif isinstance(action, Enqueue):
        el = SubElement(root, "Enqueue")
        _set(el, "name", action.name)
        _set(el, "holdMusic", action.hold_music_url)
    elif isinstance(action, Dequeue):
        el = SubElement(root, "Dequeue", phoneNumber=action.phone_number)
        _set(el, "name", action.name)
    elif isinstance(action, Redirect):
        SubElement(root, "Redirect").text = action.url
    elif isinstance(action, Reject):
        SubElement(root, "Reject")
    elif isinstance(action, Conference):
        SubElement(root, "Conference")  # attributes undocumented (spec §4, Unknowns)
    elif isinstance(action, Hangup):
        pass  # AT hangs up when the actions run out; nothing follows a Hangup.
    else:
        raise FlowError(f"Africa's Talking cannot render {action.kind}")


def render(actions: Sequence[ProviderAction]) -> tuple[bytes, str]:
    """Return ``(xml_bytes, content_type)`` for one AT reply.

    Nothing after a ``Hangup`` or a ``Reject`` is rendered (both end the call). A ``Reject`` after
    other elements is rendered as it is (spec §8: AT's example app speaks, then rejects). Raises
    :class:`FlowError` only for an action AT has no element for.
    """
    root = Element("Response")
    for action in actions:
        _render_one(root, action)
        if isinstance(action, Hangup | Reject):
            break
    return (DECLARATION + tostring(root, encoding="unicode")).encode(), CONTENT_TYPE
