"""The report parts the other domains fill: 信用承诺, 红名单 and 严重失信主体名单 from list entries in force, 自主申报
under 其他, 信用评价 — each as the public may see it in the public report, all of it (marked) in the full one."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests.reports.conftest import Company, pdf_text
from xinyong.audit.service import Actor
from xinyong.commitments import service as commitments
from xinyong.declarations import service as declarations
from xinyong.evaluation import service as evaluation
from xinyong.lists import service as lists
from xinyong.lists.models import ListType
from xinyong.reports import service
from xinyong.reports.content import ReportItem

OFFICE = Actor(name="officer", role="credit_office")


def _list(session: Session, company: Company, code: str, reason: str) -> None:
    entry = lists.propose(session=session, actor=OFFICE, list_type_code=code, subject_id=company.subject.id,
                          reason=reason, doc_no=f"{code}-2026-1")  # fmt: skip
    if entry.list_type.representation_days:
        lists.send_notice(session=session, actor=OFFICE, entry_id=entry.id, on=dt.date(2026, 1, 5))
    lists.confirm_listing(session=session, actor=OFFICE, entry_id=entry.id, listed_on=dt.date(2026, 3, 2))


def _setup(session: Session, company: Company) -> None:
    me = Actor(name="own-user", role="subject", subject_id=company.subject.id)
    sid = company.subject.id
    commitments.sign(session=session, actor=me, subject_id=sid, template_code="proactive_public",
                     values={"scope": "依法诚信经营，按期公示年度报告"})  # fmt: skip
    hidden = next(t for t in commitments.templates() if not t["public"])
    commitments.sign(session=session, actor=me, subject_id=sid, template_code=hidden["code"],
                     values={f["code"]: "不公示的承诺事项" for f in hidden["fields"]})  # fmt: skip
    # wage_arrears is made not public here: its entry must stay out of the public report.
    session.execute(sa.update(ListType).where(ListType.code == "wage_arrears").values(public=False))
    lists.set_basis(
        session=session, actor=OFFICE, code="integrity_model", basis=[{"document": "某市诚信示范企业认定办法"}]
    )
    _list(session, company, "integrity_model", "诚信示范企业认定")
    _list(session, company, "major_tax_violation", "虚开增值税专用发票")
    _list(session, company, "wage_arrears", "拖欠农民工工资")
    declarations.declare(session=session, actor=me, subject_id=sid, category="honour", title="市级文明单位",
                         content="2025年度授予")  # fmt: skip
    checked = declarations.declare(session=session, actor=me, subject_id=sid, category="qualification",
                                   title="安全生产标准化二级企业", content="有效期三年")  # fmt: skip
    declarations.verify(session=session, actor=OFFICE, declaration_id=checked.id, confirmed=True)
    untrue = declarations.declare(session=session, actor=me, subject_id=sid, category="welfare",
                                  title="捐建希望小学", content="不实申报")  # fmt: skip
    declarations.verify(session=session, actor=OFFICE, declaration_id=untrue.id, confirmed=False)
    evaluation.evaluate(session=session, actor=OFFICE)


def _parts(
    session: Session, company: Company, kind: str
) -> tuple[dict[str, list[ReportItem]], str, service.IssuedFile]:
    issued = service.issue(session=session, code=company.code, kind=kind, actor=Actor.cli(), file_format="html")
    parts = {p.key: p.items for s in issued.content.sections for p in s.parts}
    return parts, issued.data.decode("utf-8"), issued


def test_public_report_shows_only_what_the_public_may_see(session: Session, company: Company) -> None:
    _setup(session, company)
    parts, html, issued = _parts(session, company, "public")
    assert [i.public for i in parts["commitments"]] == [True]
    assert len(parts["commitments"]) == 1 and "依法诚信经营" in html and "不公示的承诺事项" not in html
    assert {i.doc_no for i in parts["red_list"]} == {company.tax_a.doc_no, "integrity_model-2026-1"}
    assert {i.doc_no for i in parts["serious_dishonesty"]} == {"major_tax_violation-2026-1"}
    assert "拖欠农民工工资" not in html and "虚开增值税专用发票" in html
    labels = sorted(i.resource_name for i in parts["other"] if i.unit_id is None)
    assert labels == ["自主申报（已核实）", "自主申报（未核实）"]
    assert "市级文明单位" in html and "安全生产标准化二级企业" in html and "捐建希望小学" not in html
    evaluated = {p.key: p for s in issued.content.sections for p in s.parts}["evaluation"]
    assert evaluated.facts == [] and "不列示" in (evaluated.note or "")  # XINYONG_PUBLIC_GRADES is off


def test_full_report_shows_everything_marked(session: Session, company: Company) -> None:
    _setup(session, company)
    parts, html, issued = _parts(session, company, "full")
    assert sorted(i.public for i in parts["commitments"]) == [False, True]
    assert "不公示的承诺事项" in html and "该类承诺不向社会公示" in html
    wage = next(i for i in parts["serious_dishonesty"] if i.doc_no == "wage_arrears-2026-1")
    assert not wage.public and "拖欠农民工工资" in html
    assert "自主申报（未核实）" in html and "自主申报（已核实）" in html and "核实不符（不公示）" in html
    grade = evaluation.grade_for(session=session, subject_id=company.subject.id)
    assert grade is not None
    facts = dict({p.key: p for s in issued.content.sections for p in s.parts}["evaluation"].facts)
    assert facts["信用等级"] == grade["grade"] and facts["评价得分"] == str(grade["score"])


def test_a_commitment_is_in_the_pdf(session: Session, company: Company, tmp_path: Path) -> None:
    _setup(session, company)
    issued = service.issue(session=session, code=company.code, kind="public", actor=Actor.cli(), channel="cli")
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(issued.data)
    text = "".join(pdf_text(pdf).split())
    assert "依法诚信经营，按期公示年度报告" in text and "不公示的承诺事项" not in text
