"""A subject's profile as one viewer may see it: basic information and its records in sections, each record with the
disclosure engine's decision (why it is or is not public, until when, marked under objection, masked or not).

The public portal page, its JSON twin, the subject's own view and department views all call ``profile``.
"""

from __future__ import annotations

import datetime as dt
import importlib
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from xinyong.audit import service as audit
from xinyong.audit.service import Actor
from xinyong.catalog.codelists import PENALTY_CATEGORIES
from xinyong.catalog.models import Resource, SourceUnit
from xinyong.core import clock
from xinyong.core.errors import NotFound
from xinyong.disclosure import Decision, Viewer, ViewerKind, decide, get_rules, mask_value
from xinyong.records.models import SEVERITY_LABELS, Record, Severity
from xinyong.subjects.models import SUBJECT_KIND_LABELS, SubjectKind, SubjectName, SubjectStatus
from xinyong.subjects.search import find_by_code, portal_region, subject_ref

# Resources shown under "lists the subject is on" (名单信息), in this order.
LIST_RESOURCES = ("serious_dishonesty_list", "abnormal_operation", "dishonest_judgment_debtor", "tax_credit_a")
SECTIONS = (
    ("licenses", "行政许可"),
    ("penalties", "行政处罚"),
    ("lists", "名单信息"),
    ("other", "其他信用信息"),
)
STATUS_LABELS = {
    SubjectStatus.ACTIVE: "存续",
    SubjectStatus.CANCELLED: "注销",
    SubjectStatus.REVOKED: "吊销",
    SubjectStatus.MERGED: "已合并",
}
# Fields of the national standard already shown elsewhere on the page (subject fields, codes of units).
_HIDDEN_FIELD_TYPES = {"name", "subject_kind", "uscc", "legacy_code", "id_type", "id_number", "unit_code", "doc_no"}


@dataclass(frozen=True)
class RecordEntry:
    record: Record
    resource: Resource
    unit_name: str
    decision: Decision
    fields: list[tuple[str, str]]  # (label, value) of the record's own fields, masked when the viewer must not see IDs

    @property
    def severity_label(self) -> str | None:
        sev = self.record.severity
        return SEVERITY_LABELS.get(Severity(sev)) if sev is not None and sev in Severity._value2member_map_ else None


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    entries: list[RecordEntry] = field(default_factory=list)


@dataclass(frozen=True)
class ExtraItem:
    """One entry of a section another domain provides (a commitment, a self-declaration)."""

    title: str
    tags: list[str]
    lines: list[tuple[str, str]]


@dataclass(frozen=True)
class ExtraSection:
    key: str
    title: str
    items: list[ExtraItem]
    note: str | None = None


# Sections other domains add to the subject page, as "module:function(session=, subject_id=, viewer=)" returning an
# ExtraSection or None; each provider decides what this viewer may see.
EXTRA_SECTION_PROVIDERS = (
    "xinyong.commitments.service:profile_section",
    "xinyong.declarations.service:profile_section",
)


def extra_sections(*, session: Session, subject_id: int, viewer: Viewer) -> list[ExtraSection]:
    found = []
    for spec in EXTRA_SECTION_PROVIDERS:
        module, _, name = spec.partition(":")
        section = getattr(importlib.import_module(module), name)(session=session, subject_id=subject_id, viewer=viewer)
        if section is not None:
            found.append(section)
    return found


@dataclass(frozen=True)
class SubjectProfile:
    code: str
    subject_id: int
    name: str
    kind: str
    kind_label: str
    uscc: str | None
    id_number_masked: str | None
    region: str | None
    status: str
    status_label: str
    legal_rep: str | None
    established_on: dt.date | None
    former_names: list[str]
    sections: list[Section]
    viewer: ViewerKind
    last_modified: dt.datetime
    extras: list[ExtraSection] = field(default_factory=list)

    @property
    def record_count(self) -> int:
        return sum(len(s.entries) for s in self.sections)


def section_of(resource: Resource) -> str:
    if resource.code in LIST_RESOURCES:
        return "lists"
    if resource.nature == "license":
        return "licenses"
    if resource.nature == "penalty":
        return "penalties"
    return "other"


def record_fields(record: Record, resource: Resource, *, masked: bool) -> list[tuple[str, str]]:
    """The record's fields worth reading, labelled in Chinese, in catalog order (subject and PII fields left out)."""
    shown: list[tuple[str, str]] = []
    for spec in resource.fields or []:
        if spec.get("type") in _HIDDEN_FIELD_TYPES or spec.get("pii"):
            continue
        value = record.payload.get(spec["code"]) if record.payload else None
        if value in (None, ""):
            continue
        text = "；".join(str(v) for v in value) if isinstance(value, list) else str(value)
        if spec.get("type") == "penalty_category":
            text = "；".join(
                PENALTY_CATEGORIES.get(c.strip(), c.strip()) for c in text.split("；" if "；" in text else ";")
            )
        shown.append((str(spec.get("name", spec["code"])), mask_value(text) if masked else text))
    return shown


def profile(
    *,
    session: Session,
    code: str,
    viewer: Viewer,
    actor: Actor | None = None,
    today: dt.date | None = None,
) -> SubjectProfile:
    """The profile of the subject with ``code`` as ``viewer`` may see it. NotFound when the subject is unknown or the
    public may not see it (a natural person without a published record, another region on a district's portal).
    Reads that show non-public records are audited with ``actor``."""
    subject = find_by_code(session=session, code=code)
    if subject is None:
        raise NotFound(f"未找到代码为 {code.strip()} 的信用主体")
    today = today or clock.today()
    rules = get_rules()
    if viewer.kind is ViewerKind.SUBJECT and viewer.subject_id != subject.id:
        viewer = Viewer.public()
    region = portal_region()
    if viewer.kind is ViewerKind.PUBLIC and region and not (subject.region or "").startswith(region):
        raise NotFound(f"未找到代码为 {code.strip()} 的信用主体")
    rows = session.execute(
        sa.select(Record, Resource, SourceUnit.name)
        .join(Resource, Resource.id == Record.resource_id)
        .join(SourceUnit, SourceUnit.id == Record.source_unit_id)
        .where(Record.subject_id == subject.id)
        .order_by(Record.decision_date.desc().nulls_last(), Record.id.desc())
    ).all()
    sections = {key: Section(key, title) for key, title in SECTIONS}
    private_seen = 0
    last_modified = subject.updated_at
    for record, resource, unit_name in rows:
        decision = decide(record, resource, viewer, today=today, rules=rules)
        if not decision.visible:
            continue
        private_seen += 0 if decision.public else 1
        last_modified = max(last_modified, record.updated_at)
        sections[section_of(resource)].entries.append(
            RecordEntry(record, resource, unit_name, decision, record_fields(record, resource, masked=decision.masked))
        )
    is_person = subject.kind == SubjectKind.NATURAL_PERSON.value
    if viewer.kind is ViewerKind.PUBLIC and is_person and not any(s.entries for s in sections.values()):
        raise NotFound(f"未找到代码为 {code.strip()} 的信用主体")
    if private_seen and actor is not None:
        audit.record(
            session=session,
            actor=actor,
            action="subject.view_private",
            target_type="subject",
            target_id=subject.id,
            subject_id=subject.id,
            purpose="本主体查询本人信用信息" if viewer.kind is ViewerKind.SUBJECT else "查询非公开信用信息",
            detail={"viewer": viewer.kind.value, "non_public_records": private_seen},
        )
    former = session.scalars(
        sa.select(SubjectName.name)
        .where(SubjectName.subject_id == subject.id, SubjectName.is_current.is_(False))
        .order_by(SubjectName.id)
    ).all()
    masked_view = viewer.kind is ViewerKind.PUBLIC
    return SubjectProfile(
        code=subject_ref(subject),
        subject_id=subject.id,
        name=subject.name,
        kind=subject.kind,
        kind_label=SUBJECT_KIND_LABELS.get(SubjectKind(subject.kind), subject.kind),
        uscc=subject.uscc,
        id_number_masked=subject.id_masked if is_person else None,
        region=subject.region,
        status=subject.status,
        status_label=STATUS_LABELS.get(SubjectStatus(subject.status), subject.status),
        legal_rep=(mask_value(subject.legal_rep) if masked_view else subject.legal_rep) if not is_person else None,
        established_on=subject.established_on,
        former_names=[n for n in former if n != subject.name],
        sections=[s for s in sections.values() if s.entries or s.key != "other"],
        viewer=viewer.kind,
        last_modified=last_modified,
        extras=extra_sections(session=session, subject_id=subject.id, viewer=viewer),
    )


def payload_for(entry: RecordEntry) -> dict[str, Any]:
    """A record entry as plain data (for JSON)."""
    record, decision = entry.record, entry.decision
    return {
        "id": record.id,
        "resource": entry.resource.code,
        "resource_name": entry.resource.name,
        "doc_no": record.doc_no,
        "decision_date": record.decision_date,
        "valid_from": record.valid_from,
        "valid_to": record.valid_to,
        "severity": record.severity,
        "severity_label": entry.severity_label,
        "source_unit": entry.unit_name,
        "public": decision.public,
        "reason": decision.reason,
        "published_from": decision.published_from,
        "published_until": decision.published_until,
        "objection": decision.objection,
        "objection_mark": decision.mark,
        "repair_eligible_from": decision.repair_eligible_from,
        "fields": dict(entry.fields),
    }
