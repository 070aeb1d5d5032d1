"""Campaign rules without a database: calling windows in the callee's zones (fixed instants, never
the real clock), reading contact files as they stream (line numbers, quoted line breaks, split
chunks, bad rows kept apart), outcomes from a session's end, and the campaign's own checks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from switchboard.campaigns.contacts import FileInvalid, Report, read_csv, read_json
from switchboard.campaigns.models import CampaignSpec, Windows
from switchboard.campaigns.outcomes import outcome_of
from switchboard.campaigns.windows import allowed, next_open
from switchboard.phone import zones_for

TCPA = Windows.every_day("08:00", "21:00")


def at(hour: int, minute: int = 0, day: int = 7) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)  # 2026-12-07 is a Monday


def test_zones_come_from_the_number():
    assert zones_for("+12125550123") == ("America/New_York",)
    assert zones_for("+254700000001") == ("Africa/Nairobi",)
    many = zones_for("+18005550123")
    assert {"America/New_York", "America/Los_Angeles", "Pacific/Honolulu"} <= set(many)


@pytest.mark.parametrize(
    ("zone", "instant", "expected"),
    [
        ("America/New_York", at(12, 59), False),  # 07:59 there
        ("America/New_York", at(13, 0), True),  # 08:00
        ("America/New_York", at(1, 59), True),  # 20:59 on Sunday
        ("America/New_York", at(2, 0), False),  # 21:00: the end is not in the window
        ("Africa/Nairobi", at(5, 0), True),  # 08:00 in Nairobi
        ("Africa/Nairobi", at(18, 0), False),  # 21:00 in Nairobi
    ],
)
def test_a_window_is_read_in_the_callees_local_time(zone, instant, expected):
    assert allowed(TCPA, [zone], instant) is expected


def test_a_number_in_several_zones_is_called_only_when_every_zone_allows_it():
    both = ["America/New_York", "America/Los_Angeles"]
    assert allowed(TCPA, ["America/New_York"], at(14)) and not allowed(TCPA, both, at(14))
    assert next_open(TCPA, both, at(14)) == at(16)  # 08:00 in Los Angeles, 11:00 in New York
    assert allowed(TCPA, both, at(16)) and not allowed(TCPA, both, at(2))  # 21:00 in New York


def test_weekdays_holidays_and_midnight_ends():
    weekdays = Windows(days={d: [("09:00", "12:00"), ("14:00", "24:00")] for d in ("mon", "tue", "wed", "thu", "fri")})
    nairobi = ["Africa/Nairobi"]
    assert allowed(weekdays, nairobi, at(20, 59))  # 23:59 Monday in Nairobi
    assert not allowed(weekdays, nairobi, at(9, 30))  # 12:30, between the windows
    assert next_open(weekdays, nairobi, at(9, 30)) == at(11)  # 14:00 there
    saturday = datetime(2026, 12, 12, 10, 0, tzinfo=UTC)
    assert next_open(weekdays, nairobi, saturday) == datetime(2026, 12, 14, 6, 0, tzinfo=UTC)  # Monday 09:00
    holiday = Windows.every_day("08:00", "21:00", holidays=[date(2026, 12, 25)])
    christmas_noon = datetime(2026, 12, 25, 9, 0, tzinfo=UTC)
    assert not allowed(holiday, nairobi, christmas_noon)
    assert next_open(holiday, nairobi, christmas_noon) == datetime(2026, 12, 26, 5, 0, tzinfo=UTC)
    never = Windows(days={})
    assert next_open(never, nairobi, at(10)) is None
    assert allowed(None, nairobi, at(3)), "no windows: any time"


def test_an_unknown_zone_uses_the_campaigns_default():
    windows = Windows.every_day("08:00", "21:00", default_timezone="Africa/Lagos")
    assert allowed(windows, [], at(7)) and not allowed(windows, [], at(6, 59))


async def stream(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.mark.parametrize("chunk", [1, 7, 4096])
async def test_a_csv_streams_in_with_line_numbers(chunk):
    data = (
        b"\xef\xbb\xbfPhone,name,note\r\n"
        b"+254700000001,Amina,hi\r\n"
        b"bad,Bob,x\r\n"
        b'+254700000002,"Multi\nline","a,b"\r\n'
        b"+254700000003,short\r\n"
        b"\r\n"
        b"12125550123,Zo\xc3\xab,y"
    )
    report = Report()
    got = [c async for batch in read_csv(stream(data, chunk), report, batch=2) for c in batch]
    assert [(c.line, c.phone) for c in got] == [(2, "+254700000001"), (4, "+254700000002"), (8, "+12125550123")]
    assert got[1].session_data == {"name": "Multi\nline", "note": "a,b"} and got[2].session_data["name"] == "Zoë"
    assert got[2].time_zones == "America/New_York"
    assert [(e.line, e.error.split(" ")[0]) for e in report.errors] == [(3, "'bad'"), (6, "2")]


async def test_a_file_without_a_phone_column_or_not_utf8_is_refused_whole():
    with pytest.raises(FileInvalid, match="no phone column"):
        [b async for b in read_csv(stream(b"name\nx\n", 100), Report())]
    with pytest.raises(FileInvalid, match="not UTF-8"):
        [b async for b in read_csv(stream(b"phone\n\xff\xfe\n", 100), Report())]
    with pytest.raises(FileInvalid, match="empty"):
        [b async for b in read_csv(stream(b"", 100), Report())]


def test_a_json_list_numbers_its_items():
    report = Report()
    got = read_json(b'[{"phone": "+254700000001", "tier": 2}, {"phone": "1"}, 3, {"name": "x"}]', report)
    assert [(c.line, c.session_data) for c in got] == [(1, {"tier": 2})]
    assert [e.line for e in report.errors] == [2, 3, 4]
    with pytest.raises(FileInvalid):
        read_json(b'{"phone": "+254700000001"}', Report())


def test_a_check_refuses_rows_with_its_reason():
    def no_kenya(phone: str) -> None:
        if phone.startswith("+254"):
            raise FileInvalid("calls to KE are not allowed")

    report = Report()
    got = read_json(b'[{"phone": "+254700000001"}, {"phone": "+12125550123"}]', report, check=no_kenya)
    assert [c.phone for c in got] == ["+12125550123"] and report.errors[0].error == "calls to KE are not allowed"


@pytest.mark.parametrize(
    ("status", "cause", "inputs", "outcome"),
    [
        ("completed", "NORMAL_CLEARING", {}, "completed"),
        ("busy", "USER_BUSY", {}, "busy"),
        ("no-answer", "NO_ANSWER", {}, "no-answer"),
        ("failed", "UNSPECIFIED", {}, "failed"),
        ("rejected", "CALL_REJECTED", {}, "failed"),
        ("completed", "MACHINE_DETECTED", {}, "machine"),
        ("completed", "NORMAL_CLEARING", {"amd": "machine"}, "machine"),
    ],
)
def test_outcomes_from_a_sessions_end(status, cause, inputs, outcome):
    assert outcome_of(status, cause, inputs) == outcome


def test_a_campaign_spec_is_checked():
    with pytest.raises(ValidationError, match="only busy, no-answer, failed, machine"):
        CampaignSpec(name="x", flow="survey", retry={"completed": {"delay_s": 1, "max_attempts": 2}})  # type: ignore[dict-item]
    with pytest.raises(ValidationError, match="not a window"):
        Windows(days={"mon": [("21:00", "08:00")]})
    with pytest.raises(ValidationError, match="unknown weekday"):
        Windows(days={"monday": [("08:00", "21:00")]})
    with pytest.raises(ValidationError, match="unknown time zone"):
        Windows(default_timezone="Mars/Olympus")
