"""The worker's database upkeep: VACUUM / ANALYZE by the statistics, and monthly partitions of the change feed.

On PostgreSQL the jobs do real work (the test server runs with autovacuum off, as the production one may); on SQLite
they say why there is nothing to do (and refresh statistics with PRAGMA optimize). Both show up as job runs.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from tests.conftest import Database
from xinyong.core.database import Base, session_scope
from xinyong.exchange import events
from xinyong.exchange.models import ChangeEvent
from xinyong.monitoring import maintenance, worker
from xinyong.monitoring.models import JobRun


def _stats(engine: sa.Engine, table: str) -> tuple[int, int]:
    """(dead rows, rows modified since ANALYZE) of one table."""
    with engine.connect() as conn:
        row = conn.execute(
            sa.text("SELECT n_dead_tup, n_mod_since_analyze FROM pg_stat_user_tables WHERE relname = :t"), {"t": table}
        ).one()
    return int(row[0]), int(row[1])


def _churn(engine: sa.Engine, rows: int) -> None:
    """Dead rows in a plain table (webhook_delivery is a log nothing else in the test touches)."""
    subscribers, deliveries = Base.metadata.tables["exchange_subscriber"], Base.metadata.tables["webhook_delivery"]
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        subscriber = conn.execute(
            sa.insert(subscribers)
            .values(name="测试订阅", kind="public", key_prefix="tst", key_hash="0" * 64, webhook_after=0, attempts=0,
                    active=True, created_at=now)
            .returning(subscribers.c.id)
        ).scalar_one()  # fmt: skip
        conn.execute(
            sa.insert(deliveries),
            [
                {"subscriber_id": subscriber, "event_id": n, "attempt": 1, "at": now, "ok": True, "duration_ms": 1}
                for n in range(rows)
            ],
        )
    with engine.begin() as conn:
        conn.execute(sa.update(deliveries).values(duration_ms=deliveries.c.duration_ms + 1))
        if engine.dialect.name == "postgresql":
            # Statistics reach the shared counters when a backend goes idle; make it now rather than wait.
            conn.execute(sa.text("SELECT pg_stat_force_next_flush()"))


def test_vacuum_job_treats_what_the_statistics_flag(fresh_db: Database) -> None:
    engine = fresh_db.engine
    _churn(engine, 2000)
    if fresh_db.kind == "postgresql":
        dead, modified = _stats(engine, "webhook_delivery")
        assert dead >= 2000 and modified >= 2000
    outcome = worker.run_job(engine, "vacuum_analyze", today=dt.date(2026, 6, 15))
    assert outcome.state == "done", outcome
    if fresh_db.kind == "postgresql":
        assert "webhook_delivery" in outcome.result["vacuumed"]
        assert "record" not in outcome.result["vacuumed"]  # a parent has no counters; an untouched table is left
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT pg_stat_force_next_flush()"))
            vacuumed = conn.scalar(
                sa.text("SELECT last_vacuum IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'webhook_delivery'")
            )
        assert vacuumed
        assert _stats(engine, "webhook_delivery")[0] == 0
    else:
        assert "PRAGMA optimize" in outcome.result["skipped"]
    # Once per day: the second run of the round is skipped, and the run is on record for the console.
    assert worker.run_job(engine, "vacuum_analyze", today=dt.date(2026, 6, 15)).state == "skipped"
    with session_scope(engine) as session:
        run = session.scalars(sa.select(JobRun).where(JobRun.job == "vacuum_analyze")).one()
        assert (run.state, run.period) == ("done", "2026-06-15")


def test_a_partitioned_parent_is_analyzed_after_its_partitions(fresh_db: Database) -> None:
    if fresh_db.kind != "postgresql":
        assert maintenance.vacuum_analyze(fresh_db.engine)["skipped"]
        return
    engine = fresh_db.engine
    maintenance.ensure_month_partitions(engine, today=dt.date(2026, 6, 15))
    with session_scope(engine, write=True) as session:
        for n in range(300):
            events.emit(session=session, kind="test.event", entity="test", entity_id=n, subject_id=None)
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT pg_stat_force_next_flush()"))
    result = maintenance.vacuum_analyze(engine)
    assert "change_event_y2026m06" in result["analyzed"]
    assert result["parents_analyzed"] == ["change_event"]
    with engine.connect() as conn:
        # The parent's own statistics (inheritance statistics) now exist.
        assert conn.scalar(sa.text("SELECT count(*) FROM pg_stats WHERE tablename = 'change_event' AND inherited"))


def _partition_of_event(engine: sa.Engine, event_id: int) -> str:
    with engine.connect() as conn:
        return str(
            conn.scalar(sa.text("SELECT tableoid::regclass::text FROM change_event WHERE id = :i"), {"i": event_id})
        )


def test_partitions_are_created_ahead_and_the_default_catches_the_rest(fresh_db: Database) -> None:
    engine = fresh_db.engine
    first = worker.run_job(engine, "partitions_ahead", today=dt.date(2026, 6, 15))
    assert first.state == "done", first
    if fresh_db.kind != "postgresql":
        assert first.result == {"skipped": "SQLite 不分区（按月分区仅用于 PostgreSQL）"}
        return
    # This month and three ahead exist now (the migration made those of its own "today").
    with engine.connect() as conn:
        partitions = set(
            conn.scalars(
                sa.text("SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = 'change_event'::regclass")
            )
        )
    assert {"change_event_default", *(f"change_event_y2026m{m:02d}" for m in (6, 7, 8, 9))} <= partitions

    # An event far ahead of the partitions (a clock set forward) still goes in: into the default partition.
    with session_scope(engine, write=True) as session:
        session.add(
            ChangeEvent(
                at=dt.datetime(2028, 2, 3, 8, tzinfo=dt.UTC), kind="test.future", entity="test", entity_id=1,
                subject_id=None, payload={},
            )
        )  # fmt: skip
        session.flush()
        future = session.scalars(sa.select(ChangeEvent.id).where(ChangeEvent.kind == "test.future")).one()
    assert _partition_of_event(engine, future) == "change_event_default"

    # The worker, months later, creates the coming months and moves that event into its month.
    later = worker.run_job(engine, "partitions_ahead", today=dt.date(2028, 1, 20))
    assert later.result["created"] == [
        "change_event_y2028m01",
        "change_event_y2028m02",
        "change_event_y2028m03",
        "change_event_y2028m04",
    ]
    assert later.result["moved_from_default"] == {"change_event_y2028m02": 1}
    assert _partition_of_event(engine, future) == "change_event_y2028m02"
    # The feed still reads it by cursor.
    with engine.connect() as conn:
        assert conn.scalar(sa.select(ChangeEvent.kind).where(ChangeEvent.id > future - 1)) == "test.future"
    assert worker.run_job(engine, "partitions_ahead", today=dt.date(2028, 1, 20)).state == "skipped"


def test_months_between() -> None:
    months = list(maintenance.months_between(dt.date(2025, 11, 30), dt.date(2026, 1, 31), ahead=2))
    assert months == [dt.date(2025, 11, 1), dt.date(2025, 12, 1), dt.date(2026, 1, 1), dt.date(2026, 2, 1),
                      dt.date(2026, 3, 1)]  # fmt: skip
    ddl = maintenance.month_partition_ddl("change_event", dt.date(2026, 12, 1))
    assert ddl == (
        "CREATE TABLE change_event_y2026m12 PARTITION OF change_event "
        "FOR VALUES FROM ('2026-12-01 00:00:00+00') TO ('2027-01-01 00:00:00+00')"
    )
