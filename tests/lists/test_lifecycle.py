"""The entry lifecycle: proposed → notice (working days, holidays) → listed → removed, with who and when."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests import factories
from tests.lists.conftest import CLERK, CREDIT_OFFICE
from xinyong.audit.models import AuditEvent
from xinyong.core.errors import Conflict, Forbidden
from xinyong.lists import service as lists
from xinyong.lists.models import EntryStatus, RemovalReason


def _listed(session: Session, code: str, set_today: Callable[[dt.date], None], start: dt.date) -> int:
    set_today(start)
    subject = factories.subject(session)
    entry = lists.propose(
        session=session, actor=CREDIT_OFFICE, list_type_code=code, subject_id=subject.id, reason="拒不支付劳动报酬"
    )
    if entry.list_type.representation_days:
        lists.send_notice(session=session, actor=CREDIT_OFFICE, entry_id=entry.id)
        set_today(entry.representation_deadline + dt.timedelta(days=1))
    lists.confirm_listing(session=session, actor=CREDIT_OFFICE, entry_id=entry.id)
    return entry.id


def test_notice_period_crosses_national_day_2026(session: Session, set_today: Callable[[dt.date], None]) -> None:
    set_today(dt.date(2026, 9, 30))
    subject = factories.subject(session)
    entry = lists.propose(
        session=session,
        actor=CREDIT_OFFICE,
        list_type_code="wage_arrears",
        subject_id=subject.id,
        reason="拖欠农民工工资 52 万元，经责令限期支付逾期未支付",
        doc_no="淄人社失〔2026〕3号",
    )
    assert entry.status == EntryStatus.PROPOSED
    notice = lists.send_notice(session=session, actor=CREDIT_OFFICE, entry_id=entry.id)
    # 5 working days from 30 September 2026: 1–7 October are the National Day holiday, Saturday 10 October is a
    # 调休 working day, so the days are 8, 9, 10, 12 and 13 October.
    assert notice.representation_deadline == dt.date(2026, 10, 13)
    assert notice.deadline_provisional is False
    naive = dt.date(2026, 9, 30) + dt.timedelta(days=7)  # weekends-only counting would end on 7 October
    assert notice.representation_deadline != naive

    set_today(dt.date(2026, 10, 13))
    with pytest.raises(Conflict, match="陈述申辩期至 2026-10-13"):
        lists.confirm_listing(session=session, actor=CREDIT_OFFICE, entry_id=entry.id)
    set_today(dt.date(2026, 10, 14))
    listed = lists.confirm_listing(session=session, actor=CREDIT_OFFICE, entry_id=entry.id)
    assert listed.status == EntryStatus.LISTED
    assert listed.listed_on == dt.date(2026, 10, 14)
    assert listed.expires_on == dt.date(2029, 10, 13)  # 3 years for this list type
    assert [e.id for e in lists.active_entries(session=session, subject_id=subject.id)] == [entry.id]

    session.refresh(entry)
    assert [(e.step, e.actor) for e in entry.events] == [
        ("proposed", "credit-officer"),
        ("notice", "credit-officer"),
        ("listed", "credit-officer"),
    ]
    audited = session.scalars(
        sa.select(AuditEvent.action).where(
            AuditEvent.target_type == "list_entry", AuditEvent.target_id == str(entry.id)
        )
    ).all()
    assert audited == ["list.proposed", "list.notice", "list.listed"]


def test_deadline_in_a_year_without_schedule_is_provisional(
    session: Session, set_today: Callable[[dt.date], None]
) -> None:
    set_today(dt.date(2027, 9, 30))
    subject = factories.subject(session)
    entry = lists.propose(
        session=session, actor=CREDIT_OFFICE, list_type_code="samr_serious_illegal", subject_id=subject.id, reason="x"
    )
    notice = lists.send_notice(session=session, actor=CREDIT_OFFICE, entry_id=entry.id)
    assert notice.deadline_provisional is True
    set_today(notice.representation_deadline)
    with pytest.raises(Conflict, match="（暂定）"):
        lists.confirm_listing(session=session, actor=CREDIT_OFFICE, entry_id=entry.id)


def test_listing_without_notice_is_refused_when_the_type_has_a_representation_period(
    session: Session, set_today: Callable[[dt.date], None]
) -> None:
    subject = factories.subject(session)
    entry = lists.propose(
        session=session, actor=CREDIT_OFFICE, list_type_code="wage_arrears", subject_id=subject.id, reason="x"
    )
    with pytest.raises(Conflict, match="尚未告知"):
        lists.confirm_listing(session=session, actor=CREDIT_OFFICE, entry_id=entry.id)


def test_expiry_is_derived_from_dates_at_read_time(session: Session, set_today: Callable[[dt.date], None]) -> None:
    entry_id = _listed(session, "statistics_serious", set_today, dt.date(2026, 3, 2))
    entry = lists.get_entry(session=session, entry_id=entry_id)
    assert entry.expires_on is not None
    set_today(entry.expires_on)
    assert lists.active_entries(session=session, subject_id=entry.subject_id) == [entry]
    set_today(entry.expires_on + dt.timedelta(days=1))
    assert lists.active_entries(session=session, subject_id=entry.subject_id) == []
    assert lists.effective_state(entry) == "expired"
    assert entry.status == EntryStatus.LISTED  # nothing was written: no midnight job


def test_removal_by_repair_and_early_removal_rules(session: Session, set_today: Callable[[dt.date], None]) -> None:
    entry_id = _listed(session, "wage_arrears", set_today, dt.date(2026, 1, 5))
    entry = lists.get_entry(session=session, entry_id=entry_id)
    assert entry.listed_on is not None
    with pytest.raises(Conflict, match="列入满 6 个月"):
        lists.remove(session=session, actor=CREDIT_OFFICE, entry_id=entry_id, reason=RemovalReason.EARLY)
    set_today(entry.listed_on + dt.timedelta(days=200))
    removed = lists.remove(
        session=session, actor=CREDIT_OFFICE, entry_id=entry_id, reason=RemovalReason.REPAIR, note="已完成信用修复"
    )
    assert removed.status == EntryStatus.REMOVED and removed.removal_reason == "repair"
    assert lists.active_entries(session=session, subject_id=entry.subject_id) == []
    session.refresh(entry)
    assert entry.events[-1].step == "removed" and entry.events[-1].note == "已完成信用修复"
    with pytest.raises(Conflict):
        lists.remove(session=session, actor=CREDIT_OFFICE, entry_id=entry_id, reason=RemovalReason.REVOKED)


def test_withdrawal_after_representation(session: Session) -> None:
    subject = factories.subject(session)
    entry = lists.propose(
        session=session, actor=CREDIT_OFFICE, list_type_code="wage_arrears", subject_id=subject.id, reason="x"
    )
    lists.send_notice(session=session, actor=CREDIT_OFFICE, entry_id=entry.id)
    lists.withdraw(session=session, actor=CREDIT_OFFICE, entry_id=entry.id, note="陈述申辩理由成立")
    assert entry.status == EntryStatus.WITHDRAWN
    assert lists.active_entries(session=session, subject_id=subject.id) == []


def test_a_checker_cannot_list_or_remove(session: Session, set_today: Callable[[dt.date], None]) -> None:
    subject = factories.subject(session)
    with pytest.raises(Forbidden, match="列入、移出名单限信用办"):
        lists.propose(session=session, actor=CLERK, list_type_code="wage_arrears", subject_id=subject.id, reason="x")
    entry_id = _listed(session, "dishonest_judgment_debtor", set_today, dt.date(2026, 6, 15))
    for step in (
        lambda: lists.send_notice(session=session, actor=CLERK, entry_id=entry_id),
        lambda: lists.confirm_listing(session=session, actor=CLERK, entry_id=entry_id),
        lambda: lists.remove(session=session, actor=CLERK, entry_id=entry_id, reason=RemovalReason.REVOKED),
    ):
        with pytest.raises(Forbidden):
            step()
    assert lists.get_entry(session=session, entry_id=entry_id).status == EntryStatus.LISTED
