"""信易+ scenarios: rules over the grade and list status → a benefit. The rules are data (``data/scenarios.yaml``,
or the file named by XINYONG_SCENARIOS_FILE). List status goes through the ``list_entries`` indicator source, so a
scenario answer counts exactly the entries in force that the batch evaluation counts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from sqlalchemy.orm import Session

from xinyong.core.errors import ConfigurationError, NotFound
from xinyong.core.settings import get_settings
from xinyong.evaluation import service, sources
from xinyong.evaluation.spec import DATA_DIR, LIST_KINDS, Indicator
from xinyong.lists.models import LIST_KIND_LABELS, ListKind
from xinyong.records.models import SEVERITY_LABELS, Severity
from xinyong.subjects.models import SUBJECT_KIND_LABELS, Subject, SubjectKind

RULES = ("grade_at_least", "no_active_entries", "no_penalties", "subject_kinds")


@dataclass(frozen=True)
class Scenario:
    code: str
    name: str
    benefit: str
    rules: tuple[dict[str, Any], ...]
    model: str | None = None


def load(path: Path | None = None) -> dict[str, Scenario]:
    path = path or get_settings().scenarios_file or DATA_DIR / "scenarios.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    found: dict[str, Scenario] = {}
    for n, item in enumerate(raw.get("scenarios", []), start=1):
        rules = tuple(item.get("rules", []))
        for rule in rules:
            unknown = set(rule) - set(RULES)
            if unknown:
                raise ConfigurationError(f"场景文件 {path.name} 第 {n} 个场景：未知规则 {'、'.join(sorted(unknown))}")
            entries = rule.get("no_active_entries")
            if isinstance(entries, dict):
                extra = set(entries) - {"resources", "list_types", "list_kinds"}
                bad_kinds = set(entries.get("list_kinds") or ()) - set(LIST_KINDS)
                if extra or bad_kinds or not any(entries.values()):
                    raise ConfigurationError(
                        f"场景文件 {path.name} 第 {n} 个场景：no_active_entries 只能包含 resources、list_types、"
                        f"list_kinds（名单类别为 {' / '.join(LIST_KINDS)}），且至少给出一项"
                    )
        found[item["code"]] = Scenario(item["code"], item["name"], item["benefit"], rules, item.get("model"))
    return found


def list_scenarios() -> list[dict[str, Any]]:
    return [
        {"code": s.code, "name": s.name, "benefit": s.benefit, "rules": [_describe(r) for r in s.rules]}
        for s in load().values()
    ]


def _describe(rule: dict[str, Any]) -> str:
    if "grade_at_least" in rule:
        return f"信用等级不低于 {rule['grade_at_least']}"
    if "no_active_entries" in rule:
        wanted = _entries_rule(rule["no_active_entries"])
        names = [LIST_KIND_LABELS[ListKind(k)] for k in wanted["list_kinds"]] + list(wanted["list_types"])
        # The resources only add records not yet turned into entries: name them only when nothing else is named.
        return "无有效的名单记录：" + "、".join(names or wanted["resources"])
    if "no_penalties" in rule:
        spec = rule["no_penalties"]
        levels = "、".join(SEVERITY_LABELS[Severity(s)] for s in spec.get("severity", ["general", "serious"]))
        return f"{spec.get('months', 12)} 个月内无{levels}失信行政处罚"
    kinds = "、".join(SUBJECT_KIND_LABELS[SubjectKind(k)] for k in rule["subject_kinds"])
    return f"主体类别为{kinds}"


def _count(session: Session, subject_id: int, indicator: Indicator) -> int:
    """Count as the batch does (``engine.scored_select``): records by the source's condition plus its items."""
    ctx = service.context(session=session)
    rows = sources.RecordRows()
    source = sources.get(indicator.source)
    total = 0
    condition = source.record_condition(indicator, rows, ctx)
    if condition is not None:
        total += (
            session.scalar(
                sa.select(sa.func.count())
                .select_from(rows.table)
                .where(rows.in_play(), rows.eval_subject == subject_id, condition)
            )
            or 0
        )
    items = source.items(indicator, ctx)
    if items is not None:
        sub = items.subquery()
        total += session.scalar(sa.select(sa.func.count()).select_from(sub).where(sub.c.subject_id == subject_id)) or 0
    return int(total)


def _entries_rule(value: Any) -> dict[str, tuple[str, ...]]:
    """``no_active_entries``: a list of resource codes (the list types they feed), or a mapping of ``resources``,
    ``list_types`` and ``list_kinds`` as in a model's list indicator."""
    if isinstance(value, dict):
        return {key: tuple(value.get(key) or ()) for key in ("resources", "list_types", "list_kinds")}
    return {"resources": tuple(value), "list_types": (), "list_kinds": ()}


def scenario_answer(*, session: Session, subject_id: int, scenario: str) -> dict[str, Any]:
    """Whether the subject qualifies for a scenario's benefit, with each rule's outcome (for the check API)."""
    found = load().get(scenario)
    if found is None:
        raise NotFound(f"没有代码为 {scenario} 的信易+场景")
    subject = session.get(Subject, subject_id)
    if subject is None:
        raise NotFound(f"没有 id 为 {subject_id} 的主体")
    grade = service.grade_for(session=session, subject_id=subject_id, model=found.model)
    outcomes: list[dict[str, Any]] = []
    for rule in found.rules:
        passed: bool
        detail: str
        if "grade_at_least" in rule:
            needed = rule["grade_at_least"]
            spec, _ = service.resolve(session=session, code=found.model)
            order = [band.grade for band in spec.grades]
            if grade is None:
                passed, detail = False, "尚无信用评价结果"
            else:
                passed = order.index(grade["grade"]) <= order.index(needed)
                detail = f"当前等级 {grade['grade']}（{grade['model']} v{grade['model_version']}）"
        elif "no_active_entries" in rule:
            wanted = _entries_rule(rule["no_active_entries"])
            probe = Indicator(
                code="scenario",
                name="",
                dimension="",
                source="list_entries",
                points=0,
                resources=wanted["resources"],
                list_types=wanted["list_types"],
                list_kinds=wanted["list_kinds"],
                valid_today=True,
            )
            n = _count(session, subject_id, probe)
            passed, detail = n == 0, f"有效名单记录 {n} 条"
        elif "no_penalties" in rule:
            spec_rule = rule["no_penalties"]
            probe = Indicator(
                code="scenario",
                name="",
                dimension="",
                source="records",
                points=0,
                resources=("administrative_penalty",),
                severity=tuple(spec_rule.get("severity", ["general", "serious"])),
                window_months=int(spec_rule.get("months", 12)),
            )
            n = _count(session, subject_id, probe)
            passed, detail = n == 0, f"期间内相关行政处罚 {n} 条"
        else:
            passed = subject.kind in rule["subject_kinds"]
            detail = f"主体类别：{SUBJECT_KIND_LABELS.get(SubjectKind(subject.kind), subject.kind)}"
        outcomes.append({"rule": _describe(rule), "passed": passed, "detail": detail})
    eligible = all(o["passed"] for o in outcomes)
    return {
        "scenario": found.code,
        "name": found.name,
        "eligible": eligible,
        "benefit": found.benefit if eligible else None,
        "grade": grade,
        "rules": outcomes,
    }
