"""Calling windows in the callee's local time.

The time zones of a number come from phonenumbers' time-zone data (``timezone.time_zones_for_number``:
by prefix, so a US number maps to its area code's zone and a country with one zone to that zone).
A number that maps to several zones is allowed only at an instant that falls in a window in every
one of them (the strictest reading of rules such as the US TCPA's 08:00–21:00 local time).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from switchboard.campaigns.models import Windows

Clock = Callable[[], datetime]
"""Returns the current time, timezone-aware (UTC). Injected so tests use a fixed clock."""


def system_clock() -> datetime:
    return datetime.now(UTC)


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _zones(windows: Windows, zones: Sequence[str]) -> list[ZoneInfo]:
    found = [z for z in (_zone(n) for n in zones) if z is not None]
    if not found:
        fallback = _zone(windows.default_timezone)
        assert fallback is not None  # checked by Windows
        found = [fallback]
    return found


def _allowed_in(windows: Windows, zone: ZoneInfo, at: datetime) -> bool:
    local = at.astimezone(zone)
    if local.date() in windows.holidays:
        return False
    now = local.time().replace(tzinfo=None)
    return any(start <= now and (end is None or now < end) for start, end in windows.spans(local.weekday()))


def allowed(windows: Windows | None, zones: Sequence[str], at: datetime) -> bool:
    """True when ``at`` (aware) falls in a window in every one of ``zones`` (none given or known:
    ``windows.default_timezone``). No windows: always true."""
    if windows is None:
        return True
    return all(_allowed_in(windows, zone, at) for zone in _zones(windows, zones))


def next_open(
    windows: Windows | None, zones: Sequence[str], at: datetime, *, horizon_days: int = 14
) -> datetime | None:
    """The first instant at or after ``at`` when :func:`allowed` holds; None when there is none
    within ``horizon_days`` (every day a holiday or without windows). The answer is a window start
    in one of the zones, since an intersection of windows opens when its last window does."""
    if allowed(windows, zones, at):
        return at
    assert windows is not None
    candidates: list[datetime] = []
    for zone in _zones(windows, zones):
        local_day: date = at.astimezone(zone).date()
        for offset in range(horizon_days + 1):
            day = local_day + timedelta(days=offset)
            for start, _ in windows.spans(day.weekday()):
                moment = datetime.combine(day, start, tzinfo=zone).astimezone(UTC)
                if moment > at:
                    candidates.append(moment)
    for moment in sorted(candidates):
        if allowed(windows, zones, moment):
            return moment
    return None
