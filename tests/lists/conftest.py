from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from xinyong.audit.service import Actor
from xinyong.core.settings import reset_settings

CREDIT_OFFICE = Actor(name="credit-officer", role="credit_office")
CLERK = Actor(name="hall-clerk", role="checker")


@pytest.fixture
def set_today(monkeypatch: pytest.MonkeyPatch) -> Callable[[dt.date], None]:
    def _set(day: dt.date) -> None:
        monkeypatch.setenv("XINYONG_TODAY", day.isoformat())
        reset_settings()

    return _set
