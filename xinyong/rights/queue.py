"""The credit office's queue: every open objection and repair application with the deadline of the step it waits
for, and overdue alerts.

For the console (monitoring of "objection and repair handling within deadline" and deadline alerts):
``open_items(session=…)`` returns ``DueItem`` rows (kind, number, status, who must act, step, due date, provisional,
overdue, days left), most urgent first; ``raise_overdue_alerts(session=…)`` writes one outbox message per overdue
step (to the credit office, and to the unit when the unit is late), idempotently; ``handled_on_time(session=…)``
gives the share of closed items that met their deadlines.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from xinyong.core import clock
from xinyong.objections import service as objections
from xinyong.objections.models import CLOSED, Objection
from xinyong.repair import service as repairs
from xinyong.repair.models import OPEN_REPAIR, RepairApplication
from xinyong.rights import outbox
from xinyong.rights.deadlines import DueItem
from xinyong.subjects.models import Subject


def open_items(
    *, session: Session, today: dt.date | None = None, unit_id: int | None = None, region: str | None = None
) -> list[DueItem]:
    """Open items, oldest deadline first; ``unit_id`` keeps a source unit's, ``region`` a district's subjects'."""
    today = today or clock.today()
    items = objections.due_items(session=session, today=today) + repairs.due_items(session=session, today=today)
    if unit_id is not None:
        items = [i for i in items if i.source_unit_id == unit_id]
    if region and items:
        ids = {i.subject_id for i in items}
        inside = set(session.scalars(sa.select(Subject.id).where(Subject.id.in_(ids), Subject.region == region)))
        items = [i for i in items if i.subject_id in inside]
    return sorted(items, key=lambda i: (i.due, i.kind, i.id))


def raise_overdue_alerts(*, session: Session, today: dt.date | None = None) -> int:
    """One alert per overdue step (key ``overdue:<kind>:<id>:<step>``): running it again adds nothing."""
    count = 0
    for item in open_items(session=session, today=today):
        if not item.overdue:
            continue
        what = "异议" if item.kind == "objection" else "信用修复申请"
        title = f"超期提醒：{what} {item.no} 未在 {item.due} 前{item.step_label}"
        body = f"当前状态：{item.status_label}；应由{item.waiting_for}办理。"
        outbox.enqueue(
            session=session, key=f"overdue:{item.kind}:{item.id}:{item.step}", kind="overdue", title=title,
            body=body, to_office=True, unit_id=item.source_unit_id if item.waiting_for == "信息提供单位" else None,
            ref_type=item.kind, ref_id=item.id,
        )  # fmt: skip
        row = session.get(Objection if item.kind == "objection" else RepairApplication, item.id)
        if isinstance(row, (Objection, RepairApplication)):
            row.overdue_alerted = item.step
        count += 1
    session.flush()
    return count


@dataclass(frozen=True)
class Timeliness:
    closed: int
    on_time: int

    @property
    def rate(self) -> float | None:
        return self.on_time / self.closed if self.closed else None


def closed_items(
    *, session: Session, start: dt.date | None = None, end: dt.date | None = None, region: str | None = None
) -> list[tuple[str, dt.date, dt.date]]:
    """``(kind, closed on, deadline)`` of every closed objection (answered by ``answer_due``, refused by
    ``accept_due``) and decided repair application (decided by ``decide_due``, declined by ``accept_due``), by
    China-time day; ``start``/``end`` (inclusive) bound the closing day, ``region`` the subject's district."""
    items: list[tuple[str, dt.date, dt.date]] = []
    queries: list[tuple[str, Any, Any, Any]] = [
        ("objection", Objection, Objection.closed_at, Objection.status.in_(list(CLOSED))),
        ("repair", RepairApplication, RepairApplication.decided_at, RepairApplication.status.not_in(list(OPEN_REPAIR))),
    ]
    for kind, model, closed_column, closed in queries:
        query = sa.select(model).where(closed)
        if start is not None:
            query = query.where(closed_column >= dt.datetime.combine(start, dt.time(), clock.CHINA).astimezone(dt.UTC))
        if end is not None:
            query = query.where(
                closed_column
                < dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), clock.CHINA).astimezone(dt.UTC)
            )
        if region:
            query = query.join(Subject, Subject.id == model.subject_id).where(Subject.region == region)
        for row in session.scalars(query):
            if isinstance(row, Objection):
                assert row.closed_at is not None
                items.append((kind, row.closed_at.astimezone(clock.CHINA).date(), row.answer_due or row.accept_due))
            else:
                assert row.decided_at is not None
                items.append((kind, row.decided_at.astimezone(clock.CHINA).date(), row.decide_due or row.accept_due))
    return items


def handled_on_time(
    *, session: Session, start: dt.date | None = None, end: dt.date | None = None, region: str | None = None
) -> dict[str, Timeliness]:
    """Closed items and how many met their deadline, per kind (``objection``, ``repair``)."""
    items = closed_items(session=session, start=start, end=end, region=region)
    return {kind: total for (kind, _month), total in _tally(items, by_month=False).items()}


def handled_on_time_by_month(
    *, session: Session, start: dt.date | None = None, end: dt.date | None = None, region: str | None = None
) -> dict[tuple[str, str], Timeliness]:
    """The same, per kind and month of closing (``YYYY-MM``, China time)."""
    return _tally(closed_items(session=session, start=start, end=end, region=region), by_month=True)


def _tally(items: list[tuple[str, dt.date, dt.date]], *, by_month: bool) -> dict[tuple[str, str], Timeliness]:
    # Both kinds always appear in the totals, even with nothing closed (the rate is then None).
    counts: dict[tuple[str, str], list[int]] = {} if by_month else {("objection", ""): [0, 0], ("repair", ""): [0, 0]}
    for kind, day, limit in items:
        line = counts.setdefault((kind, f"{day:%Y-%m}" if by_month else ""), [0, 0])
        line[0] += 1
        line[1] += day <= limit
    return {key: Timeliness(closed, on_time) for key, (closed, on_time) in sorted(counts.items())}
