"""Do-not-call lists, per tenant: the tenant's own list (``tenant``, numbers added through the
API) and imported lists (CSV files, e.g. a national registry's extract), each with the date its
source was taken (``as_of``). A list older than ``max_age_days`` (31 by default, as the US rules
require a registry extract to be refreshed at least every 31 days) is reported ``stale`` and
logged as a warning when it is used; it is still honoured.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from switchboard.campaigns.windows import Clock, system_clock

OWN_LIST = "tenant"


class DncStore:
    def __init__(self, pool: asyncpg.Pool, *, clock: Clock = system_clock, max_age_days: int = 31) -> None:
        self.pool = pool
        self.clock = clock
        self.max_age_days = max_age_days

    async def _list(self, conn: asyncpg.Connection, tenant_id: str, name: str, as_of: datetime | None) -> int:
        now = self.clock()
        list_id = await conn.fetchval(
            "INSERT INTO dnc_lists (tenant_id, name, as_of, imported_at) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT (tenant_id, name) DO UPDATE SET as_of = EXCLUDED.as_of, imported_at = EXCLUDED.imported_at "
            "RETURNING list_id",
            tenant_id, name, as_of or now, now,
        )  # fmt: skip
        return int(list_id)

    async def add(self, tenant_id: str, phones: Iterable[str], *, name: str = OWN_LIST) -> int:
        """Add E.164 numbers to a list (the tenant's own by default; dated now). Returns the list's size."""
        async with self.pool.acquire() as conn, conn.transaction():
            list_id = await self._list(conn, tenant_id, name, None)
            await conn.executemany(
                "INSERT INTO dnc_numbers (list_id, tenant_id, phone) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                [(list_id, tenant_id, p) for p in phones],
            )
            return await self._count(conn, list_id)

    async def _count(self, conn: asyncpg.Connection, list_id: int) -> int:
        n = int(await conn.fetchval("SELECT count(*) FROM dnc_numbers WHERE list_id = $1", list_id))
        await conn.execute("UPDATE dnc_lists SET entries = $2 WHERE list_id = $1", list_id, n)
        return n

    async def replace(
        self, tenant_id: str, name: str, batches: AsyncIterator[Sequence[str]], *, as_of: datetime | None
    ) -> int:
        """Replace list ``name`` with the numbers streamed in (COPY through a temporary table, one
        batch at a time; duplicates dropped). Returns the list's size."""
        async with self.pool.acquire() as conn, conn.transaction():
            list_id = await self._list(conn, tenant_id, name, as_of)
            await conn.execute("DELETE FROM dnc_numbers WHERE list_id = $1", list_id)
            await conn.execute("CREATE TEMP TABLE dnc_load (phone varchar(32)) ON COMMIT DROP")
            async for batch in batches:
                await conn.copy_records_to_table("dnc_load", columns=("phone",), records=[(p,) for p in batch])
            await conn.execute(
                "INSERT INTO dnc_numbers (list_id, tenant_id, phone) SELECT DISTINCT $1::bigint, $2::varchar, phone "
                "FROM dnc_load ON CONFLICT DO NOTHING",
                list_id, tenant_id,
            )  # fmt: skip
            return await self._count(conn, list_id)

    async def lists(self, tenant_id: str) -> list[dict[str, Any]]:
        """The tenant's lists: name, ``as_of``, ``imported_at``, ``entries``, ``age_days`` and ``stale``."""
        now = self.clock()
        rows = await self.pool.fetch(
            "SELECT name, as_of, imported_at, entries FROM dnc_lists WHERE tenant_id = $1 ORDER BY name", tenant_id
        )
        out = []
        for row in rows:
            age = (now - row["as_of"]).total_seconds() / 86400
            out.append({**dict(row.items()), "age_days": round(age, 2), "stale": age > self.max_age_days})
        return out

    async def stale(self, conn: asyncpg.Connection, tenant_id: str) -> list[str]:
        """Names of the tenant's lists older than ``max_age_days``."""
        cutoff = self.clock() - timedelta(days=self.max_age_days)
        rows = await conn.fetch("SELECT name FROM dnc_lists WHERE tenant_id = $1 AND as_of < $2", tenant_id, cutoff)
        return [r["name"] for r in rows]


async def hits(conn: asyncpg.Connection, tenant_id: str, phones: Sequence[str]) -> dict[str, str]:
    """phone → the name of a list of the tenant holding it, for each of ``phones`` on any list."""
    if not phones:
        return {}
    rows = await conn.fetch(
        "SELECT DISTINCT ON (n.phone) n.phone, l.name FROM dnc_numbers n JOIN dnc_lists l USING (list_id) "
        "WHERE n.tenant_id = $1 AND n.phone = ANY($2::varchar[]) ORDER BY n.phone, l.name",
        tenant_id, list(phones),
    )  # fmt: skip
    return {r["phone"]: r["name"] for r in rows}
