"""Likely duplicates, volume alerts and the queue that resolves them, on both engines."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests import factories
from tests.monitoring.helpers import received
from xinyong.audit.models import AuditEvent
from xinyong.audit.service import Actor
from xinyong.core.errors import Conflict, InvalidInput
from xinyong.monitoring import governance
from xinyong.monitoring.models import GovernanceIssue
from xinyong.subjects.codes import make_uscc, org_code_of
from xinyong.subjects.models import SubjectCode


@pytest.mark.parametrize(
    ("written", "same_as"),
    [
        ("淄环罚 [2026] 12 号", "淄环罚〔2026〕12号"),
        ("淄环罚（2026）012号", "淄环罚〔2026〕12号"),
        ("淄环罚【２０２６】１２号", "淄环罚〔2026〕12号"),
        ("淄环罚(2026)12号", "淄环罚〔2026〕12号"),
    ],
)
def test_doc_no_key_unifies_brackets_widths_spaces(written: str, same_as: str) -> None:
    assert governance.doc_no_key(written) == governance.doc_no_key(same_as)


def test_doc_no_key_keeps_different_numbers_apart() -> None:
    assert governance.doc_no_key("淄环罚〔2026〕12号") != governance.doc_no_key("淄环罚〔2026〕13号")
    assert governance.doc_no_key("淄环罚〔2026〕12号") != governance.doc_no_key("淄环罚〔2025〕12号")


def test_duplicate_records_are_found_within_a_unit_and_resource_only(session: Session) -> None:
    unit = factories.unit(session)
    other_unit = factories.unit(
        session, uscc_code=make_uscc("1", "1", "370300", "00400009"), name="淄博市应急管理局", short_name="淄应急"
    )
    company = factories.subject(session)
    a = factories.record(session, subject_row=company, unit_row=unit, doc_no="淄环罚〔2026〕12号")
    b = factories.record(session, subject_row=company, unit_row=unit, doc_no="淄环罚 (2026) 12号")
    factories.record(session, subject_row=company, unit_row=unit, doc_no="淄环罚〔2026〕13号")
    factories.record(session, subject_row=company, unit_row=other_unit, doc_no="淄环罚[2026]12号")
    factories.record(
        session, subject_row=company, unit_row=unit, doc_no="淄环罚[2026]12号", resource="administrative_license"
    )
    assert governance.scan_duplicate_records(session=session) == 1
    issue = session.scalar(sa.select(GovernanceIssue).where(GovernanceIssue.kind == "duplicate_doc"))
    assert issue is not None and sorted(issue.detail["records"]) == sorted([a.id, b.id])
    assert governance.scan_duplicate_records(session=session) == 0  # idempotent


def test_variant_names_and_shared_org_codes_are_likely_duplicates(session: Session) -> None:
    a = factories.subject(session, name="淄博齐鲁石化设备有限公司", legal_rep="李四")
    b = factories.subject(session, name="淄博齐鲁石化设备有限公司 ", legal_rep="李四")  # trailing blank
    c = factories.subject(session, name="淄博齐鲁石化设备(有限)公司", legal_rep="李四")
    factories.subject(session, name="淄博齐鲁石化设备有限公司", legal_rep="王五")  # another legal rep: not compared
    factories.subject(session, name="淄博齐鲁石化设备一号有限公司", legal_rep="李四")
    factories.subject(session, name="淄博测试1号有限公司", legal_rep="李四")
    factories.subject(session, name="淄博测试2号有限公司", legal_rep="李四")  # different numbers: not the same
    x = factories.subject(
        session, name="淄博某某贸易有限公司", legal_rep=None, code=make_uscc("9", "1", "370302", "MA778899")
    )
    y = factories.subject(session, name="完全不同的名字有限公司", legal_rep="赵六")
    assert x.uscc is not None
    session.add(SubjectCode(subject_id=y.id, code_type="zzjg", code=org_code_of(x.uscc), created_at=x.created_at))
    session.flush()
    governance.scan_duplicate_subjects(session=session)
    pairs = {tuple(i.detail["subjects"]) for i in session.scalars(sa.select(GovernanceIssue))}
    assert pairs == {(a.id, b.id), (a.id, c.id), (b.id, c.id), (x.id, y.id)}
    assert governance.scan_duplicate_subjects(session=session) == 0


def test_volume_drop_to_zero_and_spike_against_trailing_average(session: Session) -> None:
    quiet = factories.unit(session)
    busy = factories.unit(
        session, uscc_code=make_uscc("1", "1", "370300", "00400008"), name="淄博市税务局", short_name="淄税"
    )
    company = factories.subject(session)
    for month, n_quiet, n_busy in [("2026-02", 2, 3), ("2026-03", 1, 3), ("2026-04", 3, 3), ("2026-05", 0, 40)]:
        for unit, n in ((quiet, n_quiet), (busy, n_busy)):
            for day in range(n):
                row = factories.record(session, subject_row=company, unit_row=unit)
                received(session, row, f"{month}-{day % 28 + 1:02d}")
    assert governance.scan_volume(session=session, month="2026-05") == 2
    issues = {i.unit_id: i for i in session.scalars(sa.select(GovernanceIssue))}
    assert issues[quiet.id].kind == "volume_zero" and issues[quiet.id].detail["average"] == 2.0
    assert issues[busy.id].kind == "volume_spike" and issues[busy.id].detail["count"] == 40
    assert governance.scan_volume(session=session, month="2026-05") == 0


def test_queue_resolution_needs_a_note_and_is_audited(session: Session) -> None:
    a = factories.subject(session, name="淄博齐鲁阀门有限公司", legal_rep="钱七")
    factories.subject(session, name="淄博齐鲁阀门有限公司 ", legal_rep="钱七")
    governance.scan_duplicate_subjects(session=session)
    issue = governance.open_issues(session=session, region=None)[0]
    officer = Actor(name="officer", role="credit_office")
    with pytest.raises(InvalidInput, match="处理说明"):
        governance.close_issue(session=session, actor=officer, issue_id=issue.id, outcome="resolved", note="")
    governance.close_issue(session=session, actor=officer, issue_id=issue.id, outcome="resolved", note="已合并主体")
    with pytest.raises(Conflict):
        governance.close_issue(session=session, actor=officer, issue_id=issue.id, outcome="dismissed", note="再次")
    assert governance.open_issues(session=session, region=None) == []
    assert session.scalar(sa.select(AuditEvent.action).where(AuditEvent.target_type == "governance_issue")) == (
        "governance.resolved"
    )
    assert a.region is not None and governance.open_issues(session=session, region="370399") == []
