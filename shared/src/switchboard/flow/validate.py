"""Checks a flow before use (FLOW-LANGUAGE.md, Validation): unknown actions and params (with a
"did you mean"), GOTO to an undefined label, expressions and templates that do not parse.
The full list of the spec grows with the language (issue 3)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from switchboard.flow.document import Problem, expression_problem, pointer_of, suggest, walk
from switchboard.flow.expressions import ExpressionError, compile_expression
from switchboard.flow.templates import compile_template

if TYPE_CHECKING:
    from switchboard.flow.document import Flow

ACTION_KEYS = {"type", "params", "name", "comment", "comments", "then", "orElse", "session_data", "condition"}


def _check_strings(value: Any, pointer: str, problems: list[Problem]) -> None:
    if isinstance(value, str):
        try:
            compile_template(value)
        except ExpressionError as exc:
            problems.append(expression_problem(pointer, exc))
    elif isinstance(value, dict):
        for k, v in value.items():
            _check_strings(v, f"{pointer}/{k}", problems)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_strings(v, f"{pointer}/{i}", problems)


def validate(flow: Flow) -> list[Problem]:
    """Return every problem found in ``flow`` (errors and warnings)."""
    from switchboard.flow.actions import REGISTRY

    problems: list[Problem] = []
    for path, action in walk(flow.actions):
        pointer = pointer_of(path)
        kind = action["type"]
        spec = REGISTRY.get(kind)
        if spec is None:
            if kind != "?":
                problems.append(Problem(f"{pointer}/type", f"unknown action {kind!r}{suggest(kind, set(REGISTRY))}"))
            continue
        for key in action:
            if key not in ACTION_KEYS:
                problems.append(Problem(f"{pointer}/{key}", f"unknown key {key!r}{suggest(key, ACTION_KEYS)}"))
        params = action.get("params") or {}
        for key in params:
            if spec.params and key not in spec.params:
                problems.append(
                    Problem(f"{pointer}/params/{key}", f"{kind} has no param {key!r}{suggest(key, spec.params)}")
                )
        for key in spec.required:
            if key not in params:
                problems.append(Problem(f"{pointer}/params", f"{kind} needs param {key!r}"))
        if kind == "IF":
            cond = action.get("condition", params.get("condition"))
            if not isinstance(cond, str):
                problems.append(Problem(f"{pointer}/condition", "IF needs a 'condition' expression"))
            else:
                try:
                    compile_expression(cond)
                except ExpressionError as exc:
                    problems.append(expression_problem(f"{pointer}/condition", exc))
        elif kind == "GOTO":
            label = params.get("label")
            if label not in flow.labels:
                problems.append(
                    Problem(
                        f"{pointer}/params/label",
                        f"GOTO to undefined label {label!r}{suggest(str(label), set(flow.labels))}",
                    )
                )
        _check_strings(params, f"{pointer}/params", problems)
    return problems
