"""Safe, small expressions with JavaScript's comparison semantics (FLOW-LANGUAGE.md, Expressions).

Grammar (lowest precedence first, as in JavaScript)::

    or     := and ("||" and)*
    and    := eq ("&&" eq)*
    eq     := rel (("==" | "!=" | "===" | "!==") rel)*
    rel    := add (("<" | ">" | "<=" | ">=") add)*
    add    := mul (("+" | "-") mul)*
    mul    := unary (("*" | "/" | "%") unary)*
    unary  := ("!" | "-" | "+") unary | postfix
    postfix:= primary ("." NAME | "[" or "]" | "(" args ")")*
    primary:= NUMBER | STRING | true | false | null | NAME | "$"NAME | "(" or ")" | "[" args "]"

Names may carry Voxology's ``$`` prefix (``$keyPresses`` and ``keyPresses`` are the same variable).
Only the functions in :data:`FUNCTIONS` can be called. Nothing else runs here: there is no
``eval``, no attribute access on Python objects, no ``new``. JavaScript beyond this grammar
(``new Date().getHours()``, string methods, ``Math``, template literals) is handed to the QuickJS
sandbox of :mod:`switchboard.flow.javascript`. :func:`compile_expression` parses once and caches
the parsed form, so a flow's expressions are parsed once per process.

Raises :class:`ExpressionError` (with the column) on a syntax error, and at evaluation time on a
call of an unknown function or a bad argument.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class ExpressionError(ValueError):
    """An expression that does not parse or cannot be evaluated. ``column`` is 1-based."""

    def __init__(self, message: str, *, column: int | None = None) -> None:
        super().__init__(message if column is None else f"{message} (column {column})")
        self.column = column


_TOKEN = re.compile(
    r"""\s*(?:
      (?P<num>\d+(?:\.\d+)?|\.\d+)
    | (?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
    | (?P<name>\$?[A-Za-z_][A-Za-z0-9_]*)
    | (?P<op>===|!==|==|!=|<=|>=|&&|\|\||[-+*/%<>!().\[\],])
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"true": True, "false": False, "null": None, "undefined": None}

Node = tuple[Any, ...]


def _tokenize(text: str) -> list[tuple[str, Any, int]]:
    tokens: list[tuple[str, Any, int]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            col = pos + 1 + (len(text[pos:]) - len(text[pos:].lstrip()))
            raise ExpressionError(f"unexpected character {text[col - 1]!r}", column=col)
        kind = m.lastgroup
        assert kind is not None
        value = m.group(kind)
        col = m.start(kind) + 1
        if kind == "num":
            tokens.append(("num", float(value) if "." in value else int(value), col))
        elif kind == "str":
            tokens.append(("str", re.sub(r"\\(.)", r"\1", value[1:-1]), col))
        elif kind == "name" and value in _KEYWORDS:
            tokens.append(("lit", _KEYWORDS[value], col))
        else:
            tokens.append((kind, value, col))
        pos = m.end()
    tokens.append(("end", None, len(text) + 1))
    return tokens


_BINARY = [
    ("||",),
    ("&&",),
    ("==", "!=", "===", "!=="),
    ("<", ">", "<=", ">="),
    ("+", "-"),
    ("*", "/", "%"),
]


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.i = 0

    def peek(self) -> tuple[str, Any, int]:
        return self.tokens[self.i]

    def take(self) -> tuple[str, Any, int]:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def expect(self, op: str) -> None:
        kind, value, col = self.take()
        if kind != "op" or value != op:
            found = "end of expression" if kind == "end" else repr(value)
            raise ExpressionError(f"expected {op!r}, found {found}", column=col)

    def parse(self) -> Node:
        node = self.binary(0)
        kind, value, col = self.peek()
        if kind != "end":
            raise ExpressionError(f"unexpected {value!r}", column=col)
        return node

    def binary(self, level: int) -> Node:
        if level == len(_BINARY):
            return self.unary()
        node = self.binary(level + 1)
        while True:
            kind, value, _ = self.peek()
            if kind == "op" and value in _BINARY[level]:
                self.take()
                node = ("bin", value, node, self.binary(level + 1))
            else:
                return node

    def unary(self) -> Node:
        kind, value, _ = self.peek()
        if kind == "op" and value in ("!", "-", "+"):
            self.take()
            return ("un", value, self.unary())
        return self.postfix(self.primary())

    def args(self, close: str) -> list[Node]:
        items: list[Node] = []
        if self.peek()[:2] == ("op", close):
            self.take()
            return items
        while True:
            items.append(self.binary(0))
            kind, value, col = self.take()
            if kind == "op" and value == close:
                return items
            if not (kind == "op" and value == ","):
                raise ExpressionError(f"expected ',' or {close!r}", column=col)

    def postfix(self, node: Node) -> Node:
        while True:
            kind, value, col = self.peek()
            if kind == "op" and value == ".":
                self.take()
                k, name, c = self.take()
                if k != "name":
                    raise ExpressionError("expected a name after '.'", column=c)
                node = ("get", node, ("lit", name.lstrip("$")))
            elif kind == "op" and value == "[":
                self.take()
                index = self.binary(0)
                self.expect("]")
                node = ("get", node, index)
            elif kind == "op" and value == "(":
                if node[0] != "var":
                    raise ExpressionError("only library functions can be called", column=col)
                self.take()
                name = node[1]
                if name not in FUNCTIONS:
                    raise ExpressionError(f"unknown function {name!r}", column=col - len(name))
                node = ("call", name, tuple(self.args(")")))
            else:
                return node

    def primary(self) -> Node:
        kind, value, col = self.take()
        if kind in ("num", "str", "lit"):
            return ("lit", value)
        if kind == "name":
            return ("var", value.lstrip("$"))
        if kind == "op" and value == "(":
            node = self.binary(0)
            self.expect(")")
            return node
        if kind == "op" and value == "[":
            return ("list", tuple(self.args("]")))
        found = "end of expression" if kind == "end" else repr(value)
        raise ExpressionError(f"unexpected {found}", column=col)


# --- JavaScript-like coercions ---------------------------------------------------------------


def to_number(value: Any) -> float:
    """JavaScript ``Number(value)``: '' → 0, '42' → 42, 'x' → NaN, null → 0, true → 1."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    if value is None:
        return 0.0
    if isinstance(value, str):
        text = value.strip()
        if text == "":
            return 0.0
        try:
            return float(text)
        except ValueError:
            return math.nan
    return math.nan


def to_string(value: Any) -> str:
    """JavaScript-like ``String(value)``: 3.0 → '3', None → '', True → 'true'."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, list):
        return ",".join(to_string(v) for v in value)
    return str(value)


def truthy(value: Any) -> bool:
    """JavaScript truthiness: '', 0, NaN, null and false are falsy; lists and objects truthy."""
    if isinstance(value, float) and math.isnan(value):
        return False
    if isinstance(value, list | dict):
        return True
    return bool(value)


def loose_equals(a: Any, b: Any) -> bool:
    """JavaScript ``==``: a numeric string equals the number (``'42' == 42``)."""
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return to_number(a) == to_number(b)
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    if isinstance(a, int | float) or isinstance(b, int | float):
        return to_number(a) == to_number(b)
    return bool(a == b)


def strict_equals(a: Any, b: Any) -> bool:
    """JavaScript ``===``: no coercion between numbers, strings and booleans."""
    num = (int, float)
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    if isinstance(a, num) and isinstance(b, num):
        return float(a) == float(b)
    return type(a) is type(b) and bool(a == b)


def _compare(op: str, a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        x: Any = a
        y: Any = b
    else:
        x, y = to_number(a), to_number(b)
        if math.isnan(x) or math.isnan(y):
            return False
    return {"<": x < y, ">": x > y, "<=": x <= y, ">=": x >= y}[op]


def _number_result(value: float) -> int | float:
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def _arith(op: str, a: Any, b: Any) -> Any:
    if op == "+" and (isinstance(a, str) or isinstance(b, str)):
        return to_string(a) + to_string(b)
    x, y = to_number(a), to_number(b)
    if op == "+":
        return _number_result(x + y)
    if op == "-":
        return _number_result(x - y)
    if op == "*":
        return _number_result(x * y)
    if y == 0:
        return math.nan if op == "%" or x == 0 else math.copysign(math.inf, x)
    if op == "/":
        return _number_result(x / y)
    return _number_result(math.fmod(x, y))


# --- the function library ------------------------------------------------------------------


clock: Callable[[], float] = time.time
"""Seconds since the epoch: the time ``now()``, ``hour_in()``... and JavaScript's ``Date`` read (tests
pin it)."""


def _now_in(tz: Any) -> datetime:
    return datetime.fromtimestamp(clock(), UTC).astimezone(_zone(tz))


def _zone(tz: Any) -> ZoneInfo:
    try:
        return ZoneInfo(to_string(tz))
    except (ZoneInfoNotFoundError, ValueError):
        raise ExpressionError(f"unknown time zone {tz!r}") from None


def _int(value: Any) -> int | float:
    """Truncate towards zero; NaN and ±Infinity stay as they are (JavaScript ``Math.trunc``)."""
    number = to_number(value)
    return int(number) if math.isfinite(number) else number


def _contains(haystack: Any, needle: Any) -> bool:
    if isinstance(haystack, list):
        return any(loose_equals(item, needle) for item in haystack)
    if isinstance(haystack, dict):
        return to_string(needle) in haystack
    return to_string(needle) in to_string(haystack)


def _len(value: Any) -> int:
    if isinstance(value, str | list | dict):
        return len(value)
    return len(to_string(value))


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": _len,
    "int": _int,
    "str": to_string,
    "lower": lambda v: to_string(v).lower(),
    "upper": lambda v: to_string(v).upper(),
    "contains": _contains,
    "now": lambda: int(clock() * 1000),
    "hour_in": lambda tz: _now_in(tz).hour,
    "weekday_in": lambda tz: _now_in(tz).isoweekday(),
    "time_in": lambda tz: _now_in(tz).strftime("%H:%M"),
}
"""Library functions. ``now()`` is epoch ms; ``weekday_in`` is ISO (Monday=1 … Sunday=7);
``time_in`` is ``HH:MM`` in the zone (IANA name, e.g. ``Africa/Nairobi``)."""


def _get(container: Any, key: Any) -> Any:
    if isinstance(container, dict):
        return container.get(to_string(key))
    if isinstance(container, list | str):
        if key == "length":  # as in JavaScript: '1234'.length, [1, 2].length
            return len(container)
        index = to_number(key)
        if math.isnan(index) or not index.is_integer():
            return None
        i = int(index)
        return container[i] if 0 <= i < len(container) else None
    return None


Evaluator = Callable[[Mapping[str, Any]], Any]


def _call(name: str, args: list[Any]) -> Any:
    try:
        return FUNCTIONS[name](*args)
    except TypeError:
        raise ExpressionError(f"wrong number of arguments to {name}()") from None


def _closure(node: Node) -> Evaluator:
    """``node`` as a Python closure over its children's closures: the tree is walked once, here,
    instead of on every evaluation (about twice as fast as dispatching on the node kind each time).
    Raises :class:`ExpressionError` for a node kind the parser does not make."""
    kind = node[0]
    if kind == "lit":
        value = node[1]
        return lambda scope: value
    if kind == "var":
        name = node[1]
        return lambda scope: scope.get(name)
    if kind == "get":
        container, key = _closure(node[1]), _closure(node[2])
        return lambda scope: _get(container(scope), key(scope))
    if kind == "bin":
        op, a, b = node[1], _closure(node[2]), _closure(node[3])
        if op == "&&":
            return lambda scope: b(scope) if truthy(left := a(scope)) else left
        if op == "||":
            return lambda scope: left if truthy(left := a(scope)) else b(scope)
        if op in ("==", "!="):
            same = op == "=="
            return lambda scope: loose_equals(a(scope), b(scope)) == same
        if op in ("===", "!=="):
            same = op == "==="
            return lambda scope: strict_equals(a(scope), b(scope)) == same
        if op in ("<", ">", "<=", ">="):
            return lambda scope: _compare(op, a(scope), b(scope))
        return lambda scope: _arith(op, a(scope), b(scope))
    if kind == "un":
        op, operand = node[1], _closure(node[2])
        if op == "!":
            return lambda scope: not truthy(operand(scope))
        sign = -1.0 if op == "-" else 1.0
        return lambda scope: _number_result(sign * to_number(operand(scope)))
    if kind == "list":
        items = [_closure(item) for item in node[1]]
        return lambda scope: [item(scope) for item in items]
    if kind == "call":
        name, args = node[1], [_closure(item) for item in node[2]]
        return lambda scope: _call(name, [arg(scope) for arg in args])
    if kind == "js":
        from switchboard.flow.javascript import javascript_evaluator

        return javascript_evaluator(node[1])
    raise ExpressionError(f"unknown node {kind!r}")


@lru_cache(maxsize=4096)
def compile_expression(text: str) -> Node:
    """Parse ``text`` once (cached). What the flow language's own grammar does not cover is checked
    as JavaScript (:mod:`switchboard.flow.javascript`) and becomes ``("js", text, (("var", name),
    ...))``, run in the QuickJS sandbox. Raises :class:`ExpressionError` on a syntax error (the
    error that got further into the text, ours or the JavaScript check's), or when the JavaScript does what an
    expression may not (assign, statements, I/O, prototypes)."""
    if not text.strip():
        raise ExpressionError("empty expression", column=1)
    try:
        return _Parser(text).parse()
    except ExpressionError as ours:
        from switchboard.flow.javascript import Refused, check_syntax, scan

        try:
            names = scan(text)
            check_syntax(text)
        except Refused:
            raise  # valid JavaScript an expression may not use: the clearest message
        except ExpressionError as theirs:  # the error further into the text (a tie: theirs, but ours at the end)
            end = len(text) + 1
            mine, js = ours.column or end, theirs.column or end
            raise theirs if js > mine or js == mine < end else ours from None
        return ("js", text, tuple(("var", name) for name in names))


@lru_cache(maxsize=4096)
def compiled(text: str) -> Evaluator:
    """``text`` parsed and compiled to a closure, once per process (cached by text). Raises
    :class:`ExpressionError` on a syntax error."""
    return _closure(compile_expression(text))


def evaluate(text: str, scope: Mapping[str, Any]) -> Any:
    """Parse and compile (cached) and evaluate ``text`` against ``scope``."""
    return compiled(text)(scope)
