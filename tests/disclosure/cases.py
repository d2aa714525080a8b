"""The boundary matrix of the disclosure rules, shared by the engine tests and the HTTP tests.

Each case is one record and one "today"; it says whether the public sees it and whether a department with a sharing
right may use it. The record's owner and the credit office always see it (with the reason).
Dates follow the built-in rules (data/rules.yaml): 一般 min 3 / max 12 months, 严重 min 12 / max 36, 轻微 not
published (3 months for sharing).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

D = dt.date(2025, 3, 10)  # decision date of most cases
DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Case:
    id: str
    today: dt.date
    public: bool
    shared: bool
    resource: str = "administrative_penalty"
    kind: str = "legal_person"
    record: dict[str, Any] = field(default_factory=dict)
    reason: str = ""  # a fragment of the public reason
    objection: bool = False


def _pen(**kw: Any) -> dict[str, Any]:
    return {"decision_date": D, "severity": "general"} | kw


LICENCE = {
    "decision_date": dt.date(2024, 12, 20),
    "valid_from": dt.date(2025, 1, 1),
    "valid_to": dt.date(2025, 12, 31),
    "severity": None,
    "payload": {"XK_ZT": "有效"},
}

CASES: list[Case] = [
    # 一般: from the decision date, the minimum (3 months) does not end publication, the maximum (12 months) does.
    Case("general-day-before-decision", D - DAY, False, False, record=_pen(), reason="尚未到公示开始日期"),
    Case("general-decision-day", D, True, True, record=_pen(), reason="公示至 2026-03-09"),
    Case("general-day-before-min", dt.date(2025, 6, 9), True, True, record=_pen()),
    Case("general-min-day", dt.date(2025, 6, 10), True, True, record=_pen()),
    Case("general-last-day", dt.date(2026, 3, 9), True, True, record=_pen()),
    Case("general-day-after-max", dt.date(2026, 3, 10), False, False, record=_pen(), reason="公示期满"),
    Case("no-severity-is-general", dt.date(2026, 3, 10), False, False, record=_pen(severity=None)),
    Case("no-severity-last-day", dt.date(2026, 3, 9), True, True, record=_pen(severity=None)),
    # 严重: min 1 year, max 3 years.
    Case("serious-day-before-min", dt.date(2026, 3, 9), True, True, record=_pen(severity="serious")),
    Case("serious-min-day", dt.date(2026, 3, 10), True, True, record=_pen(severity="serious")),
    Case("serious-last-day", dt.date(2028, 3, 9), True, True, record=_pen(severity="serious")),
    Case("serious-day-after-max", dt.date(2028, 3, 10), False, False, record=_pen(severity="serious")),
    # 轻微: not published; a department may use it for 3 months.
    Case("minor-decision-day", D, False, True, record=_pen(severity="minor"), reason="轻微失信信息"),
    Case("minor-shared-last-day", dt.date(2025, 6, 9), False, True, record=_pen(severity="minor")),
    Case("minor-shared-after", dt.date(2025, 6, 10), False, False, record=_pen(severity="minor")),
    # An explicit 公示截止期 shortens, never lengthens.
    Case("until-last-day", dt.date(2025, 9, 30), True, True, record=_pen(publish_until=dt.date(2025, 9, 30))),
    Case(
        "until-day-after",
        dt.date(2025, 10, 1),
        False,
        False,
        record=_pen(publish_until=dt.date(2025, 9, 30)),
        reason="公示截止期",
    ),
    Case("until-later-than-max", dt.date(2026, 3, 10), False, False, record=_pen(publish_until=dt.date(2027, 1, 1))),
    # Month ends: 2024-01-31 + 12 months − 1 day; 2024-02-29 + 36 months − 1 day.
    Case("month-end-last-day", dt.date(2025, 1, 30), True, True, record=_pen(decision_date=dt.date(2024, 1, 31))),
    Case("month-end-after", dt.date(2025, 1, 31), False, False, record=_pen(decision_date=dt.date(2024, 1, 31))),
    Case(
        "leap-serious-last-day",
        dt.date(2027, 2, 27),
        True,
        True,
        record=_pen(decision_date=dt.date(2024, 2, 29), severity="serious"),
    ),
    Case(
        "leap-serious-after",
        dt.date(2027, 2, 28),
        False,
        False,
        record=_pen(decision_date=dt.date(2024, 2, 29), severity="serious"),
    ),
    # Status, objection, repair.
    Case("revoked", dt.date(2025, 6, 1), False, False, record=_pen(status="revoked"), reason="撤销"),
    Case("deleted", dt.date(2025, 6, 1), False, False, record=_pen(status="deleted"), reason="删除"),
    Case("objection-open", dt.date(2025, 6, 1), True, True, record=_pen(objection_open=True), objection=True),
    Case(
        "repaired",
        dt.date(2025, 7, 1),
        False,
        False,
        record=_pen(repaired_at=dt.datetime(2025, 6, 20, 2, 0, tzinfo=dt.UTC)),
        reason="信用修复",
    ),
    # Subject kinds.
    Case("individual-business", dt.date(2025, 6, 1), True, True, kind="individual_business", record=_pen()),
    Case(
        "natural-person-penalty",
        dt.date(2025, 6, 1),
        False,
        True,
        kind="natural_person",
        record=_pen(),
        reason="自然人",
    ),
    Case(
        "natural-person-judgment-debtor",
        dt.date(2025, 6, 1),
        True,
        True,
        resource="dishonest_judgment_debtor",
        kind="natural_person",
        record={"decision_date": D, "severity": "serious"},
    ),
    # Licences: published while valid.
    Case("licence-day-before-valid", dt.date(2024, 12, 31), False, False, "administrative_license", record=LICENCE),
    Case("licence-first-day", dt.date(2025, 1, 1), True, True, "administrative_license", record=LICENCE),
    Case("licence-last-day", dt.date(2025, 12, 31), True, True, "administrative_license", record=LICENCE),
    Case(
        "licence-day-after",
        dt.date(2026, 1, 1),
        False,
        False,
        "administrative_license",
        record=LICENCE,
        reason="有效期已于 2025-12-31 届满",
    ),
    Case(
        "licence-revoked-status",
        dt.date(2025, 6, 1),
        False,
        False,
        "administrative_license",
        record=LICENCE | {"payload": {"XK_ZT": "吊销"}},
        reason="吊销",
    ),
    Case(
        "licence-long-term",
        dt.date(2040, 6, 1),
        True,
        True,
        "administrative_license",
        record=LICENCE | {"valid_to": dt.date(2099, 12, 31)},
        reason="长期公示",
    ),
    # Lists: while valid (经营异常名录 until its removal date).
    Case(
        "list-last-day",
        dt.date(2025, 12, 1),
        True,
        True,
        "abnormal_operation",
        record={"decision_date": D, "valid_to": dt.date(2025, 12, 1), "severity": "general"},
    ),
    Case(
        "list-after-removal",
        dt.date(2025, 12, 2),
        False,
        False,
        "abnormal_operation",
        record={"decision_date": D, "valid_to": dt.date(2025, 12, 1), "severity": "general"},
    ),
    # Disclosure class: 政务共享 is never public.
    Case(
        "shared-class",
        dt.date(2025, 6, 1),
        False,
        True,
        "government_dishonesty",
        record=_pen(),
        reason="政务共享信息",
    ),
]
