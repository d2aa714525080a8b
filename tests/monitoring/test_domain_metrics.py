"""The dashboard charts other domains provide (evaluation coverage; checks and 联合奖惩 cases) on hand-built data."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests import factories
from tests.monitoring.helpers import at
from xinyong.audit.service import Actor
from xinyong.checks.models import Check, CheckFeedback
from xinyong.evaluation import service as evaluation
from xinyong.monitoring import metrics
from xinyong.monitoring.metrics import Scope
from xinyong.subjects.codes import make_uscc
from xinyong.subjects.models import SubjectKind, SubjectStatus

OFFICER = Actor(name="officer", role="credit_office")


def _table(chart: metrics.Chart) -> list[list[object]]:
    return chart.tables[0].rows


def test_evaluation_coverage_counts_subjects_with_a_current_result_per_kind(session: Session) -> None:
    firms = [factories.subject(session) for _ in range(3)]
    factories.subject(session, kind=SubjectKind.NATURAL_PERSON)
    evaluation.evaluate(session=session, actor=OFFICER)
    late = factories.subject(session)  # registered after the run: not evaluated yet
    gone = factories.subject(session)
    gone.status = SubjectStatus.MERGED  # merged subjects are not counted at all
    session.flush()
    elsewhere = factories.subject(session, region="370303")

    chart = metrics.compute("evaluation_coverage", session=session, scope=Scope.last_months(1))
    assert chart.available
    public = {row[1]: row[2:] for row in _table(chart) if row[0] == "公共信用综合评价模型"}
    # 3 firms evaluated + the late one and the one elsewhere (not evaluated): 3 of 5; the natural person is outside
    # the public model.
    assert public["法人及非法人组织"] == [5, 3, 60.0]
    assert public["自然人"] == [1, 0, 0.0]
    assert chart.series[0].name == "公共信用综合评价模型"  # the default model comes first

    district = metrics.compute("evaluation_coverage", session=session, scope=Scope.last_months(1, region="370302"))
    in_district = {row[1]: row[2:] for row in _table(district) if row[0] == "公共信用综合评价模型"}
    assert in_district["法人及非法人组织"] == [4, 3, 75.0]
    assert len(firms) == 3 and late.id and elsewhere.id


def _check(session: Session, unit_id: int | None, when: dt.datetime, n: int) -> Check:
    row = Check(
        check_no=f"HC-T-{n}",
        at=when,
        actor="clerk",
        actor_role="checker",
        unit_id=unit_id,
        matter="bidding",
        query={},
        result={},
    )
    session.add(row)
    session.flush()
    return row


def _feedback(session: Session, check: Check, department: str, when: dt.datetime, *applied: tuple[str, bool]) -> None:
    for code, done in applied:
        session.add(
            CheckFeedback(
                check_id=check.id,
                measure_code=code,
                measure_kind="reward" if code.startswith("R") else "punishment",
                applied=done,
                reason=None if done else "不适用",
                department=department,
                at=when,
                actor="clerk",
            )
        )
    session.flush()


def test_checks_and_joint_cases_per_department_and_month(session: Session) -> None:
    finance = factories.unit(
        session, uscc_code=make_uscc("1", "1", "370300", "00400011"), name="淄博市财政局", short_name="淄财"
    )
    housing = factories.unit(
        session, uscc_code=make_uscc("1", "1", "370300", "00400012"), name="淄博市住建局", short_name="淄建"
    )
    # May: finance 2 checks (one case with 2 punishments applied), housing 1 check (nothing applied)
    may1 = _check(session, finance.id, at("2026-05-06"), 1)
    _check(session, finance.id, at("2026-05-31", 23, 30), 2)  # 23:30 China time is still May
    may3 = _check(session, housing.id, at("2026-05-20"), 3)
    _feedback(session, may1, "淄博市财政局", at("2026-05-07"), ("M01", True), ("M02", True))
    _feedback(session, may3, "淄博市住建局", at("2026-05-21"), ("M03", False))
    # June: finance 1 check with a reward applied; one check by nobody's unit; and one in April, outside the scope
    june = _check(session, finance.id, at("2026-06-01", 0, 30), 4)
    _feedback(session, june, "淄博市财政局", at("2026-06-02"), ("R01", True), ("M01", False))
    _check(session, None, at("2026-06-03"), 5)
    _check(session, finance.id, at("2026-04-30", 23, 0), 6)

    scope = Scope(dt.date(2026, 5, 1), dt.date(2026, 6, 30))
    chart = metrics.compute("checks_by_department", session=session, scope=scope)
    assert chart.available
    assert _table(chart) == [
        ["淄博市住建局", "2026-05", 1, 0, 0, 0, 1],
        ["淄博市财政局", "2026-05", 2, 1, 2, 0, 0],
        ["淄博市财政局", "2026-06", 1, 1, 0, 1, 1],
        ["（未指定单位）", "2026-06", 1, 0, 0, 0, 0],
    ]
    totals = dict(zip(chart.categories, chart.series[0].values, strict=True))
    cases = dict(zip(chart.categories, chart.series[1].values, strict=True))
    assert totals == {"淄博市住建局": 1.0, "淄博市财政局": 3.0, "（未指定单位）": 1.0}
    assert cases == {"淄博市住建局": 0.0, "淄博市财政局": 2.0, "（未指定单位）": 0.0}
    assert session.scalar(sa.select(sa.func.count()).select_from(Check)) == 6


def test_the_objection_chart_replaces_its_placeholder_in_place(session: Session) -> None:
    from xinyong.monitoring.charts import render_svg

    chart = metrics.compute("objection_repair_deadlines", session=session, scope=Scope.last_months(1))
    assert chart.available and "尚未接入" not in chart.note
    assert "尚未接入" not in str(render_svg(chart))  # nothing closed yet: an empty chart, not a missing module
    keys = metrics.metric_keys()
    assert (
        keys.index("evaluation_coverage")
        < keys.index("checks_by_department")
        < keys.index("objection_repair_deadlines")
    )
