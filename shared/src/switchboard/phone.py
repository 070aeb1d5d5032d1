"""Phone numbers, through Google's libphonenumber port (``phonenumbers``)."""

from __future__ import annotations

import phonenumbers

from switchboard.errors import InvalidEvent


def to_e164(raw: str, *, default_region: str | None = None) -> str:
    """Normalise ``raw`` to E.164 (``+254700000001``).

    Accepts ``+``-prefixed numbers, bare international digits (``2547…``, as seed 001's
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
