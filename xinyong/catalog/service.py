"""Catalog service: the built-in catalog, resources and source units with their grants."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from sqlalchemy.orm import Session

from xinyong.catalog.models import Resource, SourceUnit, UnitResource
from xinyong.catalog.spec import ResourceSpec
from xinyong.core import clock
from xinyong.core.database import refresh_versioned
from xinyong.core.errors import Conflict, InvalidInput, NotFound
from xinyong.core.text import normalise_code
from xinyong.subjects.codes import uscc_error

BUILTIN = Path(__file__).resolve().parent / "data" / "builtin.yaml"


@lru_cache
def builtin_catalog() -> dict[str, Any]:
    return yaml.safe_load(BUILTIN.read_text(encoding="utf-8"))


def builtin_specs() -> dict[str, ResourceSpec]:
    return {e["code"]: ResourceSpec.from_catalog(e) for e in builtin_catalog()["resources"]}


def load_builtin(*, session: Session) -> int:
    """Insert or refresh the built-in resources; returns how many were written. Idempotent."""
    catalog = builtin_catalog()
    existing = {r.code: r for r in session.scalars(sa.select(Resource))}
    written = 0
    for entry in catalog["resources"]:
        spec = ResourceSpec.from_catalog(entry)
        values = {
            "name": entry["name"],
            "category": entry["category"],
            "nature": entry["nature"],
            "disclosure_class": entry["disclosure_class"],
            "fields": [_field_dict(f) for f in spec.fields],
            "roles": spec.roles,
            "severity_rules": spec.severity_rules,
            "update_frequency": entry["update_frequency"],
            "update_days": entry.get("update_days"),
            "legal_basis": entry.get("legal_basis", []),
            "publish_natural_persons": spec.publish_natural_persons,
        }
        resource = existing.get(entry["code"])
        if resource is None:
            session.add(Resource(code=entry["code"], version=catalog["version"], updated_at=clock.now(), **values))
            written += 1
        elif refresh_versioned(resource, values, now=clock.now()):
            written += 1
    session.flush()
    return written


def _field_dict(field: Any) -> dict[str, Any]:
    # Stored as JSON: tuples become lists, so compare and store the JSON shape.
    kept = {k: list(v) if isinstance(v, tuple) else v for k, v in vars(field).items()}
    return {k: v for k, v in kept.items() if v not in (None, [], False, "never")}


def spec_of(resource: Resource) -> ResourceSpec:
    """The pipeline's view of a stored resource (the stored fields are already expanded)."""
    return ResourceSpec.from_catalog(
        {
            "code": resource.code,
            "name": resource.name,
            "nature": resource.nature,
            "disclosure_class": resource.disclosure_class,
            "fields": resource.fields,
            "roles": resource.roles,
            "severity_rules": resource.severity_rules,
            "publish_natural_persons": resource.publish_natural_persons,
        }
    )


def get_resource(*, session: Session, code: str) -> Resource:
    resource = session.scalar(sa.select(Resource).where(Resource.code == code))
    if resource is None:
        known = "、".join(session.scalars(sa.select(Resource.code).order_by(Resource.code)))
        raise NotFound(f"未知的信息资源：{code}（可用：{known}）")
    return resource


def get_unit(*, session: Session, uscc: str) -> SourceUnit:
    unit = session.scalar(sa.select(SourceUnit).where(SourceUnit.uscc == normalise_code(uscc)))
    if unit is None:
        raise NotFound(f"信息提供单位未登记：{uscc}")
    return unit


def register_unit(
    *,
    session: Session,
    uscc: str,
    name: str,
    region: str,
    resources: list[str],
    short_name: str | None = None,
) -> SourceUnit:
    """Create a source unit or update its name, region and grants (the grants are replaced)."""
    code = normalise_code(uscc)
    if error := uscc_error(code):
        raise InvalidInput(f"单位统一社会信用代码无效：{error}")
    if not (len(region) == 6 and region.isdigit()):
        raise InvalidInput("行政区划代码应为 6 位数字")
    unit = session.scalar(sa.select(SourceUnit).where(SourceUnit.uscc == code))
    if unit is None:
        unit = SourceUnit(uscc=code, name=name, region=region, short_name=short_name, created_at=clock.now())
        session.add(unit)
    else:
        unit.name, unit.region = name, region
        unit.short_name = short_name or unit.short_name
    session.flush()
    wanted = {get_resource(session=session, code=c).id for c in resources}
    session.execute(sa.delete(UnitResource).where(UnitResource.unit_id == unit.id))
    for resource_id in sorted(wanted):
        session.add(UnitResource(unit_id=unit.id, resource_id=resource_id))
    session.flush()
    return unit


def may_push(*, session: Session, unit_id: int, resource_id: int) -> bool:
    return (
        session.scalar(
            sa.select(sa.literal(1)).where(UnitResource.unit_id == unit_id, UnitResource.resource_id == resource_id)
        )
        is not None
    )


def ensure_may_push(*, session: Session, unit: SourceUnit, resource: Resource) -> None:
    if not may_push(session=session, unit_id=unit.id, resource_id=resource.id):
        raise Conflict(f"单位“{unit.name}”未获准报送“{resource.name}”")
