"""The pipeline refreshes planner statistics only for tables a run can have changed noticeably (PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from tests.conftest import Database
from xinyong.ingest.pipeline import _refresh_statistics, of_chunk
from xinyong.lists.service import records_to_feed
from xinyong.rights.notices import untold_facts


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


def test_a_batch_lookup_uses_its_index_when_most_records_have_no_batch(fresh_db: Database) -> None:
    """A baseline loaded without batches must not make the per-chunk "this batch's records" lookups scan the table."""
    from tests import factories
    from xinyong.core.database import session_scope

    with session_scope(fresh_db.engine, write=True) as session:
        unit = factories.unit(session)
        subject = factories.subject(session)
        # Three resources of 100 baseline records each (no batch): a lookup by resource reads ~100 rows, while an
        # index counting NULL as one value would say a batch holds ~150 — and lose to the resource's index.
        resources = ("administrative_penalty", "administrative_license", "abnormal_operation")
        for n in range(300):
            rec = factories.record(
                session, subject_row=subject, unit_row=unit, resource=resources[n % 3], doc_no=f"基线〔2025〕{n}号"
            )
            rec.batch_id = None
        batched = factories.record(session, subject_row=subject, unit_row=unit, doc_no="批次〔2026〕1号")
        batched.batch_id = "b1"
        session.flush()
    # The statements the pipeline runs after each chunk (list sync, notices), as this engine receives them.
    now = dt.datetime(2026, 6, 15, tzinfo=dt.UTC)
    statements = [
        statement.compile(dialect=fresh_db.engine.dialect, compile_kwargs={"render_postcompile": True})
        for statement in (
            records_to_feed({"administrative_penalty"}, of_chunk(batch_id="b1", now=now)),
            untold_facts(of_chunk(batch_id="b1", now=now)),
        )
    ]
    with fresh_db.engine.connect() as conn:
        if fresh_db.kind == "sqlite":
            for when in ("before ANALYZE", "after ANALYZE"):
                # Before: no statistics at all, as in a database collected into but not yet analysed by the worker.
                for compiled in statements:
                    params = tuple(str(compiled.params[name]) for name in compiled.positiontup or ())
                    rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled), params)
                    plan = " ".join(str(row[-1]) for row in rows)
                    assert "ix_record_batch_id" in plan, f"{when}: {plan}"
                conn.execute(sa.text("ANALYZE"))
        else:
            conn.execute(sa.text("ANALYZE"))
            for compiled in statements:
                explain = conn.exec_driver_sql("EXPLAIN " + str(compiled), compiled.params)
                plan = " ".join(str(row[0]) for row in explain)
                assert "batch_id_idx" in plan or "ix_record_batch_id" in plan, plan
        definition = conn.execute(
            sa.text("SELECT sql FROM sqlite_master WHERE name = 'ix_record_batch_id'")
            if fresh_db.kind == "sqlite"
            else sa.text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_record_batch_id'")
        ).scalar_one()
        assert "batch_id IS NOT NULL" in definition
