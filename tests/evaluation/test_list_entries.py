"""List indicators and scenario rules read the lists domain's entries in force, whatever their origin, once each."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from tests import factories
from tests.evaluation.helpers import ACTOR, ago, batch, line, run
from xinyong.audit.service import Actor
from xinyong.core import clock
from xinyong.core.errors import InvalidInput
from xinyong.core.settings import reset_settings
from xinyong.evaluation import scenarios, service
from xinyong.evaluation import spec as specs
from xinyong.lists import service as lists
from xinyong.lists.models import RemovalReason

START = 650
OFFICE = Actor(name="credit-officer", role="credit_office")


def listed(
    session: Session, subject_id: int, code: str, *, listed_on: dt.date | None = None, expires_on: dt.date | None = None
) -> int:
    """An entry the credit office lists itself (no collected record behind it)."""
    entry = lists.propose(session=session, actor=OFFICE, list_type_code=code, subject_id=subject_id, reason="测试列入")
    if entry.list_type.representation_days:
        lists.send_notice(session=session, actor=OFFICE, entry_id=entry.id, on=dt.date(2026, 1, 5))
    lists.confirm_listing(
        session=session,
        actor=OFFICE,
        entry_id=entry.id,
        listed_on=listed_on or dt.date(2026, 2, 2),
        expires_on=expires_on,
    )
    return entry.id


def test_an_entry_listed_by_the_credit_office_counts_until_removed(session: Session) -> None:
    firm = factories.subject(session, established_on=None)
    entry_id = listed(session, firm.id, "major_tax_violation")
    grade = batch(session, firm.id)
    assert (grade["score"], grade["grade"]) == (START - 300, "D")
    found = line(session, firm.id, "serious_dishonesty")
    assert found.count == 1 and [e.entry_id for e in found.evidence] == [entry_id]
    assert found.evidence[0].resource == "重大税收违法失信主体"
    lists.remove(session=session, actor=OFFICE, entry_id=entry_id, reason=RemovalReason.REVOKED, note="撤销")
    assert batch(session, firm.id)["score"] == START


def test_expired_and_future_entries_do_not_count(session: Session) -> None:
    firm = factories.subject(session, established_on=None)
    listed(session, firm.id, "abnormal_operation", listed_on=ago(months=30), expires_on=ago(days=1))
    listed(session, firm.id, "abnormal_operation", listed_on=clock.today() + dt.timedelta(days=3))
    assert batch(session, firm.id)["score"] == START
    listed(session, firm.id, "abnormal_operation", listed_on=clock.today())
    listed(session, firm.id, "abnormal_operation", listed_on=ago(days=10))
    assert batch(session, firm.id)["score"] == START - 100  # count: any
    assert line(session, firm.id, "abnormal_operation").count == 2


def test_a_watch_list_entry_is_not_a_serious_dishonesty_entry(session: Session) -> None:
    firm = factories.subject(session, established_on=None)
    lists.set_basis(session=session, actor=OFFICE, code="watch_list", basis=[{"document": "某市重点关注名单管理办法"}])
    listed(session, firm.id, "watch_list")
    assert batch(session, firm.id)["grade"] == "B"
    assert line(session, firm.id, "serious_dishonesty").count == 0


def test_a_collected_record_counts_once_through_its_entry(session: Session) -> None:
    firm = factories.subject(session, established_on=None)
    record = factories.record(session, subject_row=firm, resource="dishonest_judgment_debtor", severity="serious")
    before = line(session, firm.id, "judgment_debtor")  # not synced yet: counted as a record
    assert before.count == 1 and before.evidence[0].entry_id is None
    summary = lists.sync_from_records(session=session, actor=ACTOR, record_ids=[record.id])
    assert summary.created == 1
    after = line(session, firm.id, "judgment_debtor")
    assert after.count == 1
    assert after.evidence[0].record_id == record.id and after.evidence[0].entry_id is not None
    assert batch(session, firm.id)["score"] == START - 300
    # Repairing the record takes the entry out of force, and the record does not come back as a record either.
    record.repaired_at = clock.now()
    record.updated_at = clock.now()
    session.flush()
    assert batch(session, firm.id)["score"] == START
    assert line(session, firm.id, "judgment_debtor").count == 0


def test_a_removed_entry_keeps_its_record_from_counting(session: Session) -> None:
    firm = factories.subject(session, established_on=None)
    record = factories.record(session, subject_row=firm, resource="abnormal_operation")
    lists.sync_from_records(session=session, actor=ACTOR, record_ids=[record.id])
    entry = lists.entries_of(session=session, subject_id=firm.id)[0]
    lists.remove(
        session=session, actor=OFFICE, entry_id=entry.id, reason=RemovalReason.REVOKED, note="移出经营异常名录"
    )
    assert batch(session, firm.id)["score"] == START


def test_incremental_run_picks_up_list_changes(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    firm, other = factories.subject(session, established_on=None), factories.subject(session, established_on=None)
    run(session)
    entry_id = listed(session, firm.id, "tax_credit_a", listed_on=ago(days=5), expires_on=clock.today())
    again = run(session, changed=True)
    assert again.mode == "changed" and again.subjects_evaluated == 1
    assert service.grade_for(session=session, subject_id=firm.id)["score"] == START + 100  # type: ignore[index]
    # The next day the entry has expired: no write touched it, the date boundary alone brings the firm back.
    monkeypatch.setenv("XINYONG_TODAY", (clock.today() + dt.timedelta(days=1)).isoformat())
    reset_settings()
    later = run(session, changed=True)
    assert later.subjects_evaluated == 1
    assert service.grade_for(session=session, subject_id=firm.id)["score"] == START  # type: ignore[index]
    assert service.grade_for(session=session, subject_id=other.id)["score"] == START  # type: ignore[index]
    assert entry_id


def test_scenarios_see_entries_in_force(session: Session) -> None:
    firm = factories.subject(session, established_on=None)
    assert scenarios.scenario_answer(session=session, subject_id=firm.id, scenario="xinyiyue")["eligible"] is True
    entry_id = listed(session, firm.id, "wage_arrears")
    answer = scenarios.scenario_answer(session=session, subject_id=firm.id, scenario="xinyiyue")
    assert answer["eligible"] is False and answer["rules"][0]["detail"] == "有效名单记录 1 条"
    assert "严重失信主体名单" in answer["rules"][0]["rule"]
    lists.remove(session=session, actor=OFFICE, entry_id=entry_id, reason=RemovalReason.REVOKED, note="撤销")
    assert scenarios.scenario_answer(session=session, subject_id=firm.id, scenario="xinyiyue")["eligible"] is True


def test_model_validation_names_unknown_list_types_and_kinds(session: Session) -> None:
    raw = specs.builtin_models()[0].raw | {"version": 9}
    raw = {**raw, "dimensions": [dict(d) for d in raw["dimensions"]]}
    raw["dimensions"][1] = {
        **raw["dimensions"][1],
        "indicators": [
            {"code": "x1", "name": "甲", "source": "list_entries", "list_types": ["no_such_list"], "points": -1},
            {"code": "x2", "name": "乙", "source": "list_entries", "list_kinds": ["grey"], "points": -1},
            {"code": "x3", "name": "丙", "source": "list_entries", "points": -1},
            {
                "code": "x4",
                "name": "丁",
                "source": "records",
                "resources": ["administrative_penalty"],
                "list_types": ["tax_credit_a"],
                "points": -1,
            },
        ],
    }
    raw["overrides"] = []
    with pytest.raises(InvalidInput) as caught:
        service.publish(session=session, actor=ACTOR, raw=raw)
    problems = caught.value.detail["problems"]
    assert any("dimensions[2].indicators[1].list_types：没有名单类型 no_such_list" in p for p in problems)
    assert any("indicators[2].list_kinds" in p and "grey" in p for p in problems)
    assert any(p.startswith("dimensions[2].indicators[3]：名单指标须给出") for p in problems)
    assert any("indicators[4].list_types：只有 source 为 list_entries" in p for p in problems)
