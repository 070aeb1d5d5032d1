"""Campaigns in PostgreSQL (tables of the cdr-sink's migration 0004), through an asyncpg pool.

Every read and change names the tenant: a campaign of another tenant is "not found", the same
answer as one that does not exist. State changes are single conditional ``UPDATE``s, so two api
replicas (or a replica and a dialer) never both move a campaign.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

import asyncpg
import orjson

from switchboard.campaigns.contacts import Contact
from switchboard.campaigns.models import CampaignSpec
from switchboard.campaigns.windows import Clock, system_clock
from switchboard.errors import Conflict

COLUMNS = (
    "campaign_id, tenant_id, name, status, flow, provider, account, caller_ids, session_data, policy, retry, "
    "windows, starts_at, ends_at, created_at, started_at, finished_at"
)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "start": (("draft",), "running"),
    "pause": (("running",), "paused"),
    "resume": (("paused",), "running"),
    "cancel": (("draft", "running", "paused"), "cancelled"),
}
"""action → (states it may start from, state it leads to)."""


async def init_connection(conn: asyncpg.Connection) -> None:
    """jsonb as Python values (orjson) on every connection of a pool, in the binary format (a
    version byte, then the JSON text), so ``COPY`` (binary) takes them too."""
    await conn.set_type_codec(
        "jsonb",
        encoder=lambda v: b"\x01" + orjson.dumps(v),
        decoder=lambda b: orjson.loads(b[1:]),
        schema="pg_catalog",
        format="binary",
    )


async def make_pool(database_url: str, *, min_size: int = 1, max_size: int = 5) -> asyncpg.Pool:
    """An asyncpg pool for ``postgresql://…`` (SQLAlchemy's ``+asyncpg`` suffix is dropped)."""
    url = database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    pool = await asyncpg.create_pool(url, min_size=min_size, max_size=max_size, init=init_connection)
    assert pool is not None
    return pool


def new_campaign_id() -> str:
    return f"cmp_{secrets.token_hex(8)}"


def as_dict(row: asyncpg.Record) -> dict[str, Any]:
    return dict(row.items())


class CampaignStore:
    def __init__(self, pool: asyncpg.Pool, *, clock: Clock = system_clock) -> None:
        self.pool = pool
        self.clock = clock

    async def create(self, tenant_id: str, spec: CampaignSpec) -> dict[str, Any]:
        """A new campaign in ``draft``; its row as a dict."""
        row = await self.pool.fetchrow(
            f"INSERT INTO campaigns (campaign_id, tenant_id, name, flow, provider, account, caller_ids, "
            f"session_data, policy, retry, windows, starts_at, ends_at) "
            f"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING {COLUMNS}",
            new_campaign_id(), tenant_id, spec.name, spec.flow, spec.provider, spec.account,
            list(spec.caller_ids), spec.session_data, policy_json(spec),
            {k: v.model_dump() for k, v in spec.retry.items()},
            spec.windows.model_dump(mode="json") if spec.windows else None, spec.starts_at, spec.ends_at,
        )  # fmt: skip
        assert row is not None
        return as_dict(row)

    async def get(self, tenant_id: str, campaign_id: str) -> dict[str, Any] | None:
        """The campaign when it exists and is ``tenant_id``'s, else None."""
        row = await self.pool.fetchrow(
            f"SELECT {COLUMNS} FROM campaigns WHERE campaign_id = $1 AND tenant_id = $2", campaign_id, tenant_id
        )
        return as_dict(row) if row else None

    async def of_tenant(self, tenant_id: str, *, status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """The tenant's campaigns, newest first (at most ``limit``), optionally of one ``status``."""
        rows = await self.pool.fetch(
            f"SELECT {COLUMNS} FROM campaigns WHERE tenant_id = $1 AND ($2::text IS NULL OR status = $2) "
            f"ORDER BY created_at DESC, campaign_id LIMIT $3",
            tenant_id, status, limit,
        )  # fmt: skip
        return [as_dict(row) for row in rows]

    async def transition(self, tenant_id: str, campaign_id: str, action: str) -> dict[str, Any] | None:
        """Apply ``action`` (``start``, ``pause``, ``resume``, ``cancel``): the campaign after it,
        None when there is no such campaign for the tenant. Raises :class:`Conflict` (409) when the
        campaign's state does not allow it. ``cancel`` also closes every contact still waiting
        (final status ``cancelled``); calls already out finish and are recorded."""
        sources, target = TRANSITIONS[action]
        now = self.clock()
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                f"UPDATE campaigns SET status = $3::varchar, "
                f"started_at = CASE WHEN $3::varchar = 'running' THEN coalesce(started_at, $4) ELSE started_at END, "
                f"finished_at = CASE WHEN $3::varchar = 'cancelled' THEN $4 ELSE finished_at END, "
                f"next_take_at = CASE WHEN $3::varchar = 'running' THEN $4 ELSE next_take_at END "
                f"WHERE campaign_id = $1 AND tenant_id = $2 AND status = ANY($5::text[]) RETURNING {COLUMNS}",
                campaign_id, tenant_id, target, now, list(sources),
            )  # fmt: skip
            if row is None:
                current = await self.get(tenant_id, campaign_id)
                if current is None:
                    return None
                raise Conflict(f"cannot {action} a campaign that is {current['status']}")
            if target == "cancelled":
                await conn.execute(
                    "UPDATE campaign_contacts SET state = 'done', final_status = 'cancelled', updated_at = $2 "
                    "WHERE campaign_id = $1 AND state = 'pending'",
                    campaign_id, now,
                )  # fmt: skip
        return as_dict(row)

    async def add_contacts(self, campaign_id: str, batches: AsyncIterator[Sequence[Contact]]) -> int:
        """COPY each batch into ``campaign_contacts`` (one connection, one COPY per batch, so a
        million rows cost a batch of memory). Returns the rows stored."""
        stored = 0
        async with self.pool.acquire() as conn:
            async for batch in batches:
                await conn.copy_records_to_table(
                    "campaign_contacts",
                    columns=("campaign_id", "line", "phone", "time_zones", "session_data", "next_at"),
                    records=[(campaign_id, c.line, c.phone, c.time_zones, c.session_data, EPOCH) for c in batch],
                )
                stored += len(batch)
        return stored

    async def progress(self, tenant_id: str, campaign_id: str, *, default_cps: float) -> dict[str, Any] | None:
        """Counts by contact state and by final status, attempts by outcome, and the ETA (seconds;
        from the pace of the last five minutes (or since the start, if sooner), else the campaign's
        cps; None when nothing is left or the campaign does not run)."""
        campaign = await self.get(tenant_id, campaign_id)
        if campaign is None:
            return None
        now = self.clock()
        async with self.pool.acquire() as conn:
            states = await conn.fetch(
                "SELECT state, final_status, count(*) AS n FROM campaign_contacts WHERE campaign_id = $1 "
                "GROUP BY state, final_status",
                campaign_id,
            )
            outcomes = await conn.fetch(
                "SELECT coalesce(outcome, 'in-flight') AS outcome, count(*) AS n FROM campaign_attempts "
                "WHERE campaign_id = $1 GROUP BY 1",
                campaign_id,
            )
            recent, last_minute = await conn.fetchrow(
                "SELECT count(*), count(*) FILTER (WHERE created_at > $2::timestamptz - interval '1 minute') "
                "FROM campaign_attempts WHERE campaign_id = $1 AND created_at > $2::timestamptz - interval '5 minutes'",
                campaign_id, now,
            )  # fmt: skip
        by_state: dict[str, int] = {"pending": 0, "dialing": 0, "done": 0}
        by_final: dict[str, int] = {}
        for row in states:
            by_state[row["state"]] = by_state.get(row["state"], 0) + row["n"]
            if row["final_status"]:
                by_final[row["final_status"]] = by_final.get(row["final_status"], 0) + row["n"]
        attempts = {row["outcome"]: row["n"] for row in outcomes}
        remaining = by_state["pending"] + by_state["dialing"]
        since = (now - campaign["started_at"]).total_seconds() if campaign["started_at"] else 300.0
        window = min(300.0, max(1.0, since))
        rate = recent / window if recent else float(campaign["policy"].get("cps") or default_cps)
        eta = round(remaining / rate, 1) if remaining and campaign["status"] == "running" and rate > 0 else None
        return {
            "campaign_id": campaign_id,
            "status": campaign["status"],
            "contacts": sum(by_state.values()),
            "by_state": by_state,
            "by_final_status": by_final,
            "attempts": sum(attempts.values()),
            "attempts_by_outcome": attempts,
            "eta_s": eta,
            "pacing": {
                "cps": float(campaign["policy"].get("cps") or default_cps),
                "attempts_last_minute": last_minute,
                "max_concurrent": campaign["policy"].get("max_concurrent"),
            },
        }

    async def attempts(self, tenant_id: str, campaign_id: str, contact_id: int) -> dict[str, Any] | None:
        """A contact and its attempts, oldest first; None when there is no such contact in the
        tenant's campaign."""
        async with self.pool.acquire() as conn:
            contact = await conn.fetchrow(
                "SELECT c.contact_id, c.line, c.phone, c.time_zones, c.session_data, c.state, c.final_status, "
                "c.attempts, c.next_at FROM campaign_contacts c JOIN campaigns m USING (campaign_id) "
                "WHERE c.contact_id = $1 AND c.campaign_id = $2 AND m.tenant_id = $3",
                contact_id, campaign_id, tenant_id,
            )  # fmt: skip
            if contact is None:
                return None
            rows = await conn.fetch(
                "SELECT attempt, call_id, phone, created_at, ended_at, outcome, hangup_cause, duration_s, detail "
                "FROM campaign_attempts WHERE contact_id = $1 ORDER BY attempt",
                contact_id,
            )
        return {**as_dict(contact), "attempt_list": [as_dict(r) for r in rows]}

    async def contact_ids(self, tenant_id: str, campaign_id: str, *, limit: int = 1000) -> list[dict[str, Any]]:
        """The first ``limit`` contacts (id, line, phone, state, final status), by line."""
        rows = await self.pool.fetch(
            "SELECT c.contact_id, c.line, c.phone, c.state, c.final_status, c.attempts FROM campaign_contacts c "
            "JOIN campaigns m USING (campaign_id) WHERE c.campaign_id = $1 AND m.tenant_id = $2 "
            "ORDER BY c.contact_id LIMIT $3",
            campaign_id, tenant_id, limit,
        )  # fmt: skip
        return [as_dict(r) for r in rows]


EPOCH = datetime.fromisoformat("1970-01-01T00:00:00+00:00")
"""A new contact is due from the start of time: the scheduler's clock decides, not the insert's."""


class LazyPool:
    """An asyncpg pool made on first use (app factories are synchronous); ``await db()``."""

    def __init__(self, database_url: str, *, max_size: int = 5) -> None:
        self.database_url = database_url
        self.max_size = max_size
        self.pool: asyncpg.Pool | None = None
        self._lock: Any = None

    async def __call__(self) -> asyncpg.Pool:
        import asyncio

        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self.pool is None:
                self.pool = await make_pool(self.database_url, max_size=self.max_size)
        return self.pool

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close()
            self.pool = None


def policy_json(spec: CampaignSpec) -> dict[str, Any]:
    """The ``policy`` column: the pacing, and the status callback when the campaign names one."""
    policy: dict[str, Any] = spec.policy.model_dump(mode="json")
    if spec.status_callback is not None:
        policy["status_callback"] = spec.status_callback.model_dump(mode="json")
    return policy
