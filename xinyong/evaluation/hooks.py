"""The evaluation domain's hooks: the coverage chart, the daily incremental evaluation, and subject merges.

Loaded by ``xinyong.hooks.install`` (web app, command line, worker)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from xinyong.audit.service import Actor
from xinyong.core import clock
from xinyong.core.settings import get_settings
from xinyong.evaluation import service
from xinyong.evaluation.models import (
    Employment,
    EvaluationCurrent,
    EvaluationModel,
    EvaluationResult,
    IndustryMember,
)
from xinyong.monitoring.charts import Chart, Series, Table
from xinyong.monitoring.metrics import Scope, pct, register_metric
from xinyong.monitoring.worker import daily, register_job
from xinyong.subjects.models import SUBJECT_KIND_LABELS, Subject, SubjectKind, SubjectStatus

WORKER = Actor(name="worker", role="admin")


# --- dashboard ---------------------------------------------------------------------------------------------------


@register_metric("evaluation_coverage")
def evaluation_coverage(session: Session, scope: Scope) -> Chart:
    """Subjects (not merged) per kind, and those with a current result under each model: the state today, so the
    period does not apply; a district officer sees the district's subjects."""
    default = get_settings().evaluation_model
    models = list(session.scalars(sa.select(EvaluationModel.code).distinct().order_by(EvaluationModel.code)))
    models = sorted(models, key=lambda code: (code != default, code))
    names = dict(
        session.execute(
            sa.select(EvaluationModel.code, EvaluationModel.name).order_by(
                EvaluationModel.code, EvaluationModel.version
            )
        ).all()
    )
    where = [Subject.status != SubjectStatus.MERGED]
    if scope.region:
        where.append(Subject.region == scope.region)
    totals = dict(session.execute(sa.select(Subject.kind, sa.func.count()).where(*where).group_by(Subject.kind)).all())
    evaluated: dict[tuple[str, str], int] = {
        (code, kind): int(n)
        for code, kind, n in session.execute(
            sa.select(EvaluationCurrent.model_code, Subject.kind, sa.func.count())
            .join(Subject, Subject.id == EvaluationCurrent.subject_id)
            .where(*where)
            .group_by(EvaluationCurrent.model_code, Subject.kind)
        )
    }
    kinds = list(SubjectKind)
    labels = [SUBJECT_KIND_LABELS[k] for k in kinds]
    rows: list[list[Any]] = []
    for code in models:
        for kind, label in zip(kinds, labels, strict=True):
            done, total = evaluated.get((code, kind), 0), int(totals.get(kind, 0))
            rows.append([names.get(code, code), label, total, done, pct(done, total)])
    return Chart(
        key="evaluation_coverage",
        title="公共信用综合评价覆盖率（按主体类别）",
        explanation="已建档主体中有当前评价结果的比例（按评价模型、主体类别；已合并的主体不计）。模型只评价其适用的主体类别。",
        kind="vbar",
        x_label="主体类别",
        y_label="覆盖率（%）",
        categories=labels,
        series=[
            Series(names.get(code, code), [pct(evaluated.get((code, k), 0), int(totals.get(k, 0))) for k in kinds])
            for code in models
        ],
        unit="%",
        tables=[Table("各评价模型覆盖情况", ["评价模型", "主体类别", "已建档", "已评价", "覆盖率（%）"], rows)],
        note="" if models else "尚未运行综合评价（xinyong evaluate）。",
    )


# --- worker ------------------------------------------------------------------------------------------------------


def evaluation_incremental(session: Session, _period: str) -> dict[str, Any]:
    """Each published model, re-evaluated for the subjects whose inputs changed (a model's first run is a full one)."""
    service.ensure_builtin(session=session)
    done: dict[str, Any] = {}
    for code in session.scalars(sa.select(EvaluationModel.code).distinct().order_by(EvaluationModel.code)):
        run = service.evaluate(session=session, actor=WORKER, model_code=code, changed_only=True)
        done[code] = {"mode": run.mode, "subjects": run.subjects_evaluated, "written": run.results_written}
    return done


register_job("evaluation_incremental", "增量综合评价（各已发布模型）", daily, evaluation_incremental)


# --- subject merges ----------------------------------------------------------------------------------------------
# Results (the history) follow the subject. A current row moves only for a model under which the survivor has none
# (one current row per model and subject); the survivor is marked changed so the next incremental run re-scores it
# on its new records and entries.


def _touch(session: Session, *subject_ids: int) -> None:
    session.execute(sa.update(Subject).where(Subject.id.in_(subject_ids)).values(updated_at=clock.now()))


def _move_results(session: Session, from_id: int, to_id: int) -> list[int]:
    ids = list(session.scalars(sa.select(EvaluationResult.id).where(EvaluationResult.subject_id == from_id)))
    session.execute(sa.update(EvaluationResult).where(EvaluationResult.id.in_(ids)).values(subject_id=to_id))
    _touch(session, to_id)
    return ids


def _back_results(session: Session, ids: list[int], to_id: int) -> None:
    session.execute(sa.update(EvaluationResult).where(EvaluationResult.id.in_(ids)).values(subject_id=to_id))
    _touch(session, to_id)


def _current_models(session: Session, subject_id: int) -> set[str]:
    return set(
        session.scalars(sa.select(EvaluationCurrent.model_code).where(EvaluationCurrent.subject_id == subject_id))
    )


def _move_current(session: Session, from_id: int, to_id: int) -> list[Any]:
    codes = sorted(_current_models(session, from_id) - _current_models(session, to_id))
    session.execute(
        sa.update(EvaluationCurrent)
        .where(EvaluationCurrent.subject_id == from_id, EvaluationCurrent.model_code.in_(codes))
        .values(subject_id=to_id)
    )
    return codes  # model codes, not ids: the current table is keyed by (model_code, subject_id)


def _back_current(session: Session, codes: list[Any], to_id: int) -> None:
    survivor = session.scalar(sa.select(Subject.merged_into_id).where(Subject.id == to_id))
    session.execute(
        sa.update(EvaluationCurrent)
        .where(EvaluationCurrent.subject_id == survivor, EvaluationCurrent.model_code.in_(codes))
        .values(subject_id=to_id)
    )


def _mover(column: Any, id_column: Any) -> tuple[Any, Any]:
    def values(to_id: int) -> dict[str, Any]:
        # Bumping updated_at is what makes the next incremental evaluation look at both firms again.
        return {column.key: to_id, **({"updated_at": clock.now()} if "updated_at" in column.table.c else {})}

    def move(session: Session, from_id: int, to_id: int) -> list[int]:
        ids = list(session.scalars(sa.select(id_column).where(column == from_id)))
        session.execute(sa.update(column.table).where(id_column.in_(ids)).values(values(to_id)))
        return ids

    def back(session: Session, ids: list[int], to_id: int) -> None:
        session.execute(sa.update(column.table).where(id_column.in_(ids)).values(values(to_id)))

    return move, back


def _move_members(session: Session, from_id: int, to_id: int) -> list[int]:
    held = set(session.scalars(sa.select(IndustryMember.industry).where(IndustryMember.subject_id == to_id)))
    ids = [
        i
        for i, industry in session.execute(
            sa.select(IndustryMember.id, IndustryMember.industry).where(IndustryMember.subject_id == from_id)
        )
        if industry not in held  # one roster row per industry and subject
    ]
    session.execute(
        sa.update(IndustryMember).where(IndustryMember.id.in_(ids)).values(subject_id=to_id, updated_at=clock.now())
    )
    return ids


def _back_members(session: Session, ids: list[int], to_id: int) -> None:
    session.execute(
        sa.update(IndustryMember).where(IndustryMember.id.in_(ids)).values(subject_id=to_id, updated_at=clock.now())
    )


def _register_merge_hooks() -> None:
    from xinyong.console.service import MERGE_HOOKS

    employment = Employment.__table__
    MERGE_HOOKS["evaluation_results"] = (_move_results, _back_results)
    MERGE_HOOKS["evaluation_current"] = (_move_current, _back_current)
    MERGE_HOOKS["employment_person"] = _mover(employment.c.person_id, employment.c.id)
    MERGE_HOOKS["employment_firm"] = _mover(employment.c.firm_id, employment.c.id)
    MERGE_HOOKS["industry_member"] = (_move_members, _back_members)


_register_merge_hooks()
