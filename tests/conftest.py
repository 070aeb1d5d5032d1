"""Cross-service fixtures: one real local stack (Tansu, Redis, PostgreSQL, five services) per
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

from switchboard_devstack.stack import REPO, Stack, StackConfig


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    root = Path(tempfile.mkdtemp(prefix="sb-stack-"))
    os.chmod(root, 0o755)
    flows = root / "flows"  # a copy the tests may add to and edit (routes, version pinning)
    shutil.copytree(REPO / "flows", flows)
    config = StackConfig.ephemeral(root, speed=50.0, partitions=4, flows_dir=flows)
    config.extra_env.update({"SB_REPLY_TIMEOUT_S": "1.5", "SIM_RING_S": "2", "SB_LOG_LEVEL": "INFO"})
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
            }
        }
    )
    stack = Stack(config)
    stack.up()
    try:
        yield stack
    finally:
        stack.down()
        if os.environ.get("SB_KEEP_STACK") != "1":
            shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client
