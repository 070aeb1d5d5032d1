"""Taking due contacts and handing them on as dial requests; any number of replicas at once.

One tick of :class:`Scheduler`, per running campaign:

1. The baton: ``UPDATE campaigns SET next_take_at = now + hopper_s WHERE next_take_at <= now``.
   One replica wins a campaign's hopper per ``hopper_s`` seconds, so N replicas take no more than
   one would (the campaign's pace is then the dialer's shared limiter's job).
2. The hopper: up to ``ceil(cps × hopper_s)`` due contacts (``state = 'pending' AND next_at <=
   now``), fewer when ``max_concurrent`` calls are already out, ``SELECT … FOR UPDATE SKIP
   LOCKED``: a row another replica holds is skipped, never waited for, never taken twice.
3. Per contact, in the same transaction: outside its calling window → ``next_at`` = the window's
   next opening (it waits; it is not failed); on a DNC list → an attempt with outcome ``dnc``,
   contact done; else an attempt row and ``state = 'dialing'``, and a :class:`DialRequest` is
   published *before* the commit.

Why publish before the commit: the request's ``call_id``, ``request_id`` and ``idempotency_key``
are derived from (campaign, contact, attempt). If the commit fails after the publish, the contact
is taken again later with the same attempt number, so the same ids: the dialer's ``SET NX`` on the
idempotency key places the call once, and the attempt row (same ``call_id``) receives its end.
Publishing after the commit instead could lose a contact in ``dialing`` forever if the replica died
in between. Attempts whose end never comes are closed as ``failed`` after ``attempt_timeout_s``
(the reaper), and retried by the campaign's rules.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from switchboard.campaigns.dnc import hits
from switchboard.campaigns.models import Windows
from switchboard.campaigns.outcomes import complete_if_done, record_outcome
from switchboard.campaigns.windows import Clock, allowed, next_open, system_clock
from switchboard.events import CampaignPolicy, DialRequest, StatusCallback
from switchboard.logging import get_logger

log = get_logger(__name__)
NAMESPACE = uuid.UUID("6f1e4c1e-3b7a-4c55-9d2b-8e6f0a4d2c11")
Publish = Callable[[DialRequest], Awaitable[None]]


def ids_for(campaign_id: str, contact_id: int, attempt: int) -> tuple[str, str, str]:
    """``(call_id, request_id, idempotency_key)`` of a contact's attempt: the same every time."""
    base = f"{campaign_id}:{contact_id}:{attempt}"
    return str(uuid.uuid5(NAMESPACE, base)), str(uuid.uuid5(NAMESPACE, "request:" + base)), f"campaign:{base}"


class Scheduler:
    """``tick()`` takes each running campaign's due contacts once; ``run()`` ticks until stopped.

    ``hopper_s``: seconds of calls taken at once per campaign; ``default_cps``: a campaign's pace
    when its policy names none; ``attempt_timeout_s``: after it, an attempt without an end is
    ``failed`` (lost end); ``dnc_max_age_days``: older lists are logged as stale."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        publish: Publish,
        *,
        clock: Clock = system_clock,
        hopper_s: float = 2.0,
        default_cps: float = 10.0,
        max_batch: int = 500,
        attempt_timeout_s: float = 4 * 3600,
        dnc_max_age_days: int = 31,
    ) -> None:
        self.pool = pool
        self.publish = publish
        self.clock = clock
        self.hopper_s = hopper_s
        self.default_cps = default_cps
        self.max_batch = max_batch
        self.attempt_timeout_s = attempt_timeout_s
        self.dnc_max_age_days = dnc_max_age_days
        self._stale_warned: dict[str, float] = {}

    async def tick(self) -> int:
        """One pass over the running campaigns; returns the dial requests published."""
        now = self.clock()
        ids = await self.pool.fetch(
            "SELECT campaign_id FROM campaigns WHERE status = 'running' AND next_take_at <= $1 "
            "AND (starts_at IS NULL OR starts_at <= $1) AND (ends_at IS NULL OR ends_at > $1)",
            now,
        )
        published = 0
        for row in ids:
            published += await self.take(row["campaign_id"], now)
        return published

    async def take(self, campaign_id: str, now: datetime | None = None) -> int:
        """Take one hopper of ``campaign_id`` (when this replica wins its baton)."""
        now = now or self.clock()
        async with self.pool.acquire() as conn:
            # the baton in a statement of its own: the campaign's row is not held while contacts
            # are taken and published (a pause is never kept waiting)
            campaign = await conn.fetchrow(
                "UPDATE campaigns SET next_take_at = $2 WHERE campaign_id = $1 AND status = 'running' "
                "AND next_take_at <= $3 RETURNING *",
                campaign_id, now + timedelta(seconds=self.hopper_s), now,
            )  # fmt: skip
            if campaign is None:
                return 0
            return await self._take(conn, campaign, now)

    async def _take(self, conn: asyncpg.Connection, campaign: asyncpg.Record, now: datetime) -> int:
        campaign_id = campaign["campaign_id"]
        async with conn.transaction():
            policy: dict[str, Any] = campaign["policy"] or {}
            cps = float(policy.get("cps") or self.default_cps)
            room = min(self.max_batch, max(1, math.ceil(cps * self.hopper_s)))
            if policy.get("max_concurrent"):
                out = await conn.fetchval(
                    "SELECT count(*) FROM campaign_contacts WHERE campaign_id = $1 AND state = 'dialing'", campaign_id
                )
                room = min(room, int(policy["max_concurrent"]) - int(out))
            if room <= 0:
                return 0
            contacts = await conn.fetch(
                "SELECT contact_id, phone, time_zones, session_data, attempts FROM campaign_contacts "
                "WHERE campaign_id = $1 AND state = 'pending' AND next_at <= $2 "
                "ORDER BY next_at, contact_id LIMIT $3 FOR UPDATE SKIP LOCKED",
                campaign_id, now, room,
            )  # fmt: skip
            if not contacts:
                await complete_if_done(conn, campaign_id, now)
                return 0
            windows = Windows.model_validate(campaign["windows"]) if campaign["windows"] else None
            blocked = await hits(conn, campaign["tenant_id"], [c["phone"] for c in contacts])
            await self._warn_stale(conn, campaign["tenant_id"])
            requests: list[DialRequest] = []
            for contact in contacts:
                zones = [z for z in contact["time_zones"].split(",") if z]
                if not allowed(windows, zones, now):
                    opens = next_open(windows, zones, now) or now + timedelta(days=1)
                    await conn.execute(
                        "UPDATE campaign_contacts SET next_at = $2 WHERE contact_id = $1", contact["contact_id"], opens
                    )
                    continue
                attempt = int(contact["attempts"]) + 1
                call_id, request_id, key = ids_for(campaign_id, contact["contact_id"], attempt)
                await conn.execute(
                    "INSERT INTO campaign_attempts (campaign_id, contact_id, attempt, call_id, phone, created_at) "
                    "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (call_id) DO NOTHING",
                    campaign_id, contact["contact_id"], attempt, call_id, contact["phone"], now,
                )  # fmt: skip
                await conn.execute(
                    "UPDATE campaign_contacts SET state = 'dialing', attempts = $2, updated_at = $3 "
                    "WHERE contact_id = $1",
                    contact["contact_id"], attempt, now,
                )  # fmt: skip
                if contact["phone"] in blocked:
                    detail = f"on do-not-call list {blocked[contact['phone']]!r}"
                    await record_outcome(conn, call_id=call_id, outcome="dnc", at=now, detail=detail)
                    continue
                requests.append(self._request(campaign, contact, attempt, call_id, request_id, key))
            for request in requests:
                await self.publish(request)
        if requests:
            log.info("campaign contacts handed on", campaign_id=campaign_id, dial_requests=len(requests))
        return len(requests)

    def _request(
        self, campaign: asyncpg.Record, contact: asyncpg.Record, attempt: int, call_id: str, request_id: str, key: str
    ) -> DialRequest:
        policy: dict[str, Any] = campaign["policy"] or {}
        caller_ids: list[str] = campaign["caller_ids"] or []
        caller_id = caller_ids[(contact["contact_id"] + attempt) % len(caller_ids)] if caller_ids else None
        return DialRequest(
            request_id=request_id,
            call_id=call_id,
            tenant_id=campaign["tenant_id"],
            idempotency_key=key,
            provider=campaign["provider"],
            account=campaign["account"],
            to=contact["phone"],
            caller_id=caller_id,
            flow=campaign["flow"],
            session_data={**(campaign["session_data"] or {}), **(contact["session_data"] or {})},
            campaign_id=campaign["campaign_id"],
            contact_id=str(contact["contact_id"]),
            attempt=attempt,
            policy=CampaignPolicy(
                cps=float(policy.get("cps") or self.default_cps),
                max_concurrent=policy.get("max_concurrent"),
                ring_timeout_s=int(policy.get("ring_timeout_s") or 30),
            ),
            status_callback=StatusCallback.model_validate(policy["status_callback"])
            if policy.get("status_callback")
            else None,
            requested_at=self.clock(),
        )

    async def _warn_stale(self, conn: asyncpg.Connection, tenant_id: str) -> None:
        if time.monotonic() - self._stale_warned.get(tenant_id, -1e9) < 600:
            return
        cutoff = self.clock() - timedelta(days=self.dnc_max_age_days)
        rows = await conn.fetch(
            "SELECT name, as_of FROM dnc_lists WHERE tenant_id = $1 AND as_of < $2", tenant_id, cutoff
        )
        self._stale_warned[tenant_id] = time.monotonic()
        for row in rows:
            log.warning(
                "do-not-call list is stale", tenant=tenant_id, list=row["name"], as_of=row["as_of"].isoformat(),
                max_age_days=self.dnc_max_age_days,
            )  # fmt: skip

    async def reap(self) -> int:
        """Close attempts older than ``attempt_timeout_s`` that never got an end (``failed``, detail
        ``no end seen``); their contacts follow the retry rules. Returns how many."""
        now = self.clock()
        rows = await self.pool.fetch(
            "SELECT call_id FROM campaign_attempts WHERE outcome IS NULL AND created_at < $1 LIMIT 1000",
            now - timedelta(seconds=self.attempt_timeout_s),
        )
        for row in rows:
            await record_outcome(self.pool, call_id=row["call_id"], outcome="failed", at=now, detail="no end seen")
        return len(rows)
