"""Flows and inbound routes from ``SB_FLOWS_DIR``, with version pinning.

``routes.yaml`` maps an inbound number (E.164, per provider) to a flow name or to the URL of a
customer application (a dynamic flow), with a ``default``::

    africastalking:
      "+254711000100": survey
      "+254711000400": https://app.example.test/ivr
    default: ivr

**Tenants.** The folder's top level is the ``default`` tenant's. ``tenants/<tenant id>/`` holds a
tenant's own flows and ``routes.yaml`` (the same shapes); a tenant without a folder uses the
top-level flows. An inbound call to a number a tenant's routes name belongs to that tenant (its
``tenant_id`` on the call's state, events and CDR) and runs that tenant's flow; any other number
follows the top-level routes and belongs to ``default``. A number routed by two tenants (or by a
tenant and the top level) is refused when the routes load (``FlowInvalid``), so a caller can never
reach the wrong customer's flow.

Every other ``*.json``/``*.yaml`` file in the folder is a flow, named by its ``name`` field or file
stem, checked at start-up (an invalid flow stops the runner with every
problem listed): by the checks every provider shares, and a flow that numbers are routed to also
against that provider; a flow placed outbound is checked against the call's provider when the call
is requested (the api), so a flow for one provider only (Infobip's DETECT, Voxology's PAUSE) may
live in the folder. The folder is looked at again at most every ``reload_s`` seconds; a changed file
becomes the current version for *new* calls. Each version's document is kept in Redis
(``sb:flowdoc:{name}:<version>``), so a live call keeps the version it started with, on any replica
and across restarts.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import orjson
from redis.asyncio import Redis

from switchboard.events import DEFAULT_TENANT
from switchboard.flow.document import Flow, FlowInvalid, Problem, build_flow, load_flow, load_yaml
from switchboard.flow.validate import validate
from switchboard.logging import get_logger
from switchboard.redis import flow_doc_key
from switchboard.state import CallState

log = get_logger(__name__)
DOC_TTL_S = 30 * 24 * 3600


def redirect_flow(url: str) -> Flow:
    """A route to a customer application is a one-action flow: REDIRECT to its URL."""
    return build_flow({"name": url, "actions": [{"type": "REDIRECT", "params": {"url": url}}]}, name=url)


class FlowRepository:
    def __init__(
        self,
        folder: Path,
        *,
        provider: str | None = None,
        redis: Redis | None = None,
        reload_s: float = 2.0,
        tenant_id: str = DEFAULT_TENANT,
    ) -> None:
        self.folder = folder
        self.tenant_id = tenant_id
        self.tenants: dict[str, FlowRepository] = {}  # tenant id -> its folder's flows (top level only)
        self.provider = provider
        self.redis = redis
        self.reload_s = reload_s
        self.current: dict[str, Flow] = {}
        self.versions: dict[tuple[str, str], Flow] = {}
        self.routes: dict[str, dict[str, str]] = {}
        self.default_route: str | None = None
        self._mtimes: dict[Path, float] = {}
        self._checked = 0.0
        self._unsaved: list[Flow] = []
        self.reload()

    # --- loading ------------------------------------------------------------------------------
    def _files(self) -> list[Path]:
        files = [p for p in sorted(self.folder.glob("*")) if p.suffix in (".json", ".yaml", ".yml")]
        if self.tenant_id == DEFAULT_TENANT:  # a tenant's folder changing reloads everything
            files += [p for p in sorted(self.folder.glob("tenants/*/*")) if p.suffix in (".json", ".yaml", ".yml")]
        return files

    def _tenant_folders(self) -> dict[str, Path]:
        if self.tenant_id != DEFAULT_TENANT or not (self.folder / "tenants").is_dir():
            return {}
        return {p.name: p for p in sorted((self.folder / "tenants").iterdir()) if p.is_dir()}

    def reload(self) -> None:
        """Load every flow and the routes. Raises ``FlowInvalid`` for a broken flow."""
        for path in self._files():
            self._mtimes[path] = path.stat().st_mtime
            if path.stem == "routes" or path.parent != self.folder:
                continue
            self._add(load_flow(path, provider=self.provider))
        routes_file = self.folder / "routes.yaml"
        data = load_yaml(routes_file.read_text()) if routes_file.exists() else {}
        data = data if isinstance(data, dict) else {}
        self.default_route = data.pop("default", None)
        self.routes = {p: {str(k): str(v) for k, v in (m or {}).items()} for p, m in data.items()}
        self._check_routed_providers()
        tenants = {
            tenant: FlowRepository(
                folder, provider=self.provider, redis=self.redis, reload_s=self.reload_s, tenant_id=tenant
            )
            for tenant, folder in self._tenant_folders().items()
        }
        self._check_unique_numbers(tenants)
        for tenant, repo in tenants.items():
            if old := self.tenants.get(tenant):  # keep versions other calls may still be pinned to
                repo.versions = {**old.versions, **repo.versions}
        self.tenants = tenants
        self._checked = time.monotonic()

    def _check_unique_numbers(self, tenants: dict[str, FlowRepository]) -> None:
        """A number routed (on the same provider) by two tenants is refused: whose call would it be?"""
        owner: dict[tuple[str, str], str] = {}
        problems = []
        for tenant, repo in [(self.tenant_id, self), *tenants.items()]:
            for provider, numbers in repo.routes.items():
                for number in numbers:
                    if (first := owner.setdefault((provider, number), tenant)) != tenant:
                        pointer = f"/{provider}/{number}"
                        message = f"{number} on {provider} is routed by tenant {first!r} and by tenant {tenant!r}"
                        problems.append(Problem(pointer, message))
        if problems:
            raise FlowInvalid(f"{self.folder / 'tenants'}/*/routes.yaml", problems)

    def _check_routed_providers(self) -> None:
        """A flow a provider's numbers are routed to must be something that provider can carry
        out (flows load with the provider-independent checks: a flow placed outbound is checked
        against the call's provider when the call is requested)."""
        problems = []
        for routed, routes in self.routes.items():
            if routed == self.provider:  # loaded with that provider's checks already
                continue
            for name in set(routes.values()):
                flow = self.current.get(name)
                if flow is not None:
                    problems += [p for p in validate(flow, provider=routed) if p.severity == "error"]
        if problems:
            raise FlowInvalid("routes.yaml", problems)

    def _add(self, flow: Flow) -> None:
        if (flow.name, flow.version) not in self.versions:
            self._unsaved.append(flow)
        self.current[flow.name] = flow
        self.versions[(flow.name, flow.version)] = flow

    def refresh(self, *, force: bool = False) -> None:
        """Reload changed files (at most every ``reload_s``, or now with ``force``). A broken edit
        is logged and the version before it stays current: a typo must not take a live IVR down."""
        if not force and time.monotonic() - self._checked < self.reload_s:
            return
        self._checked = time.monotonic()
        changed = [p for p in self._files() if self._mtimes.get(p) != p.stat().st_mtime]
        if not changed:
            return
        try:
            self.reload()
        except FlowInvalid as exc:
            for p in changed:
                self._mtimes[p] = p.stat().st_mtime
            log.error("changed flow refused; previous version stays current", problems=[str(p) for p in exc.problems])

    async def save_versions(self) -> None:
        """Keep each version's document in Redis (once per version)."""
        if self.redis is None:
            self._unsaved.clear()
            return
        while self._unsaved:
            flow = self._unsaved.pop()
            await self.redis.set(
                flow_doc_key(flow.name, flow.version, self.tenant_id), orjson.dumps(flow.doc), ex=DOC_TTL_S
            )
        for repo in self.tenants.values():
            await repo.save_versions()

    # --- lookup -------------------------------------------------------------------------------
    def route(self, provider: str, number: str) -> str | None:
        """The flow name (or application URL) for an inbound call to ``number`` on ``provider``."""
        return self.route_call(provider, number)[1]

    def route_call(self, provider: str, number: str) -> tuple[str, str | None]:
        """``(tenant id, flow name or application URL)`` for an inbound call to ``number`` on
        ``provider``: the tenant whose routes name the number, else the top level's (``default``)."""
        self.refresh()
        for tenant, repo in self.tenants.items():
            if (target := repo.routes.get(provider, {}).get(number)) is not None:
                return tenant, target
        return self.tenant_id, self.routes.get(provider, {}).get(number, self.default_route)

    def for_tenant(self, tenant_id: str) -> FlowRepository:
        """The flows ``tenant_id`` runs: its folder's, or the top level's when it has none."""
        return self.tenants.get(tenant_id, self)

    def routed_numbers(self, tenant_id: str) -> list[str]:
        """The inbound numbers ``tenant_id``'s routes answer (E.164), on every provider: the
        tenant's own numbers for the toll-fraud guard (the top level's are the default tenant's)."""
        repo = self.tenants.get(tenant_id) or (self if tenant_id == self.tenant_id else None)
        if repo is None:
            return []
        return sorted({number for numbers in repo.routes.values() for number in numbers})

    def get(self, name: str, version: str | None = None) -> Flow | None:
        """The version asked for if loaded here, else the current one; None for an unknown flow."""
        if version and (name, version) in self.versions:
            return self.versions[(name, version)]
        return self.current.get(name)

    async def pinned(self, name: str, version: str | None) -> Flow | None:
        """``name`` at ``version``: from memory, else from Redis (another replica or an earlier run
        loaded it), else the current version."""
        if version and (name, version) not in self.versions and self.redis is not None:
            raw = await self.redis.get(flow_doc_key(name, version, self.tenant_id))
            if raw is not None:
                flow = build_flow(orjson.loads(raw), name=name)
                self.versions[(name, flow.version)] = flow
        return self.get(name, version)

    async def flow_for(self, state: CallState) -> Flow | None:
        """The flow a call runs: its dynamic document, its application URL, or its pinned version."""
        self.refresh()
        await self.save_versions()
        if state.tenant_id in self.tenants:
            return await self.tenants[state.tenant_id]._flow_for(state)
        return await self._flow_for(state)

    async def _flow_for(self, state: CallState) -> Flow | None:
        if state.dynamic_doc is not None:
            return self._dynamic(state.dynamic_doc)
        if not state.flow_ref:
            return None
        if state.flow_ref.startswith(("http://", "https://")):
            return redirect_flow(state.flow_ref)
        return await self.pinned(state.flow_ref, state.flow_version)

    def _dynamic(self, doc: dict[str, Any]) -> Flow:
        flow = build_flow(doc, name=str(doc.get("name", "dynamic")))
        return self.versions.setdefault((flow.name, flow.version), flow)
