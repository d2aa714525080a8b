"""Working-day deadlines of objections and repair (DESIGN §4.4), and whether an item is overdue today."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from xinyong.core import clock
from xinyong.core.workdays import Deadline, add_workdays


def due(start: dt.datetime | dt.date, days: int) -> Deadline:
    """``days`` working days after the (China-time) day of ``start``."""
    day = start.astimezone(clock.CHINA).date() if isinstance(start, dt.datetime) else start
    return add_workdays(day, days)


@dataclass(frozen=True)
class DueItem:
    """One open objection or repair application with the deadline of the step it waits for."""

    kind: str  # objection / repair
    id: int
    no: str
    subject_id: int
    source_unit_id: int | None
    status: str
    status_label: str
    waiting_for: str  # who must act: 信用办 / 信息提供单位
    step: str  # accept / verify / answer / decide
    step_label: str
    due: dt.date
    provisional: bool
    overdue: bool
    days_left: int  # calendar days until the deadline (negative when overdue)


def overdue(day: dt.date, today: dt.date | None = None) -> bool:
    return (today or clock.today()) > day
