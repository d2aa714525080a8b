"""The publication rules as data: loaded from ``data/rules.yaml``, optionally overridden by XINYONG_DISCLOSURE_RULES.

These objects are the single source of the thresholds. The Python decision (``engine.decide``) and the SQL filter
(``query.public_filter``) both ask them, so the two can never disagree about a number.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from xinyong.core.errors import ConfigurationError
from xinyong.core.settings import get_settings
from xinyong.records.models import SEVERITY_LABELS, Severity

BUILTIN_RULES = Path(__file__).resolve().parent / "data" / "rules.yaml"
NATURE_MODES = ("severity_window", "licence", "validity")


def add_months(day: dt.date, months: int) -> dt.date:
    """Calendar months later (or earlier), the day clamped to the month's end (like PostgreSQL's interval)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


@dataclass(frozen=True)
class SeverityTerms:
    """The publication window of one severity (轻微 / 一般 / 严重)."""

    severity: str
    published: bool
    min_months: int
    max_months: int

    @property
    def label(self) -> str:
        return SEVERITY_LABELS.get(Severity(self.severity), self.severity)

    def last_day(self, decision: dt.date) -> dt.date:
        """The last day of publication at the latest (the maximum period)."""
        return add_months(decision, self.max_months) - dt.timedelta(days=1)

    def repair_from(self, decision: dt.date) -> dt.date:
        """The first day on which repair may end publication (the end of the minimum period)."""
        return add_months(decision, self.min_months)

    def earliest_visible_decision(self, today: dt.date) -> dt.date:
        """The earliest decision date whose maximum period still covers ``today``.

        ``last_day`` is non-decreasing in the decision date, so "last_day(d) ≥ today" is exactly "d ≥ this date":
        the SQL filter compares the indexed decision_date column with it instead of doing month arithmetic (which
        SQLite and PostgreSQL do differently at month ends).
        """
        candidate = add_months(today, -self.max_months)
        one = dt.timedelta(days=1)
        while self.last_day(candidate - one) >= today:
            candidate -= one
        while self.last_day(candidate) < today:
            candidate += one
        return candidate


@dataclass(frozen=True)
class DisclosureRules:
    natures: dict[str, str]
    severity: dict[str, SeverityTerms]
    default_severity: str
    licence_status_role: str
    licence_valid_status: tuple[str, ...]
    open_end: dt.date
    resource_severity: dict[str, dict[str, SeverityTerms]] = field(default_factory=dict)

    def mode_of(self, nature: str) -> str:
        return self.natures.get(nature, self.natures.get("other", "validity"))

    def severity_of(self, value: str | None) -> str:
        """The severity a record is treated as (unknown or missing → the default)."""
        return value if value in self.severity else self.default_severity

    def terms(self, resource_code: str, severity: str | None) -> SeverityTerms:
        table = self.resource_severity.get(resource_code, self.severity)
        return table[self.severity_of(severity)]

    def severity_table(self, resource_code: str) -> dict[str, SeverityTerms]:
        return self.resource_severity.get(resource_code, self.severity)


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _severity_table(raw: dict[str, Any], where: str) -> dict[str, SeverityTerms]:
    table: dict[str, SeverityTerms] = {}
    for sev in Severity:
        entry = raw.get(sev.value)
        if not isinstance(entry, dict):
            raise ConfigurationError(f"公示规则 {where}：缺少失信程度“{sev.value}”的设置")
        try:
            terms = SeverityTerms(
                severity=sev.value,
                published=bool(entry["published"]),
                min_months=int(entry["min_months"]),
                max_months=int(entry["max_months"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigurationError(f"公示规则 {where}.{sev.value}：设置不完整或不是整数（{exc}）") from None
        if not 0 <= terms.min_months <= terms.max_months:
            raise ConfigurationError(f"公示规则 {where}.{sev.value}：应满足 0 ≤ 最短期限 ≤ 最长期限")
        table[sev.value] = terms
    return table


def parse_rules(raw: dict[str, Any]) -> DisclosureRules:
    natures = {str(k): str(v) for k, v in (raw.get("natures") or {}).items()}
    for nature, mode in natures.items():
        if mode not in NATURE_MODES:
            raise ConfigurationError(
                f"公示规则 natures.{nature}：未知的公示方式“{mode}”（可选 {'/'.join(NATURE_MODES)}）"
            )
    severity_raw = raw.get("severity") or {}
    severity = _severity_table(severity_raw, "severity")
    default = str(raw.get("default_severity", "general"))
    if default not in severity:
        raise ConfigurationError(f"公示规则 default_severity：未知的失信程度“{default}”")
    licence = raw.get("licence") or {}
    per_resource = {
        code: _severity_table(_merge(severity_raw, (override or {}).get("severity") or {}), f"resources.{code}")
        for code, override in (raw.get("resources") or {}).items()
    }
    open_end = licence.get("open_end", dt.date(2099, 12, 31))
    return DisclosureRules(
        natures=natures,
        severity=severity,
        default_severity=default,
        licence_status_role=str(licence.get("status_field_role", "status")),
        licence_valid_status=tuple(str(s) for s in licence.get("valid_status", ["有效"])),
        open_end=open_end if isinstance(open_end, dt.date) else dt.date.fromisoformat(str(open_end)),
        resource_severity=per_resource,
    )


def load_rules(override: Path | None = None) -> DisclosureRules:
    raw = yaml.safe_load(BUILTIN_RULES.read_text(encoding="utf-8"))
    if override is not None:
        try:
            extra = yaml.safe_load(Path(override).read_text(encoding="utf-8")) or {}
        except OSError as exc:
            raise ConfigurationError(f"无法读取公示规则文件 {override}：{exc.strerror}") from None
        if not isinstance(extra, dict):
            raise ConfigurationError(f"公示规则文件 {override} 应为 YAML 映射")
        raw = _merge(raw, extra)
    return parse_rules(raw)


@lru_cache(maxsize=4)
def _cached(path: str | None) -> DisclosureRules:
    return load_rules(Path(path) if path else None)


def get_rules() -> DisclosureRules:
    """The rules in force (built-in, merged with the file named by XINYONG_DISCLOSURE_RULES)."""
    path = get_settings().disclosure_rules
    return _cached(str(path) if path else None)
