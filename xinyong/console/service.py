"""Console services: catalog revisions, the 三清单, subject maintenance (codes, names, merge and undo), record search
and the authorised view of rejected rows. Every write and every read of non-public data is audited."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from xinyong.audit import service as audit
from xinyong.audit.service import Actor
from xinyong.catalog.models import DisclosureClass, Resource, SourceUnit
from xinyong.console.models import ApplicationItem, BehaviourItem, CatalogChange, SubjectMerge
from xinyong.core import clock, crypto
from xinyong.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from xinyong.core.text import clean, normalise_code, normalise_name
from xinyong.ingest.models import Batch, QuarantinedRow
from xinyong.records.models import Record, Severity
from xinyong.subjects.models import CodeType, Subject, SubjectCode, SubjectName, SubjectStatus

DISCLOSURE_LABELS = {
    DisclosureClass.PUBLIC: "社会公开",
    DisclosureClass.AUTHORIZED: "授权查询",
    DisclosureClass.SHARED: "政务共享",
}


def in_scope(region: str | None, row_region: str | None) -> bool:
    """A district officer (account region set) works only on rows of that region; city staff see everything."""
    return region is None or row_region == region


def _require_purpose(purpose: str | None) -> str:
    text = clean(purpose)
    if len(text) < 2:
        raise InvalidInput("查看非公开信息须填写查询用途（如：异议核查、信用修复审核）")
    return text


# --- catalog ---------------------------------------------------------------------------------------------------


@dataclass
class ResourceEdit:
    """What an officer may change on a resource; JSON text fields are parsed and validated here."""

    name: str
    disclosure_class: str
    update_frequency: str
    update_days: str
    legal_basis: str  # one per line: 文件名称 | 条款 | 要点
    severity_rules: str  # JSON object
    fields: str  # JSON array
    reason: str


def _role_fields(roles: Any) -> set[str]:
    """Field codes the pipeline relies on (roles map to a code, or to lists/mappings of codes)."""
    if isinstance(roles, str):
        return {roles}
    if isinstance(roles, dict):
        return set().union(*(_role_fields(v) for v in roles.values())) if roles else set()
    if isinstance(roles, list):
        return set().union(*(_role_fields(v) for v in roles)) if roles else set()
    return set()


def parse_resource_edit(edit: ResourceEdit, resource: Resource) -> dict[str, Any]:
    """The new values, or InvalidInput naming every field that is wrong and why."""
    problems: list[str] = []
    values: dict[str, Any] = {}
    values["name"] = clean(edit.name)
    if not values["name"]:
        problems.append("资源名称：不能为空")
    if edit.disclosure_class not in {d.value for d in DisclosureClass}:
        problems.append(f"公开属性：应为 {'、'.join(DISCLOSURE_LABELS.values())} 之一")
    values["disclosure_class"] = edit.disclosure_class
    values["update_frequency"] = clean(edit.update_frequency)
    if not values["update_frequency"]:
        problems.append("更新频率：不能为空（如：7个工作日内）")
    days_text = clean(edit.update_days)
    if days_text:
        if not days_text.isdigit() or not 1 <= int(days_text) <= 366:
            problems.append("更新周期（工作日）：应为 1–366 的整数，或留空表示不考核")
        else:
            values["update_days"] = int(days_text)
    else:
        values["update_days"] = None
    basis = []
    for n, line in enumerate(edit.legal_basis.splitlines(), start=1):
        if not line.strip():
            continue
        document, article, point = ([clean(p) for p in line.split("|", 2)] + ["", ""])[:3]
        if not document:
            problems.append(f"法律依据第 {n} 行：缺少文件名称")
        entry = {"document": document}
        entry |= {"article": article} if article else {}
        entry |= {"point": point} if point else {}
        basis.append(entry)
    values["legal_basis"] = basis
    try:
        rules = json.loads(edit.severity_rules or "{}")
        if not isinstance(rules, dict):
            raise ValueError
        values["severity_rules"] = rules
    except ValueError:
        problems.append('失信程度判定规则：应为 JSON 对象，如 {"default": "general"}')
    try:
        fields = json.loads(edit.fields or "[]")
        if not isinstance(fields, list) or not all(isinstance(f, dict) for f in fields):
            raise ValueError
        codes = [str(f.get("code") or "") for f in fields]
        for i, f in enumerate(fields, start=1):
            if not f.get("code") or not f.get("name"):
                problems.append(f"字段定义第 {i} 项：须有 code（字段代码）和 name（字段名称）")
        duplicates = sorted({c for c in codes if c and codes.count(c) > 1})
        if duplicates:
            problems.append(f"字段定义：字段代码重复：{'、'.join(duplicates)}")
        missing = sorted({c for c in _role_fields(resource.roles) if c not in codes})
        if missing:
            problems.append(f"字段定义：不能删除被引用的字段 {'、'.join(missing)}（文号、日期、主体等）")
        values["fields"] = fields
    except ValueError:
        problems.append("字段定义：应为 JSON 数组，每项一个字段")
    if not clean(edit.reason):
        problems.append("修订说明：请写明修订原因")
    if problems:
        raise InvalidInput("目录修订未保存：" + "；".join(problems), problems=problems)
    return values


def revise_resource(*, session: Session, actor: Actor, code: str, edit: ResourceEdit) -> CatalogChange | None:
    """Apply an edit as a new catalog version (None when nothing changed)."""
    resource = session.scalar(sa.select(Resource).where(Resource.code == code))
    if resource is None:
        raise NotFound(f"未知的信息资源：{code}")
    values = parse_resource_edit(edit, resource)
    before = {k: getattr(resource, k) for k, v in values.items() if getattr(resource, k) != v}
    if not before:
        return None
    after = {k: values[k] for k in before}
    for key, value in after.items():
        setattr(resource, key, value)
    resource.version += 1
    resource.updated_at = clock.now()
    change = CatalogChange(
        resource_id=resource.id,
        version=resource.version,
        before=before,
        after=after,
        changed_by=actor.name,
        reason=clean(edit.reason),
        changed_at=clock.now(),
    )
    session.add(change)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="catalog.revise",
        target_type="resource",
        target_id=resource.code,
        detail={"version": resource.version, "changed": sorted(after)},
    )
    return change


def catalog_history(*, session: Session, resource_id: int) -> list[CatalogChange]:
    return list(
        session.scalars(
            sa.select(CatalogChange).where(CatalogChange.resource_id == resource_id).order_by(CatalogChange.id.desc())
        )
    )


# --- 三清单: behaviour list and application list ------------------------------------------------------------------


def add_behaviour(
    *,
    session: Session,
    actor: Actor,
    name: str,
    direction: str,
    resource_code: str,
    severity: str | None,
    legal_basis: str,
) -> BehaviourItem:
    problems = []
    if not clean(name):
        problems.append("行为名称：不能为空")
    if direction not in ("dishonest", "honest"):
        problems.append("行为类型：应为 失信 或 守信")
    if session.scalar(sa.select(Resource.id).where(Resource.code == resource_code)) is None:
        problems.append(f"信息资源：目录中没有 {resource_code}")
    if severity and severity not in {s.value for s in Severity}:
        problems.append("失信程度：应为 轻微、一般 或 严重")
    if not clean(legal_basis):
        problems.append("认定依据：不能为空（无依据不得列入清单）")
    if problems:
        raise InvalidInput("行为清单未保存：" + "；".join(problems), problems=problems)
    item = BehaviourItem(
        name=clean(name),
        direction=direction,
        resource_code=resource_code,
        severity=severity or None,
        legal_basis=clean(legal_basis),
        created_at=clock.now(),
    )
    session.add(item)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="lists.behaviour_add",
        target_type="behaviour_item",
        target_id=item.id,
        detail={"name": item.name},
    )
    return item


def add_application(
    *,
    session: Session,
    actor: Actor,
    matter: str,
    department: str | None,
    resource_codes: list[str],
    measure_codes: list[str],
    legal_basis: str,
) -> ApplicationItem:
    problems = []
    matter = clean(matter)
    if not matter:
        problems.append("事项名称：不能为空")
    elif session.scalar(sa.select(ApplicationItem.id).where(ApplicationItem.matter == matter)) is not None:
        problems.append(f"事项名称：“{matter}”已在应用清单中")
    known = set(session.scalars(sa.select(Resource.code)))
    unknown = [c for c in resource_codes if c not in known]
    if not resource_codes:
        problems.append("须核查的信息资源：至少选择一项")
    if unknown:
        problems.append(f"须核查的信息资源：目录中没有 {'、'.join(unknown)}")
    if not clean(legal_basis):
        problems.append("依据：不能为空")
    if problems:
        raise InvalidInput("应用清单未保存：" + "；".join(problems), problems=problems)
    item = ApplicationItem(
        matter=matter,
        department=clean(department) or None,
        resource_codes=resource_codes,
        measure_codes=[clean(m) for m in measure_codes if clean(m)],
        legal_basis=clean(legal_basis),
        created_at=clock.now(),
    )
    session.add(item)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="lists.application_add",
        target_type="application_item",
        target_id=item.id,
        detail={"matter": matter},
    )
    return item


def retire_list_item(*, session: Session, actor: Actor, kind: str, item_id: int) -> None:
    item: BehaviourItem | ApplicationItem | None = (
        session.get(BehaviourItem, item_id) if kind == "behaviour" else session.get(ApplicationItem, item_id)
    )
    if item is None:
        raise NotFound("清单条目不存在")
    item.active = False
    session.flush()
    audit.record(
        session=session, actor=actor, action=f"lists.{kind}_retire", target_type=f"{kind}_item", target_id=item_id
    )


# --- batches and rejected rows --------------------------------------------------------------------------------


def rejected_raw_row(*, session: Session, actor: Actor, row_id: int, purpose: str | None) -> dict[str, Any]:
    """Decrypt one rejected row for an authorised officer; the read is audited with its purpose."""
    why = _require_purpose(purpose)
    row = session.get(QuarantinedRow, row_id)
    if row is None:
        raise NotFound("被拒收的数据行不存在")
    batch = session.get(Batch, row.batch_id)
    if batch is None or not in_scope(actor.region, batch.region):
        raise Forbidden("无权查看其他区域的数据")
    audit.record(
        session=session,
        actor=actor,
        action="ingest.view_rejected_row",
        target_type="quarantined_row",
        target_id=row.id,
        purpose=why,
        detail={"batch": row.batch_id, "row_no": row.row_no},
    )
    raw = crypto.decrypt(row.raw_cipher)
    try:
        parsed = json.loads(raw)
    except ValueError:
        return {"原始内容": raw}
    return parsed if isinstance(parsed, dict) else {"原始内容": raw}


# --- record search (including non-public records) ---------------------------------------------------------------


def search_records(
    *,
    session: Session,
    actor: Actor,
    purpose: str | None,
    q: str = "",
    resource: str = "",
    unit_id: int | None = None,
    limit: int = 50,
) -> list[Record]:
    why = _require_purpose(purpose)
    query = sa.select(Record).order_by(Record.decision_date.desc(), Record.id.desc()).limit(limit)
    text = clean(q)
    if text:
        code = normalise_code(text)
        subject_ids = sa.select(Subject.id).where(Subject.uscc == code)
        query = query.where(
            sa.or_(Record.subject_name.contains(text), Record.doc_no.contains(text), Record.subject_id.in_(subject_ids))
        )
    if resource:
        query = query.join(Resource, Resource.id == Record.resource_id).where(Resource.code == resource)
    if unit_id:
        query = query.where(Record.source_unit_id == unit_id)
    if actor.region:
        query = query.where(Record.region == actor.region)
    found = list(session.scalars(query))
    audit.record(
        session=session,
        actor=actor,
        action="record.search",
        target_type="record",
        purpose=why,
        detail={"q": text, "resource": resource, "unit_id": unit_id, "found": [r.id for r in found]},
    )
    return found


def view_record(*, session: Session, actor: Actor, record_id: int, purpose: str | None) -> Record:
    why = _require_purpose(purpose)
    record = session.get(Record, record_id)
    if record is None:
        raise NotFound("记录不存在")
    if not in_scope(actor.region, record.region):
        raise Forbidden("无权查看其他区域的记录")
    audit.record(
        session=session,
        actor=actor,
        action="record.view_private",
        target_type="record",
        target_id=record.id,
        subject_id=record.subject_id,
        purpose=why,
    )
    return record


# --- subject maintenance ----------------------------------------------------------------------------------------


def get_subject(*, session: Session, actor: Actor, subject_id: int) -> Subject:
    subject = session.get(Subject, subject_id)
    if subject is None:
        raise NotFound("主体不存在")
    if not in_scope(actor.region, subject.region):
        raise Forbidden("无权维护其他区域的主体")
    return subject


def find_subjects(*, session: Session, actor: Actor, q: str, limit: int = 50) -> list[Subject]:
    text = clean(q)
    if not text:
        return []
    code = normalise_code(text)
    query = (
        sa.select(Subject)
        .where(
            sa.or_(
                Subject.uscc == code,
                Subject.name.contains(text),
                Subject.id.in_(sa.select(SubjectCode.subject_id).where(SubjectCode.code == code)),
            )
        )
        .order_by(Subject.id)
        .limit(limit)
    )
    if actor.region:
        query = query.where(Subject.region == actor.region)
    return list(session.scalars(query))


def add_code(*, session: Session, actor: Actor, subject_id: int, code_type: str, code: str) -> SubjectCode:
    subject = get_subject(session=session, actor=actor, subject_id=subject_id)
    if code_type not in {c.value for c in CodeType}:
        raise InvalidInput("代码类型：应为 工商注册号、组织机构代码、税务登记号、事业单位证书号 或 社会组织登记证号")
    value = normalise_code(code)
    if not value:
        raise InvalidInput("代码：不能为空")
    taken = session.scalar(sa.select(SubjectCode).where(SubjectCode.code_type == code_type, SubjectCode.code == value))
    if taken is not None:
        raise Conflict(f"代码 {value} 已映射到主体 #{taken.subject_id}")
    mapping = SubjectCode(subject_id=subject.id, code_type=code_type, code=value, created_at=clock.now())
    session.add(mapping)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="subject.code_add",
        target_type="subject",
        target_id=subject.id,
        subject_id=subject.id,
        detail={"code_type": code_type, "code": value},
    )
    return mapping


def rename(*, session: Session, actor: Actor, subject_id: int, name: str, reason: str) -> Subject:
    """Record a change of name (名称变更): the old name stays in the history as 曾用名."""
    subject = get_subject(session=session, actor=actor, subject_id=subject_id)
    new = normalise_name(name)
    if not new:
        raise InvalidInput("新名称：不能为空")
    if not clean(reason):
        raise InvalidInput("变更依据：请写明（如：营业执照变更日期）")
    if new == subject.name:
        raise InvalidInput("新名称与当前名称相同")
    now = clock.now()
    for old in subject.names:
        old.is_current = False
    existing = next((n for n in subject.names if n.name == new), None)
    if existing:
        existing.is_current, existing.last_seen = True, now
    else:
        session.add(
            SubjectName(
                subject_id=subject.id,
                name=new,
                first_seen=now,
                last_seen=now,
                source=f"console:{actor.name}",
                is_current=True,
            )
        )
    previous, subject.name, subject.updated_at = subject.name, new, now
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="subject.rename",
        target_type="subject",
        target_id=subject.id,
        subject_id=subject.id,
        detail={"from": previous, "to": new, "reason": clean(reason)},
    )
    return subject


# Other domains whose rows point at a subject (list entries, evaluations, commitments …) register a pair of
# functions here: ``move(session, from_id, to_id) -> list of moved row ids`` and ``back(session, ids, to_id)``.
MergeMove = Callable[[Session, int, int], list[int]]
MergeBack = Callable[[Session, list[int], int], None]
MERGE_HOOKS: dict[str, tuple[MergeMove, MergeBack]] = {}


def merge_subjects(*, session: Session, actor: Actor, survivor_id: int, merged_id: int, reason: str) -> SubjectMerge:
    """Two subjects that are one: records, codes and names move to the survivor; the other is marked merged."""
    from xinyong import hooks

    hooks.install()  # every domain's rows that point at a subject move with it
    if survivor_id == merged_id:
        raise InvalidInput("不能把主体与自身合并")
    if not clean(reason):
        raise InvalidInput("合并理由：请写明依据（如：同一统一社会信用代码、登记机关证明）")
    survivor = get_subject(session=session, actor=actor, subject_id=survivor_id)
    merged = get_subject(session=session, actor=actor, subject_id=merged_id)
    for s in (survivor, merged):
        if s.status == SubjectStatus.MERGED:
            raise Conflict(f"主体“{s.name}”已被合并，不能再参与合并")
    if survivor.kind != merged.kind:
        raise InvalidInput("两个主体类别不同，不能合并")
    records = list(session.scalars(sa.select(Record.id).where(Record.subject_id == merged.id).order_by(Record.id)))
    codes = list(session.scalars(sa.select(SubjectCode.id).where(SubjectCode.subject_id == merged.id)))
    names = list(session.scalars(sa.select(SubjectName.id).where(SubjectName.subject_id == merged.id)))
    current_names = list(
        session.scalars(
            sa.select(SubjectName.id).where(SubjectName.subject_id == merged.id, SubjectName.is_current.is_(True))
        )
    )
    # Keyed by the subject too, so PostgreSQL reads only the merged subject's partition (the rows move to the
    # survivor's).
    session.execute(
        sa.update(Record).where(Record.subject_id == merged.id, Record.id.in_(records)).values(subject_id=survivor.id)
    )
    session.execute(sa.update(SubjectCode).where(SubjectCode.id.in_(codes)).values(subject_id=survivor.id))
    session.execute(
        sa.update(SubjectName).where(SubjectName.id.in_(names)).values(subject_id=survivor.id, is_current=False)
    )
    moved: dict[str, Any] = {"records": records, "codes": codes, "names": names, "current_names": current_names}
    for name, (move, _) in MERGE_HOOKS.items():
        moved[name] = move(session, merged.id, survivor.id)
    log = SubjectMerge(
        survivor_id=survivor.id,
        merged_id=merged.id,
        merged_status=merged.status,
        moved=moved,
        reason=clean(reason),
        merged_by=actor.name,
        merged_at=clock.now(),
    )
    merged.status, merged.merged_into_id, merged.updated_at = SubjectStatus.MERGED, survivor.id, clock.now()
    session.add(log)
    session.flush()
    session.expire_all()
    audit.record(
        session=session,
        actor=actor,
        action="subject.merge",
        target_type="subject_merge",
        target_id=log.id,
        subject_id=survivor.id,
        detail={"merged": merged.id, "records": len(records)},
    )
    return log


def undo_merge(*, session: Session, actor: Actor, merge_id: int) -> SubjectMerge:
    """Put back exactly what the merge moved. A later merge involving either subject must be undone first."""
    from xinyong import hooks

    hooks.install()
    log = session.get(SubjectMerge, merge_id)
    if log is None:
        raise NotFound("合并记录不存在")
    if log.undone_at is not None:
        raise Conflict("该合并已撤销")
    get_subject(session=session, actor=actor, subject_id=log.survivor_id)
    later = session.scalar(
        sa.select(SubjectMerge.id).where(
            SubjectMerge.id > log.id,
            SubjectMerge.undone_at.is_(None),
            sa.or_(
                SubjectMerge.survivor_id.in_([log.survivor_id, log.merged_id]),
                SubjectMerge.merged_id.in_([log.survivor_id, log.merged_id]),
            ),
        )
    )
    if later is not None:
        raise Conflict(f"之后的合并 #{later} 涉及同一主体，请先撤销它")
    moved = log.moved
    session.execute(
        sa.update(Record)
        .where(Record.id.in_(moved["records"]), Record.subject_id == log.survivor_id)
        .values(subject_id=log.merged_id)
    )
    session.execute(sa.update(SubjectCode).where(SubjectCode.id.in_(moved["codes"])).values(subject_id=log.merged_id))
    for was_current in (True, False):
        ids = [i for i in moved["names"] if (i in moved["current_names"]) is was_current]
        session.execute(
            sa.update(SubjectName)
            .where(SubjectName.id.in_(ids))
            .values(subject_id=log.merged_id, is_current=was_current)
        )
    for name, (_, back) in MERGE_HOOKS.items():
        back(session, list(moved.get(name, [])), log.merged_id)
    merged = session.get(Subject, log.merged_id)
    if merged is None:
        raise NotFound("被合并的主体不存在")
    merged.status, merged.merged_into_id, merged.updated_at = log.merged_status, None, clock.now()
    log.undone_at, log.undone_by = clock.now(), actor.name
    session.flush()
    session.expire_all()
    audit.record(
        session=session,
        actor=actor,
        action="subject.merge_undo",
        target_type="subject_merge",
        target_id=log.id,
        subject_id=log.survivor_id,
        detail={"merged": log.merged_id},
    )
    return log


def merges_of(*, session: Session, subject_id: int) -> list[SubjectMerge]:
    return list(
        session.scalars(
            sa.select(SubjectMerge)
            .where(sa.or_(SubjectMerge.survivor_id == subject_id, SubjectMerge.merged_id == subject_id))
            .order_by(SubjectMerge.id.desc())
        )
    )


def units_in_scope(*, session: Session, region: str | None) -> list[SourceUnit]:
    query = sa.select(SourceUnit).order_by(SourceUnit.region, SourceUnit.name)
    if region:
        query = query.where(SourceUnit.region == region)
    return list(session.scalars(query))
