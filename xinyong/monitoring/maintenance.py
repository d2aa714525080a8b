"""Database upkeep run by the worker: VACUUM / ANALYZE where the statistics say so, and monthly partitions ahead.

PostgreSQL only. The production server may run with ``autovacuum = off`` (this project's does), and even with it on,
autovacuum never ANALYZEs a partitioned table itself — only its partitions — so the planner's picture of ``record``
as a whole (used by every query that cannot prune: 双公示 lists, counts) would go stale. The job reads
``pg_stat_user_tables`` and treats only what passed PostgreSQL's own autovacuum formulas (threshold + scale × rows), so
a quiet day costs one catalog query. SQLite needs neither: it has no dead-tuple bloat to reclaim between full
rewrites, and its statistics are refreshed here with ``PRAGMA optimize``, which analyses only what changed enough.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from xinyong.core.logging import get_logger

log = get_logger(__name__)

# PostgreSQL's autovacuum defaults (autovacuum_vacuum_threshold / _scale_factor, autovacuum_analyze_*).
VACUUM_THRESHOLD, VACUUM_SCALE = 50, 0.2
ANALYZE_THRESHOLD, ANALYZE_SCALE = 50, 0.1

# Tables range-partitioned by month of a timestamp column, and how many months ahead the worker keeps ready.
MONTHLY = {"change_event": "at"}
MONTHS_AHEAD = 3


@dataclass(frozen=True)
class TableStats:
    name: str
    live: int
    dead: int
    modified: int  # since the last ANALYZE

    @property
    def needs_vacuum(self) -> bool:
        return self.dead > VACUUM_THRESHOLD + VACUUM_SCALE * self.live

    @property
    def needs_analyze(self) -> bool:
        return self.modified > ANALYZE_THRESHOLD + ANALYZE_SCALE * self.live


def table_stats(conn: sa.Connection) -> list[TableStats]:
    """The counters of every ordinary table and partition of the current schema (partitioned parents have none)."""
    rows = conn.execute(
        sa.text(
            "SELECT s.relname, s.n_live_tup, s.n_dead_tup, s.n_mod_since_analyze "
            "FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid "
            "WHERE s.schemaname = current_schema() AND c.relkind = 'r' ORDER BY s.relname"
        )
    )
    return [TableStats(name, int(live), int(dead), int(modified)) for name, live, dead, modified in rows]


def _parents(conn: sa.Connection) -> dict[str, str]:
    """partition → its partitioned parent."""
    rows = conn.execute(
        sa.text(
            "SELECT c.relname, p.relname FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent "
            "WHERE p.relkind = 'p' AND p.relnamespace = current_schema()::regnamespace"
        )
    )
    return {child: parent for child, parent in rows}


def vacuum_analyze(engine: Engine) -> dict[str, Any]:
    """VACUUM (ANALYZE) the tables with too many dead rows, ANALYZE those changed enough, then ANALYZE each
    partitioned parent one of whose partitions was treated (its own statistics span the partitions)."""
    if engine.dialect.name != "postgresql":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA optimize")
            conn.commit()
        return {"skipped": "SQLite 无需 VACUUM（不积累死元组）；已执行 PRAGMA optimize 更新统计信息"}
    vacuumed: list[str] = []
    analyzed: list[str] = []
    # VACUUM cannot run inside a transaction block: its own autocommit connection.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        stats = table_stats(conn)
        parents = _parents(conn)
        for table in stats:
            if table.needs_vacuum:
                conn.exec_driver_sql(f'VACUUM (ANALYZE) "{table.name}"')
                vacuumed.append(table.name)
            elif table.needs_analyze:
                conn.exec_driver_sql(f'ANALYZE "{table.name}"')
                analyzed.append(table.name)
        touched = sorted({parents[t] for t in vacuumed + analyzed if t in parents})
        for parent in touched:
            conn.exec_driver_sql(f'ANALYZE "{parent}"')
    log.info("vacuum/analyze", vacuumed=len(vacuumed), analyzed=len(analyzed), parents=touched)
    return {
        "checked": len(stats),
        "vacuumed": vacuumed,
        "analyzed": analyzed,
        "parents_analyzed": touched,
    }


# --- monthly partitions -----------------------------------------------------------------------------------------------


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def months_between(first: dt.date, today: dt.date, *, ahead: int) -> Iterator[dt.date]:
    """First days of the months from ``first``'s to ``ahead`` months after ``today``'s."""
    month, last = month_start(min(first, today)), month_start(today)
    for _ in range(ahead):
        last = next_month(last)
    while month <= last:
        yield month
        month = next_month(month)


def partition_name(table: str, month: dt.date) -> str:
    return f"{table}_y{month:%Y}m{month:%m}"


def _bounds(month: dt.date) -> tuple[str, str]:
    # Timestamps with time zone: month boundaries in UTC, as every timestamp the platform writes is UTC.
    return f"{month:%Y-%m-%d} 00:00:00+00", f"{next_month(month):%Y-%m-%d} 00:00:00+00"


def month_partition_ddl(table: str, month: dt.date, *, parent: str | None = None) -> str:
    low, high = _bounds(month)
    return (
        f"CREATE TABLE {partition_name(table, month)} PARTITION OF {parent or table} "
        f"FOR VALUES FROM ('{low}') TO ('{high}')"
    )


def ensure_month_partitions(engine: Engine, *, today: dt.date, ahead: int = MONTHS_AHEAD) -> dict[str, Any]:
    """Create the missing monthly partitions from this month to ``ahead`` months on, for every monthly table.

    Rows that landed in the DEFAULT partition for such a month (the worker had not run for months, or "today" jumped)
    are moved into the new partition in the same transaction: PostgreSQL refuses to create a partition whose rows
    still sit in the default one.
    """
    if engine.dialect.name != "postgresql":
        return {"skipped": "SQLite 不分区（按月分区仅用于 PostgreSQL）"}
    created: list[str] = []
    moved: dict[str, int] = {}
    with engine.begin() as conn:
        existing = set(
            conn.execute(
                sa.text(
                    "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                    "WHERE i.inhparent = ANY(CAST(:parents AS regclass[]))"
                ),
                {"parents": list(MONTHLY)},
            ).scalars()
        )
        for table, column in MONTHLY.items():
            for month in months_between(today, today, ahead=ahead):
                name = partition_name(table, month)
                if name in existing:
                    continue
                low, high = _bounds(month)
                # Built detached, filled from the default partition, then attached: one short lock on the parent.
                conn.exec_driver_sql(f"CREATE TABLE {name} (LIKE {table} INCLUDING DEFAULTS INCLUDING STORAGE)")
                count = conn.exec_driver_sql(
                    f"WITH gone AS (DELETE FROM {table}_default WHERE {column} >= '{low}' AND {column} < '{high}' "
                    f"RETURNING *) INSERT INTO {name} SELECT * FROM gone"
                ).rowcount
                conn.exec_driver_sql(
                    f"ALTER TABLE {table} ATTACH PARTITION {name} FOR VALUES FROM ('{low}') TO ('{high}')"
                )
                created.append(name)
                if count:
                    moved[name] = count
    if created:
        log.info("partitions created", created=created, moved=moved)
    return {"created": created, "moved_from_default": moved, "months_ahead": ahead}
