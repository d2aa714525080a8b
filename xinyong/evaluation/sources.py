"""Where indicators get their counts: one small interface, one implementation per ``source`` of the model file.

Every source answers in SQL, so the batch aggregates in the database and the explanation of one subject selects the
very same rows. Three kinds of answers:

- ``record_condition``: a boolean over one row of the (attributed) record scan; the batch folds all of them into a
  single ``GROUP BY subject`` pass over ``record`` as ``SUM(CASE WHEN … THEN 1 ELSE 0 END)``;
- ``subject_count``: an integer expression over the ``subject`` row (years in operation);
- ``items``: a SELECT of ``(subject_id, item_id, label, day)`` rows from another table, counted per subject.

A source may answer both ``record_condition`` and ``items``; the indicator's count is then the sum of the two.

- ``list_entries`` counts the lists domain's entries in force today (``xinyong.lists.service.active_clause``: listed,
  not removed, not expired, its record — if it came from one — neither repaired nor revoked) of the list types the
  indicator names (``list_types``, ``list_kinds``; without them, the types whose ``feeds`` name its ``resources``),
  whether the credit office entered them or collection produced them. Records of the indicator's ``resources`` that
  have not become an entry yet (not synced, or an unmapped list name) still count, as records; a record that has an
  entry (``list_entry.record_id``) is counted through its entry only, so nothing counts twice.
- ``commitments_kept`` / ``commitments_broken`` count fulfilled / broken commitments
  (``xinyong.commitments.indicators``, registered by the rights hooks; ``get`` installs the hooks, so every reader
  sees them). Without the hooks they count nothing (``NothingYetSource``).
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from xinyong.evaluation.spec import Indicator
from xinyong.lists.models import ListEntry, ListType
from xinyong.lists.service import active_clause
from xinyong.records.models import Record, RecordStatus
from xinyong.subjects.models import Subject


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class ListTypeInfo:
    id: int
    kind: str
    fed_by: tuple[str, ...]  # resource codes named in the list type's ``feeds``


@dataclass(frozen=True)
class Context:
    """What every SQL fragment depends on: the evaluation date, resource ids and the engine's dialect."""

    today: dt.date
    resource_ids: dict[str, int]
    dialect: str
    list_types: dict[str, ListTypeInfo] = field(default_factory=dict)  # list_type.code → id, kind, feeding resources

    def ids(self, codes: tuple[str, ...]) -> list[int]:
        # An unknown resource simply matches nothing (validation at publish time names it).
        return [self.resource_ids[c] for c in codes if c in self.resource_ids]

    def list_type_ids(self, ind: Indicator) -> list[int]:
        """The list types an indicator counts: named, or of a named kind, or (neither given) fed by its resources."""
        if ind.list_types or ind.list_kinds:
            chosen = [t for code, t in self.list_types.items() if code in ind.list_types or t.kind in ind.list_kinds]
        else:
            chosen = [t for t in self.list_types.values() if set(t.fed_by) & set(ind.resources)]
        return sorted(t.id for t in chosen)

    def minus_days(self, column: Any, days: int) -> ColumnElement[Any]:
        if self.dialect == "sqlite":
            return sa.func.date(column, f"-{int(days)} days")
        return column - sa.literal_column(str(int(days)))


class RecordRows:
    """The rows an evaluation scans: the records themselves, plus (for models with attribution) employees' records
    once more under the firm that employed the person on the record's decision date."""

    COLUMNS = (
        "id",
        "subject_id",
        "resource_id",
        "doc_no",
        "severity",
        "decision_date",
        "valid_from",
        "valid_to",
        "payload",
        "status",
        "repaired_at",
        "objection_open",
    )

    def __init__(self, *, employee_roles: tuple[str, ...] = ()) -> None:
        record: sa.Table = Record.__table__  # type: ignore[assignment]
        cols = [record.c[name] for name in self.COLUMNS]
        self.c: Any
        if not employee_roles:
            self.table: sa.FromClause = record
            self.eval_subject: ColumnElement[int] = record.c.subject_id
            self.via: ColumnElement[Any] = sa.null()
            self.c = record.c
            return
        from xinyong.evaluation.models import Employment

        emp = Employment.__table__
        own = sa.select(record.c.subject_id.label("eval_subject_id"), sa.null().label("via_person_id"), *cols)
        employed = (
            sa.select(emp.c.firm_id.label("eval_subject_id"), record.c.subject_id.label("via_person_id"), *cols)
            .select_from(record.join(emp, emp.c.person_id == record.c.subject_id))
            .where(
                emp.c.role.in_(employee_roles),
                record.c.decision_date >= emp.c.start_on,
                sa.or_(emp.c.end_on.is_(None), record.c.decision_date <= emp.c.end_on),
            )
        )
        sub = sa.union_all(own, employed).subquery("attributed")
        self.table = sub
        self.eval_subject = sub.c.eval_subject_id
        self.via = sub.c.via_person_id
        self.c = sub.c

    def in_play(self) -> ColumnElement[bool]:
        """A record counts only while active and not repaired (repair removes deductions at once)."""
        return sa.and_(self.c.status == RecordStatus.ACTIVE.value, self.c.repaired_at.is_(None))


class IndicatorSource(Protocol):
    def record_condition(self, ind: Indicator, rows: RecordRows, ctx: Context) -> ColumnElement[bool] | None: ...

    def subject_count(self, ind: Indicator, subject: sa.Table, ctx: Context) -> ColumnElement[int] | None: ...

    def items(self, ind: Indicator, ctx: Context) -> sa.Select[Any] | None: ...


class RecordSource:
    """Records of some resources, filtered by severity, a window on the decision date, validity today, behaviour."""

    def record_condition(self, ind: Indicator, rows: RecordRows, ctx: Context) -> ColumnElement[bool] | None:
        c = rows.c
        conds: list[ColumnElement[bool]] = [c.resource_id.in_(ctx.ids(ind.resources))]
        if ind.severity:
            conds.append(c.severity.in_(ind.severity))
        if ind.window_months:
            conds.append(c.decision_date > add_months(ctx.today, -ind.window_months))
            conds.append(c.decision_date <= ctx.today)
        if ind.valid_today:
            conds.append(sa.or_(c.valid_from.is_(None), c.valid_from <= ctx.today))
            conds.append(sa.or_(c.valid_to.is_(None), c.valid_to >= ctx.today))
        if ind.behaviour_field and ind.behaviour_values:
            conds.append(c.payload[ind.behaviour_field].as_string().in_(ind.behaviour_values))
        if ind.rectification_days and ind.behaviour_field:
            conds.append(~sa.exists(self._earlier_same_behaviour(ind, rows, ctx)))
        return sa.and_(*conds)

    def _earlier_same_behaviour(self, ind: Indicator, rows: RecordRows, ctx: Context) -> sa.Select[Any]:
        """An earlier record of the same subject and behaviour whose rectification period covers this one."""
        assert ind.behaviour_field and ind.rectification_days
        earlier = Record.__table__.alias("earlier")
        c = rows.c
        return sa.select(sa.literal(1)).where(
            earlier.c.subject_id == c.subject_id,
            earlier.c.resource_id.in_(ctx.ids(ind.resources)),
            earlier.c.status == RecordStatus.ACTIVE.value,
            earlier.c.repaired_at.is_(None),
            earlier.c.payload[ind.behaviour_field].as_string() == c.payload[ind.behaviour_field].as_string(),
            sa.or_(
                earlier.c.decision_date < c.decision_date,
                sa.and_(earlier.c.decision_date == c.decision_date, earlier.c.id < c.id),
            ),
            earlier.c.decision_date >= ctx.minus_days(c.decision_date, ind.rectification_days),
        )

    def subject_count(self, ind: Indicator, subject: sa.Table, ctx: Context) -> ColumnElement[int] | None:
        return None

    def items(self, ind: Indicator, ctx: Context) -> sa.Select[Any] | None:
        return None


class ListEntrySource(RecordSource):
    """Entries in force of the lists domain, plus records of the named resources that have no entry (yet)."""

    def record_condition(self, ind: Indicator, rows: RecordRows, ctx: Context) -> ColumnElement[bool] | None:
        if not ind.resources:
            return None
        condition = super().record_condition(ind, rows, ctx)
        assert condition is not None
        # A record that became an entry counts through the entry (whatever its state): never twice.
        return sa.and_(
            condition,
            ~sa.exists().where(LIST_ENTRY.c.record_id == rows.c.id, LIST_ENTRY.c.subject_id == rows.c.subject_id),
        )

    def items(self, ind: Indicator, ctx: Context) -> sa.Select[Any] | None:
        query = (
            sa.select(
                ListEntry.subject_id.label("subject_id"),
                ListEntry.id.label("item_id"),
                ListType.name.label("label"),
                ListEntry.listed_on.label("day"),
                ListEntry.record_id.label("record_id"),
                ListEntry.doc_no.label("doc_no"),
            )
            .select_from(ListEntry)
            .join(ListType, ListType.id == ListEntry.list_type_id)
            .outerjoin(Record, sa.and_(Record.id == ListEntry.record_id, Record.subject_id == ListEntry.subject_id))
            .where(ListEntry.list_type_id.in_(ctx.list_type_ids(ind)), active_clause(ctx.today))
        )
        return query  # type: ignore[return-value]


class YearsInOperationSource:
    """Full years since ``subject.established_on``, up to ``max_years`` — one CASE per year so both engines agree."""

    def record_condition(self, ind: Indicator, rows: RecordRows, ctx: Context) -> ColumnElement[bool] | None:
        return None

    def subject_count(self, ind: Indicator, subject: sa.Table, ctx: Context) -> ColumnElement[int] | None:
        years = ind.max_years or 1
        terms = [
            sa.case((subject.c.established_on <= add_months(ctx.today, -12 * k), 1), else_=0)
            for k in range(1, years + 1)
        ]
        return sum(terms[1:], terms[0])

    def items(self, ind: Indicator, ctx: Context) -> sa.Select[Any] | None:
        return None


class NothingYetSource:
    """Counts zero: the commitments domain (issue 5) does not exist yet. Register a real source to replace it."""

    def record_condition(self, ind: Indicator, rows: RecordRows, ctx: Context) -> ColumnElement[bool] | None:
        return None

    def subject_count(self, ind: Indicator, subject: sa.Table, ctx: Context) -> ColumnElement[int] | None:
        return sa.literal(0)

    def items(self, ind: Indicator, ctx: Context) -> sa.Select[Any] | None:
        return None


_SOURCES: dict[str, IndicatorSource] = {
    "records": RecordSource(),
    "list_entries": ListEntrySource(),
    "years_in_operation": YearsInOperationSource(),
    "commitments_kept": NothingYetSource(),
    "commitments_broken": NothingYetSource(),
}


def register(name: str, source: IndicatorSource) -> None:
    """Point an indicator source at another table (e.g. the lists domain's entries, the commitments)."""
    _SOURCES[name] = source


def get(name: str) -> IndicatorSource:
    from xinyong import hooks

    hooks.install()  # the domains' sources (commitments) replace the placeholders
    return _SOURCES[name]


def full_years(established_on: dt.date | None, today: dt.date, max_years: int) -> int:
    """The Python twin of ``YearsInOperationSource.subject_count`` (for explanations)."""
    if established_on is None:
        return 0
    return sum(1 for k in range(1, max_years + 1) if established_on <= add_months(today, -12 * k))


SUBJECT: sa.Table = Subject.__table__  # type: ignore[assignment]
LIST_ENTRY: sa.Table = ListEntry.__table__  # type: ignore[assignment]
