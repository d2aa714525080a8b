"""双随机 draws reproducible from their seed, and 信易+ scenario answers."""

from __future__ import annotations

import math

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests import factories
from tests.evaluation.helpers import ACTOR, run
from xinyong.core.errors import NotFound
from xinyong.evaluation import scenarios, service, supervision
from xinyong.evaluation.models import InspectionDraw
from xinyong.subjects.models import SubjectKind


def _population(session: Session) -> list[int]:
    ids = []
    for n in range(60):
        firm = factories.subject(session)
        service.add_industry_member(session=session, actor=ACTOR, industry="catering", subject_id=firm.id)
        if n % 3 == 0:
            factories.record(session, subject_row=firm, severity="serious")  # C
        if n % 10 == 0:
            factories.record(session, subject_row=firm, resource="serious_dishonesty_list")  # D
        ids.append(firm.id)
    factories.subject(session)  # outside the sector
    for n in range(6):
        supervision.add_inspector(
            session=session, actor=ACTOR, code=f"ZF{n:04d}", name=f"检查员{n}", department="市场监管局"
        )
    run(session)
    return ids


def test_a_draw_follows_the_grade_ratios_and_is_reproducible_from_its_seed(session: Session) -> None:
    ids = _population(session)
    conflicted = ids[0]
    inspector = supervision.add_inspector(
        session=session, actor=ACTOR, code="ZF9999", name="回避员", department="市场监管局"
    )
    supervision.add_conflict(
        session=session, actor=ACTOR, inspector_id=inspector.id, subject_id=conflicted, reason="亲属"
    )
    campaign = supervision.create_campaign(
        session=session, actor=ACTOR, code="2026-CY-01", name="餐饮业抽查", industry="catering", seed="fixed-seed"
    )
    population = campaign.population["subjects"]
    assert sum(len(v) for v in population.values()) == 60
    drawn = list(session.scalars(sa.select(InspectionDraw).where(InspectionDraw.campaign_id == campaign.id)))
    for grade, members in population.items():
        expected = math.ceil(len(members) * supervision.ratios()[grade] - 1e-9)
        assert sum(1 for d in drawn if d.grade == grade) == expected
    assert all(len(set(d.inspector_ids)) == 2 for d in drawn)
    assert all(not (d.subject_id == conflicted and inspector.id in d.inspector_ids) for d in drawn)
    # Anyone can re-run the draw from the published inputs.
    again = supervision.draw(
        seed="fixed-seed",
        ratios=campaign.ratios,
        population=population,
        inspectors=campaign.population["inspectors"],
        conflicts={int(k): v for k, v in campaign.population["conflicts"].items()},
    )
    assert [(a.subject_id, list(a.inspector_ids)) for a in again] == [
        (d.subject_id, d.inspector_ids) for d in sorted(drawn, key=lambda d: d.position)
    ]
    assert supervision.verify(session=session, code="2026-CY-01")["valid"] is True
    other = supervision.draw(
        seed="another-seed",
        ratios=campaign.ratios,
        population=population,
        inspectors=campaign.population["inspectors"],
        conflicts={},
    )
    assert [a.subject_id for a in other] != [a.subject_id for a in again]


def test_a_tampered_draw_fails_verification(session: Session) -> None:
    _population(session)
    supervision.create_campaign(session=session, actor=ACTOR, code="T-1", name="抽查", industry="catering")
    row = session.scalars(sa.select(InspectionDraw).order_by(InspectionDraw.id.desc())).first()
    assert row is not None
    row.inspector_ids = [row.inspector_ids[0], row.inspector_ids[0]]
    session.flush()
    assert supervision.verify(session=session, code="T-1")["valid"] is False


def test_a_draw_is_public_only_once_published(session: Session) -> None:
    _population(session)
    supervision.create_campaign(
        session=session, actor=ACTOR, code="P-1", name="公示抽查", industry="catering", seed="s"
    )
    with pytest.raises(NotFound):
        supervision.public_view(session=session, code="P-1")
    supervision.publish(session=session, actor=ACTOR, code="P-1")
    public = supervision.public_view(session=session, code="P-1")
    assert public["seed"] == "s"
    assert sum(g["drawn"] for g in public["per_grade"].values()) == len(public["items"]) > 0
    assert all(item["name"].startswith("淄博测试") and len(item["inspectors"]) == 2 for item in public["items"])


def test_scenarios_answer_from_grade_and_lists(session: Session) -> None:
    import datetime as dt

    good = factories.subject(session, established_on=dt.date(2000, 1, 1))
    factories.record(session, subject_row=good, resource="tax_credit_a", severity=None)
    debtor = factories.subject(session)
    factories.record(session, subject_row=debtor, resource="dishonest_judgment_debtor")
    person = factories.subject(session, kind=SubjectKind.NATURAL_PERSON)
    run(session)
    answer = scenarios.scenario_answer(session=session, subject_id=good.id, scenario="xinyiyou")
    assert answer["eligible"] is True and answer["benefit"]
    assert answer["grade"]["grade"] == "A"
    refused = scenarios.scenario_answer(session=session, subject_id=debtor.id, scenario="xinyidai")
    assert refused["eligible"] is False and refused["benefit"] is None
    failed = [r["rule"] for r in refused["rules"] if not r["passed"]]
    assert any("等级" in r for r in failed) and any("名单" in r for r in failed)
    library = scenarios.scenario_answer(session=session, subject_id=person.id, scenario="xinyiyue")
    assert library["eligible"] is True  # no grade needed for a library card
    no_grade = scenarios.scenario_answer(session=session, subject_id=person.id, scenario="xinyiban")
    assert no_grade["eligible"] is False
    with pytest.raises(NotFound):
        scenarios.scenario_answer(session=session, subject_id=good.id, scenario="nothing")
    assert {s["code"] for s in scenarios.list_scenarios()} >= {"xinyidai", "xinyiyue", "xinyiban", "xinyiyou"}
