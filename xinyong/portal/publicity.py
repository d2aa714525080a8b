"""双公示 lists (latest published licences and penalties, with filters) and the portal's headline figures."""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from xinyong.catalog.codelists import LICENSE_CATEGORIES, PENALTY_CATEGORIES
from xinyong.catalog.models import Resource, SourceUnit
from xinyong.core import clock
from xinyong.core.errors import InvalidInput
from xinyong.disclosure import Decision, Viewer, decide, get_rules, public_filter
from xinyong.records.models import Record
from xinyong.subjects.models import Subject
from xinyong.subjects.profile import record_fields
from xinyong.subjects.search import portal_region, subject_ref

KINDS = {"licenses": ("license", "行政许可"), "penalties": ("penalty", "行政处罚")}
LICENSE_CATEGORY_FILTER = {c: c for c in LICENSE_CATEGORIES}
CATEGORY_ROLE = {"license": "XK_XKLB", "penalty": "CF_CFLB"}
COUNT_CAP = 10_000


@dataclass(frozen=True)
class PublicityEntry:
    record: Record
    resource: Resource
    unit_name: str
    subject_code: str | None
    decision: Decision
    fields: list[tuple[str, str]]


@dataclass(frozen=True)
class PublicityPage:
    kind: str
    title: str
    items: list[PublicityEntry]
    total: int
    capped: bool
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return (self.total + self.page_size - 1) // self.page_size


def categories(kind: str) -> dict[str, str]:
    return PENALTY_CATEGORIES if kind == "penalties" else LICENSE_CATEGORY_FILTER


def units(*, session: Session) -> list[SourceUnit]:
    return list(session.scalars(sa.select(SourceUnit).where(SourceUnit.active.is_(True)).order_by(SourceUnit.name)))


def latest(
    *,
    session: Session,
    kind: str,
    unit: str | None = None,
    category: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    page: int = 1,
    page_size: int = 20,
) -> PublicityPage:
    """Published records of one 双公示 kind, newest decision first (ties by id, so pages are stable)."""
    if kind not in KINDS:
        raise InvalidInput(f"未知的公示类别“{kind}”（可选 licenses、penalties）")
    nature, title = KINDS[kind]
    resources = list(session.scalars(sa.select(Resource).where(Resource.nature == nature)))
    where = [public_filter(session=session, resources=resources)]
    if unit:
        unit_row = session.scalar(sa.select(SourceUnit).where(SourceUnit.uscc == unit.strip().upper()))
        if unit_row is None:
            raise InvalidInput(f"未找到代码为 {unit} 的信息提供单位")
        where.append(Record.source_unit_id == unit_row.id)
    if category:
        if category not in categories(kind):
            raise InvalidInput(f"未知的类别“{category}”")
        where.append(Record.payload[CATEGORY_ROLE[nature]].as_string().contains(category, autoescape=True))
    if date_from:
        where.append(Record.decision_date >= date_from)
    if date_to:
        where.append(Record.decision_date <= date_to)
    region = portal_region()
    if region:
        where.append(Record.region.like(f"{region}%"))
    counted = session.scalar(
        sa.select(sa.func.count()).select_from(sa.select(Record.id).where(*where).limit(COUNT_CAP + 1).subquery())
    )
    total = int(counted or 0)
    page = max(page, 1)
    rows = session.execute(
        sa.select(Record, Resource, SourceUnit.name, Subject)
        .join(Resource, Resource.id == Record.resource_id)
        .join(SourceUnit, SourceUnit.id == Record.source_unit_id)
        .outerjoin(Subject, Subject.id == Record.subject_id)
        .where(*where)
        .order_by(Record.decision_date.desc(), Record.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    rules, today, public = get_rules(), clock.today(), Viewer.public()
    items = [
        PublicityEntry(
            record,
            resource,
            unit_name,
            subject_ref(subject) if subject is not None else None,
            decide(record, resource, public, today=today, rules=rules),
            record_fields(record, resource, masked=True),
        )
        for record, resource, unit_name, subject in rows
    ]
    return PublicityPage(kind, title, items, min(total, COUNT_CAP), total > COUNT_CAP, page, page_size)


@dataclass(frozen=True)
class Figures:
    subjects: int
    records: int
    last_update: dt.datetime | None


_figures: dict[str, tuple[float, Figures]] = {}
_figures_lock = threading.Lock()
FIGURES_SECONDS = 60.0


def figures(*, session: Session) -> Figures:
    """Headline figures of the home page; counted at most once a minute per database (counting millions of rows on
    every visit would dominate the page's cost)."""
    key = str(session.get_bind().engine.url) + str(clock.today())
    with _figures_lock:
        cached = _figures.get(key)
        if cached and time.monotonic() - cached[0] < FIGURES_SECONDS:
            return cached[1]
    result = Figures(
        subjects=int(session.scalar(sa.select(sa.func.count()).select_from(Subject)) or 0),
        records=int(session.scalar(sa.select(sa.func.count()).select_from(Record)) or 0),
        last_update=session.scalar(sa.select(sa.func.max(Record.updated_at))),
    )
    with _figures_lock:
        _figures[key] = (time.monotonic(), result)
    return result


def forget_figures() -> None:
    with _figures_lock:
        _figures.clear()
