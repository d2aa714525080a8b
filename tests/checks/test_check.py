"""The check: measures by matter, several lists, removal, repair, catalog-only measures, roles, associated persons."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests import factories
from tests.checks.conftest import CLERK, CREDIT_OFFICE, put_on_list
from xinyong.audit.models import AuditEvent
from xinyong.audit.service import Actor
from xinyong.checks import service as checks
from xinyong.checks.models import Check, Measure
from xinyong.core.errors import Conflict, Forbidden, InvalidInput
from xinyong.lists import service as lists
from xinyong.lists.models import RemovalReason
from xinyong.subjects.models import SubjectKind


def _check(session: Session, matter: str, **kw: object) -> dict:
    return checks.run_check(session=session, actor=CLERK, request=checks.CheckRequest(matter=matter, **kw)).result  # type: ignore[arg-type]


def _codes(result: dict) -> list[str]:
    return [m["code"] for m in result["measures"]]


def test_measures_are_selected_by_matter(session: Session) -> None:
    company = factories.subject(session)
    put_on_list(session, company, "wage_arrears")
    assert _codes(_check(session, "government_procurement", code=company.uscc)) == ["M10"]
    assert _codes(_check(session, "honours", code=company.uscc)) == ["M10", "M20"]
    assert _codes(_check(session, "civil_service", code=company.uscc)) == []
    by_name = _check(session, "评优评先", code=company.uscc)  # a matter may be named in Chinese
    assert by_name["matter"] == {"code": "honours", "name": "评优评先"}


def test_a_subject_on_several_lists(session: Session) -> None:
    company = factories.subject(session)
    put_on_list(session, company, "dishonest_judgment_debtor")
    put_on_list(session, company, "major_tax_violation")
    result = _check(session, "government_procurement", code=company.uscc)
    assert sorted(e["list_type"]["code"] for e in result["entries"]) == [
        "dishonest_judgment_debtor",
        "major_tax_violation",
    ]
    m02 = next(m for m in result["measures"] if m["code"] == "M02")
    assert m02["follows_from"] == ["dishonest_judgment_debtor", "major_tax_violation"]
    assert m02["basis"][0]["citation"].startswith(
        "《财政部关于在政府采购活动中查询及使用信用记录有关问题的通知》（财库〔2016〕125号）"
    )
    assert _codes(result) == ["M02", "M12"]
    assert result["grade"] is None  # no evaluation yet: the hook returns null


def test_a_removed_entry_no_longer_produces_measures(session: Session) -> None:
    company = factories.subject(session)
    entry_id = put_on_list(session, company, "government_procurement")
    assert _codes(_check(session, "government_procurement", code=company.uscc)) == ["M01", "M02"]
    lists.remove(
        session=session, actor=CREDIT_OFFICE, entry_id=entry_id, reason=RemovalReason.REVOKED, note="处罚决定被撤销"
    )
    result = _check(session, "government_procurement", code=company.uscc)
    assert result["entries"] == [] and result["measures"] == []


def test_a_repaired_record_no_longer_produces_measures(session: Session) -> None:
    company = factories.subject(session)
    record = factories.record(
        session,
        subject_row=company,
        resource="serious_dishonesty_list",
        payload={
            "SX_MDMC": "市场监督管理严重违法失信名单",
            "SX_LRSY": "销售不合格药品",
            "SX_RDJG": "淄博市市场监督管理局",
        },
        decision_date=dt.date(2026, 1, 10),
        severity="serious",
    )
    summary = lists.sync_from_records(session=session, actor=Actor(name="ingest", role="admin"), record_ids=[record.id])
    assert summary.created == 1
    assert _codes(_check(session, "fiscal_funds", code=company.uscc)) == ["L01"]
    record.repaired_at = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    session.flush()
    result = _check(session, "fiscal_funds", code=company.uscc)
    assert result["entries"] == [] and result["measures"] == []


def test_collection_is_idempotent_keeps_origin_and_counts_unmapped(session: Session) -> None:
    company = factories.subject(session)
    actor = Actor(name="ingest", role="admin")
    upper = factories.record(
        session,
        subject_row=company,
        resource="dishonest_judgment_debtor",
        payload={"BZX_SXQX": "有履行能力而拒不履行"},
        decision_date=dt.date(2026, 3, 1),
    )
    upper.origin = "信用中国"
    odd = factories.record(
        session, subject_row=company, resource="serious_dishonesty_list", payload={"SX_MDMC": "某未知名单"}
    )
    first = lists.sync_from_records(session=session, actor=actor, record_ids=[upper.id, odd.id])
    assert (first.created, first.unmapped) == (1, 1)
    again = lists.sync_from_records(session=session, actor=actor, record_ids=[upper.id, odd.id])
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    (entry,) = lists.entries_of(session=session, subject_id=company.id)
    assert entry.origin == "信用中国" and entry.list_type.code == "dishonest_judgment_debtor"
    assert entry.expires_on == dt.date(2028, 2, 29)  # 2 years by default when the record gives no end
    assert entry.events[0].step == "collected"


def test_checks_return_only_catalogued_measures_with_a_basis(session: Session) -> None:
    company = factories.subject(session)
    put_on_list(session, company, "tax_credit_a")
    catalog = {m.code: m for m in session.scalars(sa.select(Measure))}
    seen: set[str] = set()
    for matter in checks.all_matters(session=session):
        for measure in _check(session, matter.code, code=company.uscc)["measures"]:
            assert measure["code"] in catalog
            assert catalog[measure["code"]].basis, measure["code"]
            seen.add(measure["code"])
    assert seen == {"R02"}  # 容缺受理 (R03) and 绿色通道 (R04) are local policy without a basis yet
    assert "R03" not in _codes(_check(session, "tolerance_acceptance", code=company.uscc))
    with pytest.raises(Forbidden):
        checks.confirm_measure_basis(session=session, actor=CLERK, code="R03", basis=[{"document": "x"}])
    checks.confirm_measure_basis(
        session=session,
        actor=CREDIT_OFFICE,
        code="R03",
        basis=[{"document": "某市告知承诺制和容缺受理实施办法", "doc_no": "某政办发〔2025〕8号", "confirmed": True}],
    )
    assert _codes(_check(session, "tolerance_acceptance", code=company.uscc)) == ["R03"]


def test_unconfirmed_citations_are_marked(session: Session) -> None:
    company = factories.subject(session)
    put_on_list(session, company, "major_tax_violation")
    (m19,) = [m for m in _check(session, "tax_incentives", code=company.uscc)["measures"] if m["code"] == "M19"]
    assert m19["basis_confirmed"] is False
    assert m19["basis"][0]["citation"].endswith("【待核实】")
    entry = _check(session, "tax_incentives", code=company.uscc)["entries"][0]
    assert all("待核实" not in b["citation"] for b in entry["list_type"]["basis"] if b["confirmed"])


@pytest.mark.parametrize("code", [t["code"] for t in lists.builtin_list_types()])
def test_each_list_type(session: Session, code: str) -> None:
    list_type = lists.get_list_type(session=session, code=code)
    assert list_type.authority and list_type.criteria and list_type.exit_conditions and list_type.duration_text
    assert list_type.basis or list_type.basis_note  # no basis only for local lists, and then it says so
    company = factories.subject(session)
    put_on_list(session, company, code)
    produced: set[str] = set()
    for matter in checks.all_matters(session=session):
        result = _check(session, matter.code, code=company.uscc)
        assert [e["list_type"]["code"] for e in result["entries"]] == [code]
        produced |= {m["code"] for m in result["measures"]}
        assert all(m["kind"] == list_type.reward_or_punishment for m in result["measures"])
    allowed = {m.code for m in session.scalars(sa.select(Measure)) if code in m.list_types}
    assert produced <= allowed


def test_roles_and_storage(session: Session) -> None:
    company = factories.subject(session)
    with pytest.raises(Forbidden):
        checks.run_check(
            session=session,
            actor=Actor(name="unit", role="source_unit"),
            request=checks.CheckRequest(matter="bidding", code=company.uscc),
        )
    result = _check(session, "bidding", code=company.uscc)
    stored = session.scalar(sa.select(Check).where(Check.check_no == result["check_id"]))
    assert stored is not None and stored.actor == "hall-clerk" and stored.result["subject"]["name"] == company.name
    audit = session.scalar(sa.select(AuditEvent).where(AuditEvent.target_id == result["check_id"]))
    assert audit is not None and audit.action == "check.run" and audit.purpose == "信用核查：招标投标"


def test_unknown_and_invalid_codes(session: Session) -> None:
    unknown = factories.uscc()
    result = _check(session, "bidding", code=unknown)
    assert result["subject"]["found"] is False and result["measures"] == []
    with pytest.raises(InvalidInput, match="code"):
        _check(session, "bidding", code=unknown[:17] + ("0" if unknown[17] != "0" else "1"))
    with pytest.raises(InvalidInput, match="matter"):
        _check(session, "不存在的事项", code=unknown)


def test_name_check_with_disambiguation(session: Session) -> None:
    one = factories.subject(session, name="淄博华信建材有限公司")
    factories.subject(session, name="淄博华信建材有限责任公司")
    assert _check(session, "bidding", name="淄博华信建材有限公司")["subject"]["id"] == one.id
    with pytest.raises(Conflict) as caught:
        _check(session, "bidding", name="淄博华信建材公司")
    assert len(caught.value.detail["candidates"]) == 2


def test_objection_records_are_shown(session: Session) -> None:
    company = factories.subject(session)
    factories.record(session, subject_row=company, objection_open=True, doc_no="淄环罚〔2026〕9号")
    result = _check(session, "bidding", code=company.uscc)
    assert [r["doc_no"] for r in result["objection_records"]] == ["淄环罚〔2026〕9号"]


def test_associated_person_only_where_the_rule_provides(session: Session) -> None:
    person_id = factories.citizen_id()
    person = factories.subject(session, kind=SubjectKind.NATURAL_PERSON, name="李四", id_number=person_id)
    listed = factories.subject(session, legal_rep="李四")
    put_on_list(session, listed, "serious_illegal_enterprise", legal_rep_id=person_id)
    other = factories.subject(session, legal_rep="李四")
    put_on_list(session, other, "samr_serious_illegal", legal_rep_id=person_id)  # no rule on associated persons

    result = _check(session, "appointment", code=person_id)
    assert result["subject"]["id"] == person.id and result["entries"] == []
    (finding,) = result["associated"]
    assert finding["company"] == listed.name
    assert "3 年内不得担任其他企业的法定代表人" in finding["rule"]
    assert [m["code"] for m in finding["measures"]] == ["M08"]
    assert finding["rule_basis"][0]["citation"] == "《企业信息公示暂行条例》（2014）第十七条"
    stored = session.scalar(sa.select(Check).where(Check.check_no == result["check_id"]))
    assert stored is not None and person_id not in str(stored.query)  # only the masked number is kept

    by_name = _check(session, "appointment", person_name="李四", company=listed.uscc)
    assert [a["company"] for a in by_name["associated"]] == [listed.name]
    # The company itself is not subject to M08 (a rule about its legal representative)
    assert "M08" not in _codes(_check(session, "appointment", code=listed.uscc))


def test_the_check_shows_the_grade_once_evaluated_and_answers_scenarios(session: Session) -> None:
    from xinyong.evaluation import service as evaluation

    company = factories.subject(session, established_on=dt.date(2010, 1, 1))
    before = _check(session, "government_procurement", code=company.uscc)
    assert before["grade"] is None
    evaluation.evaluate(session=session, actor=CREDIT_OFFICE)
    after = _check(session, "government_procurement", code=company.uscc)
    assert after["grade"] is not None
    assert after["grade"] == evaluation.grade_for(session=session, subject_id=company.id)
    # By USCC the grade is read with the subject in one statement; a candidate picked after a name search reads it
    # in a statement of its own.
    assert _check(session, "government_procurement", subject_id=company.id)["grade"] == after["grade"]
    assert after["grade"]["grade"] in {"A", "B", "C", "D"}
    scenario = _check(session, "xinyiyue", code=company.uscc)
    assert scenario["matter"]["code"] == "xinyiyue"
    assert scenario["scenario"]["eligible"] is True and scenario["scenario"]["benefit"]
    # An entry the credit office puts on a list (no collected record behind it) counts at once for the scenario …
    put_on_list(session, company, "dishonest_judgment_debtor")
    listed = _check(session, "xinyiyue", code=company.uscc)
    assert listed["scenario"]["eligible"] is False and listed["scenario"]["benefit"] is None
    assert [r["passed"] for r in listed["scenario"]["rules"]] == [False]
    # … and for the grade once evaluated: an active judgment-debtor entry caps the grade at D (the model's override)
    evaluation.evaluate(session=session, actor=CREDIT_OFFICE)
    graded = _check(session, "government_procurement", code=company.uscc)
    assert graded["grade"]["grade"] == "D"
    assert graded["grade"]["score"] == after["grade"]["score"] - 300
    explained = evaluation.explain(session=session, subject_id=company.id)
    debtor = next(line for line in explained.lines if line.indicator == "judgment_debtor")
    assert (debtor.count, debtor.points) == (1, -300)
    assert [e.entry_id for e in debtor.evidence] == [lists.active_entries(session=session, subject_id=company.id)[0].id]
    assert explained.grade == "D"
