"""The routes file (``routes.yaml`` in ``SB_FLOWS_DIR``): which flow answers an inbound call.

Shape (ARCHITECTURE §5)::

    africastalking:                          # a provider Switchboard knows
      "+254711000100": survey                # dialled number (E.164, quoted in YAML) -> flow name
      "+254711000400": https://app.test/ivr  # ... or the URL of a customer application
    default: ivr                             # optional: any other number

:func:`parse_routes` checks the shape; :func:`check_routes` checks each target against the flows
that exist (a flow name must name one, and that flow must be one the provider can carry out).
Findings are :class:`~switchboard.flow.document.Problem` with JSON pointers into the file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from switchboard.errors import InvalidEvent
from switchboard.flow.document import Flow, Problem, suggest
from switchboard.flow.validate import validate
from switchboard.phone import to_e164
from switchboard.providers import PROVIDERS

DEFAULT = "default"
E164 = re.compile(r"\+[1-9][0-9]{1,14}")


@dataclass
class Routes:
    """``by_provider``: provider → {dialled number (E.164) → flow name or application URL};
    ``default``: the target for any other number (None: no default)."""

    by_provider: dict[str, dict[str, str]] = field(default_factory=dict)
    default: str | None = None

    def targets(self) -> list[tuple[str, str, str]]:
        """``(pointer, provider or "", target)`` for every route, the default last."""
        out = [(_pointer(p, n), p, t) for p, numbers in self.by_provider.items() for n, t in numbers.items()]
        if self.default is not None:
            out.append((_pointer(DEFAULT), "", self.default))
        return out


def _pointer(*parts: str) -> str:
    """An RFC 6901 pointer (``~`` and ``/`` escaped)."""
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)


def is_application_url(target: str) -> bool:
    """A route to a customer application (a dynamic flow) rather than to a flow by name."""
    return target.startswith(("http://", "https://"))


def looks_like_routes(doc: Any, filename: str = "") -> bool:
    """Whether a parsed file is a routes file: named ``routes.*``, or a mapping with no
    ``actions`` whose keys are all providers or ``default``."""
    if filename.rsplit("/", 1)[-1].split(".", 1)[0] == "routes":
        return True
    if not isinstance(doc, dict) or not doc or "actions" in doc:
        return False
    return all(str(k) in (*list(PROVIDERS), DEFAULT) for k in doc)


def _target_problem(pointer: str, target: Any) -> Problem | None:
    if not isinstance(target, str) or not target.strip():
        return Problem(pointer, "a route's target is a flow name or an application URL (http:// or https://)")
    return None


def _number_problem(provider: str, number: Any) -> Problem | None:
    """A dialled number must be written in E.164 form (``+`` and 2 to 15 digits); its validity is
    not checked, since test ranges (``+1555…``) are routed too."""
    pointer = _pointer(provider, str(number))
    if not isinstance(number, str):
        return Problem(pointer, f'{number!r} is not a quoted E.164 number: write it as "+{number}"')
    if E164.fullmatch(number):
        return None
    try:
        hint = f" (did you mean {to_e164(number)!r}?)"
    except InvalidEvent:
        hint = ""
    return Problem(pointer, f"{number!r} is not an E.164 number (+ and up to 15 digits){hint}")


def parse_routes(doc: Any) -> tuple[Routes, list[Problem]]:
    """The routes of a parsed routes file, and every problem with its shape."""
    if doc is None:
        return Routes(), []
    if not isinstance(doc, dict):
        return Routes(), [Problem("", "a routes file maps each provider to {number: flow}, plus an optional default")]
    routes, problems = Routes(), []
    for key, value in doc.items():
        name = str(key)
        if name == DEFAULT:
            problem = _target_problem(_pointer(DEFAULT), value)
            problems += [problem] if problem else []
            routes.default = None if problem else value
            continue
        if name not in list(PROVIDERS):
            problems.append(Problem(_pointer(name), f"unknown provider {name!r}{suggest(name, list(PROVIDERS))}"))
            continue
        if value is not None and not isinstance(value, dict):
            problems.append(Problem(_pointer(name), "a provider's routes map each dialled number to a flow"))
            continue
        numbers = routes.by_provider.setdefault(name, {})
        for number, target in (value or {}).items():
            problem = _number_problem(name, number) or _target_problem(_pointer(name, str(number)), target)
            if problem:
                problems.append(problem)
            else:
                numbers[number] = target
    return routes, problems


def check_routes(routes: Routes, flows: Mapping[str, Flow]) -> list[Problem]:
    """Every route to a flow must name one of ``flows`` (by name), and a flow routed on a provider
    must be one that provider can carry out. Application URLs are not fetched."""
    problems = []
    for pointer, provider, target in routes.targets():
        if is_application_url(target):
            continue
        flow = flows.get(target)
        if flow is None:
            problems.append(Problem(pointer, f"no flow named {target!r}{suggest(target, set(flows))}"))
        elif provider:  # the default route serves every provider; each flow file is checked on its own
            problems += [
                Problem(pointer, f"flow {target!r} cannot run on {provider}: {p.pointer}: {p.message}")
                for p in validate(flow, provider=provider)
                if p.severity == "error"
            ]
    return problems
