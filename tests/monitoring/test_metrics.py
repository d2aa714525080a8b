"""Every dashboard metric on hand-built data whose answer is worked out by hand, on both engines."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from tests import factories
from tests.monitoring.helpers import batch, received
from xinyong.catalog.models import SourceUnit
from xinyong.core.settings import reset_settings
from xinyong.monitoring import metrics
from xinyong.monitoring.charts import Chart, render_svg
from xinyong.monitoring.metrics import Scope
from xinyong.subjects.models import SubjectKind, SubjectStatus


def _units(session: Session) -> tuple[SourceUnit, SourceUnit]:
    env = factories.unit(session)  # 淄博市生态环境局, 370300
    market = factories.unit(
        session,
        uscc_code=factories.make_uscc("1", "1", "370300", "00400003"),
        name="淄博市市场监督管理局",
        short_name="淄市监",
    )
    return env, market


def _today(monkeypatch: pytest.MonkeyPatch, day: str) -> None:
    monkeypatch.setenv("XINYONG_TODAY", day)
    reset_settings()


def test_publicity_timeliness_counts_working_days_across_national_day(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    _today(monkeypatch, "2026-10-31")
    env, market = _units(session)
    company = factories.subject(session)

    def penalty(doc: str, decided: str, got: str, hour: int = 10, **kw: object) -> None:
        row = factories.record(
            session,
            subject_row=company,
            unit_row=kw.get("unit", env),
            doc_no=doc,  # type: ignore[arg-type]
            decision_date=dt.date.fromisoformat(decided),
            resource=str(kw.get("resource", "administrative_penalty")),
        )
        received(session, row, got, hour)
        if "origin" in kw:
            row.origin = str(kw["origin"])
            session.flush()

    # Fri Sep 25 2026 is 中秋节, Oct 1–7 are 国庆节 holidays, Sat Oct 10 is a 调休 working day.
    penalty("淄环罚〔2026〕1号", "2026-09-30", "2026-10-12")  # Oct 8, 9, 10, 12 → 4
    penalty("淄环罚〔2026〕2号", "2026-09-25", "2026-10-12", hour=0)  # 00:00 China time is still Oct 12 → 7, on time
    penalty("淄环罚〔2026〕3号", "2026-09-24", "2026-10-12")  # Sep 28, 29, 30, Oct 8, 9, 10, 12 → 7, on time
    penalty("淄环罚〔2026〕6号", "2026-09-23", "2026-10-12")  # Sep 24 as well → 8, late
    penalty("淄环罚〔2026〕4号", "2026-08-31", "2026-09-01")  # decided before the scope: not counted
    penalty("淄环罚〔2026〕5号", "2026-09-30", "2026-12-30", origin="省平台")  # from an upper platform: not counted
    penalty("淄市监许〔2026〕1号", "2026-10-09", "2026-10-10", unit=market, resource="administrative_license")  # 1
    penalty("淄市监许〔2026〕2号", "2026-10-13", "2026-10-23", unit=market, resource="administrative_license")  # 8

    scope = Scope(dt.date(2026, 9, 1), dt.date(2026, 10, 31))
    rows = {r.doc_no: r for r in metrics.publicity_rows(session=session, scope=scope)}
    assert {doc: (r.workdays, r.late) for doc, r in rows.items()} == {
        "淄环罚〔2026〕1号": (4, False),
        "淄环罚〔2026〕2号": (7, False),
        "淄环罚〔2026〕3号": (7, False),
        "淄环罚〔2026〕6号": (8, True),
        "淄市监许〔2026〕1号": (1, False),
        "淄市监许〔2026〕2号": (8, True),
    }
    assert not any(r.provisional for r in rows.values())

    chart = metrics.compute("publicity_by_department", session=session, scope=scope)
    assert dict(zip(chart.categories, chart.series[0].values, strict=True)) == {
        "淄博市市场监督管理局": 50.0,
        "淄博市生态环境局": 75.0,
    }
    late = chart.tables[1]
    assert sorted((r[2], r[6]) for r in late.rows) == [("淄市监许〔2026〕2号", 8), ("淄环罚〔2026〕6号", 8)]
    per_month = {(r[0], r[1]): r[2:6] for r in chart.tables[0].rows}
    assert per_month[("淄博市生态环境局", "2026-09")] == [4, 3, 1, 75.0]
    assert per_month[("淄博市市场监督管理局", "2026-10")] == [2, 1, 1, 50.0]

    by_month = metrics.compute("publicity_by_month", session=session, scope=scope)
    assert by_month.categories == ["2026-09", "2026-10"]
    assert by_month.series[0].name == "行政许可" and by_month.series[0].values == [None, 50.0]
    assert by_month.series[1].name == "行政处罚" and by_month.series[1].values == [75.0, None]


def test_publicity_in_a_year_without_an_official_schedule_is_marked_provisional(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    _today(monkeypatch, "2027-01-31")
    env, _ = _units(session)
    row = factories.record(
        session, subject_row=factories.subject(session), unit_row=env, decision_date=dt.date(2027, 1, 4)
    )
    received(session, row, "2027-01-06")
    chart = metrics.compute("publicity_by_department", session=session, scope=Scope.month("2027-01"))
    assert chart.series[0].values == [100.0]
    assert chart.tables[0].rows[0][-1] == "临时"
    assert "临时" in chart.note


def test_update_timeliness_against_declared_frequency(session: Session) -> None:
    # today is Monday 2026-06-15
    env, market = _units(session)
    row = factories.record(session, subject_row=factories.subject(session), unit_row=env)
    received(session, row, "2026-06-01")  # Jun 2–5, 8–12, 15 → 10 working days: over the 7 declared
    batch(session, unit=market, started="2026-06-12", accepted=0)  # delivered (nothing new) on Friday → 1
    statuses = {(s.resource, s.unit): s for s in metrics.update_statuses(session=session)}
    penalty_name = next(s.resource for s in statuses.values() if s.unit == "淄博市生态环境局")
    env_status = statuses[penalty_name, "淄博市生态环境局"]
    assert (env_status.workdays_since, env_status.declared_days, env_status.overdue) == (10, 7, True)
    market_status = statuses[penalty_name, "淄博市市场监督管理局"]
    assert (market_status.workdays_since, market_status.overdue) == (1, False)
    overall = statuses[penalty_name, None]
    assert (overall.last_update, overall.workdays_since) == (dt.date(2026, 6, 12), 1)
    never = [s for s in statuses.values() if s.unit is None and s.resource != penalty_name]
    assert never and all(s.last_update is None and s.overdue for s in never)

    chart = metrics.compute("update_timeliness", session=session, scope=Scope.last_months(1))
    values = dict(zip(chart.categories, chart.series[0].values, strict=True))
    assert values[penalty_name] == 1.0


def test_volume_and_growth_by_month(session: Session) -> None:
    env, _ = _units(session)
    company = factories.subject(session)
    for day, resource in [
        ("2026-04-03", "administrative_penalty"),
        ("2026-04-30", "administrative_penalty"),
        ("2026-05-06", "administrative_license"),
        ("2026-05-07", "administrative_penalty"),
        ("2026-05-08", "administrative_penalty"),
        ("2026-05-31", "administrative_penalty"),
        ("2026-03-31", "administrative_penalty"),  # before the scope
    ]:
        received(session, factories.record(session, subject_row=company, unit_row=env, resource=resource), day)
    chart = metrics.compute("volume", session=session, scope=Scope(dt.date(2026, 4, 1), dt.date(2026, 6, 30)))
    assert chart.categories == ["2026-04", "2026-05", "2026-06"]
    assert chart.series[0].values == [0, 1, 0]  # licences
    assert chart.series[1].values == [2, 3, 0]  # penalties
    assert [row[-2:] for row in chart.tables[0].rows] == [[2, None], [4, 100.0], [0, -100.0]]


def test_link_rate_is_linked_over_accepted_per_department(session: Session) -> None:
    env, market = _units(session)
    batch(session, unit=env, started="2026-05-02", accepted=10, linked=8)
    batch(session, unit=env, started="2026-06-02", accepted=10, linked=10)
    batch(session, unit=market, started="2026-06-03", accepted=4, linked=1)
    batch(session, unit=market, started="2025-06-03", accepted=100, linked=0)  # outside the scope
    chart = metrics.compute("link_rate", session=session, scope=Scope.last_months(6))
    assert dict(zip(chart.categories, chart.series[0].values, strict=True)) == {
        "淄博市市场监督管理局": 25.0,
        "淄博市生态环境局": 90.0,
    }
    assert chart.tables[0].rows[-1] == ["合计", 3, 24, 19, 79.2]


def test_coverage_by_kind_excludes_merged_subjects(session: Session) -> None:
    with_record = factories.subject(session)
    factories.record(session, subject_row=with_record)
    factories.subject(session)
    factories.subject(session, kind=SubjectKind.INDIVIDUAL_BUSINESS)
    factories.subject(session, kind=SubjectKind.NATURAL_PERSON)
    gone = factories.subject(session)
    gone.status = SubjectStatus.MERGED
    session.flush()
    chart = metrics.compute("coverage", session=session, scope=Scope.last_months(1))
    assert chart.categories == ["法人及非法人组织", "个体工商户", "自然人"]
    assert chart.series[0].values == [2, 1, 1]
    assert chart.series[1].values == [1, 0, 0]
    assert chart.tables[0].rows[0] == ["法人及非法人组织", 2, 1, 50.0]


def test_top_rejection_reasons_ignore_row_numbers(session: Session) -> None:
    env, market = _units(session)
    bad_code = "统一社会信用代码校验位错误"
    batch(
        session,
        unit=env,
        started="2026-06-01",
        rejected_reasons=[
            [{"field": "CF_XDR_SHXYM", "message": f"第 2 行 CF_XDR_SHXYM：{bad_code}"}],
            [
                {"field": "CF_XDR_SHXYM", "message": f"第 3 行 CF_XDR_SHXYM：{bad_code}"},
                {"field": "CF_JDRQ", "message": "第 3 行 CF_JDRQ：日期无法识别"},
            ],
        ],
    )
    batch(
        session,
        unit=market,
        started="2026-06-02",
        rejected_reasons=[[{"field": "CF_XDR_SHXYM", "message": f"第 9 行 CF_XDR_SHXYM：{bad_code}"}]],
    )
    chart = metrics.compute("rejection_reasons", session=session, scope=Scope.last_months(1))
    assert dict(zip(chart.categories, chart.series[0].values, strict=True)) == {
        f"{bad_code}（CF_XDR_SHXYM）": 3,
        "日期无法识别（CF_JDRQ）": 1,
    }
    assert ["淄博市生态环境局", f"{bad_code}（CF_XDR_SHXYM）", 2] in chart.tables[0].rows


def test_a_district_officer_sees_only_their_region(session: Session) -> None:
    city, _ = _units(session)
    district = factories.unit(
        session,
        uscc_code=factories.make_uscc("1", "1", "370302", "00400004"),
        name="张店区市场监督管理局",
        region="370302",
        short_name="张市监",
    )
    company = factories.subject(session)
    factories.record(session, subject_row=company, unit_row=city, decision_date=dt.date(2026, 6, 1))
    factories.record(session, subject_row=company, unit_row=district, decision_date=dt.date(2026, 6, 1))
    chart = metrics.compute("publicity_by_department", session=session, scope=Scope.last_months(1, region="370302"))
    assert chart.categories == ["张店区市场监督管理局"]


def test_another_domain_replaces_a_placeholder_in_place(session: Session) -> None:
    keys = metrics.metric_keys()
    original = metrics._PROVIDERS["objection_repair_deadlines"]
    try:
        metrics.register_metric(
            "objection_repair_deadlines",
            lambda _s, _scope: Chart(key="objection_repair_deadlines", title="替换", explanation="", categories=["甲"]),
        )
        assert metrics.metric_keys() == keys
        assert (
            metrics.compute("objection_repair_deadlines", session=session, scope=Scope.last_months(1)).title == "替换"
        )
    finally:
        metrics.register_metric("objection_repair_deadlines", original)


def test_svg_has_title_axes_and_values() -> None:
    chart = Chart(
        key="k",
        title="测试",
        explanation="",
        kind="hbar",
        x_label="按时率（%）",
        y_label="部门",
        categories=["甲局", "乙局"],
        series=[metrics.Series("按时率", [50.0, 100.0])],
        unit="%",
    )
    svg = str(render_svg(chart))
    assert svg.startswith("<svg") and "按时率（%）" in svg and "50.0%" in svg and "乙局" in svg
    assert "没有数据" in str(render_svg(Chart(key="e", title="空", explanation="")))
