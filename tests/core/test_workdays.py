"""Working days: the official schedule, the credit office's holiday file, and provisional answers for unknown years."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from xinyong.core.errors import ConfigurationError
from xinyong.core.settings import reset_settings
from xinyong.core.workdays import WorkCalendar, add_workdays, load_holiday_file, workdays_between


def test_deadline_skips_national_day_and_counts_the_makeup_saturday() -> None:
    # 2026-09-30 (Wed) + 1 working day: Oct 1–7 are holidays, Oct 8 (Thu) is the next working day.
    deadline = add_workdays(dt.date(2026, 9, 30), 1)
    assert deadline.date == dt.date(2026, 10, 8)
    assert not deadline.provisional
    # Oct 8, 9 and the 调休 Saturday Oct 10 are working days: 3 working days after Sep 30 end on Saturday Oct 10.
    assert add_workdays(dt.date(2026, 9, 30), 3).date == dt.date(2026, 10, 10)


def test_workdays_between_across_the_holiday() -> None:
    count, provisional = workdays_between(dt.date(2026, 9, 25), dt.date(2026, 10, 12))
    # Sep 28, 29, 30, Oct 8, 9, 10 (调休), 12 → 7
    assert (count, provisional) == (7, False)
    assert workdays_between(dt.date(2026, 10, 12), dt.date(2026, 10, 12)) == (0, False)


def test_unknown_year_counts_weekends_only_and_says_provisional() -> None:
    deadline = add_workdays(dt.date(2027, 9, 30), 1)
    assert deadline == type(deadline)(dt.date(2027, 10, 1), True)


def test_holiday_file_covers_a_year_the_package_does_not_know(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "holidays.yaml"
    path.write_text(
        "2027:\n  holidays: [2027-10-01, 2027-10-04, 2027-10-05]\n  workdays: [2027-10-09]\n", encoding="utf-8"
    )
    monkeypatch.setenv("XINYONG_HOLIDAYS_FILE", str(path))
    reset_settings()
    deadline = add_workdays(dt.date(2027, 9, 30), 1)
    assert deadline.date == dt.date(2027, 10, 6)  # Oct 1 hol, 2–3 weekend, 4–5 hol
    assert not deadline.provisional
    # 调休 Saturday from the file counts
    assert add_workdays(dt.date(2027, 10, 8), 1).date == dt.date(2027, 10, 9)


def test_malformed_holiday_file_is_a_clear_configuration_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("2027:\n  holidays: [not-a-date]\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="2027"):
        load_holiday_file(path)


def test_weekend_calendar_without_data() -> None:
    calendar = WorkCalendar()
    assert calendar.is_workday(dt.date(2030, 1, 5)) == (False, True)  # a Saturday, year unknown
    assert calendar.is_workday(dt.date(2030, 1, 7)) == (True, True)
