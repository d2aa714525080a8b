"""Report content and the registry: what each kind shows (through the disclosure engine), providers, domains,
who may issue, what is stored, what is audited."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests import factories
from tests.reports.conftest import Company
from xinyong.audit.models import AuditEvent
from xinyong.audit.service import Actor
from xinyong.core.errors import Forbidden, InvalidInput, NotFound
from xinyong.reports import providers, service
from xinyong.reports.content import PartStatus, ReportPart
from xinyong.reports.models import IssuedReport
from xinyong.subjects.models import SubjectKind


def _issue(session: Session, code: str, kind: str, **kwargs: object) -> service.IssuedFile:
    return service.issue(session=session, code=code, kind=kind, actor=Actor.cli(), file_format="html", **kwargs)  # type: ignore[arg-type]


def _doc_nos(issued: service.IssuedFile) -> dict[str, set[str]]:
    return {p.key: {i.doc_no for i in p.items} for s in issued.content.sections for p in s.parts}


def test_public_report_shows_only_what_the_engine_publishes(session: Session, company: Company) -> None:
    parts = _doc_nos(_issue(session, company.code, "public"))
    assert parts["penalties"] == {company.fine.doc_no}  # the 轻微 warning and the revoked fine are not public
    assert parts["licenses"] == {company.licence.doc_no}
    assert parts["red_list"] == {company.tax_a.doc_no}
    assert parts["abnormal_operation"] == {company.abnormal.doc_no}
    assert parts["serious_dishonesty"] == parts["judicial"] == parts["honours"] == set()


def test_full_report_shows_everything_marked_with_the_engine_reason(session: Session, company: Company) -> None:
    issued = _issue(session, company.code, "full")
    items = {i.doc_no: i for s in issued.content.sections for p in s.parts for i in p.items}
    assert {company.fine.doc_no, company.warning.doc_no, company.revoked.doc_no} <= set(items)
    assert items[company.fine.doc_no].public and "公示至 2027-04-19" in items[company.fine.doc_no].reason
    assert not items[company.warning.doc_no].public and "轻微失信信息" in items[company.warning.doc_no].reason
    assert not items[company.revoked.doc_no].public and "撤销" in items[company.revoked.doc_no].reason
    # Reading non-public records for the report is audited like the subject's own view, and so is the issuing.
    actions = set(session.scalars(sa.select(AuditEvent.action).where(AuditEvent.subject_id == company.subject.id)))
    assert {"subject.view_private", "report.issue"} <= actions


def test_parts_without_a_data_source_say_so(session: Session, company: Company) -> None:
    missing = ReportPart(key="commitments", title="信用承诺", status=PartStatus.NO_SOURCE, note="模块尚未接入")
    previous = providers.set_provider("commitments", lambda _ctx: missing)
    try:
        issued = _issue(session, company.code, "public")
    finally:
        providers.set_provider("commitments", previous)
    parts = {p.key: p for s in issued.content.sections for p in s.parts}
    assert parts["commitments"].status == PartStatus.NO_SOURCE and "尚未接入" in (parts["commitments"].note or "")
    assert parts["evaluation"].status == PartStatus.DATA  # the evaluation domain is connected
    assert [s.title for s in issued.content.sections] == [
        "行政管理信息", "诚实守信信息", "严重失信主体名单信息", "经营异常信息", "信用承诺信息", "信用评价信息",
        "司法判决信息", "其他信息",
    ]  # fmt: skip
    assert "暂无数据来源" in service_html(issued)


def service_html(issued: service.IssuedFile) -> str:
    return issued.data.decode("utf-8")


def test_a_provider_can_be_replaced(session: Session, company: Company) -> None:
    def graded(ctx: providers.ReportContext) -> ReportPart:
        return ReportPart(
            key="evaluation", title="公共信用综合评价", facts=[("信用等级", f"A（主体 {ctx.subject.id}）")]
        )

    previous = providers.set_provider("evaluation", graded)
    try:
        issued = _issue(session, company.code, "public")
    finally:
        providers.set_provider("evaluation", previous)
    assert f"A（主体 {company.subject.id}）" in service_html(issued)
    with pytest.raises(KeyError):
        providers.set_provider("no_such_part", graded)


def test_period_limits_items_by_decision_date(session: Session, company: Company) -> None:
    parts = _doc_nos(_issue(session, company.code, "full", period_from=dt.date(2026, 4, 1)))
    assert parts["penalties"] == {company.fine.doc_no}
    assert parts["licenses"] == set()


def test_no_violation_report_per_domain(session: Session, company: Company) -> None:
    issued = _issue(session, company.code, "no_violation", domains=["市场监管", "environment", "tax", "safety"])
    findings = {d.key: d for d in issued.content.domains}
    assert [i.doc_no for i in findings["market"].items] == [company.warning.doc_no]
    assert [i.doc_no for i in findings["environment"].items] == [
        company.fine.doc_no
    ]  # the revoked one is not a finding
    assert findings["tax"].items == [] and not findings["tax"].covered and "尚未归集" in findings["tax"].verdict
    assert issued.content.period_from == dt.date(2023, 6, 16) and issued.content.period_to == dt.date(2026, 6, 15)
    safety = factories.unit(
        session, uscc_code=factories.uscc(region="370300"), name="淄博市应急管理局", short_name="淄应急"
    )
    again = _issue(session, company.code, "no_violation", domains=["safety"])
    assert again.content.domains[0].covered and not again.content.domains[0].found
    assert "未发现该主体在应急管理（安全生产）领域" in again.content.domains[0].verdict
    assert safety.name in again.content.domains[0].units
    # A later period leaves the March warning out.
    later = _issue(session, company.code, "no_violation", domains=["market"], period_from=dt.date(2026, 4, 1))
    assert later.content.domains[0].items == []


def test_bad_requests_register_nothing(session: Session, company: Company) -> None:
    before = session.scalar(sa.select(sa.func.count()).select_from(IssuedReport))
    with pytest.raises(InvalidInput, match="报告类型"):
        _issue(session, company.code, "bogus")
    with pytest.raises(InvalidInput, match="晚于"):
        _issue(session, company.code, "full", period_from=dt.date(2026, 5, 1), period_to=dt.date(2026, 4, 1))
    with pytest.raises(InvalidInput, match="不能晚于今天"):
        _issue(session, company.code, "full", period_to=dt.date(2026, 7, 1))
    with pytest.raises(InvalidInput, match="未知的领域"):
        _issue(session, company.code, "no_violation", domains=["天文"])
    with pytest.raises(NotFound):
        _issue(session, "91370302MA00000000", "public")
    assert session.scalar(sa.select(sa.func.count()).select_from(IssuedReport)) == before


def test_who_may_issue(session: Session, company: Company) -> None:
    other = factories.subject(session)
    own = Actor(name="owner", role="subject", subject_id=company.subject.id)
    assert service.issue(session=session, code=company.code, kind="full", actor=own, file_format="html").report
    for actor in (
        Actor(name="someone", role="subject", subject_id=other.id),
        Actor(name="clerk", role="checker"),
        Actor(name="unit", role="source_unit"),
    ):
        with pytest.raises(Forbidden):
            service.issue(session=session, code=company.code, kind="public", actor=actor, file_format="html")
    assert service.issue(session=session, code=company.code, actor=Actor(name="office", role="credit_office")).data


def test_registry_keeps_the_hash_not_the_code(session: Session, company: Company) -> None:
    issued = _issue(session, company.code, "public")
    report = issued.report
    code = issued.content.verification_code
    assert report.file_sha256 == __import__("hashlib").sha256(issued.data).hexdigest()
    assert code.replace("-", "") not in report.code_hash and len(report.code_hash) == 64
    assert report.report_no == f"XY-370300-20260615-{report.id:06d}"
    assert service.verify(session=session, report_no=report.report_no, code=code.lower().replace("-", " ")).valid
    assert not service.verify(session=session, report_no=report.report_no, code="AAAA-AAAA").valid
    assert not service.verify(session=session, report_no="XY-370300-20260615-999999").found
    event = session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "report.issue", AuditEvent.target_id == report.report_no)
    )
    assert event is not None and event.detail["sha256"] == report.file_sha256


def test_natural_person_public_report_and_masked_verification(session: Session) -> None:
    person = factories.subject(session, kind=SubjectKind.NATURAL_PERSON, name="李小明")
    issued = _issue(session, f"P{person.id}", "public")  # nothing published: a report saying so, not a 404
    assert issued.content.subject.code == person.id_masked and "*" in (person.id_masked or "")
    assert all(not p.items for s in issued.content.sections for p in s.parts)
    result = service.verify(session=session, report_no=issued.report.report_no)
    assert result.report is not None and service.shown_subject_name(result.report) == "李**"
    assert "李小明" not in issued.report.subject_code
