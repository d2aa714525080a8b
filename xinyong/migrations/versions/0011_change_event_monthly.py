"""change_event_monthly: on PostgreSQL, the change feed's table range-partitioned by month of ``at``

Revision ID: 0011_change_event_monthly
Revises: 0010_partitioning

Why this table (docs/scaling.md): it is the fastest-growing append-only table. Every record the pipeline stores or
versions appends one event, and so does every list, objection, repair and evaluation change — at 100 million records
it holds more rows than ``record`` itself, and nothing ever updates it. Reads are by cursor (``id > :after``) over the
newest rows, so old months are only read by a subscriber that fell far behind: a month is the unit in which they can
later be detached and archived without touching the rest. The check log grows only with checks (thousands a day) and
the audit log is hash-chained row to row, so neither gains as much.

Partitions run from the month of the oldest event to three months ahead; the worker's ``partitions_ahead`` job keeps
three months ahead from then on, and a DEFAULT partition takes any row outside them, so an insert never fails (the job
moves such rows into the month's partition when it creates it). The primary key becomes (id, at): a unique key must
contain the partition key. SQLite keeps its plain table.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from xinyong.core import clock
from xinyong.monitoring.maintenance import month_partition_ddl, months_between

revision: str = "0011_change_event_monthly"
down_revision: str | Sequence[str] | None = "0010_partitioning"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AHEAD = 3


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    oldest = bind.exec_driver_sql("SELECT min(at) FROM change_event").scalar()
    today = clock.today()
    first = oldest.date() if oldest is not None else today
    op.execute(
        "CREATE TABLE change_event_partitioned "
        "(LIKE change_event INCLUDING DEFAULTS INCLUDING COMMENTS INCLUDING STORAGE) PARTITION BY RANGE (at)"
    )
    op.execute("CREATE TABLE change_event_default PARTITION OF change_event_partitioned DEFAULT")
    for month in months_between(first, today, ahead=AHEAD):
        op.execute(month_partition_ddl("change_event", month, parent="change_event_partitioned"))
    op.execute("INSERT INTO change_event_partitioned SELECT * FROM change_event")
    op.execute("ALTER SEQUENCE change_event_id_seq OWNED BY change_event_partitioned.id")
    op.execute("DROP TABLE change_event")
    op.execute("ALTER TABLE change_event_partitioned RENAME TO change_event")
    op.execute(
        "COMMENT ON TABLE change_event IS '变更事件（变更订阅的游标即主键 id，单调递增；PostgreSQL 上按月分区）'"
    )
    op.execute("ALTER TABLE change_event ADD CONSTRAINT pk_change_event PRIMARY KEY (id, at)")
    op.execute("CREATE INDEX ix_change_event_subject_id ON change_event (subject_id)")
    op.execute("ANALYZE change_event")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE TABLE change_event_plain (LIKE change_event INCLUDING DEFAULTS INCLUDING COMMENTS INCLUDING STORAGE)"
    )
    op.execute("INSERT INTO change_event_plain SELECT * FROM change_event")
    op.execute("ALTER SEQUENCE change_event_id_seq OWNED BY change_event_plain.id")
    op.execute("DROP TABLE change_event")
    op.execute("ALTER TABLE change_event_plain RENAME TO change_event")
    op.execute("COMMENT ON TABLE change_event IS '变更事件（变更订阅的游标即本表主键，单调递增）'")
    op.execute("ALTER TABLE change_event ADD CONSTRAINT pk_change_event PRIMARY KEY (id)")
    op.execute("CREATE INDEX ix_change_event_subject_id ON change_event (subject_id)")
