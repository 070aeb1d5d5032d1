"""Cross-service fixtures: one real local stack (Tansu, Redis, PostgreSQL, six services) per
test session, on free ports, in a temporary folder; torn down at the end."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from switchboard_devstack import infra
from switchboard_devstack.stack import IB_SIM_KEY, REPO, Stack, StackConfig


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that asks for the stack needs it: mark it ``integration`` even where the module
    forgot, so ``make test-unit`` never starts the stack."""
    for item in items:
        if "stack" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def stack(containers: infra.Endpoints | None) -> Iterator[Stack]:
    """The services on free ports, over local Tansu, Redis and PostgreSQL processes or, where the
    session runs on containers, over those (``stack.config.external``)."""
    root = Path(tempfile.mkdtemp(prefix="sb-stack-"))
    os.chmod(root, 0o755)
    flows = root / "flows"  # a copy the tests may add to and edit (routes, version pinning)
    shutil.copytree(REPO / "flows", flows)
    config = StackConfig.ephemeral(root, speed=50.0, partitions=4, flows_dir=flows, external=containers)
    config.extra_env.update({"SB_REPLY_TIMEOUT_S": "1.5", "SIM_RING_S": "2", "SB_LOG_LEVEL": "INFO"})
    # tracing on, as an operator with a collector runs it: every service appends its spans here
    config.extra_env.update({"SB_TRACE_EXPORTER": "jsonl", "SB_TRACE_FILE": str(root / "traces.jsonl")})
    # a late reply: "Please hold.", then the hold tone, for up to 12 s (7 redirects of 1.5 s rounds)
    config.extra_env["SB_FALLBACK_MAX_HOLD_S"] = "12"
    # a dial a killed dialer left between its claim and the provider's call: its leases end in 15 s
    # (the simulator rings 2 s at most), not 180, so a test sees them end
    config.extra_env["SB_DIAL_UNCONFIRMED_LEASE_S"] = "15"
    # status callbacks: short backoff and give-up, so retries and the dead-letter topic show in seconds
    config.extra_env.update(
        {
            "SB_NOTIFY_BACKOFF_INITIAL_S": "0.2",
            "SB_NOTIFY_BACKOFF_MAX_S": "1",
            "SB_NOTIFY_GIVE_UP_S": "8",
            "SB_NOTIFY_TIMEOUT_S": "2",
        }
    )
    # two more Africa's Talking accounts: one with its own caller ID, one whose key the provider refuses
    config.extra_env["SB_ACCOUNTS"] = json.dumps(
        {
            "africastalking": {
                "ke-ops": {
                    "base_url": config.sim_url,
                    "username": "sandbox",
                    "api_key": "sim-api-key",
                    "from_number": "+254711000555",
                },
                "revoked": {
                    "base_url": config.sim_url,
                    "username": "sandbox",
                    "api_key": "old-key",
                    "from_number": "+254711000556",
                },
            },
            # reports of this account are pulled (no notifyUrl), by the poller the tests run
            "infobip": {
                "pull": {"base_url": config.sim_url, "api_key": IB_SIM_KEY, "from_number": "+15550000701"},
            },
        }
    )
    config.extra_env["SB_REPORT_POLL_S"] = "3600"
    config.extra_env["SB_LIVE_CALLS_EVERY_S"] = "0.5"  # the ingress's own poller: at start, then hourly
    stack = Stack(config)
    stack.up()
    try:
        stack.mint_local_key("default")  # inbound calls (flows/routes.yaml) are the default tenant's
        yield stack
    finally:
        stack.down()
        if os.environ.get("SB_KEEP_STACK") != "1":
            shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the control-plane API with the local tenant's key (every scope)."""
    headers = {"Authorization": f"Bearer {stack.api_key()}"}
    async with httpx.AsyncClient(base_url=stack.config.api_url, headers=headers, timeout=30) as client:
        yield client


@pytest.fixture
async def default_api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the control-plane API with a key of the default tenant, whose calls the inbound
    numbers of ``flows/routes.yaml`` are."""
    key = json.loads((stack.root / "api-key-default.json").read_text())["key"]
    async with httpx.AsyncClient(
        base_url=stack.config.api_url, headers={"Authorization": f"Bearer {key}"}, timeout=30
    ) as client:
        yield client
