"""Shared helpers for evaluation tests: run the batch, read a grade, compare with the explanation."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from xinyong.audit.service import Actor
from xinyong.core import clock
from xinyong.evaluation import service
from xinyong.evaluation.models import EvaluationRun

ACTOR = Actor(name="test", role="admin")


def ago(*, days: int = 0, months: int = 0) -> dt.date:
    from xinyong.evaluation.sources import add_months

    return add_months(clock.today(), -months) - dt.timedelta(days=days)


def run(
    session: Session, model: str | None = None, *, changed: bool = False, chunk: int | None = None
) -> EvaluationRun:
    return service.evaluate(session=session, actor=ACTOR, model_code=model, changed_only=changed, chunk_size=chunk)


def batch(session: Session, subject_id: int, model: str | None = None) -> dict[str, Any]:
    """Evaluate in batch and return the subject's current grade, checking it equals the explanation's."""
    run(session, model)
    grade = service.grade_for(session=session, subject_id=subject_id, model=model)
    assert grade is not None
    explained = service.explain(session=session, subject_id=subject_id, model=model)
    assert (explained.score, explained.grade) == (grade["score"], grade["grade"]), explained.as_dict()
    return grade


def line(session: Session, subject_id: int, indicator: str, model: str | None = None) -> service.Line:
    explained = service.explain(session=session, subject_id=subject_id, model=model)
    return next(item for item in explained.lines if item.indicator == indicator)
