"""SQL generated from a model: every subject's score and grade in one statement, computed by the database.

Layers (each a subquery, so no expression is repeated):

1. ``counts``  — one pass over ``record`` (or the attributed rows) ``GROUP BY`` subject, one
   ``SUM(CASE WHEN <indicator condition> THEN 1 ELSE 0 END)`` per record indicator;
2. ``base``    — the subjects the model applies to, LEFT JOIN counts, plus subject-row and other-table counts;
3. ``points``  — each indicator's points, capped;
4. ``scored``  — dimensions capped by weight, the total clamped to the score range, the grade band as a rank,
   overrides applied to the rank, the rank turned back into a letter.

The explanation (``service.explain``) applies the same rules in Python to the rows selected by the same conditions;
a test checks that both agree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from xinyong.evaluation import sources
from xinyong.evaluation.models import Employment, IndustryMember
from xinyong.evaluation.sources import Context, RecordRows
from xinyong.evaluation.spec import ModelSpec
from xinyong.subjects.models import SubjectStatus


def _greatest(dialect: str, *args: Any) -> ColumnElement[Any]:
    # Two-argument max()/min() are SQLite's scalar GREATEST/LEAST; neither repeats its arguments (a CASE would,
    # and the planner inlines subqueries, so repetition compounds layer after layer).
    return sa.func.max(*args) if dialect == "sqlite" else sa.func.greatest(*args)


def _least(dialect: str, *args: Any) -> ColumnElement[Any]:
    return sa.func.min(*args) if dialect == "sqlite" else sa.func.least(*args)


def _clamp(dialect: str, expr: ColumnElement[Any], low: int | None, high: int | None) -> ColumnElement[Any]:
    if low is not None:
        expr = _greatest(dialect, expr, sa.literal(low))
    if high is not None:
        expr = _least(dialect, expr, sa.literal(high))
    return expr


def _fenced(select: sa.Select[Any], name: str) -> sa.Subquery:
    """A subquery the planner evaluates once per row instead of inlining its expressions into the next layer."""
    return select.offset(0).subquery(name)


def record_rows(spec: ModelSpec) -> RecordRows:
    return RecordRows(employee_roles=spec.attribution.roles if spec.attribution else ())


@dataclass
class Conditions:
    rows: RecordRows
    record: dict[str, ColumnElement[bool]]  # indicator code → condition over a record row
    subject: dict[str, ColumnElement[int]]  # indicator code → expression over the subject row
    items: dict[str, sa.Select[Any]]  # indicator code → (subject_id, item_id, label, day) rows


def conditions(spec: ModelSpec, ctx: Context) -> Conditions:
    rows = record_rows(spec)
    found = Conditions(rows, {}, {}, {})
    for ind in spec.indicators:
        source = sources.get(ind.source)
        cond = source.record_condition(ind, rows, ctx)
        if cond is not None:
            found.record[ind.code] = cond
        items = source.items(ind, ctx)
        if items is not None:  # counted in addition to the records (list entries and records without one)
            found.items[ind.code] = items
        if cond is None and items is None:
            count = source.subject_count(ind, sources.SUBJECT, ctx)
            if count is not None:
                found.subject[ind.code] = count
    return found


def applicable_subjects(spec: ModelSpec) -> list[ColumnElement[bool]]:
    """Which subjects the model evaluates (kinds, industry roster), as conditions over ``subject``."""
    subject = sources.SUBJECT
    where: list[ColumnElement[bool]] = [subject.c.status != SubjectStatus.MERGED.value]
    if spec.subject_kinds:
        where.append(subject.c.kind.in_(spec.subject_kinds))
    if spec.industry:
        member = IndustryMember.__table__
        where.append(sa.exists().where(member.c.subject_id == subject.c.id, member.c.industry == spec.industry))
    return where


Scope = Callable[[ColumnElement[Any]], ColumnElement[bool]]


def scored_select(spec: ModelSpec, ctx: Context, *, scope: Scope | None = None) -> sa.Subquery:
    """SELECT subject_id, score, grade for every subject in scope.

    ``scope`` makes a condition over a subject-id column (an id range for chunking, or the changed subjects); it is
    applied both to the record scan and to the subjects, so a chunk reads only its own records."""
    subject = sources.SUBJECT
    cond = conditions(spec, ctx)
    rows = cond.rows

    count_cols: list[ColumnElement[Any]] = []
    resources_used: set[int] = set()
    for ind in spec.indicators:
        if ind.code in cond.record:
            count_cols.append(sa.func.sum(sa.case((cond.record[ind.code], 1), else_=0)).label(f"n_{ind.code}"))
            resources_used.update(ctx.ids(ind.resources))
    counts = None
    if count_cols:
        where = [rows.in_play(), rows.eval_subject.is_not(None), rows.c.resource_id.in_(sorted(resources_used))]
        if scope is not None:
            where.append(scope(rows.eval_subject))
        counts = (
            sa.select(rows.eval_subject.label("subject_id"), *count_cols)
            .select_from(rows.table)
            .where(*where)
            .group_by(rows.eval_subject)
            .subquery("counts")
        )

    base_cols: list[ColumnElement[Any]] = [subject.c.id.label("subject_id")]
    from_clause: sa.FromClause = subject
    if counts is not None:
        from_clause = from_clause.outerjoin(counts, counts.c.subject_id == subject.c.id)
    for ind in spec.indicators:
        name = f"n_{ind.code}"
        expr: ColumnElement[Any] | None = None
        if ind.code in cond.record:
            assert counts is not None
            expr = sa.func.coalesce(counts.c[name], 0)
        if ind.code in cond.items:
            # One grouped pass over the items (scoped like the record scan), joined like the counts: a correlated
            # count per subject would probe the items' table once per subject and indicator.
            items = cond.items[ind.code].subquery()
            grouped = sa.select(items.c.subject_id, sa.func.count().label("n")).group_by(items.c.subject_id)
            if scope is not None:
                grouped = grouped.where(scope(items.c.subject_id))
            per_subject = grouped.subquery(f"items_{ind.code}")
            from_clause = from_clause.outerjoin(per_subject, per_subject.c.subject_id == subject.c.id)
            item_count = sa.func.coalesce(per_subject.c.n, 0)
            expr = item_count if expr is None else expr + item_count
        if expr is None and ind.code in cond.subject:
            expr = cond.subject[ind.code]
        base_cols.append((expr if expr is not None else sa.literal(0)).label(name))
    base_where = applicable_subjects(spec)
    if scope is not None:
        base_where.append(scope(subject.c.id))
    base = sa.select(*base_cols).select_from(from_clause).where(*base_where).subquery("base")

    point_cols: list[ColumnElement[Any]] = [base.c.subject_id]
    for ind in spec.indicators:
        n = base.c[f"n_{ind.code}"]
        raw: ColumnElement[Any] = sa.case((n > 0, ind.points), else_=0) if ind.count == "any" else n * ind.points
        cap = ind.cap
        point_cols.append(n)
        point_cols.append(_clamp(ctx.dialect, raw, -cap if cap is not None else None, cap).label(f"p_{ind.code}"))
    points = _fenced(sa.select(*point_cols), "points")

    dims = []
    for dim in spec.dimensions:
        total: ColumnElement[Any] = sa.literal(0)
        for ind in dim.indicators:
            total = total + points.c[f"p_{ind.code}"]
        bound = dim.bound(spec.span)
        dims.append(_clamp(ctx.dialect, total, -bound if bound is not None else None, bound))
    score_expr: ColumnElement[Any] = sa.literal(spec.start)
    for d in dims:
        score_expr = score_expr + d
    score_expr = _clamp(ctx.dialect, score_expr, spec.min, spec.max)
    dims_select = sa.select(
        points.c.subject_id,
        score_expr.label("score"),
        *[points.c[f"n_{ind.code}"] for ind in spec.indicators],
    )
    dims_layer = _fenced(dims_select, "dims")

    rank: ColumnElement[Any] = sa.case(
        *[
            (sa.and_(*_band_conditions(dims_layer.c.score, band.min, band.max)), i)
            for i, band in enumerate(spec.grades[:-1])
        ],
        else_=len(spec.grades) - 1,
    )
    floors = [
        sa.case((dims_layer.c[f"n_{ov.indicator}"] >= ov.at_least, spec.rank_of(ov.grade)), else_=0)
        for ov in spec.overrides
    ]
    if floors:
        rank = _greatest(ctx.dialect, rank, *floors)
    ranked_select = sa.select(dims_layer.c.subject_id, dims_layer.c.score, rank.label("rank"))
    ranked = _fenced(ranked_select, "ranked")
    grade = sa.case(*[(ranked.c.rank == i, band.grade) for i, band in enumerate(spec.grades)])
    return sa.select(ranked.c.subject_id, ranked.c.score, grade.label("grade")).subquery("scored")


def _band_conditions(score: ColumnElement[Any], low: int | None, high: int | None) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if low is not None:
        conds.append(score >= low)
    if high is not None:
        conds.append(score <= high)
    return conds or [sa.true()]


def changed_subjects(
    spec: ModelSpec,
    ctx: Context,
    *,
    record_watermark: Any,
    subject_watermark: Any,
    relation_watermark: Any,
    last_as_of: Any,
) -> sa.Select[Any]:
    """Subjects whose score may differ since the last run: records changed (new, resent, revoked, repaired),
    subjects changed, employment or roster changed, and records crossing a date boundary of an indicator
    (a window ending, a licence or list entry expiring or starting) between the last run's date and today."""
    from xinyong.records.models import Record

    record = Record.__table__
    subject = sources.SUBJECT
    parts: list[sa.Select[Any]] = []
    if record_watermark is not None:
        parts.append(sa.select(record.c.subject_id).where(record.c.updated_at > record_watermark))
    else:
        parts.append(sa.select(record.c.subject_id))
    if last_as_of is not None and last_as_of != ctx.today:
        crossings: list[ColumnElement[bool]] = [
            sa.and_(record.c.valid_to >= last_as_of, record.c.valid_to < ctx.today),
            sa.and_(record.c.valid_from > last_as_of, record.c.valid_from <= ctx.today),
        ]
        for months in sorted({i.window_months for i in spec.indicators if i.window_months}):
            crossings.append(
                sa.and_(
                    record.c.decision_date > sources.add_months(last_as_of, -months),
                    record.c.decision_date <= sources.add_months(ctx.today, -months),
                )
            )
        parts.append(sa.select(record.c.subject_id).where(sa.or_(*crossings)))
        # Years in operation change on anniversaries: the k-th anniversary fell between the two dates.
        for ind in spec.indicators:
            if ind.source == "years_in_operation" and ind.max_years:
                anniversaries = [
                    sa.and_(
                        subject.c.established_on > sources.add_months(last_as_of, -12 * k),
                        subject.c.established_on <= sources.add_months(ctx.today, -12 * k),
                    )
                    for k in range(1, ind.max_years + 1)
                ]
                parts.append(sa.select(subject.c.id).where(sa.or_(*anniversaries)))
    if any(ind.source == "list_entries" for ind in spec.indicators):
        parts.extend(_changed_list_entries(ctx, relation_watermark=relation_watermark, last_as_of=last_as_of))
    if subject_watermark is not None:
        parts.append(sa.select(subject.c.id).where(subject.c.updated_at > subject_watermark))
    else:
        parts.append(sa.select(subject.c.id))
    emp = Employment.__table__
    member = IndustryMember.__table__
    if relation_watermark is not None:
        parts.append(sa.select(emp.c.firm_id).where(emp.c.updated_at > relation_watermark))
        parts.append(sa.select(emp.c.person_id).where(emp.c.updated_at > relation_watermark))
        parts.append(sa.select(member.c.subject_id).where(member.c.updated_at > relation_watermark))
    else:
        parts.append(sa.select(emp.c.firm_id))
        parts.append(sa.select(member.c.subject_id))
    changed = sa.union(*parts).subquery("changed_direct")
    if spec.attribution:
        # A changed employee changes the firms that employ (or employed) them.
        via_firm = sa.select(emp.c.firm_id).where(
            emp.c.person_id.in_(sa.select(changed.c[0])), emp.c.role.in_(spec.attribution.roles)
        )
        return sa.union(sa.select(changed.c[0]), via_firm)  # type: ignore[return-value]
    return sa.select(changed.c[0])


def _changed_list_entries(ctx: Context, *, relation_watermark: Any, last_as_of: Any) -> list[sa.Select[Any]]:
    """Subjects whose list entries changed (a lifecycle step, a sync, a merge — all bump ``updated_at``, folded into
    the run's relation watermark) or came into or went out of force by date since the last run."""
    entry = sources.LIST_ENTRY
    if relation_watermark is None:
        return [sa.select(entry.c.subject_id)]
    parts = [sa.select(entry.c.subject_id).where(entry.c.updated_at > relation_watermark)]
    if last_as_of is not None and last_as_of != ctx.today:
        parts.append(
            sa.select(entry.c.subject_id).where(
                sa.or_(
                    sa.and_(entry.c.expires_on >= last_as_of, entry.c.expires_on < ctx.today),
                    sa.and_(entry.c.listed_on > last_as_of, entry.c.listed_on <= ctx.today),
                )
            )
        )
    return parts
