"""Flows and inbound routes from ``SB_FLOWS_DIR``.

``routes.yaml`` maps an inbound number (E.164, per provider) to a flow name, with a ``default``::

    africastalking:
      "+254711000100": ivr
    default: ivr

Every other ``*.json``/``*.yaml`` file in the folder is a flow, named by its ``name`` field or
file stem. All flows are checked at start-up; an invalid one stops the runner with every problem
listed (FLOW-LANGUAGE.md, Validation). Versions seen are kept, so a running call keeps its version.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from switchboard.flow.document import Flow, load_flow


class FlowRepository:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.current: dict[str, Flow] = {}
        self.versions: dict[tuple[str, str], Flow] = {}
        self.routes: dict[str, dict[str, str]] = {}
        self.default_route: str | None = None
        self.reload()

    def reload(self) -> None:
        """Load every flow and the routes. Raises ``FlowInvalid`` for a broken flow."""
        for path in sorted(self.folder.glob("*")):
            if path.suffix in (".json", ".yaml", ".yml") and path.stem != "routes":
                flow = load_flow(path)
                self.current[flow.name] = flow
                self.versions[(flow.name, flow.version)] = flow
        routes_file = self.folder / "routes.yaml"
        data = yaml.safe_load(routes_file.read_text()) if routes_file.exists() else {}
        self.default_route = data.pop("default", None) if isinstance(data, dict) else None
        self.routes = {p: {str(k): str(v) for k, v in (m or {}).items()} for p, m in (data or {}).items()}

    def get(self, name: str, version: str | None = None) -> Flow | None:
        """The pinned version when known, else the current one; None for an unknown flow."""
        if version and (name, version) in self.versions:
            return self.versions[(name, version)]
        return self.current.get(name)

    def route(self, provider: str, number: str) -> str | None:
        """The flow for an inbound call to ``number`` on ``provider``."""
        return self.routes.get(provider, {}).get(number, self.default_route)
