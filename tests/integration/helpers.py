"""Helpers for tests against the real stack: CDR look-ups, topic reads, simulator control."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx

from switchboard.testing import says
from switchboard_devstack import testing
from switchboard_devstack.stack import Stack
from switchboard_devstack.testing import group_lag, wait_for

__all__ = ["auth", "cdr", "group_lag", "read_topic", "refresh_flows", "says", "sim_call", "wait_cdr", "wait_for"]


def auth(stack: Stack) -> dict[str, str]:
    """The local tenant's API key as a Bearer header (``make up`` writes it to ``api-key.json``)."""
    return {"Authorization": f"Bearer {stack.api_key()}"}


async def cdr(stack: Stack, call_key: str) -> dict[str, Any] | None:
    conn = await asyncpg.connect(stack.config.database_url)
    try:
        row = await conn.fetchrow("SELECT * FROM cdrs WHERE call_key = $1", call_key)
        return dict(row) if row else None
    finally:
        await conn.close()


async def wait_cdr(stack: Stack, call_key: str, timeout_s: float = 30) -> dict[str, Any]:
    async def check():  # type: ignore[no-untyped-def]
        return await cdr(stack, call_key)

    return await wait_for(check, timeout_s)


async def read_topic(stack: Stack, topic: str, *, key: bytes | None = None, idle_s: float = 2.0) -> list[Any]:
    """Every record on ``topic`` of the stack's broker (from the beginning), optionally by key."""
    return await testing.read_topic(stack.config.kafka_bootstrap, topic, key=key, idle_s=idle_s)


async def sim_call(http: httpx.AsyncClient, stack: Stack, session_id: str, *, ended: bool = True) -> dict[str, Any]:
    async def check():  # type: ignore[no-untyped-def]
        r = await http.get(f"{stack.config.sim_url}/sim/calls/{session_id}")
        data = r.json()
        return data if (not ended or data["final_posted"]) else None

    return await wait_for(check, 30)


async def refresh_flows(stack: Stack) -> dict[str, Any]:
    """Make the stack's flow-runner read its flows folder now (``POST /flows/refresh``) instead of
    waiting out its reload interval; answers the flows (name → version) and routes it loaded."""
    async with httpx.AsyncClient(timeout=30) as http:
        r = await http.post(f"{stack.config.url(stack.config.runner_port)}/flows/refresh")
    r.raise_for_status()
    loaded: dict[str, Any] = r.json()
    return loaded
