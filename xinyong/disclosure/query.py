"""The disclosure rules as SQL: a WHERE clause over ``record`` selecting exactly what ``engine.decide`` shows.

Built from the same ``DisclosureRules`` objects and the catalog rows, for list queries that cannot afford to decide
record by record (latest 双公示, counts, search). Month arithmetic is done in Python (``earliest_visible_decision``)
and compared with the indexed ``decision_date``, so SQLite and PostgreSQL give the same answer at month ends.
``tests/disclosure/test_query.py`` cross-checks this filter against ``decide`` on a large matrix on both engines.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from xinyong.catalog.models import Resource
from xinyong.core import clock
from xinyong.disclosure.engine import NATURAL_PERSON_KINDS, Viewer, ViewerKind
from xinyong.disclosure.rules import DisclosureRules, get_rules
from xinyong.records.models import Record, RecordStatus


def _not_shortened(today: dt.date) -> ColumnElement[bool]:
    return sa.or_(Record.publish_until.is_(None), Record.publish_until >= today)


def _window_clause(
    resource: Resource, rules: DisclosureRules, today: dt.date, *, honour_published_flag: bool
) -> ColumnElement[bool]:
    """The record of ``resource`` is within its period today (and, for licences, reported valid)."""
    mode = rules.mode_of(resource.nature)
    if mode == "severity_window":
        table = rules.severity_table(resource.code)
        known = list(table)
        effective = sa.case((Record.severity.in_(known), Record.severity), else_=sa.literal(rules.default_severity))
        per_severity = [
            sa.and_(effective == sev, Record.decision_date >= terms.earliest_visible_decision(today))
            for sev, terms in table.items()
            if terms.published or not honour_published_flag
        ]
        if not per_severity:
            return sa.false()
        return sa.and_(
            Record.decision_date.is_not(None),
            Record.decision_date <= today,
            sa.or_(*per_severity),
            _not_shortened(today),
        )
    if mode == "licence":
        start = sa.func.coalesce(Record.valid_from, Record.decision_date)
        clauses = [
            start.is_not(None),
            start <= today,
            sa.or_(Record.valid_to.is_(None), Record.valid_to >= today),
            _not_shortened(today),
        ]
        field = (resource.roles or {}).get(rules.licence_status_role)
        if field:
            status = sa.func.coalesce(
                sa.func.nullif(Record.payload[field].as_string(), ""), rules.licence_valid_status[0]
            )
            clauses.append(status.in_(list(rules.licence_valid_status)))
        return sa.and_(*clauses)
    return sa.and_(
        Record.decision_date.is_not(None),
        Record.decision_date <= today,
        sa.or_(Record.valid_to.is_(None), Record.valid_to >= today),
        _not_shortened(today),
    )


def _usable_base() -> ColumnElement[bool]:
    return sa.and_(Record.status == RecordStatus.ACTIVE.value, Record.repaired_at.is_(None))


def _resources(session: Session, resources: Sequence[Resource] | None) -> Sequence[Resource]:
    return resources if resources is not None else session.scalars(sa.select(Resource)).all()


def public_filter(
    *,
    session: Session,
    today: dt.date | None = None,
    rules: DisclosureRules | None = None,
    resources: Sequence[Resource] | None = None,
) -> ColumnElement[bool]:
    """Records the public may see today. ``resources`` limits the clause to those catalog entries (fewer ORs)."""
    rules = rules or get_rules()
    today = today or clock.today()
    per_resource = []
    for resource in _resources(session, resources):
        if resource.disclosure_class != "public":
            continue
        clauses: list[ColumnElement[bool]] = [Record.resource_id == resource.id]
        if not resource.publish_natural_persons:
            clauses.append(Record.subject_kind.not_in(NATURAL_PERSON_KINDS))
        clauses.append(_window_clause(resource, rules, today, honour_published_flag=True))
        per_resource.append(sa.and_(*clauses))
    if not per_resource:
        return sa.false()
    return sa.and_(_usable_base(), sa.or_(*per_resource))


def shared_filter(
    *,
    session: Session,
    today: dt.date | None = None,
    rules: DisclosureRules | None = None,
    resources: Sequence[Resource] | None = None,
) -> ColumnElement[bool]:
    """Records a department with a sharing right may use today (every disclosure class, within the period)."""
    rules = rules or get_rules()
    today = today or clock.today()
    per_resource = [
        sa.and_(
            Record.resource_id == resource.id,
            _window_clause(resource, rules, today, honour_published_flag=False),
        )
        for resource in _resources(session, resources)
    ]
    if not per_resource:
        return sa.false()
    return sa.and_(_usable_base(), sa.or_(*per_resource))


def visible_filter(
    *,
    session: Session,
    viewer: Viewer,
    today: dt.date | None = None,
    rules: DisclosureRules | None = None,
    resources: Sequence[Resource] | None = None,
) -> ColumnElement[bool]:
    """The records ``viewer`` may see today, as a WHERE clause over ``record``."""
    if viewer.kind is ViewerKind.CREDIT_OFFICE:
        return sa.true()
    if viewer.kind is ViewerKind.SHARED:
        return shared_filter(session=session, today=today, rules=rules, resources=resources)
    public = public_filter(session=session, today=today, rules=rules, resources=resources)
    if viewer.kind is ViewerKind.SUBJECT and viewer.subject_id is not None:
        return sa.or_(Record.subject_id == viewer.subject_id, public)
    return public
