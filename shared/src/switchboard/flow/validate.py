"""Check a flow before use (FLOW-LANGUAGE.md, Validation). Every finding has the JSON pointer of
its spot and a message for a flow author; errors stop a flow from loading, warnings do not.

Errors: unknown actions, keys and params (with a "did you mean"); params of the wrong shape;
expressions and templates that do not parse or use anything outside the language; GOTO to an
undefined label; actions after a terminal one (unreachable); a loop back through GOTO with no action
that waits for the caller (it could spin); nesting deeper than the limit; prompts that are not
SAY/PLAY; actions the bound provider cannot render.
Warnings: variables read but never set; REJECT after another provider-facing action (allowed: the
earlier actions run and the call then ends, charged, as in Africa's Talking's own example app).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from switchboard.flow.document import Path_, Problem, expression_problem, pointer_of, suggest, walk
from switchboard.flow.expressions import ExpressionError, Node, compile_expression
from switchboard.flow.templates import compile_template
from switchboard.flow.variables import NATIVE_VARIABLES

if TYPE_CHECKING:
    from switchboard.flow.actions.base import Action
    from switchboard.flow.document import Flow

COMMON_KEYS = frozenset({"type", "params", "name", "comment", "comments", "_bare"})
EXPRESSION_PARAMS = {"IF": ("condition",), "FOREACH": ("iterator",)}
DEFAULT_MAX_DEPTH = 8


def _pointer(path: Path_, action: dict[str, Any], *rest: Any) -> str:
    base = pointer_of(path)
    if action.get("_bare") and rest and rest[0] == "params":
        rest = rest[1:]  # a Voxology assignment object has its pairs at the top level
    return "/".join([base, *(str(r) for r in rest)])


def typed_params(spec: Action[Any], path: Path_, action: dict[str, Any], problems: list[Problem]) -> BaseModel | None:
    """``action``'s ``params`` validated into ``spec.Params`` (defaults filled in), or None with
    one problem per finding added to ``problems``."""
    params = action.get("params") or {}
    try:
        return spec.Params.model_validate(params)
    except ValidationError as exc:
        for err in exc.errors():
            loc = [str(p) for p in err["loc"]]
            where = _pointer(path, action, "params", *loc)
            if err["type"] == "extra_forbidden":
                known = set(spec.Params.model_fields)
                problems.append(Problem(where, f"{action['type']} has no param {loc[-1]!r}{suggest(loc[-1], known)}"))
            elif err["type"] == "missing":
                problems.append(Problem(_pointer(path, action, "params"), f"{action['type']} needs param {loc[-1]!r}"))
            else:
                problems.append(Problem(where, str(err["msg"]).removeprefix("Value error, ")))
        return None


def _variables(node: Node) -> Iterator[str]:
    if node[0] == "var":
        yield node[1]
    elif node[0] == "get":
        yield from _variables(node[1])
        yield from _variables(node[2])
    else:
        for child in node[1:]:
            if isinstance(child, tuple) and child and isinstance(child[0], str):
                yield from _variables(child)
            elif isinstance(child, tuple):
                for item in child:
                    if isinstance(item, tuple):
                        yield from _variables(item)


class _Checker:
    def __init__(self, flow: Flow, provider: str | None, max_depth: int) -> None:
        from switchboard.flow.actions import REGISTRY

        self.flow = flow
        self.registry = REGISTRY
        self.provider = provider
        self.max_depth = max_depth
        self.problems: list[Problem] = []
        self.reads: dict[str, str] = {}  # variable → pointer of its first read
        self.sets: set[str] = {"val", "index"}

    def add(self, pointer: str, message: str, severity: str = "error") -> None:
        self.problems.append(Problem(pointer, message, severity))  # type: ignore[arg-type]

    def expression(self, pointer: str, text: Any) -> None:
        try:
            node = compile_expression(str(text))
        except ExpressionError as exc:
            self.problems.append(expression_problem(pointer, exc))
            return
        for name in _variables(node):
            self.reads.setdefault(name, pointer)

    def strings(self, pointer: str, value: Any) -> None:
        if isinstance(value, str):
            try:
                parts = compile_template(value)
            except ExpressionError as exc:
                self.problems.append(expression_problem(pointer, exc))
                return
            for part in parts:
                if not isinstance(part, str):
                    for name in _variables(part[1]):
                        self.reads.setdefault(name, pointer)
        elif isinstance(value, dict):
            for k, v in value.items():
                self.strings(f"{pointer}/{k}", v)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                self.strings(f"{pointer}/{i}", v)

    def action(self, path: Any, action: dict[str, Any], in_prompt: bool) -> None:
        pointer, kind = pointer_of(path), action["type"]
        spec = self.registry.get(kind)
        if spec is None:  # unknown types and params are checked when the flow is built (Flow.nodes)
            return
        if in_prompt and kind not in ("SAY", "PLAY"):
            self.add(f"{pointer}/type", f"a prompt takes SAY or PLAY, not {kind}")
        allowed = COMMON_KEYS | spec.keys
        for key in action:
            if key not in allowed:
                self.add(f"{pointer}/{key}", f"{kind} has no key {key!r}{suggest(key, allowed - {'_bare'})}")
        params = action.get("params") or {}
        for key in EXPRESSION_PARAMS.get(kind, ()):
            value = action.get(key, params.get(key))
            if value is None:
                if kind == "IF":
                    self.add(f"{pointer}/condition", "IF needs a 'condition' expression")
                continue
            where = f"{pointer}/{key}" if key in action else f"{pointer}/params/{key}"
            self.expression(where, value)
        if kind == "SET":
            for key, value in params.items():
                self.sets.add(str(key).lstrip("$"))
                if isinstance(value, str):
                    self.expression(_pointer(path, action, "params", key), value)
        else:
            self.strings(
                f"{pointer}/params",
                {k: v for k, v in params.items() if k not in EXPRESSION_PARAMS.get(kind, ()) and k != "actions"},
            )
        if kind == "CONFERENCE" and "events" in action:
            from switchboard.flow.actions.conference import event_problems

            for where, message in event_problems(action["events"]):
                self.add(f"{pointer}{where}", message)
        if kind == "SESSIONDATA" or (kind == "DIAL" and isinstance(action.get("session_data"), dict)):
            self.strings(f"{pointer}/session_data", action.get("session_data") or {})
        if kind == "GOTO":
            label = params.get("label")
            if isinstance(label, str) and label not in self.flow.labels:
                self.add(
                    f"{pointer}/params/label",
                    f"GOTO to undefined label {label!r}{suggest(label, set(self.flow.labels))}",
                )
        if kind == "WEBHOOK" and params.get("save_as"):
            self.sets.add("webhook")
        if self.provider and spec.provider_facing and not in_prompt:
            from switchboard.providers import PROVIDERS

            caps = PROVIDERS[self.provider].capabilities
            if kind not in caps.actions and caps.flow_check is None:  # else flow_check says why
                self.add(f"{pointer}/type", f"{caps.display_name} cannot carry out {kind}")
            for key, why in caps.dropped.get(kind, {}).items():
                top, _, param = key.partition("/")
                used = params.get(param) if param else action.get(top)
                if used not in (None, "", [], {}, False):
                    self.add(f"{pointer}/{key}", f"{caps.display_name} does not carry this out: {why}", "warning")
        if len(path) // 2 > self.max_depth:
            self.add(pointer, f"nested deeper than {self.max_depth} levels")

    def unreachable(self, items: list[dict[str, Any]], prefix: tuple[int | str, ...]) -> None:
        """Actions after a terminal one in the same list, up to the next LABEL: an error after
        HANGUP, REJECT, STOP or a terminal RECORD; a warning after a GOTO or REDIRECT (Voxology's
        own samples leave dead code after a GOTO)."""
        stopped_by: tuple[str, str] | None = None
        for i, action in enumerate(items):
            path = (*prefix, i)
            kind = str(action.get("type"))
            if kind == "LABEL":
                stopped_by = None
            elif stopped_by:
                self.add(pointer_of(path), f"unreachable: it follows {stopped_by[0]}", stopped_by[1])
                stopped_by = None  # one finding per run of dead actions
                continue
            spec = self.registry.get(kind)
            record_to_end = kind == "RECORD" and bool((action.get("params") or {}).get("terminal"))
            terminal = spec is not None and (spec.terminal or record_to_end)
            if terminal or kind in ("GOTO", "REDIRECT"):
                stopped_by = (f"{kind} at {pointer_of(path)}", "error" if terminal else "warning")
            for key in ("then", "orElse", "else"):
                if isinstance(action.get(key), list):
                    self.unreachable(action[key], (*path, key))

    def ordering(self) -> None:
        order = list(walk(self.flow.actions))
        index = {path: i for i, (path, _) in enumerate(order)}
        facing = [(p, a) for p, a in order if (s := self.registry.get(a["type"])) and s.provider_facing]
        for n, (path, action) in enumerate(facing):
            if action["type"] == "REJECT" and n > 0:  # AT's own example app: Say, then Reject (AT spec §8)
                self.add(
                    pointer_of(path),
                    f"REJECT after {facing[0][1]['type']} at {pointer_of(facing[0][0])}: the call is answered "
                    "first, so REJECT ends it (charged) instead of refusing it before answering",
                    "warning",
                )
        for path, action in order:
            if action["type"] != "GOTO":
                continue
            target = self.flow.labels.get(str((action.get("params") or {}).get("label")))
            if target is None or index[target] > index[path]:
                continue
            span = order[index[target] : index[path] + 1]
            if not any((s := self.registry.get(a["type"])) and s.waits for _, a in span):
                self.add(
                    pointer_of(path),
                    f"this GOTO loops back to {pointer_of(target)} with no action that "
                    "waits for the caller (COLLECT, RECORD, DIAL …) in between: it could spin forever",
                )

    def variables(self) -> None:
        for name, pointer in self.reads.items():
            if name not in NATIVE_VARIABLES and name not in self.sets:
                self.add(pointer, f"variable {name!r} is read but never set (it renders as empty)", "warning")


def validate(flow: Flow, *, provider: str | None = None, max_depth: int = DEFAULT_MAX_DEPTH) -> list[Problem]:
    """Every problem in ``flow``; with ``provider``, also what that provider cannot carry out."""
    checker = _Checker(flow, provider, max_depth)
    for path, action in walk(flow.actions, prompts=True):
        checker.action(path, action, in_prompt=any(p == "actions" for p in path))
    checker.unreachable(flow.actions, ())
    if provider:
        from switchboard.providers import PROVIDERS

        caps = PROVIDERS[provider].capabilities
        for pointer, message in caps.flow_check(flow.actions) if caps.flow_check else ():
            checker.add(pointer, message)
    checker.ordering()
    checker.variables()
    return checker.problems
