"""The one clock. Everything that depends on 'today' asks here, so XINYONG_TODAY moves the whole platform."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from xinyong.core.settings import get_settings

CHINA = ZoneInfo("Asia/Shanghai")


def today() -> dt.date:
    fixed = get_settings().today
    return fixed if fixed is not None else dt.datetime.now(CHINA).date()


def now() -> dt.datetime:
    """Aware UTC time; when today is fixed, the time of day is kept but the date is the fixed one (China time)."""
    current = dt.datetime.now(CHINA)
    fixed = get_settings().today
    if fixed is not None:
        current = current.replace(year=fixed.year, month=fixed.month, day=fixed.day)
    return current.astimezone(dt.UTC)
