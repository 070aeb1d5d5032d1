"""Tenants and API keys (the api service's tables); the default tenant; cdrs.tenant_id.

One migration history for the one database: the api service's tables live beside ``cdrs`` in this
folder, so ``switchboard-cdr-sink migrate`` (``alembic upgrade head``) is the only step a deploy
runs, and a change that spans both (``cdrs.tenant_id`` refers to a tenant) is one ordered revision.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("policy", JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "api_keys",
        sa.Column("key_id", sa.String(32), primary_key=True),
        sa.Column("tenant_id", sa.String(64), sa.ForeignKey("tenants.tenant_id"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("secret_sha256", sa.String(64), nullable=False),
        sa.Column("scopes", JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("expires_at", sa.DateTime(timezone=True)),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_api_keys_tenant_id", "api_keys", ["tenant_id"])
    # today's single-folder set-up is the default tenant: every existing CDR and every event
    # without a tenant belongs to it
    op.execute("INSERT INTO tenants (tenant_id, name, policy) VALUES ('default', 'Default tenant', '{}'::jsonb)")
    op.add_column("cdrs", sa.Column("tenant_id", sa.String(64), nullable=False, server_default="default"))
    op.create_index("ix_cdrs_tenant_id", "cdrs", ["tenant_id"])


def downgrade() -> None:
    op.drop_index("ix_cdrs_tenant_id", "cdrs")
    op.drop_column("cdrs", "tenant_id")
    op.drop_table("api_keys")
    op.drop_table("tenants")
