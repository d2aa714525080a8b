"""Industry point system, model versions, incremental runs, and the SQL batch agreeing with the explanations."""

from __future__ import annotations

import copy
import datetime as dt
import random

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests import factories
from tests.evaluation.helpers import ACTOR, ago, batch, line, run
from xinyong.core import clock
from xinyong.core.errors import Conflict, InvalidInput
from xinyong.evaluation import service, spec
from xinyong.evaluation.models import EvaluationResult
from xinyong.subjects.models import SubjectKind

PM = "property_management"


def _firm(session: Session) -> int:
    firm = factories.subject(session, name="淄博安居物业服务有限公司")
    service.add_industry_member(session=session, actor=ACTOR, industry=PM, subject_id=firm.id)
    return firm.id


def _penalty(session: Session, subject_id: int, *, behaviour: str, when: dt.date, severity: str = "general") -> int:
    from xinyong.subjects.models import Subject

    row = factories.record(
        session,
        subject_row=session.get(Subject, subject_id),
        severity=severity,
        decision_date=when,
        payload={"CF_WFXW": behaviour},
    )
    return row.id


def test_property_points_count_for_36_months(session: Session) -> None:
    firm = _firm(session)
    _penalty(session, firm, behaviour="未按规定公示收费项目", when=ago(months=35))
    _penalty(session, firm, behaviour="擅自改变共用部位用途", when=ago(months=36))  # expired today
    grade = batch(session, firm, PM)
    assert (grade["score"], grade["grade"], grade["model"]) == (3, "B", PM)


def test_property_no_repeated_points_while_rectifying(session: Session) -> None:
    firm = _firm(session)
    first = _penalty(session, firm, behaviour="消防通道堵塞", when=ago(days=200))
    repeat = _penalty(session, firm, behaviour="消防通道堵塞", when=ago(days=200 - 30))  # within 90 days
    again = _penalty(session, firm, behaviour="消防通道堵塞", when=ago(days=200 - 150))  # after the period
    other = _penalty(session, firm, behaviour="未按规定公示收费项目", when=ago(days=200 - 30))
    assert batch(session, firm, PM)["score"] == 9
    general = line(session, firm, "pm_general", PM)
    assert sorted(e.record_id for e in general.evidence if e.counted) == sorted([first, again, other])
    assert [e.record_id for e in general.evidence if not e.counted] == [repeat]
    assert general.note and "不重复计分" in general.note


def test_project_manager_points_count_on_the_employing_firm(session: Session) -> None:
    firm = _firm(session)
    manager = factories.subject(session, kind=SubjectKind.NATURAL_PERSON, name="李四")
    service.add_employment(
        session=session,
        actor=ACTOR,
        person_id=manager.id,
        firm_id=firm,
        role="project_manager",
        start_on=ago(months=24),
    )
    during = _penalty(session, manager.id, behaviour="未履行安全管理职责", when=ago(months=6), severity="serious")
    _penalty(session, manager.id, behaviour="未履行安全管理职责", when=ago(months=30), severity="serious")  # before
    grade = batch(session, firm, PM)
    assert (grade["score"], grade["grade"]) == (10, "C")
    evidence = line(session, firm, "pm_serious", PM).evidence
    assert [(e.record_id, e.via_person_id) for e in evidence] == [(during, manager.id)]


def test_a_firm_outside_the_roster_is_not_scored_by_the_industry_model(session: Session) -> None:
    outsider = factories.subject(session)
    run(session, PM)
    assert service.grade_for(session=session, subject_id=outsider.id, model=PM) is None


def test_a_new_model_version_names_itself_and_keeps_old_results(session: Session) -> None:
    firm = factories.subject(session)
    first = batch(session, firm.id)
    assert first["model_version"] == 1
    raw = copy.deepcopy(spec.load_file(spec.DATA_DIR / "public_v1.yaml").raw)
    raw["version"] = 2
    raw["score"]["start"] = 700
    service.publish(session=session, actor=ACTOR, raw=raw)
    second = batch(session, firm.id)
    assert (second["model_version"], second["score"]) == (2, 700)
    versions = [h["model_version"] for h in service.history(session=session, subject_id=firm.id)]
    assert versions == [1, 2]
    with pytest.raises(Conflict, match="版本号须大于 2"):
        service.publish(session=session, actor=ACTOR, raw=raw)


def test_an_invalid_model_is_refused_with_every_problem_named(session: Session) -> None:
    raw = copy.deepcopy(spec.load_file(spec.DATA_DIR / "public_v1.yaml").raw)
    raw["version"] = 9
    raw["dimensions"][1]["indicators"][0]["resources"] = ["no_such_resource"]
    raw["dimensions"][1]["indicators"][1]["severity"] = ["terrible"]
    raw["overrides"][0]["grade"] = "E"
    with pytest.raises(InvalidInput) as caught:
        service.publish(session=session, actor=ACTOR, raw=raw)
    message = caught.value.message
    assert "目录中没有信息资源 no_such_resource" in message
    assert "dimensions[2].indicators[2].severity" in message
    assert "等级 E 不在 grades 中" in message


def test_an_unchanged_score_writes_no_new_result(session: Session) -> None:
    firm = factories.subject(session)
    batch(session, firm.id)
    again = run(session)
    assert again.results_written == 0
    assert len(service.history(session=session, subject_id=firm.id)) == 1


def test_incremental_evaluation_touches_only_changed_subjects(session: Session) -> None:
    quiet, busy, other = (factories.subject(session) for _ in range(3))
    factories.record(session, subject_row=quiet, severity="general")
    first = run(session)
    assert first.subjects_evaluated == 3
    penalty = factories.record(session, subject_row=busy, severity="serious")
    penalty.updated_at = clock.now() + dt.timedelta(minutes=1)
    session.flush()
    second = run(session, changed=True)
    written_ids = list(
        session.scalars(sa.select(EvaluationResult.subject_id).where(EvaluationResult.run_id == second.id))
    )
    assert (second.mode, second.subjects_evaluated, written_ids) == ("changed", 1, [busy.id])
    assert second.results_written == 1
    written = session.scalars(sa.select(EvaluationResult.subject_id).where(EvaluationResult.run_id == second.id))
    assert list(written) == [busy.id]
    assert service.grade_for(session=session, subject_id=busy.id)["score"] == 550  # type: ignore[index]
    assert run(session, changed=True).subjects_evaluated == 0
    assert other.id != busy.id


def test_incremental_evaluation_catches_a_window_ending(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    from xinyong.core.settings import reset_settings

    firm, untouched = factories.subject(session), factories.subject(session)
    factories.record(session, subject_row=firm, severity="general", decision_date=ago(months=36, days=-5))
    run(session)
    assert service.grade_for(session=session, subject_id=firm.id)["score"] == 610  # type: ignore[index]
    monkeypatch.setenv("XINYONG_TODAY", (clock.today() + dt.timedelta(days=10)).isoformat())
    reset_settings()
    later = run(session, changed=True)
    assert later.subjects_evaluated == 1
    assert service.grade_for(session=session, subject_id=firm.id)["score"] == 650  # type: ignore[index]
    assert untouched.id != firm.id


def test_batch_sql_equals_the_explanation_for_a_random_sample(session: Session) -> None:
    rng = random.Random(20260615)
    firms = [
        factories.subject(session, established_on=ago(months=rng.randrange(0, 200)) if rng.random() < 0.8 else None)
        for _ in range(25)
    ]
    resources = ["administrative_penalty"] * 6 + [
        "administrative_license",
        "abnormal_operation",
        "serious_dishonesty_list",
        "dishonest_judgment_debtor",
        "tax_credit_a",
        "government_dishonesty",
    ]
    for firm in firms:
        for _ in range(rng.randrange(0, 8)):
            resource = rng.choice(resources)
            factories.record(
                session,
                subject_row=firm,
                resource=resource,
                severity=rng.choice(["minor", "general", "serious"]),
                decision_date=ago(days=rng.randrange(0, 1500)),
                valid_to=rng.choice([None, ago(days=rng.randrange(-400, 400))]),
                repaired_at=clock.now() if rng.random() < 0.1 else None,
                status=rng.choice(["active"] * 9 + ["revoked"]),
            )
    run(session, chunk=7)
    grades = set()
    for firm in firms:
        current = service.grade_for(session=session, subject_id=firm.id)
        explained = service.explain(session=session, subject_id=firm.id)
        assert current is not None
        assert (current["score"], current["grade"]) == (explained.score, explained.grade)
        grades.add(current["grade"])
    assert len(grades) >= 3  # the sample exercises several bands


def test_a_run_leaves_the_planner_statistics_of_its_tables_current(session: Session) -> None:
    """The next run joins the current results: on PostgreSQL they must not still look empty to the planner."""
    from xinyong.core.database import analyze_stale

    for _ in range(30):
        factories.subject(session)
    session.flush()
    done = service.evaluate(session=session, actor=ACTOR)
    assert done.results_written >= 30
    if session.get_bind().dialect.name != "postgresql":
        # SQLite keeps no row estimates that a bulk write leaves behind: nothing is ever analysed this way.
        assert analyze_stale(session.connection(), ["evaluation_current"], done.results_written) == []
        return
    estimates = dict(
        session.execute(
            sa.text(
                "SELECT relname, reltuples FROM pg_class WHERE relname IN ('evaluation_current', 'evaluation_result')"
            )
        ).all()
    )
    current = session.scalar(sa.text("SELECT count(*) FROM evaluation_current"))
    assert estimates == {"evaluation_current": current, "evaluation_result": done.results_written}
