"""Reading contact files as they stream in: CSV (a ``phone`` column, every other column is session
data) and JSON lists. Memory stays flat: rows are yielded in batches as the bytes arrive, never
the whole file.

Line numbers are the file's physical lines (1 = the header), so a person can open the file at the
line reported; a record with a quoted line break is reported at its first line. JSON items are
numbered from 1.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
import phonenumbers

from switchboard.errors import SwitchboardError
from switchboard.phone import zones_of

MAX_COLUMNS = 100
MAX_FIELD_CHARS = 2000
MAX_RECORD_CHARS = 64 * 1024


@dataclass(frozen=True)
class Contact:
    line: int
    phone: str
    time_zones: str
    session_data: dict[str, Any]


@dataclass(frozen=True)
class BadRow:
    line: int
    error: str


@dataclass
class Report:
    """What an upload did: ``accepted`` rows stored, ``rejected`` rows refused (each with its line
    in ``errors``, the first ``max_errors`` of them)."""

    accepted: int = 0
    rejected: int = 0
    errors: list[BadRow] = field(default_factory=list)
    max_errors: int = 1000

    def refuse(self, bad: BadRow) -> None:
        self.rejected += 1
        if len(self.errors) < self.max_errors:
            self.errors.append(bad)


class FileInvalid(SwitchboardError):
    """The file as a whole cannot be read (no header, no phone column, not UTF-8, not a list)."""


Check = Callable[[str], None]
"""Raises (any :class:`SwitchboardError`) for a number the tenant may not call; its message is the
row's error."""


def normalise(raw: str) -> tuple[str, str]:
    """``(E.164, time zones joined by ',')`` of a number (``+``-prefixed or international digits).
    Raises ``ValueError`` naming the value when it is not a valid number."""
    text = raw.strip()
    if not text:
        raise ValueError("the phone is empty")
    candidate = text if text.startswith("+") else f"+{text}"
    try:
        parsed = phonenumbers.parse(candidate, None)
    except phonenumbers.NumberParseException:
        raise ValueError(f"{raw!r} is not a phone number") from None
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError(f"{raw!r} is not a valid phone number")
    zones = zones_of(parsed)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), ",".join(zones)


def contact(line: int, fields: dict[str, Any], phone_key: str, check: Check | None) -> Contact | BadRow:
    raw = fields.pop(phone_key, None)
    if not isinstance(raw, str | int):
        return BadRow(line, "no phone")
    try:
        phone, zones = normalise(str(raw))
        if check is not None:
            check(phone)
    except (ValueError, SwitchboardError) as exc:
        return BadRow(line, str(exc))
    return Contact(line, phone, zones, fields)


async def lines_of(chunks: AsyncIterator[bytes]) -> AsyncIterator[tuple[int, str]]:
    """``(first line number, record text)`` for each CSV record in a UTF-8 byte stream; a record
    spans physical lines while a quoted field is open."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    pending = ""
    record: list[str] = []
    record_line = 0
    quotes = 0
    number = 0

    def feed(text: str) -> Iterable[tuple[int, str]]:
        nonlocal record, record_line, quotes, number
        number += 1
        if not record:
            record_line = number
        record.append(text)
        quotes += text.count('"')
        if quotes % 2 == 0 or sum(map(len, record)) > MAX_RECORD_CHARS:
            yield record_line, "\n".join(record)
            record, quotes = [], 0

    try:
        async for chunk in chunks:
            pending += decoder.decode(chunk)
            *complete, pending = pending.split("\n")
            for text in complete:
                for item in feed(text.rstrip("\r")):
                    yield item
            if len(pending) > MAX_RECORD_CHARS:  # one endless line would otherwise grow without bound
                raise FileInvalid(f"line {number + 1} is longer than {MAX_RECORD_CHARS} characters")
        pending += decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise FileInvalid(f"the file is not UTF-8 (line {number + 1}): {exc.reason}") from None
    if pending:
        for item in feed(pending.rstrip("\r")):
            yield item
    if record:
        yield record_line, "\n".join(record)


async def read_csv(
    chunks: AsyncIterator[bytes], report: Report, *, check: Check | None = None, batch: int = 5000
) -> AsyncIterator[list[Contact]]:
    """Batches of good contacts from a CSV stream; bad rows go to ``report``. The header names the
    columns; the phone column is the one named ``phone`` (any case; also ``number``, ``msisdn``,
    ``to``). Raises :class:`FileInvalid` without a header or a phone column."""
    header: list[str] | None = None
    phone_key = ""
    out: list[Contact] = []
    async for line, text in lines_of(chunks):
        if not text.strip():
            continue
        try:
            values = next(csv.reader([text], strict=True))
        except (csv.Error, StopIteration) as exc:
            if header is None:
                raise FileInvalid(f"line {line}: the header is not CSV ({exc})") from None
            report.refuse(BadRow(line, f"not CSV: {exc}"))
            continue
        if header is None:
            header = [v.strip() for v in values]
            names = {h.lower(): h for h in header}
            found = next((names[k] for k in ("phone", "number", "msisdn", "to") if k in names), None)
            if found is None:
                raise FileInvalid(f"line {line}: no phone column in the header {header[:MAX_COLUMNS]}")
            if len(header) > MAX_COLUMNS or len(set(header)) != len(header):
                raise FileInvalid(f"line {line}: at most {MAX_COLUMNS} columns, each named once")
            phone_key = found
            continue
        if len(values) != len(header):
            report.refuse(BadRow(line, f"{len(values)} fields where the header has {len(header)}"))
            continue
        if any(len(v) > MAX_FIELD_CHARS or "\x00" in v for v in values):
            report.refuse(BadRow(line, f"a field is longer than {MAX_FIELD_CHARS} characters or holds U+0000"))
            continue
        item = contact(line, dict(zip(header, values, strict=True)), phone_key, check)
        if isinstance(item, BadRow):
            report.refuse(item)
            continue
        out.append(item)
        if len(out) >= batch:
            yield out
            out = []
    if header is None:
        raise FileInvalid("the file is empty: a header with a phone column is needed")
    if out:
        yield out


def read_json(body: bytes, report: Report, *, check: Check | None = None) -> list[Contact]:
    """Contacts from a JSON list of objects (or ``{"contacts": [...]}``), each with a ``phone`` and
    any other keys as session data; items numbered from 1 in the report."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise FileInvalid(f"not JSON: {exc}") from None
    if isinstance(doc, dict) and isinstance(doc.get("contacts"), list):
        doc = doc["contacts"]
    if not isinstance(doc, list):
        raise FileInvalid("a JSON list of contacts is needed (or an object with a 'contacts' list)")
    out = []
    for number, item in enumerate(doc, start=1):
        if not isinstance(item, dict):
            report.refuse(BadRow(number, "not an object"))
            continue
        if b"\\u0000" in orjson.dumps(item):
            report.refuse(BadRow(number, "holds U+0000"))
            continue
        got = contact(number, dict(item), "phone", check)
        if isinstance(got, BadRow):
            report.refuse(got)
        else:
            out.append(got)
    return out
