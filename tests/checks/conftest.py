from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from tests import factories
from xinyong.audit.service import Actor
from xinyong.core.settings import reset_settings
from xinyong.lists import service as lists
from xinyong.subjects.models import Subject

CREDIT_OFFICE = Actor(name="credit-officer", role="credit_office")
CLERK = Actor(name="hall-clerk", role="checker")


@pytest.fixture
def set_today(monkeypatch: pytest.MonkeyPatch) -> Callable[[dt.date], None]:
    def _set(day: dt.date) -> None:
        monkeypatch.setenv("XINYONG_TODAY", day.isoformat())
        reset_settings()

    return _set


def put_on_list(
    session: Session, subject: Subject, code: str, *, legal_rep_id: str | None = None, listed_on: dt.date | None = None
) -> int:
    """An entry listed directly (the representation period is tested in tests/lists)."""
    list_type = lists.get_list_type(session=session, code=code)
    if not list_type.basis:
        lists.set_basis(
            session=session,
            actor=CREDIT_OFFICE,
            code=code,
            basis=[{"document": "某市诚信示范企业评选管理办法", "doc_no": "某信用办〔2025〕1号", "confirmed": True}],
        )
    entry = lists.propose(
        session=session,
        actor=CREDIT_OFFICE,
        list_type_code=code,
        subject_id=subject.id,
        reason="测试列入",
        legal_rep_id_number=legal_rep_id,
    )
    if list_type.representation_days:
        lists.send_notice(session=session, actor=CREDIT_OFFICE, entry_id=entry.id, on=dt.date(2026, 1, 5))
    lists.confirm_listing(
        session=session, actor=CREDIT_OFFICE, entry_id=entry.id, listed_on=listed_on or dt.date(2026, 2, 2)
    )
    return entry.id


__all__ = ["CLERK", "CREDIT_OFFICE", "factories", "put_on_list"]
