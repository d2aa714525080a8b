"""Objections through every state, with deadlines across the National Day holiday, and who may do what."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests.rights.conftest import OFFICE, World
from xinyong.audit.models import AuditEvent
from xinyong.catalog.models import Resource
from xinyong.core.errors import Conflict, Forbidden, InvalidInput
from xinyong.disclosure import Viewer, decide
from xinyong.objections import service as objections
from xinyong.objections.models import ObjectionStatus
from xinyong.records.models import RecordVersion
from xinyong.rights import queue
from xinyong.rights.models import OutboxMessage, RightsEvent


def _file(session: Session, world: World, **kw: object) -> int:
    objection = objections.submit(
        session=session, actor=world.subject_actor, record_id=world.penalty.id,
        reasons="罚款金额记录有误，决定书载明为2万元", request="correct", **kw,  # type: ignore[arg-type]
    )  # fmt: skip
    return objection.id


def test_correction_walks_every_state_with_deadlines_across_national_day(
    session: Session, world: World, set_today: Callable[[dt.date], None]
) -> None:
    set_today(dt.date(2026, 9, 30))  # Wednesday before the holiday
    oid = _file(session, world, requested_changes={"CF_NR": "罚款人民币2万元"})
    row = objections.get(session=session, objection_id=oid)
    assert row.status == ObjectionStatus.SUBMITTED
    assert row.accept_due == dt.date(2026, 10, 8)  # Oct 1–7 holiday
    assert not row.deadline_provisional
    assert world.penalty.objection_open is False  # not yet accepted

    set_today(dt.date(2026, 10, 8))
    objections.accept(session=session, actor=OFFICE, objection_id=oid)
    # 10 working days after Oct 8: 9, 10 (调休 Saturday), 12–16, 19, 20, 21
    assert row.answer_due == dt.date(2026, 10, 21)
    assert world.penalty.objection_open is True
    resource = session.get(Resource, world.penalty.resource_id)
    assert decide(world.penalty, resource, Viewer.public()).mark == "异议处理中"

    objections.forward(session=session, actor=OFFICE, objection_id=oid)
    assert row.status == ObjectionStatus.FORWARDED
    assert row.verify_due == dt.date(2026, 10, 14)  # 9, 10 (Saturday), 12, 13, 14

    set_today(dt.date(2026, 10, 10))  # the 调休 Saturday is a working day; the unit answers on it
    version_before = world.penalty.version
    objections.verify(
        session=session, actor=world.unit_actor, objection_id=oid, outcome="corrected",
        note="经核对原决定书，金额录入错误", changes={"CF_NR": "罚款人民币2万元"},
    )  # fmt: skip
    assert row.status == ObjectionStatus.CORRECTED
    assert world.penalty.payload["CF_NR"] == "罚款人民币2万元"
    assert world.penalty.version == version_before + 1
    kept = session.scalar(sa.select(RecordVersion).where(RecordVersion.record_id == world.penalty.id))
    assert kept is not None and kept.reason == "objection" and kept.payload["CF_NR"] == "罚款人民币5万元"
    assert world.penalty.objection_open is True  # still open until answered

    objections.answer(session=session, actor=OFFICE, objection_id=oid, text="已更正为罚款人民币2万元")
    assert row.status == ObjectionStatus.ANSWERED
    assert world.penalty.objection_open is False
    assert row.closed_at is not None

    steps = session.scalars(sa.select(RightsEvent.step).where(RightsEvent.item_id == oid).order_by(RightsEvent.id))
    assert list(steps) == ["submitted", "accepted", "forwarded", "corrected", "answered"]
    audit = session.execute(
        sa.select(AuditEvent.action, AuditEvent.actor, AuditEvent.at)
        .where(AuditEvent.target_type == "objection", AuditEvent.target_id == str(oid))
        .order_by(AuditEvent.id)
    ).all()
    assert [(a, who) for a, who, _ in audit] == [
        ("objection.submitted", "company-user"), ("objection.accepted", "officer-li"),
        ("objection.forwarded", "officer-li"), ("objection.corrected", "unit-a"), ("objection.answered", "officer-li"),
    ]  # fmt: skip
    assert all(at is not None for *_, at in audit)
    kinds = set(session.scalars(sa.select(OutboxMessage.kind).where(OutboxMessage.ref_id == oid)))
    assert {"accepted", "forwarded", "verified", "answered"} <= kinds


def test_deletion_hides_the_record_and_keeps_it(session: Session, world: World) -> None:
    oid = _file(session, world)
    objections.accept(session=session, actor=OFFICE, objection_id=oid)
    objections.forward(session=session, actor=OFFICE, objection_id=oid)
    objections.verify(
        session=session, actor=world.unit_actor, objection_id=oid, outcome="deleted", note="处罚决定已撤销"
    )
    assert world.penalty.status == "deleted"
    resource = session.get(Resource, world.penalty.resource_id)
    assert not decide(world.penalty, resource, Viewer.public()).visible
    assert not decide(world.penalty, resource, Viewer.shared()).visible
    assert (
        session.scalar(sa.select(RecordVersion.status).where(RecordVersion.record_id == world.penalty.id)) == "active"
    )
    objections.answer(session=session, actor=OFFICE, objection_id=oid, text="经核实已删除")


def test_upheld_keeps_the_record_unchanged(session: Session, world: World) -> None:
    oid = _file(session, world)
    objections.accept(session=session, actor=OFFICE, objection_id=oid)
    objections.forward(session=session, actor=OFFICE, objection_id=oid)
    objections.verify(session=session, actor=world.unit_actor, objection_id=oid, outcome="upheld", note="记录无误")
    assert world.penalty.version == 1 and world.penalty.status == "active"
    objections.answer(session=session, actor=OFFICE, objection_id=oid, text="经核实信息无误，予以维持")
    assert world.penalty.objection_open is False


def test_refusal_needs_a_reason_never_marks_the_record_and_allows_a_new_objection(
    session: Session, world: World
) -> None:
    oid = _file(session, world)
    with pytest.raises(InvalidInput):
        objections.refuse(session=session, actor=OFFICE, objection_id=oid, reason=" ")
    objections.refuse(session=session, actor=OFFICE, objection_id=oid, reason="异议理由与该信息无关")
    row = objections.get(session=session, objection_id=oid)
    assert row.status == ObjectionStatus.REFUSED and world.penalty.objection_open is False
    with pytest.raises(Conflict):
        objections.accept(session=session, actor=OFFICE, objection_id=oid)
    again = _file(session, world)
    assert again != oid


def test_one_open_objection_per_record(session: Session, world: World) -> None:
    _file(session, world)
    with pytest.raises(Conflict):
        _file(session, world)


def test_a_subject_cannot_object_to_anothers_record(session: Session, world: World) -> None:
    with pytest.raises(Forbidden):
        objections.submit(
            session=session, actor=world.other_actor, record_id=world.penalty.id, reasons="这不是我的记录但我要异议"
        )
    with pytest.raises(Forbidden):
        objections.get(session=session, objection_id=_file(session, world), actor=world.other_actor)


def test_another_unit_cannot_verify_and_does_not_see_it(session: Session, world: World) -> None:
    oid = _file(session, world)
    objections.accept(session=session, actor=OFFICE, objection_id=oid)
    objections.forward(session=session, actor=OFFICE, objection_id=oid)
    with pytest.raises(Forbidden):
        objections.verify(session=session, actor=world.other_unit_actor, objection_id=oid, outcome="upheld", note="x")
    assert objections.listing(session=session, actor=world.other_unit_actor) == []
    assert [o.id for o in objections.listing(session=session, actor=world.unit_actor)] == [oid]
    with pytest.raises(Forbidden):
        objections.accept(session=session, actor=world.unit_actor, objection_id=oid)


def test_corrections_are_checked_by_field(session: Session, world: World) -> None:
    oid = _file(session, world)
    objections.accept(session=session, actor=OFFICE, objection_id=oid)
    objections.forward(session=session, actor=OFFICE, objection_id=oid)
    with pytest.raises(InvalidInput, match="NOPE"):
        objections.verify(session=session, actor=world.unit_actor, objection_id=oid, outcome="corrected", note="x",
                          changes={"NOPE": "1"})  # fmt: skip
    with pytest.raises(InvalidInput, match="decision_date"):
        objections.verify(session=session, actor=world.unit_actor, objection_id=oid, outcome="corrected", note="x",
                          changes={"decision_date": "2026/01/05"})  # fmt: skip
    objections.verify(session=session, actor=world.unit_actor, objection_id=oid, outcome="corrected", note="改为轻微",
                      changes={"severity": "minor"})  # fmt: skip
    assert world.penalty.severity == "minor"


def test_overdue_items_are_listed_and_alerted_once(
    session: Session, world: World, set_today: Callable[[dt.date], None]
) -> None:
    set_today(dt.date(2026, 9, 30))
    oid = _file(session, world)
    set_today(dt.date(2026, 10, 8))
    item = next(i for i in queue.open_items(session=session) if i.id == oid and i.kind == "objection")
    assert (item.step, item.due, item.overdue) == ("accept", dt.date(2026, 10, 8), False)
    set_today(dt.date(2026, 10, 9))
    item = next(i for i in queue.open_items(session=session) if i.id == oid and i.kind == "objection")
    assert item.overdue and item.waiting_for == "信用办" and item.days_left == -1
    assert queue.raise_overdue_alerts(session=session) >= 1
    queue.raise_overdue_alerts(session=session)
    alerts = session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.kind == "overdue", OutboxMessage.ref_id == oid)
    )
    assert len(list(alerts)) == 1


def test_a_year_without_a_known_schedule_gives_provisional_deadlines(
    session: Session, world: World, set_today: Callable[[dt.date], None]
) -> None:
    set_today(dt.date(2027, 9, 30))
    row = objections.get(session=session, objection_id=_file(session, world))
    assert row.deadline_provisional
    assert row.accept_due == dt.date(2027, 10, 1)  # weekends only


def test_a_district_office_handles_only_its_own_districts_subjects(session: Session, world: World) -> None:
    """A district credit office (account region set) sees and handles only the objections of its district's
    subjects; the city office sees all of them."""
    oid = _file(session, world)
    company_region = world.company.region
    assert company_region
    other_district = "370303" if company_region != "370303" else "370302"
    own = dataclasses.replace(OFFICE, name="district-own", region=company_region)
    foreign = dataclasses.replace(OFFICE, name="district-other", region=other_district)

    assert oid in [o.id for o in objections.listing(session=session, actor=own)]
    assert oid not in [o.id for o in objections.listing(session=session, actor=foreign)]
    assert oid in [i.id for i in queue.open_items(session=session, region=company_region) if i.kind == "objection"]
    assert oid not in [i.id for i in queue.open_items(session=session, region=other_district)]
    with pytest.raises(Forbidden, match="本辖区"):
        objections.accept(session=session, actor=foreign, objection_id=oid)
    objections.accept(session=session, actor=own, objection_id=oid)
    assert objections.get(session=session, objection_id=oid).status == ObjectionStatus.ACCEPTED
    assert oid in [o.id for o in objections.listing(session=session, actor=OFFICE)]
