"""Phone numbers, through Google's libphonenumber port (``phonenumbers``)."""

from __future__ import annotations

from typing import Annotated

import phonenumbers
from phonenumbers import timezone as pn_timezone
from pydantic import AfterValidator, Field, WithJsonSchema

from switchboard.errors import InvalidEvent


def to_e164(raw: str, *, default_region: str | None = None) -> str:
    """Normalise ``raw`` to E.164 (``+254700000001``).

    Accepts ``+``-prefixed numbers, bare international digits (``2547…``, as the original API's
    ``invoke-call`` takes them) and, with ``default_region``, national numbers.
    Raises :class:`InvalidEvent` (``field="phone"``) if the number is not possible/valid.
    """
    text = raw.strip()
    if not text:
        raise InvalidEvent("phone number is empty", field="phone")
    candidates = [text] if text.startswith("+") or default_region else [f"+{text}", text]
    for candidate in candidates:
        try:
            parsed = phonenumbers.parse(candidate, default_region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    raise InvalidEvent(f"{raw!r} is not a valid phone number", field="phone")


def _e164(value: str) -> str:
    try:
        return to_e164(value)
    except InvalidEvent as exc:
        raise ValueError(str(exc)) from None


E164 = Annotated[
    str,
    Field(max_length=32, examples=["+254700000001"]),
    AfterValidator(_e164),
    WithJsonSchema({"type": "string", "maxLength": 32, "description": "E.164, or international digits without +"}),
]
"""A phone number in a request model: accepted as E.164 or international digits (max 32
characters), validated with libphonenumber and normalised to E.164; invalid → a 400 naming the
field."""


UNKNOWN_ZONE = "Etc/Unknown"


def zones_of(parsed: phonenumbers.PhoneNumber) -> tuple[str, ...]:
    """The IANA time zones of a parsed number, sorted, from phonenumbers' time-zone data (by
    prefix: a US number maps to its area code's zone, a one-zone country to that zone); ``()`` when
    unknown."""
    return tuple(sorted({z for z in pn_timezone.time_zones_for_number(parsed) if z != UNKNOWN_ZONE}))


def zones_for(phone: str) -> tuple[str, ...]:
    """The IANA time zones of an E.164 number (:func:`zones_of`); ``()`` when unknown or unparseable."""
    try:
        parsed = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return ()
    return zones_of(parsed)
