"""The checks domain's hooks: the dashboard's checks and 联合奖惩 chart, and subject merges.

Loaded by ``xinyong.hooks.install`` (web app, command line, worker)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from xinyong.catalog.models import SourceUnit
from xinyong.checks.models import Check
from xinyong.checks.service import case_statistics
from xinyong.monitoring.charts import Chart, Series, Table
from xinyong.monitoring.metrics import Scope, register_metric

NO_UNIT = "（未指定单位）"


def checks_per_department(*, session: Session, scope: Scope) -> dict[tuple[str, str], int]:
    """Checks per (unit name, month), counted in the database one month at a time (months are China time)."""
    found: dict[tuple[str, str], int] = {}
    for month in scope.months():
        first = Scope.month(month)
        query = (
            sa.select(SourceUnit.name, sa.func.count())
            .select_from(Check)
            .outerjoin(SourceUnit, SourceUnit.id == Check.unit_id)
            .where(Check.at >= first.utc_start, Check.at < first.utc_end)
            .group_by(SourceUnit.name)
        )
        if scope.region:
            query = query.where(SourceUnit.region == scope.region)
        for name, n in session.execute(query):
            found[name or NO_UNIT, month] = found.get((name or NO_UNIT, month), 0) + int(n)
    return found


@register_metric("checks_by_department")
def checks_by_department(session: Session, scope: Scope) -> Chart:
    """Checks by the checking unit; 联合奖惩案例 (a check with at least one measure applied) by the department that
    reported the feedback, from ``checks.service.case_statistics`` — the same figures as the statistics export."""
    checks = checks_per_department(session=session, scope=scope)
    cases = case_statistics(session=session, start=scope.start, end=scope.end, region=scope.region)
    lines: dict[tuple[str, str], dict[str, int]] = defaultdict(
        lambda: {"checks": 0, "cases": 0, "punishments": 0, "rewards": 0, "not_applied": 0}
    )
    for key, n in checks.items():
        lines[key]["checks"] = n
    for row in cases:
        line = lines[row["department"], row["month"]]
        line["cases"] += row["cases"]
        line["punishments"] += row["punishments_applied"]
        line["rewards"] += row["rewards_applied"]
        line["not_applied"] += row["not_applied"]
    departments = sorted({d for d, _ in lines})
    total: dict[str, dict[str, int]] = {d: defaultdict(int) for d in departments}
    for (department, _month), line in lines.items():
        for k, v in line.items():
            total[department][k] += v
    rows: list[list[Any]] = [
        [d, m, v["checks"], v["cases"], v["punishments"], v["rewards"], v["not_applied"]]
        for (d, m), v in sorted(lines.items())
    ]
    return Chart(
        key="checks_by_department",
        title="各部门信用核查与联合奖惩案例",
        explanation="各部门办理事项时的信用核查次数（按核查单位），以及反馈中至少实施了一项奖惩措施的核查数（联合奖惩案例，按反馈部门）。",
        kind="hbar",
        x_label="次数",
        y_label="部门",
        categories=departments,
        series=[
            Series("信用核查", [float(total[d]["checks"]) for d in departments]),
            Series("联合奖惩案例", [float(total[d]["cases"]) for d in departments]),
        ],
        tables=[
            Table(
                "各部门、各月核查与联合奖惩案例",
                ["部门", "月份", "信用核查", "联合奖惩案例", "实施惩戒措施", "实施激励措施", "未实施"],
                rows,
            )
        ],
    )


# --- subject merges ----------------------------------------------------------------------------------------------


def _move_checks(session: Session, from_id: int, to_id: int) -> list[int]:
    # The stored result snapshot keeps what the clerk saw at the time; only the link to the subject follows the merge.
    ids = list(session.scalars(sa.select(Check.id).where(Check.subject_id == from_id)))
    session.execute(sa.update(Check).where(Check.id.in_(ids)).values(subject_id=to_id))
    return ids


def _back_checks(session: Session, ids: list[int], to_id: int) -> None:
    session.execute(sa.update(Check).where(Check.id.in_(ids)).values(subject_id=to_id))


def _register_merge_hooks() -> None:
    from xinyong.console.service import MERGE_HOOKS

    MERGE_HOOKS["checks"] = (_move_checks, _back_checks)


_register_merge_hooks()
