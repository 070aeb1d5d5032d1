"""cdrs partitioned by month of the call's start; cdr_calls fixes each call's partition time;
cdrs.trail (the flow-runner's step trail).

``cdrs`` becomes a declaratively partitioned table (``PARTITION BY RANGE (call_start)``), one
partition a month named ``cdrs_yYYYYmMM`` plus ``cdrs_default`` for a time outside every monthly
partition (a clock error, a month already dropped by retention). The primary key is
``(call_key, call_start)``: PostgreSQL requires the partition column in a partitioned table's
unique keys. ``call_start`` is the call's ``started_at`` (answer), else its ``ended_at``, as first
seen: ``cdr_calls`` keeps it per call key so a redelivered or re-emitted event whose times differ
lands on the same row instead of a second one in another month.

The rows of the old table are copied; the months they span and the next two get partitions
(the cdr-sink creates months ahead at start and daily: ``partitions.py``).

Revision ID: 0005
Revises: 0003 (0004 is being added on another branch; renumbered at merge)
Create Date: 2026-12-04
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

COLUMNS = (
    "call_key, call_id, provider, account, direction, caller_number, destination_number, status, "
    "hangup_cause, hangup_cause_raw, started_at, ended_at, duration_s, cost, currency, flow_id, flow_version, "
    "campaign_id, attempt, inputs, recordings, session_data, flow_error, provider_status, raw_invalid, "
    "created_at, updated_at, tenant_id"
)


def upgrade() -> None:
    op.execute("ALTER TABLE cdrs RENAME TO cdrs_unpartitioned")
    for index in ("call_id", "status", "ended_at", "campaign_id", "tenant_id"):
        op.execute(f"DROP INDEX IF EXISTS ix_cdrs_{index}")
    op.execute("ALTER TABLE cdrs_unpartitioned DROP CONSTRAINT IF EXISTS cdrs_pkey")
    op.execute(
        """
        CREATE TABLE cdrs (
            call_key varchar(200) NOT NULL,
            call_start timestamptz NOT NULL,
            call_id varchar(64),
            provider varchar(32) NOT NULL,
            account varchar(64) NOT NULL,
            direction varchar(16) NOT NULL,
            caller_number varchar(64) NOT NULL,
            destination_number varchar(64) NOT NULL,
            status varchar(16) NOT NULL,
            hangup_cause varchar(64),
            hangup_cause_raw varchar(64),
            started_at timestamptz,
            ended_at timestamptz NOT NULL,
            duration_s integer NOT NULL,
            cost numeric(14, 4),
            currency varchar(8),
            flow_id varchar(2048),
            flow_version varchar(64),
            campaign_id varchar(128),
            attempt integer,
            inputs jsonb NOT NULL,
            recordings jsonb NOT NULL,
            session_data jsonb NOT NULL,
            flow_error text,
            provider_status varchar(200),
            raw_invalid jsonb NOT NULL DEFAULT '{}'::jsonb,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            tenant_id varchar(64) NOT NULL DEFAULT 'default',
            trail jsonb NOT NULL DEFAULT '[]'::jsonb,
            CONSTRAINT cdrs_pkey PRIMARY KEY (call_key, call_start)
        ) PARTITION BY RANGE (call_start)
        """
    )
    op.execute("CREATE TABLE cdrs_default PARTITION OF cdrs DEFAULT")
    op.execute("CREATE INDEX ix_cdrs_call_id ON cdrs (call_id)")
    op.execute("CREATE INDEX ix_cdrs_tenant_start ON cdrs (tenant_id, call_start DESC, call_key DESC)")
    op.execute("CREATE INDEX ix_cdrs_tenant_campaign ON cdrs (tenant_id, campaign_id)")
    op.execute("CREATE INDEX ix_cdrs_tenant_flow ON cdrs (tenant_id, flow_id, flow_version)")
    op.execute("CREATE TABLE cdr_calls (call_key varchar(200) PRIMARY KEY, call_start timestamptz NOT NULL)")
    # one partition for each month the old rows span, and this month and the next two
    op.execute(
        """
        DO $$
        DECLARE m date;
        BEGIN
          FOR m IN
            SELECT DISTINCT date_trunc('month', t AT TIME ZONE 'UTC')::date FROM (
              SELECT coalesce(started_at, ended_at) AS t FROM cdrs_unpartitioned
              UNION ALL SELECT now() UNION ALL SELECT now() + interval '1 month'
              UNION ALL SELECT now() + interval '2 months'
            ) times
            WHERE t >= '1970-01-01' AND t < '3000-01-01'
          LOOP
            EXECUTE format(
              'CREATE TABLE IF NOT EXISTS %I PARTITION OF cdrs FOR VALUES FROM (%L) TO (%L)',
              'cdrs_y' || to_char(m, 'YYYY') || 'm' || to_char(m, 'MM'),
              (m::timestamp AT TIME ZONE 'UTC'), ((m + interval '1 month')::timestamp AT TIME ZONE 'UTC'));
          END LOOP;
        END $$
        """
    )
    op.execute(
        "INSERT INTO cdr_calls (call_key, call_start) "
        "SELECT call_key, coalesce(started_at, ended_at) FROM cdrs_unpartitioned"
    )
    op.execute(
        f"INSERT INTO cdrs (call_start, {COLUMNS}) "
        f"SELECT coalesce(started_at, ended_at), {COLUMNS} FROM cdrs_unpartitioned"
    )
    op.execute("DROP TABLE cdrs_unpartitioned")


def downgrade() -> None:
    op.execute("ALTER TABLE cdrs RENAME TO cdrs_partitioned")
    op.execute(f"CREATE TABLE cdrs AS SELECT {COLUMNS} FROM cdrs_partitioned")
    op.execute("ALTER TABLE cdrs ADD PRIMARY KEY (call_key)")
    op.execute("ALTER TABLE cdrs ALTER COLUMN created_at SET DEFAULT now(), ALTER COLUMN updated_at SET DEFAULT now()")
    op.execute(
        "ALTER TABLE cdrs ALTER COLUMN tenant_id SET DEFAULT 'default', "
        "ALTER COLUMN raw_invalid SET DEFAULT '{}'::jsonb"
    )
    for index in ("call_id", "status", "ended_at", "campaign_id", "tenant_id"):
        op.execute(f"CREATE INDEX ix_cdrs_{index} ON cdrs ({index})")
    op.execute("DROP TABLE cdrs_partitioned")
    op.execute("DROP TABLE cdr_calls")
