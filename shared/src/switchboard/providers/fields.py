"""Bounds on provider fields, checked where each field is parsed.

The provider parsers read each field through a :class:`FieldReader`. The bounds are those of the
event models and the ``cdrs`` table (:mod:`switchboard.events`): text lengths, no U+0000, finite
numbers in range, DTMF digit strings, ISO 4217 currency codes, real calendar dates.

What an out-of-bounds field does depends on the notification:

- **live** (the provider waits for a reply, or a mid-call progress event): :class:`InvalidEvent`
  naming the field; the ingress answers 400.
- **end of call** (AT ``isActive=0``, Voxology ``end_call``, Telesign ``call_completed``): the call
  still ends and its CDR still lands, because refusing the provider's final notification loses the
  CDR. The field reads as null, its raw value goes to :attr:`FieldReader.invalid`
  (→ ``CallEvent.raw_invalid``) and a warning names the field.

Fields that identify the call (session id, account) are refused in both cases: without them
there is no call to end.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import orjson
from pydantic import ValidationError

from switchboard.errors import InvalidEvent
from switchboard.events import MAX_COST, MAX_DIGITS, MAX_DURATION_S, MAX_URL, YEARS, CallEvent, in_years
from switchboard.logging import get_logger

log = get_logger(__name__)

T = TypeVar("T")

TEXT_MAX = 64
"""Default bound of a short provider text field (status, state, hangup cause, number)."""
RAW_INVALID_MAX = 1024
"""How much of an out-of-bounds raw value an event keeps (the full body stays in ``CallEvent.raw``)."""
SESSION_ID_MAX = 128
ACCOUNT_MAX = 64
_DIGITS = re.compile(r"[0-9A-Da-d*#]*")
_CURRENCY = re.compile(r"[A-Za-z]{3}")
_NUMBER_TEXT_MAX = 40  # longest decimal string read as a number


def raw_text(value: Any) -> str:
    """A field's raw value as text: strings as they are, anything else as JSON."""
    if isinstance(value, str):
        return value
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return repr(value)


def _shown(value: Any, limit: int = 60) -> str:
    text = raw_text(value)
    return repr(text if len(text) <= limit else f"{text[:limit]}…({len(text)} chars)")


class OutOfBounds(ValueError):
    """A field value outside its bounds; the message says what the field must be."""


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() in ("", "None"))


def check_text(value: Any, max_length: int = TEXT_MAX) -> str:
    """A string (or a JSON integer, as its decimal text) of at most ``max_length`` characters
    without U+0000."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise OutOfBounds("is not a string")
    text = str(value)
    if len(text) > max_length:
        raise OutOfBounds(f"is longer than {max_length} characters")
    if "\x00" in text:
        raise OutOfBounds("contains U+0000")
    return text


def check_digits(value: Any) -> str:
    """DTMF keys (``0-9 * # A-D``), at most :data:`~switchboard.events.MAX_DIGITS`, surrounding
    blanks dropped; ``""`` is no input. A JSON integer is read as its digits."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        value = str(value)
    if not isinstance(value, str):
        raise OutOfBounds("is not a string of keys")
    text = value.strip()
    if len(text) > MAX_DIGITS:
        raise OutOfBounds(f"has more than {MAX_DIGITS} keys")
    if not _DIGITS.fullmatch(text):
        raise OutOfBounds("is not DTMF keys (0-9, *, #, A-D)")
    return text


def check_number(value: Any, unit: str) -> Decimal:
    """A finite number: a JSON number or a decimal string (not NaN, not Infinity)."""
    if isinstance(value, bool):
        raise OutOfBounds(f"is not a number ({unit})")
    if isinstance(value, float) and not math.isfinite(value):
        raise OutOfBounds(f"is not a finite number ({unit})")
    if isinstance(value, int | float):
        return Decimal(str(value))
    if not isinstance(value, str) or len(value.strip()) > _NUMBER_TEXT_MAX:
        raise OutOfBounds(f"is not a number ({unit})")
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        raise OutOfBounds(f"is not a number ({unit})") from None
    if not number.is_finite():
        raise OutOfBounds(f"is not a finite number ({unit})")
    return number


def check_duration_s(value: Any, per_second: int = 1) -> int:
    """A duration of 0 … :data:`~switchboard.events.MAX_DURATION_S` seconds (a week), rounded to
    the nearest second. ``per_second``: wire units per second (1000 for milliseconds)."""
    unit = "ms" if per_second == 1000 else "seconds"
    seconds = check_number(value, unit) / per_second
    if not 0 <= seconds <= MAX_DURATION_S:
        raise OutOfBounds(f"is not a duration of 0 to {MAX_DURATION_S * per_second} {unit}")
    return int(seconds.to_integral_value())


def check_cost(value: Any) -> Decimal:
    """An amount of 0 … :data:`~switchboard.events.MAX_COST` (``numeric(14, 4)``)."""
    number = check_number(value, "amount")
    if not 0 <= number <= MAX_COST:
        raise OutOfBounds(f"is not an amount of 0 to {MAX_COST}")
    return number


def check_currency(value: Any) -> str:
    """An ISO 4217 code: three letters, returned in upper case."""
    if not isinstance(value, str) or not _CURRENCY.fullmatch(value.strip()):
        raise OutOfBounds("is not a three-letter currency code")
    return value.strip().upper()


def check_url(value: Any, max_length: int = MAX_URL) -> str:
    """A URL or opaque media reference of at most ``max_length`` printable characters."""
    if not isinstance(value, str):
        raise OutOfBounds("is not a string")
    text = value.strip()
    if len(text) > max_length or not text.isprintable():
        raise OutOfBounds(f"is not a URL of at most {max_length} printable characters")
    return text


def check_time(value: Any, parse: Callable[[str], datetime], expected: str) -> datetime:
    """``parse(value)``; a malformed or impossible time (month 13, 25 o'clock) or one outside
    :data:`~switchboard.events.YEARS` is out of bounds."""
    if not isinstance(value, str) or len(value) > 64:
        raise OutOfBounds(f"is not {expected}")
    try:
        return in_years(parse(value))
    except (ValueError, OverflowError):
        raise OutOfBounds(f"is not {expected} in the years {YEARS[0]} to {YEARS[1]}") from None


class FieldReader:
    """Reads one notification's fields against their bounds.

    ``final``: an end-of-call notification (an out-of-bounds field reads as null and its raw value
    is kept in :attr:`invalid`) rather than a live one (it raises :class:`InvalidEvent` naming the
    field). ``provider`` and ``session`` label the warning. Absent fields (``None``; for the
    number, currency and time readers also ``""`` and AT's ``"None"``) read as null.
    """

    def __init__(self, provider: str, *, final: bool, session: str | None = None) -> None:
        self.provider = provider
        self.final = final
        self.session = session
        self.invalid: dict[str, str] = {}

    def read(self, field: str, value: Any, check: Callable[[Any], T]) -> T | None:
        """``check(value)``; when it raises :class:`OutOfBounds`: refuse (live) or null (final)."""
        try:
            return check(value)
        except OutOfBounds as exc:
            message = f"{field}={_shown(value)} {exc}"
            if not self.final:
                raise InvalidEvent(message, field=field) from None
        text = raw_text(value)
        self.invalid[field] = text if len(text) <= RAW_INVALID_MAX else f"{text[:RAW_INVALID_MAX]}…({len(text)} chars)"
        log.warning(
            "end-of-call field out of bounds: set to null, raw value kept",
            provider=self.provider,
            session_id=self.session,
            field=field,
            error=message,
        )
        return None

    def text(self, field: str, value: Any, *, max_length: int = TEXT_MAX) -> str | None:
        return None if value is None else self.read(field, value, lambda v: check_text(v, max_length))

    def digits(self, field: str, value: Any) -> str | None:
        return None if value is None else self.read(field, value, check_digits)

    def duration_s(self, field: str, value: Any, *, per_second: int = 1) -> int | None:
        return None if _blank(value) else self.read(field, value, lambda v: check_duration_s(v, per_second))

    def cost(self, field: str, value: Any) -> Decimal | None:
        return None if _blank(value) else self.read(field, value, check_cost)

    def currency(self, field: str, value: Any) -> str | None:
        return None if _blank(value) else self.read(field, value, check_currency)

    def url(self, field: str, value: Any, *, max_length: int = MAX_URL) -> str | None:
        return None if value is None else self.read(field, value, lambda v: check_url(v, max_length))

    def time(self, field: str, value: Any, parse: Callable[[str], datetime], expected: str) -> datetime | None:
        return None if _blank(value) else self.read(field, value, lambda v: check_time(v, parse, expected))

    @staticmethod
    def identity(field: str, value: Any, max_length: int = SESSION_ID_MAX) -> str:
        """A required id (session id, account), refused in every notification: without it there
        is no call. A non-empty string of at most ``max_length`` printable characters, stripped."""
        if not isinstance(value, str) or not value.strip():
            raise InvalidEvent(f"required field {field!r} is missing", field=field)
        text = value.strip()
        if len(text) > max_length or not text.isprintable():
            raise InvalidEvent(f"{field}={_shown(text)} must be at most {max_length} printable characters", field=field)
        return text


def call_event(**fields: Any) -> CallEvent:
    """``CallEvent(**fields)``; a field the model still refuses (a bound the reader does not know)
    raises :class:`InvalidEvent` naming it rather than escaping as a server error."""
    try:
        return CallEvent(**fields)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"])
        raise InvalidEvent(f"{field}: {error['msg']}", field=field) from None
