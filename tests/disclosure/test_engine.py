"""The disclosure engine across every boundary of the publication rules, for every viewer."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.disclosure.cases import CASES, Case
from xinyong.catalog import service as catalog
from xinyong.catalog.models import Resource
from xinyong.core.errors import ConfigurationError
from xinyong.core.settings import reset_settings
from xinyong.disclosure import (
    Viewer,
    add_months,
    decide,
    get_rules,
    load_rules,
    mask_identifiers,
    repair_eligible_from,
)
from xinyong.records.models import Record


def resource_of(code: str) -> Resource:
    spec = catalog.builtin_specs()[code]
    return Resource(
        code=code,
        nature=spec.nature,
        disclosure_class=spec.disclosure_class,
        publish_natural_persons=spec.publish_natural_persons,
        roles=dict(spec.roles),
    )


def record_of(case: Case, subject_id: int = 7) -> Record:
    values = {
        "subject_id": subject_id,
        "subject_kind": case.kind,
        "status": "active",
        "objection_open": False,
        "repaired_at": None,
        "payload": {},
        "valid_from": None,
        "valid_to": None,
        "publish_until": None,
    } | case.record
    return Record(**values)


VIEWERS = {
    "public": Viewer.public(),
    "owner": Viewer.subject(7),
    "other-subject": Viewer.subject(8),
    "shared": Viewer.shared(),
    "credit-office": Viewer.credit_office(),
}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
@pytest.mark.parametrize("viewer_name", list(VIEWERS))
def test_matrix(case: Case, viewer_name: str) -> None:
    decision = decide(record_of(case), resource_of(case.resource), VIEWERS[viewer_name], today=case.today)
    expected = {
        "public": case.public,
        "other-subject": case.public,
        "shared": case.shared,
        "owner": True,
        "credit-office": True,
    }[viewer_name]
    assert decision.visible is expected
    assert decision.public is case.public
    assert decision.reason
    if case.reason:
        assert case.reason in decision.reason
    assert decision.objection is (case.objection and expected)
    assert decision.masked is (viewer_name in ("public", "other-subject"))


def test_xinyong_today_moves_the_decision(monkeypatch: pytest.MonkeyPatch) -> None:
    case = next(c for c in CASES if c.id == "general-last-day")
    monkeypatch.setenv("XINYONG_TODAY", "2026-03-09")
    reset_settings()
    assert decide(record_of(case), resource_of(case.resource), Viewer.public()).public
    monkeypatch.setenv("XINYONG_TODAY", "2026-03-10")
    reset_settings()
    assert not decide(record_of(case), resource_of(case.resource), Viewer.public()).public


def test_reasons_and_periods_for_the_owner() -> None:
    case = next(c for c in CASES if c.id == "general-decision-day")
    decision = decide(record_of(case), resource_of(case.resource), Viewer.subject(7), today=case.today)
    assert decision.published_from == dt.date(2025, 3, 10)
    assert decision.published_until == dt.date(2026, 3, 9)
    assert decision.repair_eligible_from == dt.date(2025, 6, 10)
    assert decision.reason == "依规公示中，公示至 2026-03-09"


@pytest.mark.parametrize(
    ("severity", "expected"),
    [("general", dt.date(2025, 6, 10)), ("serious", dt.date(2026, 3, 10)), ("minor", dt.date(2025, 3, 10))],
)
def test_repair_eligible_from_is_the_end_of_the_minimum(severity: str, expected: dt.date) -> None:
    rec = Record(decision_date=dt.date(2025, 3, 10), severity=severity)
    assert repair_eligible_from(rec, resource_of("administrative_penalty")) == expected
    assert repair_eligible_from(rec, resource_of("administrative_license")) is None


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)
    assert add_months(dt.date(2024, 2, 29), 12) == dt.date(2025, 2, 28)
    assert add_months(dt.date(2025, 3, 10), -3) == dt.date(2024, 12, 10)


def test_earliest_visible_decision_agrees_with_last_day() -> None:
    rules = get_rules()
    for terms in rules.severity.values():
        for offset in range(0, 800, 7):
            today = dt.date(2024, 1, 1) + dt.timedelta(days=offset)
            cutoff = terms.earliest_visible_decision(today)
            assert terms.last_day(cutoff) >= today
            assert terms.last_day(cutoff - dt.timedelta(days=1)) < today


def test_thresholds_come_from_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    override = tmp_path / "rules.yaml"
    override.write_text(
        "severity:\n  general: {max_months: 6}\nresources:\n  administrative_penalty:\n"
        "    severity: {minor: {published: true}}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("XINYONG_DISCLOSURE_RULES", str(override))
    reset_settings()
    rules = get_rules()
    assert rules.severity["general"].max_months == 6
    general = Record(
        subject_id=1, subject_kind="legal_person", decision_date=dt.date(2025, 3, 10), severity="general",
        status="active", objection_open=False, repaired_at=None, payload={}, valid_from=None, valid_to=None,
        publish_until=None,
    )  # fmt: skip
    resource = resource_of("administrative_penalty")
    assert decide(general, resource, Viewer.public(), today=dt.date(2025, 9, 9)).public
    assert not decide(general, resource, Viewer.public(), today=dt.date(2025, 9, 10)).public
    general.severity = "minor"
    assert decide(general, resource, Viewer.public(), today=dt.date(2025, 6, 9)).public
    assert not decide(general, resource, Viewer.public(), today=dt.date(2025, 6, 10)).public


def test_bad_configuration_is_refused_in_chinese(tmp_path: Path) -> None:
    override = tmp_path / "rules.yaml"
    override.write_text("severity:\n  serious: {min_months: 40}\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="最短期限"):
        load_rules(override)


def test_mask_identifiers_masks_valid_citizen_ids_only() -> None:
    from tests.factories import citizen_id

    number = citizen_id(123)
    text = f"当事人 {number}，代码 91370302MA0000011X"
    masked = mask_identifiers(text)
    assert number not in masked
    assert number[:4] + "**********" + number[-4:] in masked
    assert "91370302MA0000011X" in masked
