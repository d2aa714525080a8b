"""The pipeline refreshes planner statistics only for tables a run can have changed noticeably (PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from tests.conftest import Database
from xinyong.ingest.pipeline import _refresh_statistics


def _estimate(engine: sa.Engine) -> float:
    with engine.connect() as conn:
        return float(conn.execute(sa.text("SELECT reltuples FROM pg_class WHERE relname = 'subject'")).scalar_one())


def _add_subjects(engine: sa.Engine, first: int, count: int) -> None:
    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO subject (kind, name, region, status, name_conflict, created_at, updated_at) "
                "VALUES ('legal_person', :name, '370302', 'active', false, :now, :now)"
            ),
            [{"name": f"统计测试{first + n}有限公司", "now": now} for n in range(count)],
        )


def test_analyse_only_what_a_run_can_have_changed(fresh_db: Database) -> None:
    engine = fresh_db.engine
    _add_subjects(engine, 0, 100)
    _refresh_statistics(engine, 1, 2000)  # a table known to hold far fewer rows than 10 × the run: analysed
    if fresh_db.kind == "sqlite":
        return  # SQLite plans without ANALYZE-based row estimates going stale this way: nothing to refresh
    assert _estimate(engine) == 100
    _add_subjects(engine, 100, 100)
    _refresh_statistics(engine, 2, 5)  # 100 known rows ≥ 10 × 5 written: the run is noise, no ANALYZE
    assert _estimate(engine) == 100
    _refresh_statistics(engine, 3, 50)  # not a power-of-two chunk: never analysed there
    assert _estimate(engine) == 100
    _refresh_statistics(engine, 4, 50)  # 100 < 10 × 50: stale, analysed
    assert _estimate(engine) == 200
