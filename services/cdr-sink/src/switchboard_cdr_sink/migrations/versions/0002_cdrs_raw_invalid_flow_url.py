"""cdrs.raw_invalid (the final notification's out-of-bounds fields, kept raw) and a flow_id long
enough for a dynamic flow's URL (varchar(2048), was 128).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cdrs", sa.Column("raw_invalid", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")))
    op.alter_column("cdrs", "flow_id", type_=sa.String(2048), existing_type=sa.String(128))


def downgrade() -> None:
    op.alter_column("cdrs", "flow_id", type_=sa.String(128), existing_type=sa.String(2048))
    op.drop_column("cdrs", "raw_invalid")
