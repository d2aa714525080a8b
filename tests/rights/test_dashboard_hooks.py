"""The dashboard's 异议与修复按期办结率 chart and the console's menu, on hand-built objections and repairs whose
deadlines cross the National Day holiday 2026 and the 调休 Saturday 2026-10-10."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy.orm import Session

from tests import factories
from tests.rights.conftest import OFFICE, World
from xinyong.console.sections import SECTIONS
from xinyong.monitoring import metrics
from xinyong.monitoring.metrics import Scope
from xinyong.objections import service as objections
from xinyong.repair import service as repairs


def _object(session: Session, world: World, record_id: int, *, other: bool = False) -> objections.Objection:
    return objections.submit(
        session=session, actor=world.other_actor if other else world.subject_actor, record_id=record_id,
        reasons="处罚决定书载明的金额与记录不符", request="correct",
    )  # fmt: skip


def test_handled_within_deadline_per_month_and_open_overdue_items(
    session: Session, world: World, set_today: Callable[[dt.date], None]
) -> None:
    second = factories.record(
        session, subject_row=world.company, unit_row=world.unit, decision_date=dt.date(2026, 3, 2)
    )
    third = factories.record(session, subject_row=world.company, unit_row=world.unit, decision_date=dt.date(2026, 3, 9))

    set_today(dt.date(2026, 9, 28))  # Monday: accept by Tuesday 09-29
    late_refusal = _object(session, world, second.id)
    assert late_refusal.accept_due == dt.date(2026, 9, 29)
    set_today(dt.date(2026, 9, 29))
    repair = repairs.submit(
        session=session, actor=world.subject_actor, statement="已缴清罚款并完成整改", record_id=world.penalty.id,
        evidence={"obligations": "罚款已于2026年2月1日缴清"}, sign_commitment=True,
    )  # fmt: skip
    assert repair.accept_due == dt.date(2026, 10, 8)
    set_today(dt.date(2026, 9, 30))
    objections.refuse(session=session, actor=OFFICE, objection_id=late_refusal.id, reason="异议理由与记录无关")
    answered = _object(session, world, world.others_penalty.id, other=True)
    assert answered.accept_due == dt.date(2026, 10, 8)  # 1–7 October is the holiday

    set_today(dt.date(2026, 10, 8))
    objections.accept(session=session, actor=OFFICE, objection_id=answered.id)
    objections.forward(session=session, actor=OFFICE, objection_id=answered.id)
    assert answered.answer_due == dt.date(2026, 10, 21)
    set_today(dt.date(2026, 10, 9))  # Friday: the next working day is the 调休 Saturday
    repairs.accept(session=session, actor=OFFICE, application_id=repair.id)
    assert repair.decide_due == dt.date(2026, 10, 15)
    waiting = _object(session, world, third.id)
    assert waiting.accept_due == dt.date(2026, 10, 10)
    set_today(dt.date(2026, 10, 10))
    objections.verify(session=session, actor=world.unit_actor, objection_id=answered.id, outcome="upheld",
                      note="经核对原决定书，记录无误")  # fmt: skip
    set_today(dt.date(2026, 10, 12))
    repairs.give_opinion(session=session, actor=world.unit_actor, application_id=repair.id, agree=True, note="同意")
    set_today(dt.date(2026, 10, 16))  # one working day late
    repairs.approve(session=session, actor=OFFICE, application_id=repair.id)
    set_today(dt.date(2026, 10, 21))  # the last day: on time
    objections.answer(session=session, actor=OFFICE, objection_id=answered.id, text="经核实，记录无误，予以维持")

    chart = metrics.compute(
        "objection_repair_deadlines", session=session, scope=Scope(dt.date(2026, 9, 1), dt.date(2026, 10, 31))
    )
    assert chart.available and chart.categories == ["2026-09", "2026-10"]
    assert [(s.name, s.values) for s in chart.series] == [("异议", [0.0, 100.0]), ("信用修复申请", [None, 0.0])]
    assert chart.tables[0].rows == [
        ["2026-09", "异议", 1, 0, 1, 0.0],
        ["2026-10", "异议", 1, 1, 0, 100.0],
        ["2026-10", "信用修复申请", 1, 0, 1, 0.0],
    ]
    # Still waiting for acceptance, due on the 调休 Saturday: 11 days overdue on 10-21.
    assert chart.tables[1].rows == [["异议", waiting.no, "已提交，待受理", "受理", "信用办", "2026-10-10", 11]]

    october = metrics.compute("objection_repair_deadlines", session=session, scope=Scope.month("2026-10"))
    assert october.tables[0].rows == chart.tables[0].rows[1:]
    elsewhere = metrics.compute(
        "objection_repair_deadlines", session=session, scope=Scope.month("2026-10", region="370303")
    )
    assert elsewhere.tables[0].rows == [] and elsewhere.tables[1].rows == []


def test_the_office_queue_is_in_the_console_menu() -> None:
    metrics.metric_keys()  # installs the hooks
    assert SECTIONS["rights_queue"].href == "/office/rights"
