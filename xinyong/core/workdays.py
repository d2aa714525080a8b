"""Chinese working days (DESIGN §4.4).

Sources, in order: the credit office's holiday file (it may publish next year's schedule before the package does),
then ``chinesecalendar``; for a year known to neither, weekends only, and every answer says it is provisional.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import chinese_calendar
import yaml

from xinyong.core.errors import ConfigurationError
from xinyong.core.settings import get_settings


@dataclass(frozen=True)
class Deadline:
    """A date computed in working days; ``provisional`` when a year's official schedule was not known."""

    date: dt.date
    provisional: bool = False


@dataclass
class WorkCalendar:
    holidays: set[dt.date] = field(default_factory=set)
    workdays: set[dt.date] = field(default_factory=set)
    file_years: set[int] = field(default_factory=set)

    def knows_year(self, year: int) -> bool:
        return year in self.file_years or _package_knows(year)

    def is_workday(self, day: dt.date) -> tuple[bool, bool]:
        """(is a working day, provisional)."""
        if day.year in self.file_years:
            if day in self.workdays:
                return True, False
            if day in self.holidays:
                return False, False
            return day.weekday() < 5, False
        if _package_knows(day.year):
            return bool(chinese_calendar.is_workday(day)), False
        return day.weekday() < 5, True

    def add_workdays(self, start: dt.date, days: int) -> Deadline:
        """The date ``days`` working days after ``start`` (start itself not counted)."""
        current, provisional, left = start, False, days
        while left > 0:
            current += dt.timedelta(days=1)
            working, guess = self.is_workday(current)
            provisional |= guess
            if working:
                left -= 1
        return Deadline(current, provisional)

    def workdays_between(self, start: dt.date, end: dt.date) -> tuple[int, bool]:
        """Working days after ``start`` up to and including ``end`` (0 when end <= start), and provisional."""
        count, provisional, current = 0, False, start
        while current < end:
            current += dt.timedelta(days=1)
            working, guess = self.is_workday(current)
            provisional |= guess
            count += working
        return count, provisional


@lru_cache(maxsize=64)
def _package_knows(year: int) -> bool:
    try:
        chinese_calendar.is_workday(dt.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def load_holiday_file(path: Path) -> WorkCalendar:
    """Read ``{year: {holidays: [dates], workdays: [dates]}}``; a malformed file is a configuration error."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"节假日文件无法读取：{path}（{exc}）") from exc
    calendar = WorkCalendar()
    for year, spec in data.items():
        try:
            calendar.file_years.add(int(year))
            calendar.holidays.update(_as_date(d) for d in (spec or {}).get("holidays", []) or [])
            calendar.workdays.update(_as_date(d) for d in (spec or {}).get("workdays", []) or [])
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(f"节假日文件 {path} 中 {year} 年的日期格式错误（{exc}）") from exc
    return calendar


def _as_date(value: object) -> dt.date:
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def get_calendar() -> WorkCalendar:
    path = get_settings().holidays_file
    return _cached_calendar(str(path) if path else "")


@lru_cache(maxsize=4)
def _cached_calendar(path: str) -> WorkCalendar:
    return load_holiday_file(Path(path)) if path else WorkCalendar()


def add_workdays(start: dt.date, days: int) -> Deadline:
    return get_calendar().add_workdays(start, days)


def workdays_between(start: dt.date, end: dt.date) -> tuple[int, bool]:
    return get_calendar().workdays_between(start, end)
