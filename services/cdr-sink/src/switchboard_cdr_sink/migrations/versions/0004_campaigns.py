"""Campaigns, their contacts and attempts, and do-not-call lists (issue 12).

- ``campaigns``: one outbound campaign of a tenant: what to run (flow, provider, account, caller
  IDs, session data for every contact), when (schedule, calling windows), how fast (policy: cps,
  max_concurrent, ring timeout), what to do after each outcome (retry rules), and its state
  (``draft``, ``running``, ``paused``, ``completed``, ``cancelled``). ``next_take_at`` is the
  scheduler's baton: one dialer replica at a time takes a hopper of contacts for a campaign.
- ``campaign_contacts``: one row per number to call, with its own session data and the time zones
  of its number (phonenumbers; computed once at upload). ``state``: ``pending`` (waits until
  ``next_at``), ``dialing`` (an attempt is out), ``done`` (``final_status`` says how it ended).
- ``campaign_attempts``: one row per call placed (or refused before dialling, ``outcome`` =
  ``dnc``); ``call_id`` is the call's Switchboard id, so a ``SessionEnded`` finds its attempt.
- ``dnc_lists`` / ``dnc_numbers``: per tenant; the tenant's own list (``name`` = ``tenant``)
  and imported lists, each with the date its source was taken (``as_of``) so its age is known.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("campaign_id", sa.String(64), primary_key=True),
        sa.Column("tenant_id", sa.String(64), sa.ForeignKey("tenants.tenant_id"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="draft"),
        sa.Column("flow", sa.String(200), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("account", sa.String(100), nullable=False),
        sa.Column("caller_ids", JSONB, nullable=False, server_default="[]"),
        sa.Column("session_data", JSONB, nullable=False, server_default="{}"),
        sa.Column("policy", JSONB, nullable=False, server_default="{}"),
        sa.Column("retry", JSONB, nullable=False, server_default="{}"),
        sa.Column("windows", JSONB),
        sa.Column("starts_at", sa.DateTime(timezone=True)),
        sa.Column("ends_at", sa.DateTime(timezone=True)),
        sa.Column("next_take_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint(
            "status IN ('draft', 'running', 'paused', 'completed', 'cancelled')", name="ck_campaigns_status"
        ),
    )
    op.create_index("ix_campaigns_tenant_id", "campaigns", ["tenant_id"])
    op.create_index("ix_campaigns_running", "campaigns", ["status"], postgresql_where=sa.text("status = 'running'"))
    op.create_table(
        "campaign_contacts",
        sa.Column("contact_id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("campaign_id", sa.String(64), sa.ForeignKey("campaigns.campaign_id"), nullable=False),
        sa.Column("line", sa.Integer, nullable=False),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("time_zones", sa.Text, nullable=False, server_default=""),
        sa.Column("session_data", JSONB, nullable=False, server_default="{}"),
        sa.Column("state", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("final_status", sa.String(32)),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("state IN ('pending', 'dialing', 'done')", name="ck_contacts_state"),
    )
    op.create_index(
        "ix_contacts_due",
        "campaign_contacts",
        ["campaign_id", "next_at", "contact_id"],
        postgresql_where=sa.text("state = 'pending'"),
    )
    op.create_index("ix_contacts_campaign_state", "campaign_contacts", ["campaign_id", "state", "final_status"])
    op.create_table(
        "campaign_attempts",
        sa.Column("attempt_id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("campaign_id", sa.String(64), sa.ForeignKey("campaigns.campaign_id"), nullable=False),
        sa.Column("contact_id", sa.BigInteger, sa.ForeignKey("campaign_contacts.contact_id"), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("call_id", sa.String(64), nullable=False, unique=True),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.Column("outcome", sa.String(32)),
        sa.Column("hangup_cause", sa.String(64)),
        sa.Column("duration_s", sa.Integer),
        sa.Column("detail", sa.String(400)),
        sa.UniqueConstraint("contact_id", "attempt", name="uq_attempts_contact_attempt"),
    )
    op.create_index("ix_attempts_campaign", "campaign_attempts", ["campaign_id", "outcome"])
    op.create_table(
        "dnc_lists",
        sa.Column("list_id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("tenant_id", sa.String(64), sa.ForeignKey("tenants.tenant_id"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("entries", sa.Integer, nullable=False, server_default="0"),
        sa.UniqueConstraint("tenant_id", "name", name="uq_dnc_lists_tenant_name"),
    )
    op.create_table(
        "dnc_numbers",
        sa.Column("list_id", sa.BigInteger, sa.ForeignKey("dnc_lists.list_id", ondelete="CASCADE"), nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "phone", "list_id", name="pk_dnc_numbers"),
    )


def downgrade() -> None:
    op.drop_table("dnc_numbers")
    op.drop_table("dnc_lists")
    op.drop_table("campaign_attempts")
    op.drop_table("campaign_contacts")
    op.drop_table("campaigns")
