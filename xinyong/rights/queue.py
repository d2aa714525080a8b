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

import sqlalchemy as sa
from sqlalchemy.orm import Session

from xinyong.core import clock
from xinyong.objections import service as objections
from xinyong.objections.models import CLOSED, Objection
from xinyong.repair import service as repairs
from xinyong.repair.models import OPEN_REPAIR, RepairApplication
from xinyong.rights import outbox
from xinyong.rights.deadlines import DueItem


def open_items(*, session: Session, today: dt.date | None = None, unit_id: int | None = None) -> list[DueItem]:
    today = today or clock.today()
    items = objections.due_items(session=session, today=today) + repairs.due_items(session=session, today=today)
    if unit_id is not None:
        items = [i for i in items if i.source_unit_id == unit_id]
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


def handled_on_time(*, session: Session) -> dict[str, Timeliness]:
    """Closed objections answered by ``answer_due`` (refusals by ``accept_due``) and decided repair applications
    decided by ``decide_due`` (declines by ``accept_due``), counted by China-time day."""
    result: dict[str, Timeliness] = {}
    done = on_time = 0
    for row in session.scalars(sa.select(Objection).where(Objection.status.in_(list(CLOSED)))):
        assert row.closed_at is not None
        limit = row.answer_due or row.accept_due
        done += 1
        on_time += row.closed_at.astimezone(clock.CHINA).date() <= limit
    result["objection"] = Timeliness(done, on_time)
    done = on_time = 0
    for rep in session.scalars(sa.select(RepairApplication).where(RepairApplication.status.not_in(list(OPEN_REPAIR)))):
        assert rep.decided_at is not None
        limit = rep.decide_due or rep.accept_due
        done += 1
        on_time += rep.decided_at.astimezone(clock.CHINA).date() <= limit
    result["repair"] = Timeliness(done, on_time)
    return result
