"""The rights domains' hooks (异议、信用修复、信用承诺、自主申报): the dashboard's deadline chart, the console's
queue, the worker's deadline alerts and outbox delivery, and subject merges.

Loaded by ``xinyong.hooks.install`` (web app, command line, worker). The report parts and the evaluation's
commitment sources live in ``xinyong.rights.report_parts`` and ``xinyong.commitments.indicators``."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from xinyong.accounts.models import Account
from xinyong.commitments import indicators
from xinyong.commitments.models import Commitment
from xinyong.console.sections import register_section
from xinyong.core import clock
from xinyong.declarations.models import SelfDeclaration
from xinyong.exchange.models import Authorisation
from xinyong.monitoring.charts import Chart, Series, Table
from xinyong.monitoring.metrics import Scope, pct, register_metric
from xinyong.monitoring.worker import daily, register_job
from xinyong.objections.models import Objection
from xinyong.repair.models import RepairApplication
from xinyong.rights import outbox, queue
from xinyong.rights.models import DishonestyNotice, OutboxMessage, Registration
from xinyong.subjects.models import Subject

KIND_LABELS = {"objection": "异议", "repair": "信用修复申请"}


# --- dashboard ---------------------------------------------------------------------------------------------------


@register_metric("objection_repair_deadlines")
def objection_repair_deadlines(session: Session, scope: Scope) -> Chart:
    """Objections and repair applications closed in each month, and how many within their working-day deadlines
    (``queue.handled_on_time_by_month``), plus the open items overdue today (``queue.open_items``)."""
    closed = queue.handled_on_time_by_month(session=session, start=scope.start, end=scope.end, region=scope.region)
    months = scope.months()
    rows: list[list[Any]] = []
    for month in months:
        for kind, label in KIND_LABELS.items():
            t = closed.get((kind, month))
            if t is not None:
                rows.append([month, label, t.closed, t.on_time, t.closed - t.on_time, pct(t.on_time, t.closed)])
    open_items = queue.open_items(session=session, region=scope.region)
    overdue = [i for i in open_items if i.overdue]
    provisional = any(i.provisional for i in open_items)
    return Chart(
        key="objection_repair_deadlines",
        title="异议与修复按期办结率",
        explanation=(
            f"各月办结的异议（答复或不予受理）与信用修复申请（决定或不予受理）中，在规定工作日期限内办结的比例"
            f"（{scope.label}，按办结日期统计）；节假日不计，调休上班日计入。"
        ),
        kind="vbar",
        x_label="办结月份",
        y_label="按期办结率（%）",
        categories=months,
        series=[
            Series(label, [pct(t.on_time, t.closed) if (t := closed.get((kind, m))) else None for m in months])
            for kind, label in KIND_LABELS.items()
        ],
        unit="%",
        threshold=100.0,
        threshold_label="目标 100%",
        tables=[
            Table("各月办结情况", ["月份", "类别", "办结", "按期", "超期", "按期率（%）"], rows),
            Table(
                f"当前超期未办结（截至 {clock.today()}）",
                ["类别", "编号", "状态", "待办环节", "办理方", "期限", "超期天数"],
                [
                    [
                        KIND_LABELS[i.kind],
                        i.no,
                        i.status_label,
                        i.step_label,
                        i.waiting_for,
                        f"{i.due}{'（暂定）' if i.provisional else ''}",
                        -i.days_left,
                    ]
                    for i in overdue
                ],
            ),
        ],
        note="标注“暂定”的期限所在年份尚无官方节假日安排，按仅扣除周末计算。" if provisional else "",
    )


# --- evaluation --------------------------------------------------------------------------------------------------

indicators.register()


# --- console -----------------------------------------------------------------------------------------------------

register_section(
    "rights_queue",
    "异议与修复",
    "/office/rights",
    "待办的异议、信用修复申请，办理期限与超期标记",
)


# --- worker ------------------------------------------------------------------------------------------------------


def every_quarter_hour(_today: dt.date) -> str:
    """A period per quarter of an hour (China time): notifications go out within minutes, not once a day."""
    now = clock.now().astimezone(clock.CHINA)
    return f"{now:%Y-%m-%dT%H}:{now.minute // 15 * 15:02d}"


def deadline_alerts(session: Session, _period: str) -> dict[str, Any]:
    return {"alerts": queue.raise_overdue_alerts(session=session)}


def outbox_delivery(session: Session, _period: str) -> dict[str, Any]:
    return dataclasses.asdict(outbox.deliver_outbox(session=session))


register_job("deadline_alerts", "异议、修复办理期限提醒", daily, deadline_alerts)
# After the alerts, so an alert raised in this round goes out in the same round.
register_job("outbox_delivery", "发送通知（发件箱）", every_quarter_hour, outbox_delivery)


# --- subject merges ----------------------------------------------------------------------------------------------
# Applications, commitments, declarations, notices and messages, the accounts bound to the subject and its
# authorisations all follow it. Commitments count in the evaluation, so both subjects are marked changed.


def _mover(column: Any, id_column: Any, *, touch: bool = False) -> tuple[Any, Any]:
    def assign(session: Session, ids: list[int], to_id: int) -> None:
        values: dict[str, Any] = {column.key: to_id}
        if "updated_at" in column.table.c:
            values["updated_at"] = clock.now()
        session.execute(sa.update(column.table).where(id_column.in_(ids)).values(values))
        if touch and ids:
            session.execute(sa.update(Subject).where(Subject.id == to_id).values(updated_at=clock.now()))

    def move(session: Session, from_id: int, to_id: int) -> list[int]:
        ids = list(session.scalars(sa.select(id_column).where(column == from_id)))
        assign(session, ids, to_id)
        return ids

    return move, assign


def _register_merge_hooks() -> None:
    from xinyong.console.service import MERGE_HOOKS

    for name, model, touch in (
        ("objections", Objection, False),
        ("repair_applications", RepairApplication, False),
        ("commitments", Commitment, True),
        ("self_declarations", SelfDeclaration, False),
        ("dishonesty_notices", DishonestyNotice, False),
        ("outbox_messages", OutboxMessage, False),
        ("registrations", Registration, False),
        ("subject_accounts", Account, False),
        ("exchange_authorisations", Authorisation, False),
    ):
        table: sa.Table = model.__table__  # type: ignore[assignment]
        MERGE_HOOKS[name] = _mover(table.c.subject_id, table.c.id, touch=touch)


_register_merge_hooks()
