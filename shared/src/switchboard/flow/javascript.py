"""JavaScript expressions beyond the flow language's own subset, run in a QuickJS sandbox.

Voxology evaluates conditions and assigned values as JavaScript, and published flows use more of it
than :mod:`switchboard.flow.expressions` parses: ``new Date()`` with ``getHours``/``getUTCHours``/
``setUTCHours``/``getDay``, ``.toString()``, string methods, ``Math.*``, ``parseInt``/``parseFloat``,
template literals, arrow functions in ``.map``/``.filter``. An expression our own parser refuses
comes here (``compile_expression`` checks it with :func:`scan` and :func:`check_syntax`) and runs
in QuickJS (the ``quickjs-ng`` wheel, the maintained fork of Fabrice Bellard's engine); what our
parser accepts keeps running in Python, which is cheaper (``bench/flow_engine.py``).

The sandbox, per evaluation:

- a **locked-down QuickJS context**: every built-in object and prototype is frozen once, when the
  context is made (as SES's ``harden``), so nothing an expression does (``Object.prototype.x = 1``
  included) can be seen by the next evaluation; the context is replaced after any error and every
  :data:`RECYCLE_AFTER` evaluations. Making a context costs about 2.4 CPU ms (QuickJS parsing
  the prelude, then the freezing); an evaluation in a made one about 7 CPU µs
  (``bench/flow_engine.py``), so it is made once per thread, not per evaluation;
- **limits**: :data:`TIME_LIMIT_S` (50 ms) of run time, :data:`MEMORY_LIMIT` (8 MiB) of heap and
  :data:`STACK_LIMIT` (256 KiB) of stack; breaking one raises :class:`ExpressionError`;
- **no I/O**: the context has the ECMAScript built-ins only (no ``require``, ``fetch``, ``process``,
  timers or modules) and one host function, the time-zone offset of an instant;
- **the flow's variables as the only extra globals**, read-only: ``$name`` (and ``name`` where it is
  a variable of the call) as in Voxology; a ``$name`` that is not set reads as ``undefined``;
- **the call's time zone for local time**: ``getHours``, ``getDay``, ``setHours``, ``toString``,
  ``new Date(y, m, d, h)`` and the rest of Date's local-time methods use the IANA zone in the
  ``timeZone`` variable (the flow's ``timezone``, else the zone of the number the flow answers on,
  else UTC); ``Date.now()`` and ``new Date()`` are the time of the evaluation
  (``switchboard.flow.expressions.clock``). ``toLocale*String``
  use the ``en-US`` forms whatever the arguments.
- the flow language's library (``len``, ``int``, ``str``, ``lower``, ``upper``, ``contains``,
  ``now``, ``hour_in``, ``weekday_in``, ``time_in``) with the same results as in Python.

Before it runs, :func:`scan` refuses (at validation, with the column) what an expression in a call
flow has no business doing, even though JavaScript allows it: assignments (``=``, ``+=``, ``++``: a
single ``=`` in a condition is always true; variables are set with SET), statements (``;``,
``while``, ``for``, ``function``, ``var``…), comments, ``eval``/``Function``/``globalThis``/
``this``, ``require``/``fetch``/``import``, and the prototype handles (``constructor``,
``__proto__``, ``prototype``). The sandbox does not depend on :func:`scan`: it holds for text that
never went through it (tested).

Results come back as JSON values: numbers (integral ones as ``int``), strings, booleans, ``None``
for ``null``/``undefined``, lists and dicts; a ``Date`` as its ISO string (``JSON.stringify``).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson

from switchboard.flow import expressions
from switchboard.flow.expressions import ExpressionError

if TYPE_CHECKING:
    import quickjs  # noqa: F401  (the annotations name it)

TIME_LIMIT_S = 0.05
"""Run time an evaluation may take (QuickJS interrupts it: ``InternalError: interrupted``)."""
MEMORY_LIMIT = 8 * 1024 * 1024
"""Heap an evaluation's context may allocate, in bytes (a fresh context uses about 0.1 MiB)."""
STACK_LIMIT = 256 * 1024
"""Stack an evaluation may use, in bytes (deep recursion raises ``RangeError``)."""


# --- the refusals (a lint, not the sandbox) ---------------------------------------------------

_PUNCTUATORS = sorted(
    re.findall(
        r"\S+",
        """>>>= ... === !== **= <<= >>= >>> &&= ||= ??= => == != <= >= && || ?? ?. ++ -- += -= *= /= %= &= |=
        ^= ** << >> = + - * / % < > ! ~ & | ^ ? : , . ( ) [ ] { } ;""",
    ),
    key=len,
    reverse=True,
)
_ASSIGNMENTS = frozenset(re.findall(r"\S+", "= += -= *= /= %= **= <<= >>= >>>= &= |= ^= &&= ||= ??= ++ --"))
_CLOSE = {"(": ")", "[": "]", "{": "}"}
_IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_NUMBER = re.compile(r"(?:\d[\dA-Za-z_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d+)?n?")

_STATEMENTS = frozenset(
    re.findall(
        r"\w+",
        "var let const function class while for do if else switch case return throw try catch finally break "
        "continue with debugger yield await async import export delete",
    )
)
_REFUSED_GLOBALS = {
    "eval": "eval is not available",
    "Function": "the Function constructor is not available",
    "globalThis": "globalThis is not available",
    "this": "'this' is not available",
    "require": "require is not available: an expression has no I/O",
    "fetch": "fetch is not available: an expression has no I/O (use WEBHOOK)",
    "XMLHttpRequest": "XMLHttpRequest is not available: an expression has no I/O (use WEBHOOK)",
    "WebSocket": "WebSocket is not available: an expression has no I/O",
    "process": "process is not available",
    "Proxy": "Proxy is not available",
    "Reflect": "Reflect is not available",
}
_REFUSED_PROPERTIES = frozenset(
    {"constructor", "__proto__", "prototype", "__defineGetter__", "__defineSetter__", "__lookupGetter__"}
)


class Refused(ExpressionError):
    """Valid JavaScript that a flow expression may not use (an assignment, a statement, I/O, a
    prototype); raised by :func:`scan` with the column."""


_OPERATORS = frozenset({"new", "typeof", "void", "in", "instanceof", "of", "true", "false", "null", "undefined"})
LIBRARY = ("len", "int", "str", "lower", "upper", "contains", "now", "hour_in", "weekday_in", "time_in")
"""The flow language's functions, defined in the sandbox too (same results as in Python)."""


@lru_cache(maxsize=1)
def known_globals() -> frozenset[str]:
    """The names a JavaScript expression may use without ``$``: QuickJS's built-in globals
    (``Math``, ``Date``, ``parseInt``...) and :data:`LIBRARY`."""
    import quickjs

    names = quickjs.Context().eval("Object.getOwnPropertyNames(globalThis).join(',')")
    return frozenset(str(names).split(",")) | frozenset(LIBRARY)


class _Scanner:
    """Walks the text once, token by token, tracking brackets, strings, template literals and regular
    expression literals (a ``/`` after an operand divides, elsewhere it starts a regex)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.toks: list[tuple[str, str, bool]] = []  # (kind: id|op|val, text, after a dot)
        self.operand = False  # the last token ended an operand

    def fail(self, message: str, at: int | None = None) -> ExpressionError:
        return ExpressionError(message, column=(self.i if at is None else at) + 1)

    def refuse(self, message: str) -> Refused:
        return Refused(message, column=self.i + 1)

    def run(self) -> tuple[str, ...]:
        end = self.tokens(None)
        if end < len(self.text):  # a closing bracket with nothing open
            raise self.fail(f"unbalanced {self.text[end]!r}", end)
        return self.reads()

    def reads(self) -> tuple[str, ...]:
        """The variables read: ``$`` names, and plain names that are not a built-in, a library
        function, an arrow function's parameter or an object literal's key."""
        toks, params = self.toks, set()
        for k, (kind, text, _) in enumerate(toks):
            if kind != "op" or text != "=>" or k == 0:
                continue
            if toks[k - 1][0] == "id":
                params.add(toks[k - 1][1])
            elif toks[k - 1][1] == ")":
                depth, j = 0, k - 1
                while j >= 0:
                    depth += {")": 1, "(": -1}.get(toks[j][1], 0) if toks[j][0] == "op" else 0
                    if toks[j][0] == "id":
                        params.add(toks[j][1])
                    if depth == 0:
                        break
                    j -= 1
        names: list[str] = []
        for k, (kind, text, after_dot) in enumerate(toks):
            if kind != "id" or after_dot:
                continue
            before = toks[k - 1][1] if k else ""
            after = toks[k + 1][1] if k + 1 < len(toks) else ""
            if after == ":" and before in ("{", ","):
                continue  # a key in an object literal
            if text.startswith("$"):
                if len(text) > 1:
                    names.append(text[1:])
            elif text not in params and text not in _OPERATORS and text not in known_globals():
                names.append(text)
        return tuple(dict.fromkeys(names))

    def tokens(self, close: str | None) -> int:
        text, after_dot = self.text, False
        while self.i < len(text):
            c, start = text[self.i], self.i
            if c.isspace():
                self.i += 1
                continue
            if text.startswith(("//", "/*"), self.i):
                raise self.refuse("comments are not allowed in an expression")
            if c in "'\"`/" or c.isdigit() or (c == "." and text[self.i + 1 : self.i + 2].isdigit()):
                self.toks.append(("val", "", False))
            if c in "'\"":
                self.string(c)
            elif c == "`":
                self.template()
            elif c == "/" and not self.operand:
                self.regex()
            elif c.isdigit() or (c == "." and text[self.i + 1 : self.i + 2].isdigit()):
                m = _NUMBER.match(text, self.i)
                assert m is not None
                self.i, self.operand = m.end(), True
            elif m := _IDENT.match(text, self.i):
                self.identifier(m.group(), after_dot)
                self.toks.append(("id", m.group(), after_dot))
                self.i = m.end()
                after_dot = False
                continue
            elif c in ")]}":
                if c != close:
                    return self.i
                self.toks.append(("op", c, False))
                self.i += 1
                self.operand = True
                return self.i
            elif c in "([{":
                self.toks.append(("op", c, False))
                self.i += 1
                self.operand = False
                self.tokens(_CLOSE[c])
                if self.i > len(text) or text[self.i - 1] != _CLOSE[c]:
                    raise self.fail(f"{c!r} is never closed", start)
            else:
                op = next((p for p in _PUNCTUATORS if text.startswith(p, self.i)), None)
                if op is None:
                    raise self.fail(f"unexpected character {c!r}")
                if op in _ASSIGNMENTS:
                    raise self.refuse(
                        f"{op!r} assigns: an expression only reads (compare with == or ===; set variables with SET)"
                    )
                if op == ";":
                    raise self.refuse("one expression only: ';' ends a statement")
                self.toks.append(("op", op, False))
                self.i += len(op)
                self.operand = False
                after_dot = op in (".", "?.")
                continue
            after_dot = False
        if close is not None:
            return self.i + 1  # past the end: the caller reports the bracket never closed
        return self.i

    def identifier(self, name: str, after_dot: bool) -> None:
        if after_dot:
            if name in _REFUSED_PROPERTIES:
                raise self.refuse(f"'.{name}' is not available (prototype access)")
            self.operand = True
            return
        if name in _STATEMENTS:
            raise self.refuse(f"{name!r} is a statement or declaration: an expression only reads")
        if name in _REFUSED_PROPERTIES:
            raise self.refuse(f"{name!r} is not available (prototype access)")
        if name in _REFUSED_GLOBALS:
            raise self.refuse(_REFUSED_GLOBALS[name])
        self.operand = name not in _OPERATORS

    def string(self, quote: str) -> None:
        j = self.i + 1
        while j < len(self.text) and self.text[j] != quote:
            j += 2 if self.text[j] == "\\" else 1
        if j >= len(self.text):
            raise self.fail("unterminated string")
        self.i, self.operand = j + 1, True

    def template(self) -> None:
        start, j = self.i, self.i + 1
        while j < len(self.text):
            ch = self.text[j]
            if ch == "\\":
                j += 2
            elif ch == "`":
                self.i, self.operand = j + 1, True
                return
            elif self.text.startswith("${", j):
                self.i, self.operand = j + 2, False
                self.tokens("}")
                j = self.i
            else:
                j += 1
        raise self.fail("unterminated template literal", start)

    def regex(self) -> None:
        j, in_class = self.i + 1, False
        while j < len(self.text):
            ch = self.text[j]
            if ch == "\\":
                j += 2
                continue
            if ch == "[":
                in_class = True
            elif ch == "]":
                in_class = False
            elif ch == "/" and not in_class:
                m = _IDENT.match(self.text, j + 1)
                self.i, self.operand = (m.end() if m else j + 1), True
                return
            j += 1
        raise self.fail("unterminated regular expression")


def scan(text: str) -> tuple[str, ...]:
    """The variables ``text`` reads (without the ``$``, in order of first use; plain names that are
    not JavaScript built-ins count too, so a typo is a "read but never set" warning).

    Raises :class:`Refused` (with the column) for what an expression may not do: assign, hold
    statements or comments, reach ``eval``/``Function``/``globalThis``/``this``/I/O, touch a
    prototype; :class:`ExpressionError` when a bracket, string, template or regex is left open.
    """
    return _Scanner(text).run()


# --- the sandbox -------------------------------------------------------------------------------

_PRELUDE = r"""
(() => {
"use strict";
const D = Date, P = D.prototype, getTime = P.getTime, setTime = P.setTime;
// Set by begin() before each evaluation. zones: IANA name -> [[from_ms, minutes_east], ...] ascending
// (see _offsets in Python); scope: the flow's variables.
let zone = "UTC", nowMs = 0, zones = {}, scope = {};
const off = (ms, tz) => {
  const table = zones[tz === undefined ? zone : String(tz)];
  if (table === undefined) throw new RangeError(`unknown time zone ${JSON.stringify(tz)}: write it out as a string`);
  if (!Number.isFinite(ms)) return 0;
  let lo = 0, hi = table.length - 1;
  while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (table[mid][0] <= ms) lo = mid; else hi = mid - 1; }
  return table[lo][1];
};
const wall = (ms, tz) => ms + off(ms, tz) * 60000;
const instant = (w) => w - off(w - off(w) * 60000) * 60000;
const at = (d, tz) => new D(wall(getTime.call(d), tz));
const PARTS = ["FullYear", "Month", "Date", "Hours", "Minutes", "Seconds", "Milliseconds"];
for (const n of [...PARTS, "Day"]) {
  const get = P["getUTC" + n];
  P["get" + n] = function () { const t = getTime.call(this); return Number.isNaN(t) ? NaN : get.call(at(this)); };
}
for (const n of PARTS) {
  const set = P["setUTC" + n];
  P["set" + n] = function (...a) {
    const w = at(this); set.apply(w, a); return setTime.call(this, instant(getTime.call(w)));
  };
}
P.getTimezoneOffset = function () { return -off(getTime.call(this)); };
const pad = (n, w = 2) => String(n).padStart(w, "0");
const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const valid = (d) => !Number.isNaN(getTime.call(d));
const gmt = (t) => {
  const o = off(t), a = Math.abs(o);
  return "GMT" + (o < 0 ? "-" : "+") + pad(Math.floor(a / 60)) + pad(a % 60);
};
P.toDateString = function () {
  if (!valid(this)) return "Invalid Date";
  const w = at(this);
  return `${DAYS[w.getUTCDay()]} ${MONTHS[w.getUTCMonth()]} ${pad(w.getUTCDate())} ${w.getUTCFullYear()}`;
};
P.toTimeString = function () {
  if (!valid(this)) return "Invalid Date";
  const w = at(this);
  const hms = `${pad(w.getUTCHours())}:${pad(w.getUTCMinutes())}:${pad(w.getUTCSeconds())}`;
  return `${hms} ${gmt(getTime.call(this))} (${zone})`;
};
P.toString = function () { return valid(this) ? this.toDateString() + " " + this.toTimeString() : "Invalid Date"; };
P.toLocaleDateString = function () {
  if (!valid(this)) return "Invalid Date";
  const w = at(this); return `${w.getUTCMonth() + 1}/${w.getUTCDate()}/${w.getUTCFullYear()}`;
};
P.toLocaleTimeString = function () {
  if (!valid(this)) return "Invalid Date";
  const w = at(this), h = w.getUTCHours();
  return `${h % 12 || 12}:${pad(w.getUTCMinutes())}:${pad(w.getUTCSeconds())} ${h < 12 ? "AM" : "PM"}`;
};
P.toLocaleString = function () {
  return valid(this) ? this.toLocaleDateString() + ", " + this.toLocaleTimeString() : "Invalid Date";
};
function CallDate(...a) {
  if (!new.target) return new CallDate().toString();
  if (a.length === 0) return Reflect.construct(D, [nowMs], new.target);
  if (a.length === 1) return Reflect.construct(D, a, new.target);
  return Reflect.construct(D, [instant(D.UTC(...a))], new.target);
}
CallDate.prototype = P;
Object.defineProperty(P, "constructor", { value: CallDate, writable: true, configurable: true });
CallDate.UTC = D.UTC; CallDate.parse = D.parse; CallDate.now = () => nowMs;
globalThis.Date = CallDate;

const str = (v) => (v === null || v === undefined ? "" : Array.isArray(v) ? v.map(str).join(",") : String(v));
const isObject = (v) => v !== null && typeof v === "object";
globalThis.len = (v) =>
  typeof v === "string" || Array.isArray(v) ? v.length : isObject(v) ? Object.keys(v).length : str(v).length;
globalThis.int = (v) => {
  const n = Number(v === undefined ? null : v);
  return Number.isFinite(n) ? Math.trunc(n) : n;
};
globalThis.str = str;
globalThis.lower = (v) => str(v).toLowerCase();
globalThis.upper = (v) => str(v).toUpperCase();
globalThis.contains = (h, n) =>
  Array.isArray(h) ? h.some((x) => x == n)
  : isObject(h) ? Object.prototype.hasOwnProperty.call(h, str(n))
  : str(h).includes(str(n));
globalThis.now = () => nowMs;
const inZone = (tz) => new D(wall(nowMs, str(tz)));
globalThis.hour_in = (tz) => inZone(tz).getUTCHours();
globalThis.weekday_in = (tz) => inZone(tz).getUTCDay() || 7;
globalThis.time_in = (tz) => { const w = inZone(tz); return pad(w.getUTCHours()) + ":" + pad(w.getUTCMinutes()); };

const own = (n) => Object.prototype.hasOwnProperty.call(scope, n);
const name = (k) => (k.startsWith("$") ? k.slice(1) : k);
const vars = new Proxy({}, {
  has: (t, k) => typeof k === "string" && (k.startsWith("$") || own(k)),
  get: (t, k) => (typeof k === "string" && own(name(k)) ? scope[name(k)] : undefined),
  set: () => { throw new TypeError("flow variables are set with SET, not in an expression"); },
  deleteProperty: () => false,
  defineProperty: () => false,
});
Object.defineProperty(globalThis, "__vars", { get: () => vars, configurable: false, enumerable: false });

// Lock the context down (as SES's harden does): every object reachable from the global object,
// and the intrinsics that are not, frozen; nothing one evaluation does can be seen by the next.
const seen = new Set();
const harden = (o) => {
  if (o === null || (typeof o !== "object" && typeof o !== "function") || seen.has(o)) return;
  seen.add(o);
  Object.freeze(o);
  harden(Object.getPrototypeOf(o));
  for (const k of Reflect.ownKeys(o)) {
    const d = Object.getOwnPropertyDescriptor(o, k);
    if ("value" in d) harden(d.value); else { harden(d.get); harden(d.set); }
  }
};
const hidden = [
  function* () {}, async function () {}, async function* () {}, async () => {},
  [][Symbol.iterator](), new Map().entries(), new Set().values(), ""[Symbol.iterator](),
  /a/[Symbol.matchAll](""), Object.getOwnPropertyDescriptor(Function.prototype, "caller"),
];
for (const o of [globalThis, ...hidden]) harden(o);

return (scopeJson, zoneName, now, zonesJson) => {
  scope = JSON.parse(scopeJson); zone = zoneName; nowMs = now; zones = JSON.parse(zonesJson);
};
})();
"""

_WRAP_HEAD = "(function () { with (__vars) { return (\n"
_WRAP_TAIL = "\n); } })"


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None


SPAN_DAYS = 400
"""How far around the evaluation's day the offset tables reach (days each way); outside it a zone's
nearest known offset applies."""


def _minutes_east(zone: ZoneInfo, at_s: float) -> int:
    delta = datetime.fromtimestamp(at_s, UTC).astimezone(zone).utcoffset()
    return int(delta.total_seconds() // 60) if delta is not None else 0


@lru_cache(maxsize=256)
def _offsets(name: str, day: int) -> tuple[tuple[int, int], ...]:
    """``name``'s UTC offsets (minutes east) from :data:`SPAN_DAYS` before ``day`` (days since the
    epoch) to as many after: ``((from_ms, minutes), ...)``, each change found to the second by
    bisection between daily samples. QuickJS cannot call back into Python while a time limit is
    set, so the sandbox gets the table instead of a function."""
    zone = _zone(name)
    start = (day - SPAN_DAYS) * 86400
    table = [(start * 1000, _minutes_east(zone, start))]
    for d in range(1, 2 * SPAN_DAYS + 1):
        at = start + d * 86400
        minutes = _minutes_east(zone, at)
        if minutes != table[-1][1]:
            lo, hi = at - 86400, at  # offset(lo) is the old one, offset(hi) the new one
            while hi - lo > 1:
                mid = (lo + hi) // 2
                lo, hi = (mid, hi) if _minutes_east(zone, mid) == table[-1][1] else (lo, mid)
            table.append((hi * 1000, minutes))
    return tuple(table)


_ZONE_NAME = re.compile(r"['\"`]([A-Za-z]+(?:/[A-Za-z0-9_+-]+)+|UTC)['\"`]")


@lru_cache(maxsize=4096)
def _named_zones(text: str) -> tuple[str, ...]:
    """The IANA zones written out as strings in ``text`` (for ``hour_in('Europe/London')``)."""
    found = []
    for name in _ZONE_NAME.findall(text):
        try:
            _zone(name)
        except ValueError:
            continue
        found.append(name)
    return tuple(dict.fromkeys(found))


class _Sandbox:
    """One QuickJS context, locked down by the prelude, reused for :data:`RECYCLE_AFTER`
    evaluations (and replaced after any error: a broken limit may leave it half-way)."""

    def __init__(self) -> None:
        import quickjs

        self.ctx = quickjs.Context()
        self.ctx.set_memory_limit(MEMORY_LIMIT)
        self.ctx.set_max_stack_size(STACK_LIMIT)
        self.begin = self.ctx.eval(_PRELUDE)
        self.ctx.set_time_limit(TIME_LIMIT_S)
        self.functions: dict[str, Any] = {}
        self.uses = 0

    def run(self, text: str, scope: Mapping[str, Any]) -> Any:
        self.uses += 1
        zone = str(scope.get("timeZone") or "UTC")
        try:
            _zone(zone)
        except ValueError:
            zone = "UTC"
        now_ms = expressions.clock() * 1000
        day = int(now_ms // 86_400_000)
        zones = {name: _offsets(name, day) for name in (zone, *_named_zones(text))}
        variables = orjson.dumps(dict(scope), default=str).decode()
        self.begin(variables, zone, float(now_ms // 1), orjson.dumps(zones).decode())
        function = self.functions.get(text)
        if function is None:
            if len(self.functions) >= 1024:
                self.functions.clear()
            function = self.functions[text] = self.ctx.eval(_WRAP_HEAD + text + _WRAP_TAIL)
        return _result(function())


RECYCLE_AFTER = 10_000
"""Evaluations a sandbox serves before it is replaced by a fresh one (defence in depth)."""

_local = threading.local()


def _sandbox() -> _Sandbox:
    sandbox: _Sandbox | None = getattr(_local, "sandbox", None)
    if sandbox is None or sandbox.uses >= RECYCLE_AFTER:
        sandbox = _local.sandbox = _Sandbox()
    return sandbox


def _error(exc: Exception) -> ExpressionError:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "interrupted" in first:
        return ExpressionError(f"JavaScript ran longer than {TIME_LIMIT_S * 1000:.0f} ms")
    if "out of memory" in first:
        return ExpressionError(f"JavaScript used more than {MEMORY_LIMIT // (1024 * 1024)} MiB")
    return ExpressionError(f"JavaScript: {first}")


def _result(value: Any) -> Any:
    import quickjs

    if isinstance(value, quickjs.Object):
        text = value.json()
        return None if text in (None, "undefined") else orjson.loads(text)
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def run_javascript(text: str, scope: Mapping[str, Any]) -> Any:
    """Evaluate ``text`` (one JavaScript expression; :func:`scan` is *not* applied here) in the
    thread's sandbox with ``scope``'s variables. Returns a JSON value (see the module docstring).

    Raises :class:`ExpressionError` on a syntax or run-time error, and when the evaluation breaks
    the time, memory or stack limit (the sandbox is then replaced).
    """
    import quickjs

    sandbox = _sandbox()
    try:
        return sandbox.run(text, scope)
    except (quickjs.JSException, quickjs.StackOverflow) as exc:
        _local.sandbox = None
        raise _error(exc) from None


_SYNTAX_AT = re.compile(r"at <input>:(\d+):(\d+)")


def check_syntax(text: str) -> None:
    """Compile ``text`` as a JavaScript expression without running it. Raises
    :class:`ExpressionError` with QuickJS's message and the column on a syntax error."""
    import quickjs

    ctx = quickjs.Context()
    ctx.set_memory_limit(MEMORY_LIMIT)
    ctx.set_time_limit(TIME_LIMIT_S)
    try:
        ctx.eval(_WRAP_HEAD + text + _WRAP_TAIL)
    except (quickjs.JSException, quickjs.StackOverflow) as exc:
        message = str(exc).strip().splitlines()[0]
        m = _SYNTAX_AT.search(str(exc))
        column = None
        if m:  # the text starts on line 2 of the wrapper; past it is the end of the text
            lines, line = text.split("\n"), int(m.group(1)) - 2
            before = sum(len(part) + 1 for part in lines[:line])
            column = before + int(m.group(2)) if 0 <= line < len(lines) else len(text) + 1
        raise ExpressionError(f"JavaScript: {message}", column=column) from None


def javascript_evaluator(text: str) -> Callable[[Mapping[str, Any]], Any]:
    """A closure evaluating ``text`` (already checked by ``compile_expression``) per scope."""
    return lambda scope: run_javascript(text, scope)
