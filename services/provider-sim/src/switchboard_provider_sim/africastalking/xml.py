"""Read an AT ``<Response>`` the way the gateway would (``africastalking.md`` §4), with defusedxml.

Returns a list of ``Element`` dicts: ``{"tag", "attrs", "text", "children"}``. Raises
``BadResponse`` for anything the gateway could not run: not XML, no ``<Response>`` root, an
unknown element, a ``<Reject/>`` that is not alone, a nested element where none is allowed, a
missing required attribute.
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
    actions = [_element(el, nested=False) for el in root]
    if any(a["tag"] == "Reject" for a in actions) and len(actions) > 1:
        raise BadResponse("<Reject/> must be the only element")
    return actions


def truthy(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"
