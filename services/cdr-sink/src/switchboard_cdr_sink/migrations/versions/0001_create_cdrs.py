"""Create the cdrs table.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cdrs",
        sa.Column("call_key", sa.String(200), primary_key=True),
        sa.Column("call_id", sa.String(64)),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("direction", sa.String(16), nullable=False),
        sa.Column("caller_number", sa.String(64), nullable=False),
        sa.Column("destination_number", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("hangup_cause", sa.String(64)),
        sa.Column("hangup_cause_raw", sa.String(64)),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_s", sa.Integer, nullable=False),
        sa.Column("cost", sa.Numeric(14, 4)),
        sa.Column("currency", sa.String(8)),
        sa.Column("flow_id", sa.String(128)),
        sa.Column("flow_version", sa.String(64)),
        sa.Column("campaign_id", sa.String(128)),
        sa.Column("attempt", sa.Integer),
        sa.Column("inputs", JSONB, nullable=False),
        sa.Column("recordings", JSONB, nullable=False),
        sa.Column("session_data", JSONB, nullable=False),
        sa.Column("flow_error", sa.Text),
        sa.Column("provider_status", sa.String(200)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_cdrs_call_id", "cdrs", ["call_id"])
    op.create_index("ix_cdrs_status", "cdrs", ["status"])
    op.create_index("ix_cdrs_ended_at", "cdrs", ["ended_at"])
    op.create_index("ix_cdrs_campaign_id", "cdrs", ["campaign_id"])


def downgrade() -> None:
    op.drop_table("cdrs")
