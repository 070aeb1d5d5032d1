"""Read an AT ``<Response>`` the way the gateway would (``africastalking.md`` §4), with defusedxml.

Returns a list of ``Element`` dicts: ``{"tag", "attrs", "text", "children"}``. Raises
``BadResponse`` for anything the gateway could not run: not XML, no ``<Response>`` root, an
unknown element, a nested element where none is allowed, a missing required attribute.

Tolerated both ways (spec §8): ``<Reject/>`` after other elements (AT's own example app answers
``<Say>…</Say><Reject/>``; the caller runs them, then the call ends); ``callBackUrl`` as well as
``callbackUrl`` on ``GetDigits``/``Record`` (the only Python action builder AT published writes
``callBackUrl``), read as ``callbackUrl``, which wins when both are present; ``ringBackTone`` as well
as ``ringbackTone`` on ``Dial``, likewise.
"""

from __future__ import annotations

from typing import Any

from defusedxml import ElementTree as SafeET

KNOWN = {"Say", "Play", "GetDigits", "Dial", "Record", "Enqueue", "Dequeue", "Redirect", "Reject", "Conference"}
REQUIRED_ATTRS = {"Play": ("url",), "Dial": ("phoneNumbers",), "Dequeue": ("phoneNumber",)}
PROMPT_PARENTS = {"GetDigits", "Record"}


class BadResponse(ValueError):
    pass


def _element(el: Any, *, nested: bool) -> dict[str, Any]:
    tag = el.tag
    if tag not in KNOWN:
        raise BadResponse(f"unknown element <{tag}>")
    attrs = dict(el.attrib)
    if tag == "Dial" and "ringbackTone" not in attrs and "ringBackTone" in attrs:
        attrs["ringbackTone"] = attrs["ringBackTone"]  # spec §8: accept both casings
    if tag in PROMPT_PARENTS and "callbackUrl" not in attrs and "callBackUrl" in attrs:
        attrs["callbackUrl"] = attrs["callBackUrl"]  # spec §8: accept both casings
    for name in REQUIRED_ATTRS.get(tag, ()):
        if not attrs.get(name):
            raise BadResponse(f"<{tag}> needs the {name!r} attribute")
    children = list(el)
    if children and tag not in PROMPT_PARENTS:
        raise BadResponse(f"<{tag}> cannot contain elements")
    if len(children) > 1:
        raise BadResponse(f"<{tag}> takes one Say or Play prompt, not {len(children)}")
    kids = [_element(c, nested=True) for c in children]
    if kids and kids[0]["tag"] not in ("Say", "Play"):
        raise BadResponse(f"<{tag}> prompt must be Say or Play")
    return {"tag": tag, "attrs": attrs, "text": (el.text or "").strip(), "children": kids}


def parse_response(body: bytes) -> list[dict[str, Any]]:
    try:
        root = SafeET.fromstring(body)
    except Exception as exc:
        raise BadResponse(f"not well-formed XML: {exc}") from None
    if root.tag != "Response":
        raise BadResponse(f"root element is <{root.tag}>, not <Response>")
    return [_element(el, nested=False) for el in root]


def truthy(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"
