"""What a campaign is made of (the ``campaigns`` row's JSON columns and the API's bodies).

Units: delays and timeouts in seconds (``*_s``), calls per second as a float, window times as
``HH:MM`` local wall-clock times of the callee.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from switchboard.events import StatusCallback
from switchboard.phone import E164

State = Literal["draft", "running", "paused", "completed", "cancelled"]
STATES: tuple[str, ...] = ("draft", "running", "paused", "completed", "cancelled")
Outcome = Literal["completed", "busy", "no-answer", "failed", "machine", "dnc", "cancelled"]
RETRYABLE: tuple[str, ...] = ("busy", "no-answer", "failed", "machine")
"""Outcomes a retry rule may name; ``completed``, ``dnc`` and ``cancelled`` are always final."""
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RetryRule(_Model):
    """After an attempt ended with this outcome: wait ``delay_s`` seconds, then call again, as long
    as the contact has had fewer than ``max_attempts`` attempts in all."""

    delay_s: int = Field(default=600, ge=0, le=30 * 24 * 3600)
    max_attempts: int = Field(default=3, ge=1, le=20)


class Windows(_Model):
    """When a contact may be called, in the callee's local time.

    ``days``: weekday (``mon`` … ``sun``) → list of ``[start, end)`` pairs of ``HH:MM`` (``24:00``
    allowed as an end); a weekday not named has no window (no calls that day). ``holidays``:
    dates (``YYYY-MM-DD``, the callee's local date) with no calls. ``default_timezone``: used for
    a number whose time zone phonenumbers does not know. A number whose country spans several
    zones is called only at a time allowed in every one of them."""

    days: dict[str, list[tuple[str, str]]] = Field(default_factory=dict)
    holidays: list[date] = Field(default_factory=list)
    default_timezone: str = "UTC"

    @field_validator("days")
    @classmethod
    def _days(cls, value: dict[str, list[tuple[str, str]]]) -> dict[str, list[tuple[str, str]]]:
        for day, spans in value.items():
            if day not in WEEKDAYS:
                raise ValueError(f"unknown weekday {day!r}; use {', '.join(WEEKDAYS)}")
            for start, end in spans:
                if not (_HHMM.match(start) and _HHMM.match(end)) or start >= end or start == "24:00":
                    raise ValueError(f"{day}: {start!r}-{end!r} is not a window of HH:MM times, start < end")
        return value

    @field_validator("default_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @classmethod
    def every_day(cls, start: str, end: str, **kw: Any) -> Windows:
        return cls(days={d: [(start, end)] for d in WEEKDAYS}, **kw)

    def spans(self, weekday: int) -> list[tuple[time, time | None]]:
        """``weekday`` (0 = Monday)'s windows as times; ``None`` as the end means midnight."""
        out: list[tuple[time, time | None]] = []
        for start, end in self.days.get(WEEKDAYS[weekday], []):
            out.append((time.fromisoformat(start), None if end == "24:00" else time.fromisoformat(end)))
        return out


class Pacing(_Model):
    """The campaign's own limits: ``cps`` calls per second (default: ``SB_CAMPAIGN_DEFAULT_CPS``),
    ``max_concurrent`` calls out at once, ``ring_timeout_s`` before an unanswered call ends."""

    cps: float | None = Field(default=None, gt=0, le=1000)
    max_concurrent: int | None = Field(default=None, ge=1, le=100_000)
    ring_timeout_s: int = Field(default=30, ge=5, le=120)


class CampaignSpec(_Model):
    """``POST /v1/campaigns``: what to call with. ``session_data``: given to every contact's flow
    (``$sessionData``), under the contact's own columns. ``caller_ids``: the numbers calls come
    from, used in turn (default: the account's number). ``starts_at``/``ends_at``: no call before
    or after (UTC). ``retry``: outcome (``busy``, ``no-answer``, ``failed``, ``machine``) → rule;
    an outcome without a rule is final. ``windows``: calling windows (none: any time).
    ``status_callback``: where each call's progress is POSTed (docs/status-callbacks.md)."""

    name: str = Field(min_length=1, max_length=200)
    flow: str = Field(min_length=1, max_length=200)
    provider: str = Field(default="africastalking", max_length=32)
    account: str = Field(default="default", min_length=1, max_length=100)
    caller_ids: list[E164] = Field(default_factory=list, max_length=100)
    session_data: dict[str, Any] = Field(default_factory=dict)
    policy: Pacing = Field(default_factory=Pacing)
    retry: dict[str, RetryRule] = Field(default_factory=dict)
    windows: Windows | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    status_callback: StatusCallback | None = None

    @field_validator("retry")
    @classmethod
    def _retry(cls, value: dict[str, RetryRule]) -> dict[str, RetryRule]:
        unknown = sorted(set(value) - set(RETRYABLE))
        if unknown:
            raise ValueError(f"no retry for {unknown}: only {', '.join(RETRYABLE)} are retried")
        return value

    @model_validator(mode="after")
    def _times(self) -> CampaignSpec:
        for moment in (self.starts_at, self.ends_at):
            if moment is not None and moment.tzinfo is None:
                raise ValueError("starts_at and ends_at need a UTC offset")
        if self.starts_at and self.ends_at and self.starts_at >= self.ends_at:
            raise ValueError("starts_at must come before ends_at")
        return self
