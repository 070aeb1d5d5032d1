"""String templates: ``${expr}``, ``${...expr}`` (spelled out) and Voxology's ``{{$var}}``.

``${...expr}`` spells the value character by character with pauses: ``"4721"`` → ``"4, 7, 2, 1"``
(commas are 0.5 s pauses on providers that honour them). A missing variable renders as ``""``.
Templates are parsed once and cached, like expressions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from switchboard.flow.expressions import Evaluator, ExpressionError, Node, compile_expression, compiled, to_string

_PART = re.compile(r"\$\{(?P<spell>\.\.\.)?(?P<expr>[^}]*)\}|\{\{\s*(?P<vox>[^}]*?)\s*\}\}")

Part = str | tuple[bool, Node, Evaluator]


@lru_cache(maxsize=4096)
def compile_template(text: str) -> tuple[Part, ...]:
    """Split ``text`` into literal strings and ``(spell, parsed expression, its closure)`` parts.

    Raises :class:`ExpressionError` if an embedded expression does not parse; the column is
    counted from the start of the whole template string.
    """
    parts: list[Part] = []
    pos = 0
    for m in _PART.finditer(text):
        if m.start() > pos:
            parts.append(text[pos : m.start()])
        expr = m.group("expr") if m.group("vox") is None else m.group("vox")
        start = m.start("expr") if m.group("vox") is None else m.start("vox")
        try:
            parts.append((m.group("spell") is not None, compile_expression(expr), compiled(expr)))
        except ExpressionError as exc:
            col = None if exc.column is None else start + exc.column
            raise ExpressionError(str(exc).split(" (column")[0], column=col) from None
        pos = m.end()
    if pos < len(text):
        parts.append(text[pos:])
    return tuple(parts)


def spell_out(value: str) -> str:
    """``'A12'`` → ``'A, 1, 2'``: one character at a time, with pauses."""
    return ", ".join(ch for ch in value if not ch.isspace())


def render_template(text: str, scope: Mapping[str, Any]) -> str:
    """Render ``text`` against ``scope``."""
    if "${" not in text and "{{" not in text:
        return text
    out: list[str] = []
    for part in compile_template(text):
        if isinstance(part, str):
            out.append(part)
        else:
            spell, _, evaluate = part
            value = to_string(evaluate(scope))
            out.append(spell_out(value) if spell else value)
    return "".join(out)
