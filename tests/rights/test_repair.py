"""Credit repair: eligibility after the minimum period, checklist, opinion, approval and refusal, re-application."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests import factories
from tests.rights.conftest import OFFICE, World
from xinyong.catalog.models import Resource
from xinyong.commitments.models import Commitment
from xinyong.core.errors import Conflict, Forbidden, InvalidInput
from xinyong.disclosure import Viewer, decide
from xinyong.lists import service as lists
from xinyong.repair import service as repairs
from xinyong.repair.models import RepairStatus
from xinyong.rights import attachments
from xinyong.rights.models import RightsEvent

EVIDENCE = {"obligations": "罚款已于2026年2月1日缴清"}


def _apply(session: Session, world: World, **kw: object) -> int:
    args: dict[str, object] = {"record_id": world.penalty.id, "evidence": EVIDENCE, "sign_commitment": True}
    return repairs.submit(
        session=session,
        actor=world.subject_actor,
        statement="已缴清罚款并完成整改",
        **(args | kw),  # type: ignore[arg-type]
    ).id


def test_not_before_the_minimum_period(session: Session, world: World, set_today: Callable[[dt.date], None]) -> None:
    set_today(dt.date(2026, 4, 4))  # general: 3 months after 2026-01-05 → 2026-04-05
    with pytest.raises(Conflict, match="2026-04-05"):
        _apply(session, world)
    assert not repairs.eligibility(session=session, record_id=world.penalty.id)["eligible"]
    set_today(dt.date(2026, 4, 5))
    assert repairs.eligibility(session=session, record_id=world.penalty.id)["eligible"]
    assert _apply(session, world)


def test_approval_walks_every_state_and_ends_publication(
    session: Session, world: World, set_today: Callable[[dt.date], None]
) -> None:
    set_today(dt.date(2026, 9, 29))
    aid = _apply(session, world)
    row = repairs.get(session=session, application_id=aid)
    assert row.accept_due == dt.date(2026, 10, 8)  # Sep 30, then Oct 8 after the holiday
    commitment = session.get(Commitment, row.commitment_id)
    assert commitment is not None and commitment.type == "credit_repair" and world.penalty.doc_no in commitment.text
    set_today(dt.date(2026, 10, 9))
    repairs.accept(session=session, actor=OFFICE, application_id=aid)
    assert row.decide_due == dt.date(2026, 10, 15)  # 10 (调休 Saturday), 12, 13, 14, 15
    with pytest.raises(Conflict):  # the unit's opinion comes first
        repairs.approve(session=session, actor=OFFICE, application_id=aid)
    with pytest.raises(Forbidden):
        repairs.give_opinion(session=session, actor=world.other_unit_actor, application_id=aid, agree=True, note="同意")
    repairs.give_opinion(
        session=session, actor=world.unit_actor, application_id=aid, agree=True, note="已履行义务，同意修复"
    )
    repairs.approve(session=session, actor=OFFICE, application_id=aid, note="符合修复条件")
    assert row.status == RepairStatus.APPROVED
    assert world.penalty.repaired_at is not None and world.penalty.status == "active"
    resource = session.get(Resource, world.penalty.resource_id)
    assert not decide(world.penalty, resource, Viewer.public()).visible
    assert decide(world.penalty, resource, Viewer.credit_office()).visible  # kept in the archive
    steps = list(
        session.scalars(
            sa.select(RightsEvent.step).where(RightsEvent.item_type == "repair", RightsEvent.item_id == aid)
        )
    )
    assert steps == ["submitted", "accepted", "opinion", "approved"]
    with pytest.raises(Conflict, match="已完成信用修复"):
        _apply(session, world)


def test_refusal_and_reapplication_rule(session: Session, world: World, set_today: Callable[[dt.date], None]) -> None:
    set_today(dt.date(2026, 6, 15))
    aid = _apply(session, world)
    repairs.accept(session=session, actor=OFFICE, application_id=aid)
    repairs.give_opinion(session=session, actor=world.unit_actor, application_id=aid, agree=False, note="仍在整改期内")
    with pytest.raises(InvalidInput):
        repairs.refuse(session=session, actor=OFFICE, application_id=aid, reason="")
    repairs.refuse(session=session, actor=OFFICE, application_id=aid, reason="整改尚未完成")
    assert world.penalty.repaired_at is None
    set_today(dt.date(2026, 7, 14))  # 29 days later
    with pytest.raises(Conflict, match="2026-07-15"):
        _apply(session, world)
    set_today(dt.date(2026, 7, 15))
    again = _apply(session, world)
    repairs.decline(session=session, actor=OFFICE, application_id=again, reason="材料不全：缺少缴款凭证")
    assert repairs.get(session=session, application_id=again).status == RepairStatus.DECLINED


def test_checklist_follows_severity_and_must_be_complete_to_accept(
    session: Session, world: World, set_today: Callable[[dt.date], None]
) -> None:
    serious = factories.record(session, subject_row=world.company, unit_row=world.unit,
                               decision_date=dt.date(2025, 1, 10), severity="serious")  # fmt: skip
    codes = [i["code"] for i in repairs.eligibility(session=session, record_id=serious.id)["checklist"]]
    assert codes == ["obligations", "commitment", "training", "report"]
    with pytest.raises(InvalidInput, match="承诺"):
        _apply(session, world, record_id=serious.id, sign_commitment=False)
    aid = _apply(session, world, record_id=serious.id)
    with pytest.raises(Conflict, match="信用修复专题培训"):
        repairs.accept(session=session, actor=OFFICE, application_id=aid)
    pdf = b"%PDF-1.4 training certificate"
    for item in ("training", "report"):
        attachments.store(session=session, actor=world.subject_actor, owner_type="repair", owner_id=aid,
                          filename=f"{item}.pdf", content=pdf, item=item)  # fmt: skip
    repairs.accept(session=session, actor=OFFICE, application_id=aid)


def test_a_subject_cannot_apply_for_anothers_record(session: Session, world: World) -> None:
    with pytest.raises(Forbidden):
        _apply(session, world, record_id=world.others_penalty.id)


def test_list_entry_repair_removes_the_entry(
    session: Session, world: World, set_today: Callable[[dt.date], None]
) -> None:
    entry = lists.propose(
        session=session, actor=OFFICE, list_type_code="samr_serious_illegal", subject_id=world.company.id,
        reason="提交虚假材料取得许可", doc_no="淄市监严〔2025〕1号", authority="淄博市市场监督管理局",
    )  # fmt: skip
    lists.send_notice(session=session, actor=OFFICE, entry_id=entry.id, on=dt.date(2025, 3, 3))
    lists.confirm_listing(session=session, actor=OFFICE, entry_id=entry.id, listed_on=dt.date(2025, 4, 1))
    info = repairs.eligibility(session=session, list_entry_id=entry.id)
    assert info["eligible_from"] == dt.date(2026, 4, 1) and info["eligible"]  # early removal after 1 year
    aid = _apply(session, world, record_id=None, list_entry_id=entry.id,
                 evidence={"obligations": "已整改", "training": "已参加培训", "report": "附整改报告"})  # fmt: skip
    repairs.accept(session=session, actor=OFFICE, application_id=aid)
    repairs.approve(
        session=session, actor=OFFICE, application_id=aid, note="准予修复"
    )  # no source unit: office decides
    assert entry.status == "removed" and entry.removal_reason == "repair"
    assert lists.active_entries(session=session, subject_id=world.company.id) == []
