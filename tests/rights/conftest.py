"""Rights fixtures: two source units, two subjects with records, actors for every role, a movable today."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from tests import factories
from xinyong.audit.service import Actor
from xinyong.catalog.models import SourceUnit
from xinyong.core.settings import reset_settings
from xinyong.records.models import Record
from xinyong.subjects.codes import make_uscc
from xinyong.subjects.models import Subject

OFFICE = Actor(name="officer-li", role="credit_office")
UNIT_B_USCC = make_uscc("1", "1", "370300", "00400002")


@pytest.fixture
def set_today(monkeypatch: pytest.MonkeyPatch) -> Callable[[dt.date], None]:
    def _set(day: dt.date) -> None:
        monkeypatch.setenv("XINYONG_TODAY", day.isoformat())
        reset_settings()

    return _set


@dataclass
class World:
    unit: SourceUnit
    other_unit: SourceUnit
    company: Subject
    other: Subject
    penalty: Record  # the company's general penalty of unit, decided 2026-01-05
    others_penalty: Record  # the other subject's penalty

    @property
    def subject_actor(self) -> Actor:
        return Actor(name="company-user", role="subject", subject_id=self.company.id)

    @property
    def other_actor(self) -> Actor:
        return Actor(name="other-user", role="subject", subject_id=self.other.id)

    @property
    def unit_actor(self) -> Actor:
        return Actor(name="unit-a", role="source_unit", unit_id=self.unit.id)

    @property
    def other_unit_actor(self) -> Actor:
        return Actor(name="unit-b", role="source_unit", unit_id=self.other_unit.id)


@pytest.fixture
def world(session: Session) -> World:
    unit = factories.unit(session)
    other_unit = factories.unit(session, uscc_code=UNIT_B_USCC, name="淄博市市场监督管理局", short_name="淄市监")
    company = factories.subject(session, name="淄博恒信化工有限公司")
    other = factories.subject(session, name="淄博另一家贸易有限公司")
    penalty = factories.record(
        session, subject_row=company, unit_row=unit, decision_date=dt.date(2026, 1, 5), severity="general",
        payload={"CF_CFLB": "02", "CF_NR": "罚款人民币5万元", "CF_WFXW": "超标排放大气污染物"},
    )  # fmt: skip
    others = factories.record(session, subject_row=other, unit_row=unit, decision_date=dt.date(2026, 2, 1))
    return World(unit, other_unit, company, other, penalty, others)
