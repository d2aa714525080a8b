"""The field schema of a resource, as the collection pipeline reads it.

The catalog file (``data/builtin.yaml``) and the ``resource`` table hold the same structure; this module turns it into
typed objects and expands the standard subject fields that every 双公示-style resource shares.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from xinyong.subjects.models import SubjectKind

SUBJECT_KINDS_WITH_CODE = [SubjectKind.LEGAL_PERSON.value, SubjectKind.INDIVIDUAL_BUSINESS.value]


def subject_fields(prefix: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The subject fields of DESIGN §3.3 under ``prefix`` (CF, XK, …) and their roles."""
    p = prefix
    fields: list[dict[str, Any]] = [
        {
            "code": f"{p}_XDR_MC",
            "name": "行政相对人名称",
            "type": "name",
            "required": "always",
            "max_length": 200,
        },
        {"code": f"{p}_XDR_LB", "name": "行政相对人类别", "type": "subject_kind", "required": "always"},
        {
            "code": f"{p}_XDR_SHXYM",
            "name": "统一社会信用代码",
            "type": "uscc",
            "required_for": SUBJECT_KINDS_WITH_CODE,
        },
        {"code": f"{p}_XDR_GSZC", "name": "工商注册号", "type": "legacy_code", "code_type": "gszc"},
        {"code": f"{p}_XDR_ZZJG", "name": "组织机构代码", "type": "legacy_code", "code_type": "zzjg"},
        {"code": f"{p}_XDR_SWDJ", "name": "税务登记号", "type": "legacy_code", "code_type": "swdj"},
        {"code": f"{p}_XDR_SYDW", "name": "事业单位证书号", "type": "legacy_code", "code_type": "sydw"},
        {"code": f"{p}_XDR_SHZZ", "name": "社会组织登记证号", "type": "legacy_code", "code_type": "shzz"},
        {
            "code": f"{p}_FRDB",
            "name": "法定代表人",
            "type": "text",
            "max_length": 100,
            "required_for": [SubjectKind.LEGAL_PERSON.value],
        },
        {"code": f"{p}_FR_ZJLX", "name": "法定代表人证件类型", "type": "id_type"},
        {
            "code": f"{p}_FR_ZJHM",
            "name": "法定代表人证件号码",
            "type": "id_number",
            "id_type_field": f"{p}_FR_ZJLX",
            "pii": True,
        },
        {
            "code": f"{p}_XDR_ZJLX",
            "name": "证件类型",
            "type": "id_type",
            "required_for": [SubjectKind.NATURAL_PERSON.value],
        },
        {
            "code": f"{p}_XDR_ZJHM",
            "name": "证件号码",
            "type": "id_number",
            "id_type_field": f"{p}_XDR_ZJLX",
            "required_for": [SubjectKind.NATURAL_PERSON.value],
            "pii": True,
        },
    ]
    roles: dict[str, Any] = {
        "subject_name": f"{p}_XDR_MC",
        "subject_kind": f"{p}_XDR_LB",
        "uscc": f"{p}_XDR_SHXYM",
        "legacy_codes": {f["code_type"]: f["code"] for f in fields if f["type"] == "legacy_code"},
        "legal_rep": f"{p}_FRDB",
        "id_type": f"{p}_XDR_ZJLX",
        "id_number": f"{p}_XDR_ZJHM",
    }
    return fields, roles


@dataclass(frozen=True)
class FieldSpec:
    code: str
    name: str
    type: str
    required: str = "never"  # always | never
    required_for: tuple[str, ...] = ()
    required_if: dict[str, Any] | None = None
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    default: str | None = None
    pattern: str | None = None
    not_future: bool = False
    not_before: str | None = None
    code_type: str | None = None
    id_type_field: str | None = None
    pii: bool = False

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> FieldSpec:
        return cls(
            code=raw["code"],
            name=raw["name"],
            type=raw.get("type", "text"),
            required=raw.get("required", "never"),
            required_for=tuple(raw.get("required_for", ())),
            required_if=raw.get("required_if"),
            max_length=raw.get("max_length"),
            choices=tuple(raw.get("choices", ())),
            default=raw.get("default"),
            pattern=raw.get("pattern"),
            not_future=bool(raw.get("not_future", False)),
            not_before=raw.get("not_before"),
            code_type=raw.get("code_type"),
            id_type_field=raw.get("id_type_field"),
            pii=bool(raw.get("pii", False)),
        )


@dataclass(frozen=True)
class ResourceSpec:
    code: str
    name: str
    nature: str
    disclosure_class: str
    fields: tuple[FieldSpec, ...]
    roles: dict[str, Any]
    severity_rules: dict[str, Any] = field(default_factory=dict)
    publish_natural_persons: bool = False

    @classmethod
    def from_catalog(cls, entry: dict[str, Any]) -> ResourceSpec:
        """From one entry of the catalog file (with ``subject_fields`` still to expand)."""
        fields = list(entry.get("fields", []))
        roles = dict(entry.get("roles", {}))
        if prefix := entry.get("subject_fields"):
            extra_fields, extra_roles = subject_fields(prefix)
            fields = extra_fields + fields
            roles = extra_roles | roles
        return cls(
            code=entry["code"],
            name=entry["name"],
            nature=entry["nature"],
            disclosure_class=entry["disclosure_class"],
            fields=tuple(FieldSpec.from_dict(f) for f in fields),
            roles=roles,
            severity_rules=dict(entry.get("severity_rules") or {}),
            publish_natural_persons=bool(entry.get("publish_natural_persons", False)),
        )

    @cached_property
    def by_code(self) -> dict[str, FieldSpec]:
        return {f.code: f for f in self.fields}

    @cached_property
    def header_map(self) -> dict[str, str]:
        """Header as found in a file (field code in any case, or Chinese name) → field code."""
        mapping: dict[str, str] = {}
        for f in self.fields:
            mapping[f.code.upper()] = f.code
            mapping.setdefault(f.name, f.code)
        return mapping

    def role(self, name: str) -> str | None:
        value = self.roles.get(name)
        return value if isinstance(value, str) else None

    @cached_property
    def legacy_code_fields(self) -> dict[str, str]:
        return dict(self.roles.get("legacy_codes", {}))
