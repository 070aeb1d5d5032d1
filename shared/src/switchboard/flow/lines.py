"""Where a problem is in the text of a flow: the line a JSON pointer names, for editors (the
console's flow editor, ``POST /v1/flows/validate``).

The text is composed (not constructed) with PyYAML, which keeps each node's position; JSON is
read the same way (a JSON document is YAML). Lines count from 1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

import yaml

from switchboard.flow.document import Flow, FlowInvalid, build_flow, parse_text

_AT_LINE = re.compile(r"at line (\d+)")


def line_of(text: str, pointer: str) -> int | None:
    """The line (from 1) of the value ``pointer`` (RFC 6901) names in ``text``, or of its nearest
    ancestor present in the text; None when the text cannot be composed."""
    try:
        node: Any = yaml.compose(text)
    except yaml.YAMLError:
        return None
    if node is None:
        return None
    line = int(node.start_mark.line) + 1
    for raw in pointer.split("/")[1:]:
        part = raw.replace("~1", "/").replace("~0", "~")
        child = None
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if getattr(k, "value", None) == part), None)
            if child is not None:  # a key's line, not its value's: a block value starts a line later
                key = next(k for k, v in node.value if v is child)
                line = int(key.start_mark.line) + 1
        elif isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
            child = node.value[int(part)]
            line = int(child.start_mark.line) + 1
        if child is None:
            break
        node = child
    return line


@dataclass(frozen=True)
class LocatedProblem:
    """A validation finding with its ``line`` in the text (None when it has no place, e.g. a
    file that does not parse at all). ``pointer``: RFC 6901 into the document."""

    pointer: str
    line: int | None
    severity: Literal["error", "warning"]
    message: str


def check_text(
    text: str, *, name: str = "draft", provider: str | None = None
) -> tuple[Flow | None, list[LocatedProblem]]:
    """Validate a flow's text as the flow-runner loads a file (``provider``: also what it cannot
    carry out). Returns ``(the flow, or None when invalid; problems with lines)``, errors first."""
    try:
        flow = build_flow(parse_text(text), name=name, provider=provider)
    except FlowInvalid as exc:
        return None, [_located(text, p.pointer, p.severity, p.message) for p in exc.problems]
    return flow, [_located(text, p.pointer, p.severity, p.message) for p in flow.warnings]


def _located(text: str, pointer: str, severity: Literal["error", "warning"], message: str) -> LocatedProblem:
    if not pointer and (found := _AT_LINE.search(message)):  # a syntax error names its own line
        return LocatedProblem(pointer, int(found.group(1)), severity, message)
    return LocatedProblem(pointer, line_of(text, pointer) if pointer else None, severity, message)
