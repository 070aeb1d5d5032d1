"""How a campaign call ended, and what happens to its contact next (retry or final).

:func:`record_outcome` is the one place an attempt gets its outcome: from ``voice.sessions-ended``
(the dialer's ``dialer-campaign-ends`` consumer), from a dial the provider refused
(``voice.dial-attempts``), from the DNC check and from the scheduler's reaper (an attempt whose
end never came). It is idempotent: a second outcome for the same call changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

import asyncpg

from switchboard.events import CallStatus

MACHINE_CAUSES = frozenset({"MACHINE_DETECTED", "ANSWERING_MACHINE", "VOICEMAIL"})


def outcome_of(status: str, hangup_cause: str | None = None, inputs: Mapping[str, str] | None = None) -> str:
    """A campaign outcome from a ``SessionEnded``'s ``status``: ``completed``, ``busy``,
    ``no-answer``, ``failed``, or ``machine`` when answering-machine detection said so (a
    ``hangup_cause`` of :data:`MACHINE_CAUSES` or an ``amd`` input of ``machine``)."""
    if (hangup_cause or "").upper() in MACHINE_CAUSES or (inputs or {}).get("amd") == "machine":
        return "machine"
    if status == CallStatus.COMPLETED:
        return "completed"
    if status in (CallStatus.BUSY, CallStatus.NO_ANSWER):
        return str(status)
    return "failed"


async def record_outcome(
    conn: asyncpg.Connection | asyncpg.Pool,
    *,
    call_id: str,
    outcome: str,
    at: datetime,
    hangup_cause: str | None = None,
    duration_s: int | None = None,
    detail: str | None = None,
) -> str | None:
    """Record ``outcome`` for the attempt of ``call_id`` and move its contact on: back to
    ``pending`` at ``at`` + the rule's ``delay_s`` when the campaign has a retry rule for the
    outcome and the contact has had fewer than its ``max_attempts`` (and the campaign is not
    cancelled), else ``done`` with ``final_status`` = ``outcome``. The campaign completes when no
    contact is left pending or dialling.

    Returns the contact's new state (``pending`` or ``done``), or None when ``call_id`` is not a
    campaign attempt or already has its outcome. Calling windows are applied when the contact
    comes due (the scheduler), not here."""
    if isinstance(conn, asyncpg.Pool):
        async with conn.acquire() as c:
            return await record_outcome(
                c, call_id=call_id, outcome=outcome, at=at, hangup_cause=hangup_cause,
                duration_s=duration_s, detail=detail,
            )  # fmt: skip
    async with conn.transaction():
        attempt = await conn.fetchrow(
            "UPDATE campaign_attempts SET outcome = $2, ended_at = $3, hangup_cause = $4, duration_s = $5, "
            "detail = $6 WHERE call_id = $1 AND outcome IS NULL RETURNING campaign_id, contact_id, attempt",
            call_id, outcome, at, (hangup_cause or None) and hangup_cause[:64], duration_s,
            detail[:400] if detail else None,
        )  # fmt: skip
        if attempt is None:
            return None
        contact = await conn.fetchrow(
            "SELECT c.attempts, c.state, m.retry, m.status FROM campaign_contacts c JOIN campaigns m "
            "USING (campaign_id) WHERE c.contact_id = $1 FOR UPDATE OF c",
            attempt["contact_id"],
        )
        if contact is None or contact["attempts"] != attempt["attempt"] or contact["state"] == "done":
            return None  # a later attempt has begun, or the contact was closed: this one changes nothing
        rule = (contact["retry"] or {}).get(outcome)
        if rule and contact["attempts"] < int(rule["max_attempts"]) and contact["status"] != "cancelled":
            await conn.execute(
                "UPDATE campaign_contacts SET state = 'pending', next_at = $2, updated_at = $3 WHERE contact_id = $1",
                attempt["contact_id"], at + timedelta(seconds=int(rule["delay_s"])), at,
            )  # fmt: skip
            return "pending"
        await conn.execute(
            "UPDATE campaign_contacts SET state = 'done', final_status = $2, updated_at = $3 WHERE contact_id = $1",
            attempt["contact_id"], outcome, at,
        )  # fmt: skip
        await complete_if_done(conn, attempt["campaign_id"], at)
        return "done"


async def complete_if_done(conn: asyncpg.Connection, campaign_id: str, at: datetime) -> bool:
    """Mark a running campaign ``completed`` when none of its contacts is pending or dialling."""
    result = await conn.execute(
        "UPDATE campaigns SET status = 'completed', finished_at = $2 WHERE campaign_id = $1 AND status = 'running' "
        "AND NOT EXISTS (SELECT 1 FROM campaign_contacts WHERE campaign_id = $1 AND state IN ('pending', 'dialing'))",
        campaign_id, at,
    )  # fmt: skip
    return bool(result.endswith(" 1"))
