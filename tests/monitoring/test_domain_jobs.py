"""The worker jobs other domains register: the lists sync sweep and the incremental evaluation, done once a period."""

from __future__ import annotations

import sqlalchemy as sa

from tests import factories
from tests.conftest import Database
from xinyong.core.database import session_scope
from xinyong.evaluation.models import EvaluationModel, EvaluationResult, EvaluationRun
from xinyong.lists.models import ListEntry, ListEvent
from xinyong.monitoring import worker
from xinyong.monitoring.models import JobRun


def _count(db: Database, model: type) -> int:
    with session_scope(db.engine) as session:
        return int(session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


def test_sync_then_evaluate_once_per_day(fresh_db: Database) -> None:
    with session_scope(fresh_db.engine, write=True) as session:
        firm, other = factories.subject(session), factories.subject(session)
        # A judgment-debtor record its batch did not sync (linked to its subject later): the sweep makes it an entry.
        factories.record(session, subject_row=firm, resource="dishonest_judgment_debtor", severity="serious")
        firm_id, other_id = firm.id, other.id
    names = list(worker.JOBS)
    assert names.index("lists_sync") < names.index("evaluation_incremental")  # entries exist before grades are read

    first = {o.job: o for o in worker.run_due(fresh_db.engine, only="lists_sync")}
    first |= {o.job: o for o in worker.run_due(fresh_db.engine, only="evaluation_incremental")}
    assert first["lists_sync"].state == "done" and first["lists_sync"].result["created"] == 1
    evaluated = first["evaluation_incremental"].result
    assert first["evaluation_incremental"].state == "done"
    assert evaluated["public"]["mode"] == "all" and evaluated["public"]["subjects"] == 2
    with session_scope(fresh_db.engine) as session:
        models = session.scalar(sa.select(sa.func.count(sa.distinct(EvaluationModel.code))))
        grades = dict(
            session.execute(
                sa.select(EvaluationResult.subject_id, EvaluationResult.grade).where(
                    EvaluationResult.subject_id.in_([firm_id, other_id])
                )
            ).all()
        )
    assert set(evaluated) == {"public", "property_management"} and models == 2
    assert grades == {firm_id: "D", other_id: "B"}
    counts = {m: _count(fresh_db, m) for m in (ListEntry, ListEvent, EvaluationRun, EvaluationResult)}

    again = worker.run_due(fresh_db.engine, only="lists_sync") + worker.run_due(
        fresh_db.engine, only="evaluation_incremental"
    )
    assert [o.state for o in again] == ["skipped", "skipped"]
    assert {m: _count(fresh_db, m) for m in counts} == counts  # the work was done once
    with session_scope(fresh_db.engine) as session:
        runs = session.scalars(sa.select(JobRun.job).where(JobRun.state == "done").order_by(JobRun.job)).all()
    assert runs == ["evaluation_incremental", "lists_sync"]
