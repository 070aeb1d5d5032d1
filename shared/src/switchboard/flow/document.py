"""Flow documents: loading (JSON or YAML), normalising and checking (FLOW-LANGUAGE.md).

A :class:`Flow` is immutable once loaded. Its ``version`` is a digest of the document's content,
so a call can pin the exact version it started with. Problems are reported as :class:`Problem`
with the JSON pointer of the offending spot (``/actions/4/then/0/params/text``).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel

from switchboard.flow.expressions import ExpressionError

if TYPE_CHECKING:
    from switchboard.flow.actions.base import Action

BRANCH_KEYS = ("then", "orElse", "else")
"""Nested action lists the interpreter runs. ``else`` is kept as written (not renamed) so JSON
pointers in problems match the author's document."""
PROMPT_KEYS = ("actions",)
"""Nested action lists that are rendered, not run (COLLECT/RECORD prompts)."""
PROMPT_TYPES = ("SAY", "PLAY")
Path_ = tuple[int | str, ...]
P = TypeVar("P", bound=BaseModel)


@dataclass(frozen=True)
class Problem:
    """One validation finding. ``pointer`` is an RFC 6901 JSON pointer into the document."""

    pointer: str
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        return f"{self.severity}: {self.pointer or '/'}: {self.message}"


class FlowInvalid(ValueError):
    """A flow with at least one error. ``problems`` lists all findings, errors first."""

    def __init__(self, name: str, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: p.severity != "error")
        lines = "\n  ".join(str(p) for p in self.problems)
        super().__init__(f"flow {name!r} is invalid:\n  {lines}")


def pointer_of(path: Path_) -> str:
    """``(3, "then", 1)`` → ``/actions/3/then/1``."""
    return "/actions/" + "/".join(str(p) for p in path)


def path_of(pointer: str) -> Path_:
    """``/actions/3/then/1`` → ``(3, "then", 1)``: the inverse of :func:`pointer_of` (a step
    trail's ``p``), the key of :attr:`Flow.nodes`."""
    return tuple(int(p) if p.isdigit() else p for p in pointer.removeprefix("/actions/").split("/"))


@dataclass(frozen=True, eq=False)
class Node(Generic[P]):
    """One action of a built flow, as the interpreter runs it.

    ``path``: where it is (``(3, "then", 1)``; ``pointer`` gives ``/actions/3/then/1``). ``type``:
    the action type, upper case. ``spec``: its implementation in the action registry. ``params``:
    its ``params`` object validated into the action's ``Params`` model once, when the flow was
    built, defaults filled in (so ``step`` reads ``node.params.timeout``). ``doc``: the action as
    written (normalised), for its top-level keys (``then``, ``condition``, ``session_data`` …).
    ``prompt``: for COLLECT and RECORD, the first SAY or PLAY of their nested ``actions``.
    """

    path: Path_
    type: str
    spec: Action[P]
    params: P
    doc: dict[str, Any]
    prompt: Node[Any] | None = None

    @property
    def pointer(self) -> str:
        return pointer_of(self.path)


@dataclass(frozen=True)
class Flow:
    """A checked flow. ``actions``: the normalised document's action lists (what validation and
    JSON pointers read); ``nodes``: every action (prompts included) by path, with its typed params
    (what the interpreter runs); ``labels``: LABEL name → path; ``doc``: the document as parsed."""

    name: str
    version: str
    actions: list[dict[str, Any]]
    nodes: dict[Path_, Node[Any]] = field(default_factory=dict)
    labels: dict[str, Path_] = field(default_factory=dict)
    source: str = ""
    warnings: list[Problem] = field(default_factory=list)
    doc: Any = None
    dialect: str | None = None
    """``switchboard`` or ``voxology``: the requests its REDIRECT/WEBHOOK applications expect
    (:func:`switchboard.flow.calljson.dialect_of`; None: by the provider the call runs on)."""
    timezone: str | None = None
    """IANA zone for local time in the flow's JavaScript (``new Date().getHours()``) and its
    ``timeZone`` variable; None: the zone of the number the flow answers on (see
    :func:`switchboard.flow.interpreter.call_time_zone`)."""

    def at(self, path: Path_) -> Node[Any] | None:
        """The action at ``path``, or None past the end of its list."""
        return self.nodes.get(path)


NOTE_KEYS = ("comment", "comments")


def _is_zone(name: Any) -> bool:
    try:
        ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return isinstance(name, str)


"""Free text an action may carry, ignored when it runs (voxology.md §4)."""


def _is_assignment(action: dict[str, Any]) -> bool:
    """An object without ``type`` whose keys are ``$name`` targets (at least one), besides an
    optional ``comment``/``comments``: how Voxology's published flows write assignments, e.g.
    ``{"comment": "who to call", "$target": "'+15550000200'"}``."""
    keys = [str(k) for k in action]
    return any(k.startswith("$") for k in keys) and all(k.startswith("$") or k in NOTE_KEYS for k in keys)


def _normalise(action: Any, pointer: str, problems: list[Problem]) -> dict[str, Any]:
    if not isinstance(action, dict):
        problems.append(Problem(pointer, "an action must be an object with a 'type'"))
        return {"type": "?"}
    if "type" not in action and _is_assignment(action):  # Voxology's assignment object (voxology.md §4)
        targets = {k: v for k, v in action.items() if str(k).startswith("$")}
        assignment: dict[str, Any] = {"type": "SET", "params": targets, "_bare": True}
        assignment.update({k: action[k] for k in NOTE_KEYS if k in action})
        return assignment
    out = dict(action)
    kind = out.get("type")
    if not isinstance(kind, str):
        problems.append(Problem(f"{pointer}/type", "missing or non-string 'type'"))
        out["type"] = "?"
    else:
        out["type"] = kind.upper()
    for key in (*BRANCH_KEYS, *PROMPT_KEYS):
        if key in out:
            if not isinstance(out[key], list):
                problems.append(Problem(f"{pointer}/{key}", f"'{key}' must be a list of actions"))
                out[key] = []
            out[key] = [_normalise(a, f"{pointer}/{key}/{i}", problems) for i, a in enumerate(out[key])]
    if "params" in out and not isinstance(out["params"], dict):
        problems.append(Problem(f"{pointer}/params", "'params' must be an object"))
        out["params"] = {}
    return out


def walk(
    actions: list[dict[str, Any]], prefix: Path_ = (), *, prompts: bool = False
) -> Iterator[tuple[Path_, dict[str, Any]]]:
    """Every action with its path, depth first, in document order; with ``prompts``, also the
    nested prompt actions of COLLECT/RECORD."""
    keys = (*BRANCH_KEYS, *PROMPT_KEYS) if prompts else BRANCH_KEYS
    for i, action in enumerate(actions):
        path = (*prefix, i)
        yield path, action
        for key in keys:
            if isinstance(action.get(key), list):
                yield from walk(action[key], (*path, key), prompts=prompts)


class FlowYamlLoader(yaml.SafeLoader):
    """YAML with 1.2's booleans: only ``true``/``false``. YAML 1.1 also reads ``no``, ``yes``,
    ``on`` and ``off`` as booleans, which would turn Voxology's DIAL param ``no:`` into ``False``."""


FlowYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
FlowYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load_yaml(text: str) -> Any:
    """Parse YAML the way flow files are read (see :class:`FlowYamlLoader`)."""
    return yaml.load(text, Loader=FlowYamlLoader)


def _stable(value: Any) -> Any:
    """``value`` with every mapping key a string, so it can be hashed in a stable order."""
    if isinstance(value, dict):
        return {str(k): _stable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    return value


def parse_text(text: str, *, filename: str = "<flow>") -> Any:
    """Parse JSON or YAML. Raises :class:`FlowInvalid` with the line and column of a syntax error,
    of a character YAML does not allow (a control character, a lone surrogate), or for nesting
    deeper than the parser's recursion allows."""
    stripped = text.lstrip()
    try:
        if filename.endswith(".json") or stripped.startswith(("{", "[")):
            try:
                return json.loads(text)
            except json.JSONDecodeError as exc:
                raise FlowInvalid(
                    filename, [Problem("", f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}")]
                ) from None
        try:
            return load_yaml(text)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            raise FlowInvalid(filename, [Problem("", f"invalid YAML{where}: {exc.problem}")]) from None
        except yaml.reader.ReaderError as exc:  # a character YAML does not allow, before any token
            line = text.count("\n", 0, exc.position) + 1
            column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
            problem = f"invalid YAML at line {line}, column {column}: character #x{exc.character:04x} is not allowed"
            raise FlowInvalid(filename, [Problem("", problem)]) from None
    except RecursionError:
        raise FlowInvalid(filename, [Problem("", "the document is nested too deeply to read")]) from None


def build_flow(doc: Any, *, name: str, source: str = "", check: bool = True, provider: str | None = None) -> Flow:
    """Normalise a parsed document into a :class:`Flow`; with ``check``, validate it (for
    ``provider`` when given). Action types and params are checked even without ``check``: a flow
    runs on its typed params. Raises :class:`FlowInvalid` listing every error found (warnings alone
    do not raise; they are kept in ``Flow.warnings``).
    """
    from switchboard.flow.validate import validate  # the registry imports this module

    problems: list[Problem] = []
    if not isinstance(doc, dict) or not isinstance(doc.get("actions"), list):
        raise FlowInvalid(name, [Problem("/actions", "a flow is an object with an 'actions' list")])
    actions = [_normalise(a, f"/actions/{i}", problems) for i, a in enumerate(doc["actions"])]
    labels: dict[str, Path_] = {}
    for path, action in walk(actions):
        if action["type"] == "LABEL":
            label = (action.get("params") or {}).get("name", action.get("name"))
            if label in labels:
                problems.append(Problem(pointer_of(path), f"duplicate label {label!r}"))
            elif isinstance(label, str):
                labels[label] = path
    version = hashlib.sha256(json.dumps(_stable(doc), sort_keys=True, default=str).encode()).hexdigest()[:12]
    dialect = doc.get("dialect")
    if dialect is not None and dialect not in ("switchboard", "voxology"):
        problems.append(Problem("/dialect", f"dialect {dialect!r}: expected 'switchboard' or 'voxology'"))
        dialect = None
    timezone = doc.get("timezone")
    if timezone is not None and not _is_zone(timezone):
        problems.append(Problem("/timezone", f"timezone {timezone!r}: expected an IANA zone such as 'Africa/Nairobi'"))
        timezone = None
    flow = Flow(
        name=str(doc.get("name") or name),
        version=version,
        actions=actions,
        nodes=_nodes(actions, problems),
        labels=labels,
        source=source,
        doc=doc,
        dialect=dialect,
        timezone=timezone,
    )
    if check:
        problems.extend(validate(flow, provider=provider))
    if any(p.severity == "error" for p in problems):
        raise FlowInvalid(flow.name, problems)
    object.__setattr__(flow, "warnings", [p for p in problems if p.severity == "warning"])
    return flow


def _nodes(actions: list[dict[str, Any]], problems: list[Problem]) -> dict[Path_, Node[Any]]:
    """Every action (prompts included) with its params validated into its ``Params`` model; an
    unknown type or params that do not validate become problems instead."""
    from switchboard.flow.actions import REGISTRY  # the registry imports this module

    nodes: dict[Path_, Node[Any]] = {}
    for path, action in walk(actions, prompts=True):
        if (node := _node(REGISTRY, path, action, problems)) is not None:
            nodes[path] = node
    for path, node in list(nodes.items()):
        if node.spec.prompts:
            nodes[path] = replace(node, prompt=_prompt(REGISTRY, nodes, node, problems))
    return nodes


def _node(registry: dict[str, Any], path: Path_, action: dict[str, Any], problems: list[Problem]) -> Node[Any] | None:
    from switchboard.flow.validate import typed_params

    kind = action["type"]
    spec = registry.get(kind)
    if spec is None:
        if kind != "?":  # "?": the type itself is missing, already a problem
            problems.append(
                Problem(f"{pointer_of(path)}/type", f"unknown action {kind!r}{suggest(kind, set(registry))}")
            )
        return None
    params = typed_params(spec, path, action, problems)
    return None if params is None else Node(path, kind, spec, params, action)


def _prompt(
    registry: dict[str, Any], nodes: dict[Path_, Node[Any]], node: Node[Any], problems: list[Problem]
) -> Node[Any] | None:
    """The first SAY or PLAY of ``actions``: at the top level (Voxology) or inside ``params``."""
    for key in node.spec.prompts:
        items = node.doc.get(key)
        if isinstance(items, list):
            return next(
                (n for i in range(len(items)) if (n := nodes.get((*node.path, key, i))) and n.type in PROMPT_TYPES),
                None,
            )
    items = (node.doc.get("params") or {}).get("actions")
    for i, item in enumerate(items if isinstance(items, list) else []):
        if isinstance(item, dict) and str(item.get("type", "")).upper() in PROMPT_TYPES:
            item = {**item, "type": str(item["type"]).upper()}
            return _node(registry, (*node.path, "params", "actions", i), item, problems)
    return None


def load_flow(path: Path, *, provider: str | None = None) -> Flow:
    """Read and check one flow file. Raises :class:`FlowInvalid` or ``OSError``."""
    text = path.read_text(encoding="utf-8")
    return build_flow(parse_text(text, filename=path.name), name=path.stem, source=str(path), provider=provider)


def suggest(word: str, choices: list[str] | set[str] | frozenset[str]) -> str:
    """`` (did you mean 'x'?)`` or ``""``."""
    close = difflib.get_close_matches(word, sorted(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def expression_problem(pointer: str, exc: ExpressionError) -> Problem:
    return Problem(pointer, f"expression does not parse: {exc}")
