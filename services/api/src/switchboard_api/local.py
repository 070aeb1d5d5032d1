"""The local stack's tenant and key (``make up``, ``make demo``, the test fixtures)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from sqlalchemy.ext.asyncio import create_async_engine

from switchboard_api.settings import ApiSettings
from switchboard_api.tenancy import SCOPES, Policy, TenantStore

LOCAL_POLICY = Policy(
    # the simulator's Africa's Talking numbers: calls may go to Kenya (the default: their country)
    numbers=["+254711000100", "+254711000200"],
    accounts=["*:*"],
    cps=200,
    max_live_calls=1000,
    daily_calls=100_000,
    requests_per_minute=6000,
)


async def write_local_key(settings: ApiSettings, path: Path, *, tenant_id: str = "local") -> dict[str, object]:
    """Give ``tenant_id`` :data:`LOCAL_POLICY` (creating the tenant if absent), mint a key with
    every scope and write it to ``path`` (0600). Returns what was written. For the local stack
    only: it overwrites the tenant's policy."""
    engine = create_async_engine(settings.async_database_url)
    try:
        store = TenantStore(engine)
        if await store.tenant(tenant_id) is None:
            await store.create_tenant(tenant_id, f"Local tenant ({tenant_id})", LOCAL_POLICY)
        else:
            await store.set_policy(tenant_id, LOCAL_POLICY)
        info, key = await store.create_key(tenant_id, list(SCOPES), name="local stack")
    finally:
        await engine.dispose()
    record: dict[str, object] = {"tenant_id": tenant_id, "key_id": info.key_id, "key": key, "scopes": info.scopes}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(record, out, indent=2)
    return record
