"""Domains of the 无违法违规记录 report: which departments' records count for 市场监管, 生态环境, 税务 …

Configuration, not code: ``data/domains.yaml``, with a file named by XINYONG_REPORT_DOMAINS merged over it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from xinyong.catalog.models import Resource, SourceUnit
from xinyong.core.errors import ConfigurationError, InvalidInput
from xinyong.core.settings import get_settings
from xinyong.records.models import Record

BUILTIN = Path(__file__).resolve().parent / "data" / "domains.yaml"


@dataclass(frozen=True)
class Domain:
    key: str
    label: str
    keywords: tuple[str, ...]
    unit_codes: tuple[str, ...]

    def matches_name(self, name: str | None) -> bool:
        return bool(name) and any(k in (name or "") for k in self.keywords)

    def matches_unit(self, unit: SourceUnit) -> bool:
        return unit.uscc in self.unit_codes or self.matches_name(unit.name)

    def matches_record(self, record: Record, resource: Resource, unit: SourceUnit) -> bool:
        """The deciding authority named in the record, else the source unit, belongs to this domain."""
        authority_field = (resource.roles or {}).get("authority")
        authority = record.payload.get(authority_field) if authority_field and record.payload else None
        if authority and self.matches_name(str(authority)):
            return True
        return self.matches_unit(unit)


@dataclass(frozen=True)
class DomainCatalog:
    resources: tuple[str, ...]
    domains: dict[str, Domain]

    def pick(self, keys: list[str] | None) -> list[Domain]:
        """The chosen domains by key or label (all of them when none are chosen)."""
        if not keys:
            return list(self.domains.values())
        by_label = {d.label: d for d in self.domains.values()}
        chosen: list[Domain] = []
        for raw in keys:
            for key in (k.strip() for k in raw.replace("，", ",").split(",")):
                if not key:
                    continue
                domain = self.domains.get(key) or by_label.get(key)
                if domain is None:
                    known = "、".join(f"{d.key}（{d.label}）" for d in self.domains.values())
                    raise InvalidInput(f"未知的领域“{key}”；可选：{known}")
                if domain not in chosen:
                    chosen.append(domain)
        return chosen


def _load(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"无法读取报告领域配置 {path}：{exc}") from None
    if not isinstance(data, dict):
        raise ConfigurationError(f"报告领域配置 {path} 应为一个映射")
    return data


@lru_cache(maxsize=4)
def _catalog(override: Path | None) -> DomainCatalog:
    data = _load(BUILTIN)
    if override is not None:
        extra = _load(override)
        data["domains"] = {**data.get("domains", {}), **(extra.get("domains") or {})}
        if "resources" in extra:
            data["resources"] = extra["resources"]
    domains: dict[str, Domain] = {}
    for key, spec in (data.get("domains") or {}).items():
        if not isinstance(spec, dict) or not spec.get("label"):
            raise ConfigurationError(f"报告领域 {key} 缺少名称（label）")
        domains[str(key)] = Domain(
            key=str(key),
            label=str(spec["label"]),
            keywords=tuple(str(k) for k in spec.get("keywords") or ()),
            unit_codes=tuple(str(c).upper() for c in spec.get("unit_codes") or ()),
        )
    return DomainCatalog(resources=tuple(data.get("resources") or ()), domains=domains)


def domain_catalog() -> DomainCatalog:
    return _catalog(get_settings().report_domains)
