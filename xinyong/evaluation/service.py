"""Evaluation services: publish a model version, evaluate in batch (in SQL), explain one subject, read its grade."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute, Session

from xinyong.audit import service as audit
from xinyong.audit.service import Actor
from xinyong.catalog.models import Resource
from xinyong.core import clock, crypto
from xinyong.core.database import UTCDateTime, analyze_stale
from xinyong.core.errors import Conflict, InvalidInput, NotFound
from xinyong.core.settings import get_settings
from xinyong.evaluation import engine, sources
from xinyong.evaluation import spec as specs
from xinyong.evaluation.models import (
    Employment,
    EvaluationCurrent,
    EvaluationModel,
    EvaluationResult,
    EvaluationRun,
    EvaluationScope,
    IndustryMember,
)
from xinyong.evaluation.sources import Context, ListTypeInfo
from xinyong.evaluation.spec import ModelSpec
from xinyong.lists.models import ListEntry, ListType
from xinyong.records.models import Record
from xinyong.subjects.codes import is_valid_uscc
from xinyong.subjects.models import Subject

# ---------------------------------------------------------------------------------------------------------------
# Models


def _known_resources(session: Session) -> set[str]:
    return set(session.scalars(sa.select(Resource.code)))


def publish(*, session: Session, actor: Actor, raw: Any) -> EvaluationModel:
    """Store a new version of a model. Versions only grow; a published version is never changed."""
    spec = specs.parse(
        raw,
        known_resources=_known_resources(session),
        # A database without list types (not upgraded) cannot tell; publishing still validates everything else.
        known_list_types=set(session.scalars(sa.select(ListType.code))) or None,
    )
    latest = session.scalar(sa.select(sa.func.max(EvaluationModel.version)).where(EvaluationModel.code == spec.code))
    if latest is not None and spec.version <= latest:
        raise Conflict(f"模型 {spec.code} 已有版本 {latest}，新发布的版本号须大于 {latest}（收到 {spec.version}）")
    row = EvaluationModel(
        code=spec.code,
        version=spec.version,
        name=spec.name,
        kind=spec.kind,
        definition=spec.raw,
        published_at=clock.now(),
        published_by=actor.name,
    )
    session.add(row)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="evaluation.publish",
        target_type="evaluation_model",
        target_id=row.id,
        detail={"code": spec.code, "version": spec.version},
    )
    return row


def ensure_builtin(*, session: Session) -> None:
    """Store the shipped models the first time (a database that has its own versions keeps them)."""
    for spec in specs.builtin_models():
        if session.scalar(sa.select(EvaluationModel.id).where(EvaluationModel.code == spec.code).limit(1)) is None:
            publish(session=session, actor=Actor(name="system", role="admin"), raw=spec.raw)


def latest_model(*, session: Session, code: str | None = None) -> EvaluationModel | None:
    code = code or get_settings().evaluation_model
    return session.scalar(
        sa.select(EvaluationModel).where(EvaluationModel.code == code).order_by(EvaluationModel.version.desc()).limit(1)
    )


def resolve(*, session: Session, code: str | None = None) -> tuple[ModelSpec, EvaluationModel | None]:
    """The newest published version of a model; the shipped file when none is stored yet."""
    code = code or get_settings().evaluation_model
    row = latest_model(session=session, code=code)
    if row is not None:
        return specs.parse(row.definition), row
    for spec in specs.builtin_models():
        if spec.code == code:
            return spec, None
    raise NotFound(f"没有代码为 {code} 的评价模型")


def list_models(*, session: Session) -> list[EvaluationModel]:
    return list(session.scalars(sa.select(EvaluationModel).order_by(EvaluationModel.code, EvaluationModel.version)))


def context(*, session: Session, today: dt.date | None = None) -> Context:
    ids = {code: rid for code, rid in session.execute(sa.select(Resource.code, Resource.id))}
    list_types = {
        code: ListTypeInfo(lid, kind, tuple(str(f.get("resource")) for f in feeds or []))
        for code, lid, kind, feeds in session.execute(
            sa.select(ListType.code, ListType.id, ListType.kind, ListType.feeds)
        )
    }
    return Context(
        today=today or clock.today(),
        resource_ids=ids,
        dialect=session.get_bind().dialect.name,
        list_types=list_types,
    )


# ---------------------------------------------------------------------------------------------------------------
# Batch evaluation

Progress = Callable[[int, int], None]


def _max(session: Session, column: Any) -> dt.datetime | None:
    value = session.scalar(sa.select(sa.func.max(column)))
    if isinstance(value, str):  # SQLite returns aggregates of DATETIME columns untyped
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value


def _later(a: dt.datetime | None, b: dt.datetime | None) -> dt.datetime | None:
    return max((v for v in (a, b) if v is not None), default=None)


def evaluate(
    *,
    session: Session,
    actor: Actor,
    model_code: str | None = None,
    changed_only: bool = False,
    chunk_size: int | None = None,
    progress: Progress | None = None,
) -> EvaluationRun:
    """Evaluate every subject the model applies to (or only those whose inputs changed since the model's last run).

    All arithmetic happens in the database: for each chunk of subject ids one INSERT … SELECT writes a result row
    for each subject whose score, grade or model version differs from its current one, then the current table is
    refreshed from those rows. Unchanged subjects cost no write."""
    ensure_builtin(session=session)
    model = latest_model(session=session, code=model_code)
    if model is None:
        raise NotFound(f"没有代码为 {model_code or get_settings().evaluation_model} 的评价模型")
    spec = specs.parse(model.definition)
    ctx = context(session=session)
    previous = session.scalar(
        sa.select(EvaluationRun)
        .where(EvaluationRun.model_id == model.id, EvaluationRun.finished_at.is_not(None))
        .order_by(EvaluationRun.id.desc())
        .limit(1)
    )
    mode = "changed" if changed_only and previous is not None else "all"
    run = EvaluationRun(
        model_id=model.id,
        mode=mode,
        as_of=ctx.today,
        started_at=clock.now(),
        record_watermark=_max(session, Record.updated_at),
        subject_watermark=_max(session, Subject.updated_at),
        relation_watermark=_later(
            _later(_max(session, Employment.updated_at), _max(session, IndustryMember.updated_at)),
            _max(session, ListEntry.updated_at),
        ),
        actor=actor.name,
    )
    session.add(run)
    session.flush()

    changed: sa.Select[Any] | None = None
    scope_table: sa.Table = EvaluationScope.__table__  # type: ignore[assignment]
    if mode == "changed":
        assert previous is not None
        found = engine.changed_subjects(
            spec,
            ctx,
            record_watermark=previous.record_watermark,
            subject_watermark=previous.subject_watermark,
            relation_watermark=previous.relation_watermark,
            last_as_of=previous.as_of,
        ).subquery()
        session.execute(
            scope_table.insert().from_select(
                ["run_id", "subject_id"],
                sa.select(sa.literal(run.id, sa.BigInteger), found.c[0]).where(found.c[0].is_not(None)).distinct(),
            )
        )
        changed = sa.select(scope_table.c.subject_id).where(scope_table.c.run_id == run.id)

    subject = sources.SUBJECT
    low, high = session.execute(sa.select(sa.func.min(subject.c.id), sa.func.max(subject.c.id))).one()
    ranges = _id_ranges(low, high, chunk_size)
    now = clock.now()
    results: sa.Table = EvaluationResult.__table__  # type: ignore[assignment]
    current: sa.Table = EvaluationCurrent.__table__  # type: ignore[assignment]
    # Each chunk joins the current results: statistics that still describe an empty table (never analysed, and
    # autovacuum may be off) give that join a plan for an empty table — a re-run of 1M subjects took 175 s, not 48 s.
    analyze_stale(session.connection(), (current.name, results.name), 0)
    evaluated = 0
    total_ids = 0 if low is None else high - low + 1
    for lo, hi in ranges:

        def scope(column: Any, lo: int = lo, hi: int = hi) -> Any:
            conds = [column.between(lo, hi)]
            if changed is not None:
                conds.append(column.in_(changed))
            return sa.and_(*conds)

        evaluated += (
            session.scalar(
                sa.select(sa.func.count())
                .select_from(subject)
                .where(*engine.applicable_subjects(spec), scope(subject.c.id))
            )
            or 0
        )
        scored = engine.scored_select(spec, ctx, scope=scope)
        differs = sa.or_(
            current.c.subject_id.is_(None),
            current.c.model_id != model.id,
            current.c.score != scored.c.score,
            current.c.grade != scored.c.grade,
        )
        new_rows = (
            sa.select(
                sa.literal(run.id, sa.BigInteger),
                sa.literal(model.id, sa.BigInteger),
                scored.c.subject_id,
                scored.c.score,
                scored.c.grade,
                sa.literal(now, UTCDateTime()),
            )
            .select_from(
                scored.outerjoin(
                    current,
                    sa.and_(current.c.model_code == spec.code, current.c.subject_id == scored.c.subject_id),
                )
            )
            .where(differs)
        )
        session.execute(
            results.insert().from_select(
                ["run_id", "model_id", "subject_id", "score", "grade", "evaluated_at"], new_rows
            )
        )
        this_chunk = sa.and_(results.c.run_id == run.id, results.c.subject_id.between(lo, hi))
        session.execute(
            current.delete().where(
                current.c.model_code == spec.code,
                current.c.subject_id.between(lo, hi),
                current.c.subject_id.in_(sa.select(results.c.subject_id).where(this_chunk)),
            )
        )
        session.execute(
            current.insert().from_select(
                ["model_code", "subject_id", "model_id", "result_id", "score", "grade", "evaluated_at"],
                sa.select(
                    sa.literal(spec.code),
                    results.c.subject_id,
                    results.c.model_id,
                    results.c.id,
                    results.c.score,
                    results.c.grade,
                    results.c.evaluated_at,
                ).where(this_chunk),
            )
        )
        if progress is not None:
            progress(min(hi, high) - low + 1, total_ids)
    session.execute(scope_table.delete().where(scope_table.c.run_id == run.id))
    # psycopg reports no rowcount for INSERT … SELECT built by SQLAlchemy; count the run's rows instead.
    written = session.scalar(sa.select(sa.func.count()).where(results.c.run_id == run.id)) or 0
    analyze_stale(session.connection(), (current.name, results.name), written)  # for the next run's plans
    run.subjects_evaluated = evaluated
    run.results_written = written
    run.finished_at = clock.now()
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="evaluation.run",
        target_type="evaluation_run",
        target_id=run.id,
        detail={"model": spec.label, "mode": mode, "subjects": evaluated, "written": written},
    )
    return run


def _id_ranges(low: int | None, high: int | None, chunk_size: int | None) -> list[tuple[int, int]]:
    if low is None or high is None:
        return []
    if not chunk_size:
        return [(low, high)]
    return [(start, min(start + chunk_size - 1, high)) for start in range(low, high + 1, chunk_size)]


# ---------------------------------------------------------------------------------------------------------------
# Explanations


@dataclass
class Evidence:
    record_id: int | None
    resource: str
    doc_no: str
    decision_date: dt.date | None
    severity: str | None
    via_person_id: int | None = None
    objection_open: bool = False
    counted: bool = True
    entry_id: int | None = None  # a list entry (its record, if it came from one, is ``record_id``)

    def as_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["decision_date"] = self.decision_date.isoformat() if self.decision_date else None
        return out


@dataclass
class Line:
    dimension: str
    indicator: str
    name: str
    count: int
    points: int
    evidence: list[Evidence] = field(default_factory=list)
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "dimension": self.dimension,
            "indicator": self.indicator,
            "name": self.name,
            "count": self.count,
            "points": self.points,
            "note": self.note,
            "records": [e.as_dict() for e in self.evidence],
        }


@dataclass
class Explanation:
    subject_id: int
    model_code: str
    model_version: int
    model_name: str
    kind: str
    as_of: dt.date
    applicable: bool
    start: int
    score: int
    grade: str
    lines: list[Line]
    dimensions: list[dict[str, Any]]
    overrides: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "subject_id": self.subject_id,
            "model": {"code": self.model_code, "version": self.model_version, "name": self.model_name},
            "kind": self.kind,
            "as_of": self.as_of.isoformat(),
            "applicable": self.applicable,
            "start": self.start,
            "score": self.score,
            "grade": self.grade,
            "dimensions": self.dimensions,
            "lines": [line.as_dict() for line in self.lines],
            "overrides": self.overrides,
        }


def explain(*, session: Session, subject_id: int, model: str | None = None) -> Explanation:
    """Each indicator as a line with its points and the records behind it, by the same conditions as the batch."""
    spec, row = resolve(session=session, code=model)
    subject_row = session.get(Subject, subject_id)
    if subject_row is None:
        raise NotFound(f"没有 id 为 {subject_id} 的主体")
    ctx = context(session=session)
    cond = engine.conditions(spec, ctx)
    rows = cond.rows
    applicable = (
        session.scalar(
            sa.select(sa.func.count())
            .select_from(sources.SUBJECT)
            .where(sources.SUBJECT.c.id == subject_id, *engine.applicable_subjects(spec))
        )
        == 1
    )
    codes = {rid: code for code, rid in ctx.resource_ids.items()}
    lines: list[Line] = []
    for dim in spec.dimensions:
        for ind in dim.indicators:
            evidence: list[Evidence] = []
            note = None
            count = 0
            if ind.code in cond.record:
                evidence = _evidence(session, rows, subject_id, cond.record[ind.code], codes)
                count = len(evidence)
                if ind.rectification_days:
                    loose = dataclasses.replace(ind, rectification_days=None)
                    everything = sources.get(ind.source).record_condition(loose, rows, ctx)
                    assert everything is not None
                    counted = {e.record_id for e in evidence}
                    repeats = [
                        dataclasses.replace(e, counted=False)
                        for e in _evidence(session, rows, subject_id, everything, codes)
                        if e.record_id not in counted
                    ]
                    if repeats:
                        note = (
                            f"{len(repeats)} 条为整改期（{ind.rectification_days} 日）内同一行为的重复记录，不重复计分"
                        )
                    evidence += repeats
            if ind.code in cond.items:
                entries = _item_evidence(session, cond.items[ind.code], subject_id)
                count += len(entries)
                evidence = entries + evidence
            if ind.code not in cond.record and ind.code not in cond.items and ind.code in cond.subject:
                count = int(
                    session.scalar(
                        sa.select(cond.subject[ind.code])
                        .select_from(sources.SUBJECT)
                        .where(sources.SUBJECT.c.id == subject_id)
                    )
                    or 0
                )
                if ind.source == "years_in_operation":
                    note = f"成立日期 {subject_row.established_on or '未知'}"
            if ind.source.startswith("commitments") and ind.code not in cond.items:
                note = "信用承诺尚未接入，暂计 0"
            lines.append(
                Line(dim.code, ind.code, ind.name, count, ind.total(count) if applicable else 0, evidence, note)
            )

    dims: list[dict[str, Any]] = []
    total = spec.start
    for dim in spec.dimensions:
        raw = sum(line.points for line in lines if line.dimension == dim.code)
        capped = dim.clamp(raw, spec.span)
        total += capped
        dims.append(
            {"code": dim.code, "name": dim.name, "points": capped, "raw_points": raw, "bound": dim.bound(spec.span)}
        )
    score = spec.clamp_score(total)
    rank = spec.grade_rank(score)
    overrides: list[str] = []
    counts = {line.indicator: line.count for line in lines}
    for ov in spec.overrides:
        if counts.get(ov.indicator, 0) >= ov.at_least and rank < spec.rank_of(ov.grade):
            rank = spec.rank_of(ov.grade)
            overrides.append(f"{ov.reason}：等级不高于 {ov.grade}")
    return Explanation(
        subject_id=subject_id,
        model_code=spec.code,
        model_version=row.version if row else spec.version,
        model_name=spec.name,
        kind=spec.kind,
        as_of=ctx.today,
        applicable=applicable,
        start=spec.start,
        score=score,
        grade=spec.grades[rank].grade,
        lines=lines,
        dimensions=dims,
        overrides=overrides,
    )


def _item_evidence(session: Session, items: sa.Select[Any], subject_id: int) -> list[Evidence]:
    """The rows of an ``items`` source (e.g. list entries in force) as evidence lines."""
    sub = items.subquery()
    found = session.execute(sa.select(sub).where(sub.c.subject_id == subject_id).order_by(sub.c.item_id)).all()
    out: list[Evidence] = []
    for found_row in found:
        row = found_row._mapping
        day = row["day"]
        out.append(
            Evidence(
                record_id=row.get("record_id"),
                resource=str(row["label"]),
                doc_no=str(row.get("doc_no") or ""),
                decision_date=dt.date.fromisoformat(day) if isinstance(day, str) else day,
                severity=None,
                entry_id=row["item_id"],
            )
        )
    return out


def _evidence(
    session: Session, rows: sources.RecordRows, subject_id: int, condition: Any, codes: dict[int, str]
) -> list[Evidence]:
    c = rows.c
    found = session.execute(
        sa.select(c.id, c.resource_id, c.doc_no, c.decision_date, c.severity, rows.via.label("via"), c.objection_open)
        .select_from(rows.table)
        .where(rows.in_play(), rows.eval_subject == subject_id, condition)
        .order_by(c.decision_date, c.id)
    ).all()
    return [
        Evidence(
            record_id=r.id,
            resource=codes.get(r.resource_id, str(r.resource_id)),
            doc_no=r.doc_no,
            decision_date=r.decision_date
            if not isinstance(r.decision_date, str)
            else dt.date.fromisoformat(r.decision_date),
            severity=r.severity,
            via_person_id=r.via,
            objection_open=bool(r.objection_open),
        )
        for r in found
    ]


# ---------------------------------------------------------------------------------------------------------------
# Reading grades


# Plain columns rather than two ORM entities, built once: this runs on every credit check.
_GRADE_COLUMNS = (
    EvaluationCurrent.grade,
    EvaluationCurrent.score,
    EvaluationModel.code,
    EvaluationModel.version,
    EvaluationModel.name,
    EvaluationCurrent.evaluated_at,
)
_GRADE_FOR = (
    sa.select(*_GRADE_COLUMNS)
    .join(EvaluationModel, EvaluationModel.id == EvaluationCurrent.model_id)
    .where(
        EvaluationCurrent.model_code == sa.bindparam("model_code"),
        EvaluationCurrent.subject_id == sa.bindparam("subject_id"),
    )
)


def with_grade(query: sa.Select[Any], subject_id: sa.ColumnElement[int] | InstrumentedAttribute[int]) -> sa.Select[Any]:
    """``query`` with the current grade of subject ``subject_id`` as six more columns (NULL when not evaluated), read
    by ``grade_view``; bind ``model_code`` (``current_model_code``). The check gets its subject and the subject's
    grade in one round trip this way."""
    on = sa.and_(EvaluationCurrent.subject_id == subject_id, EvaluationCurrent.model_code == sa.bindparam("model_code"))
    return (
        query.add_columns(*_GRADE_COLUMNS)
        .outerjoin(EvaluationCurrent, on)
        .outerjoin(EvaluationModel, EvaluationModel.id == EvaluationCurrent.model_id)
    )


def current_model_code() -> str:
    return get_settings().evaluation_model


def grade_view(columns: Sequence[Any]) -> dict[str, Any] | None:
    """The grade as the check result shows it, from the columns of ``_GRADE_COLUMNS``; None when not evaluated.

    {"grade", "score", "model", "model_version", "model_name", "evaluated_at"}."""
    grade, score, model_code, version, name, evaluated_at = columns
    if grade is None:
        return None
    return {
        "grade": grade,
        "score": score,
        "model": model_code,
        "model_version": version,
        "model_name": name,
        "evaluated_at": evaluated_at.isoformat(),
    }


def grade_for(*, session: Session, subject_id: int, model: str | None = None) -> dict[str, Any] | None:
    """The subject's current grade under a model (default: XINYONG_EVALUATION_MODEL), or None if not evaluated."""
    code = model or current_model_code()
    found = session.execute(_GRADE_FOR, {"model_code": code, "subject_id": subject_id}).one_or_none()
    return None if found is None else grade_view(found)


def public_grade(*, session: Session, subject_id: int) -> dict[str, Any] | None:
    """What the public profile may show: the grade only when XINYONG_PUBLIC_GRADES is on (the portal calls this)."""
    if not get_settings().public_grades:
        return None
    return grade_for(session=session, subject_id=subject_id)


def history(*, session: Session, subject_id: int, model: str | None = None) -> list[dict[str, Any]]:
    code = model or get_settings().evaluation_model
    found = session.execute(
        sa.select(EvaluationResult, EvaluationModel)
        .join(EvaluationModel, EvaluationModel.id == EvaluationResult.model_id)
        .where(EvaluationResult.subject_id == subject_id, EvaluationModel.code == code)
        .order_by(EvaluationResult.id)
    ).all()
    return [
        {
            "grade": r.grade,
            "score": r.score,
            "model_version": m.version,
            "evaluated_at": r.evaluated_at.isoformat(),
        }
        for r, m in found
    ]


# ---------------------------------------------------------------------------------------------------------------
# Subjects, industry rosters and employment


def find_subject(*, session: Session, code: str) -> Subject:
    """A subject by its USCC, or by a citizen ID number (looked up through the keyed hash)."""
    normalised = code.strip().upper()
    found = None
    if is_valid_uscc(normalised):
        found = session.scalar(sa.select(Subject).where(Subject.uscc == normalised))
    if found is None and len(normalised) == 18:
        found = session.scalar(sa.select(Subject).where(Subject.id_hash == crypto.keyed_hash(normalised)))
    if found is None:
        raise NotFound(f"没有代码为 {code} 的主体")
    return found


def add_industry_member(
    *, session: Session, actor: Actor, industry: str, subject_id: int, since: dt.date | None = None
) -> IndustryMember:
    existing = session.scalar(
        sa.select(IndustryMember).where(IndustryMember.industry == industry, IndustryMember.subject_id == subject_id)
    )
    if existing is not None:
        return existing
    row = IndustryMember(industry=industry, subject_id=subject_id, since=since, updated_at=clock.now())
    session.add(row)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="evaluation.industry_add",
        target_type="industry_member",
        target_id=row.id,
        subject_id=subject_id,
        detail={"industry": industry},
    )
    return row


def add_employment(
    *,
    session: Session,
    actor: Actor,
    person_id: int,
    firm_id: int,
    role: str,
    start_on: dt.date,
    end_on: dt.date | None = None,
) -> Employment:
    if end_on is not None and end_on < start_on:
        raise InvalidInput(f"任职终止日 {end_on} 早于起始日 {start_on}")
    row = Employment(
        person_id=person_id, firm_id=firm_id, role=role, start_on=start_on, end_on=end_on, updated_at=clock.now()
    )
    session.add(row)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="evaluation.employment_add",
        target_type="employment",
        target_id=row.id,
        subject_id=firm_id,
        detail={"person_id": person_id, "role": role, "start_on": start_on.isoformat()},
    )
    return row
