"""JavaScript in conditions and values (issue 16, item 2): what published Voxology flows write runs in
the QuickJS sandbox with the call's time zone; what an expression may not do is refused at
validation with its column; the sandbox's limits hold for text that never went through the scan."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest

from switchboard.events import Direction
from switchboard.flow import expressions
from switchboard.flow.actions.base import EngineSettings
from switchboard.flow.document import FlowInvalid, build_flow
from switchboard.flow.expressions import ExpressionError, compile_expression, evaluate
from switchboard.flow.interpreter import call_time_zone, run
from switchboard.flow.javascript import run_javascript, scan
from switchboard.testing import event, spoken, state

SETTINGS = EngineSettings(callback_url="https://sb.test/voice/instruct")
# Saturday 2026-12-05 14:30:00 UTC: 17:30 in Nairobi (UTC+3), 09:30 in New York (UTC-5)
NOW = datetime(2026, 12, 5, 14, 30, tzinfo=UTC).timestamp()


@pytest.fixture(autouse=True)
def pinned_clock(monkeypatch):
    monkeypatch.setattr(expressions, "clock", lambda: NOW)


NAIROBI = {"timeZone": "Africa/Nairobi", "keyPresses": "1", "sessionData": {"pin": 42, "name": "Ann"}}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Date, in the call's zone for local time and in UTC for the UTC methods
        ("new Date().getHours()", 17),
        ("new Date().getUTCHours()", 14),
        ("new Date().getUTCHours() + 3 >= 17", True),
        ("new Date().getDay()", 6),
        ("new Date().getMinutes()", 30),
        ("new Date().getTimezoneOffset()", -180),
        ("new Date().toString()", "Sat Dec 05 2026 17:30:00 GMT+0300 (Africa/Nairobi)"),
        ("new Date().toLocaleTimeString()", "5:30:00 PM"),
        ("Date()", "Sat Dec 05 2026 17:30:00 GMT+0300 (Africa/Nairobi)"),
        ("new Date(new Date().setUTCHours(0, 0, 0, 0)).toISOString()", "2026-12-05T00:00:00.000Z"),
        ("new Date(new Date().setHours(9, 0)).toISOString()", "2026-12-05T06:00:00.000Z"),
        ("new Date(2026, 11, 24, 9).toISOString()", "2026-12-24T06:00:00.000Z"),
        ("Date.now() === now()", True),
        ("new Date()", "2026-12-05T14:30:00.000Z"),
        # strings, numbers, Math, templates, arrays
        ("$sessionData.name.toUpperCase() + '!'", "ANN!"),
        ("$sessionData.pin.toString().length", 2),
        ("'0712 345 678'.replace(/\\s/g, '').slice(-3)", "678"),
        ("parseInt('42abc') + parseFloat('0.5')", 42.5),
        ("Math.max(1, Math.floor(7 / 2))", 3),
        ("`Hello ${$sessionData.name}, you pressed ${$keyPresses}`", "Hello Ann, you pressed 1"),
        ("[3, 1, 2].map((x) => x * 2).filter(x => x > 2)", [6, 4]),
        ("({ a: 1, b: [true, null] })", {"a": 1, "b": [True, None]}),
        ("$keyPresses == $sessionData.pin - 41", True),  # loose equality, as Voxology
        ("/^\\d+$/.test($keyPresses)", True),
        ("$nobody === undefined && typeof $nobody", "undefined"),
        # the flow language's library, with the same results as in Python
        ("int($sessionData.pin / 5) + len('abc').valueOf()", 11),
        ("upper(lower('MiXeD')).length", 5),
        ("contains([1, 2], '2') && contains('abc', 'b')", True),
        ("hour_in('America/New_York') + 0", 9),
        ("weekday_in('Africa/Nairobi') + 0", 6),
        ("time_in('Africa/Nairobi').padStart(6, '>')", ">17:30"),
    ],
)
def test_what_published_flows_write_runs(text, expected):
    assert evaluate(text, NAIROBI) == expected


def test_only_what_our_own_grammar_cannot_parse_goes_to_the_sandbox():
    for text in ["$keyPresses == 1 && $sessionData.pin > 3", "int($tries) + 1", "$keyPresses.length", "hour_in('UTC')"]:
        assert compile_expression(text)[0] != "js", text
    for text in ["new Date().getHours()", "$a.toString()", "`x${1}`", "$a ? 1 : 2", "Math.max(1, 2)"]:
        assert compile_expression(text)[0] == "js", text


def test_length_reads_as_in_javascript_on_both_paths():
    scope = {"keyPresses": "1234", "xs": [1, 2], "d": {"length": "own key"}}
    assert evaluate("$keyPresses.length", scope) == 4 == evaluate("$keyPresses.slice(0).length", scope)
    assert evaluate("$xs.length", scope) == 2 and evaluate("$d.length", scope) == "own key"


def test_the_library_gives_the_same_results_in_python_and_javascript():
    scope = {"a": "Hello", "n": "7.9", "xs": [1, "2"], "d": {"k": 1}}
    for text in [
        "len($a)",
        "len($xs)",
        "len($d)",
        "int($n)",
        "int($none)",
        "str($xs)",
        "str($none)",
        "lower($a)",
        "upper($a)",
        "contains($xs, 2)",
        "contains($d, 'k')",
        "contains($a, 'ell')",
    ]:
        python = evaluate(text, scope)
        js = run_javascript(text, scope)
        assert js == python, (text, js, python)


def test_local_time_follows_daylight_saving():
    london = {"timeZone": "Europe/London"}
    # 2026-03-29 01:00 UTC: the clocks go forward; 01:30 local does not exist and reads as 02:30 BST
    assert evaluate("new Date(Date.UTC(2026, 2, 29, 0, 59)).getHours()", london) == 0
    assert evaluate("new Date(Date.UTC(2026, 2, 29, 1, 0)).getHours()", london) == 2
    gap = "Sun Mar 29 2026 02:30:00 GMT+0100 (Europe/London)"
    assert evaluate("new Date(2026, 2, 29, 1, 30).toString()", london) == gap
    new_york = {"timeZone": "America/New_York"}
    assert evaluate("new Date(Date.UTC(2026, 6, 1, 12)).getHours()", new_york) == 8
    assert evaluate("new Date(Date.UTC(2026, 0, 1, 12)).getHours()", new_york) == 7
    assert evaluate("new Date().getHours()", {}) == 14  # no zone: UTC


@pytest.mark.parametrize(
    ("text", "column", "fragment"),
    [
        ("$keyPresses = '1'", 13, "'=' assigns"),
        ("$tries += 1", 8, "'+=' assigns"),
        ("$tries++ > 2", 7, "'++' assigns"),
        ("$a == 1; $b", 8, "';' ends a statement"),
        ("(() => { while (true) {} })()", 10, "'while' is a statement"),
        ("(function () { return 1 })()", 2, "'function' is a statement"),
        ("eval('1 + 1')", 1, "eval is not available"),
        ("Function('return 1')()", 1, "the Function constructor"),
        ("require('fs').readFileSync('/etc/passwd')", 1, "no I/O"),
        ("fetch('http://127.0.0.1/').then(r => r)", 1, "no I/O"),
        ("import('fs')", 1, "'import' is a statement"),
        ("globalThis.setTimeout(1)", 1, "globalThis is not available"),
        ("this.toString()", 1, "'this' is not available"),
        ("''.constructor.constructor('return 1')()", 4, "'.constructor' is not available"),
        ("({}).__proto__.polluted", 6, "'.__proto__' is not available"),
        ("Object.prototype.toString.call(1)", 8, "'.prototype' is not available"),
        ("$a /* why */ + 1", 4, "comments are not allowed"),
    ],
)
def test_what_an_expression_may_not_do_is_refused_with_the_column(text, column, fragment):
    with pytest.raises(ExpressionError) as info:
        compile_expression(text)
    assert fragment in str(info.value) and info.value.column == column


@pytest.mark.parametrize(
    ("text", "column"),
    [("new Date(", 9), ("`unterminated ${1}", 1), ("$a.b(", 5), ("new Date().getHours() >", 24)],
)
def test_broken_javascript_is_a_syntax_error_with_the_column(text, column):
    with pytest.raises(ExpressionError) as info:
        compile_expression(text)
    assert info.value.column == column


def test_reads_are_the_variables_not_builtins_parameters_or_keys():
    assert scan("[1].map((a, b) => a + b + $c) && Math.max($d, parseInt(e))") == ("c", "d", "e")
    assert scan("({ key: $x ? y : 'z' })") == ("x", "y")
    assert scan("x => x.y") == ()


# --- the sandbox holds without the scan --------------------------------------------------------


def test_an_endless_loop_is_stopped_by_the_time_limit():
    started = time.perf_counter()
    with pytest.raises(ExpressionError, match="ran longer than 50 ms"):
        run_javascript("(() => { for (;;) {} })()", {})
    assert time.perf_counter() - started < 2
    assert run_javascript("1 + 1", {}) == 2


@pytest.mark.parametrize(
    "text",
    [
        "Array(1e8).fill(0).length",
        "(() => { const a = []; for (;;) a.push('x'.repeat(1000)); })()",
    ],
)
def test_a_huge_allocation_is_stopped_by_the_memory_limit(text):
    with pytest.raises(ExpressionError, match="more than 8 MiB"):
        run_javascript(text, {})
    assert run_javascript("'still working'", {}) == "still working"


def test_endless_recursion_is_stopped_by_the_stack_limit():
    with pytest.raises(ExpressionError, match="call stack"):
        run_javascript("(f => f(f))(f => f(f))", {})


def test_there_is_no_io_in_the_sandbox():
    for name in ["require", "fetch", "process", "std", "os", "XMLHttpRequest", "setTimeout", "WebSocket"]:
        assert run_javascript(f"typeof {name}", {}) == "undefined", name
    with pytest.raises(ExpressionError, match="ReferenceError"):
        run_javascript("require('fs')", {})


def test_nothing_one_evaluation_does_is_seen_by_the_next():
    for attack in [
        "(Object.prototype.polluted = 'yes', 1)",
        "(Array.prototype.includes = () => true, 1)",
        "(String.prototype.toUpperCase = () => 'pwned', 1)",
        "(globalThis.leak = 'secret', 1)",
        "([].constructor.constructor('return this')().leak2 = 'secret', 1)",
        "(Date.prototype.getHours = () => 99, 1)",
        "(Math.max = () => -1, 1)",
    ]:
        run_javascript(attack, {})
    assert run_javascript("({}).polluted", {}) is None
    assert run_javascript("[1].includes(2)", {}) is False
    assert run_javascript("'a'.toUpperCase()", {}) == "A"
    assert run_javascript("typeof leak + typeof leak2", {}) == "undefinedundefined"
    assert run_javascript("new Date().getHours()", {"timeZone": "Africa/Nairobi"}) == 17
    assert run_javascript("Math.max(1, 2)", {}) == 2
    with pytest.raises(ExpressionError, match=r"not extensible|read-only"):
        run_javascript("(() => { 'use strict'; Object.prototype.x = 1; })()", {})


def test_variables_are_read_only_and_per_evaluation():
    with pytest.raises(ExpressionError, match="set with SET"):
        run_javascript("(() => { $a = 2 })()", {"a": 1})
    assert run_javascript("($sessionData.x = 1, $sessionData.x)", {"sessionData": {}}) == 1  # a copy
    assert run_javascript("$sessionData.x", {"sessionData": {}}) is None


def test_each_thread_has_its_own_sandbox():
    results: list[object] = []
    worker = threading.Thread(target=lambda: results.append(run_javascript("$a * 2", {"a": 21})))
    worker.start()
    worker.join()
    assert results == [42] and run_javascript("$a * 2", {"a": 4}) == 8


# --- in flows -----------------------------------------------------------------------------------


def test_the_calls_time_zone_is_the_flows_or_its_numbers():
    flow = build_flow({"actions": [{"type": "HANGUP"}]}, name="z")
    inbound = state(direction=Direction.INBOUND, destination_number="+254711000000", caller_number="+12125550123")
    assert call_time_zone(flow, inbound) == "Africa/Nairobi"
    outbound = state(direction=Direction.OUTBOUND, caller_number="+12125550123", destination_number="+254711000000")
    assert call_time_zone(flow, outbound) == "America/New_York"
    toll_free = state(direction=Direction.INBOUND, destination_number="+18005550123")
    assert call_time_zone(flow, toll_free) == "UTC"  # several zones: no guess
    lagos = build_flow({"timezone": "Africa/Lagos", "actions": [{"type": "HANGUP"}]}, name="z")
    assert call_time_zone(lagos, inbound) == "Africa/Lagos"
    with pytest.raises(FlowInvalid) as info:
        build_flow({"timezone": "Mars/Olympus", "actions": [{"type": "HANGUP"}]}, name="z")
    assert info.value.problems[0].pointer == "/timezone"


def test_a_business_hours_flow_runs_in_the_numbers_zone(monkeypatch):
    is_open = "new Date().getDay() % 6 != 0 && new Date().getHours() < 17"
    reopens = "We are closed until ${new Date(new Date().setHours(8)).getHours()}."
    doc = {
        "actions": [
            {"comment": "open 8 to 17 on weekdays", "$open": is_open},
            {"$greeting": "`${new Date().getHours() < 12 ? 'Good morning' : 'Good evening'}, ${$callerNo.slice(-3)}`"},
            {"type": "SAY", "params": {"text": "${greeting}."}},
            {
                "type": "IF",
                "condition": "$open",
                "then": [{"type": "SAY", "params": {"text": "We are open."}}],
                "orElse": [{"type": "SAY", "params": {"text": reopens}}],
            },
        ]
    }
    flow = build_flow(doc, name="hours")
    call = state(direction=Direction.INBOUND, destination_number="+254711000000", caller_number="+254722000123")
    assert spoken(run(flow, call, event(), SETTINGS).actions) == ["Good evening, 123.", "We are closed until 8."]
    weekday = datetime(2026, 12, 7, 6, 0, tzinfo=UTC).timestamp()  # Monday 09:00 in Nairobi
    monkeypatch.setattr(expressions, "clock", lambda: weekday)
    assert spoken(run(flow, call, event(), SETTINGS).actions) == ["Good morning, 123.", "We are open."]


def test_a_javascript_error_during_a_call_ends_it_politely():
    flow = build_flow({"actions": [{"type": "SAY", "params": {"text": "${$nobody.toUpperCase()}"}}]}, name="e")
    t = run(flow, state(), event(), SETTINGS)
    assert t.ended and t.error is not None and "TypeError" in str(t.error)
