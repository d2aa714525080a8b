"""信用修复: an application for a dishonesty record or a list entry, allowed only after the minimum publication
period; prerequisites as a checklist (data); accepted by the credit office, the source unit's opinion, then approved
or refused. On approval the record gets ``repaired_at`` (records service) — it stops being published, producing
measures and deducting points at once, and stays in the archive — and a list entry is removed with reason ``repair``
(lists service). Deadlines in working days; re-application not within ``repair_reapply_days`` after a refusal.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from sqlalchemy.orm import Session

from xinyong.audit.service import Actor
from xinyong.catalog.models import Resource
from xinyong.commitments import service as commitments
from xinyong.core import clock
from xinyong.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from xinyong.core.settings import get_settings
from xinyong.disclosure import Viewer, add_months, decide, repair_eligible_from
from xinyong.lists import service as lists
from xinyong.lists.models import EntryStatus, ListEntry, RemovalReason
from xinyong.records import service as records
from xinyong.records.models import SEVERITY_LABELS, Record, RecordStatus, Severity
from xinyong.repair.models import OPEN_REPAIR, REPAIR_STATUS_LABELS, RepairApplication, RepairStatus
from xinyong.rights import attachments, outbox
from xinyong.rights.access import may_read, office_region_filter, require_office, require_subject, require_unit
from xinyong.rights.deadlines import DueItem, due
from xinyong.rights.steps import log_step, new_no

ITEM = "repair"
DATA = Path(__file__).resolve().parent / "data" / "requirements.yaml"


@lru_cache(maxsize=1)
def requirements() -> dict[str, Any]:
    return dict(yaml.safe_load(DATA.read_text(encoding="utf-8")))


def checklist_for(
    *, resource_code: str | None = None, severity: str | None = None, list_type: str | None = None
) -> list[dict[str, Any]]:
    """The prerequisite items for a record (by resource and severity) or a list entry (by list type)."""
    data = requirements()
    if list_type is not None:
        spec = data["list_entries"]
        codes = spec.get("list_types", {}).get(list_type) or spec["default"]
    else:
        spec = data["records"]
        codes = (
            spec.get("resources", {}).get(resource_code)
            or spec.get("severity", {}).get(severity or "")
            or spec["default"]
        )
    return [{"code": c, **data["items"][c]} for c in codes]


def get(*, session: Session, application_id: int, actor: Actor | None = None) -> RepairApplication:
    row = session.get(RepairApplication, application_id)
    if row is None:
        raise NotFound(f"信用修复申请 {application_id} 不存在")
    if actor is not None and not may_read(session, actor, subject_id=row.subject_id, unit_id=row.source_unit_id):
        raise Forbidden("无权查看该信用修复申请：只能查看本主体的、本单位报送信息的或本辖区主体的申请")
    return row


def listing(*, session: Session, actor: Actor, status: str | None = None, limit: int = 200) -> list[RepairApplication]:
    query = sa.select(RepairApplication).order_by(RepairApplication.id.desc()).limit(limit)
    if actor.role == "subject":
        query = query.where(RepairApplication.subject_id == (actor.subject_id or -1))
    elif actor.role == "source_unit":
        query = query.where(
            RepairApplication.source_unit_id == (actor.unit_id or -1),
            RepairApplication.status.not_in([RepairStatus.SUBMITTED, RepairStatus.DECLINED]),
        )
    else:
        require_office(actor, "查看信用修复申请")
        scope = office_region_filter(actor, RepairApplication.subject_id)
        if scope is not None:
            query = query.where(scope)
    if status:
        query = query.where(RepairApplication.status == status)
    return list(session.scalars(query))


@lru_cache(maxsize=1)
def _labels() -> dict[str, str]:
    return {k: v["label"] for k, v in requirements()["items"].items()}


class Target:
    """What an application is about: the record or list entry, its owner, unit, eligibility and checklist."""

    def __init__(self, session: Session, *, record_id: int | None, list_entry_id: int | None) -> None:
        today = clock.today()
        self.record: Record | None = None
        self.unit_id: int | None = None
        self.entry: ListEntry | None = None
        if (record_id is None) == (list_entry_id is None):
            raise InvalidInput("须且只能指定一条失信记录（record_id）或一个名单条目（list_entry_id）")
        if record_id is not None:
            record = session.get(Record, record_id)
            if record is None:
                raise NotFound(f"信用信息记录 {record_id} 不存在")
            resource = session.get(Resource, record.resource_id)
            assert resource is not None
            self.record, self.subject_id, self.unit_id = record, record.subject_id or -1, record.source_unit_id
            eligible = repair_eligible_from(record, resource)
            self.problem = None
            if eligible is None:
                self.problem = f"“{resource.name}”不是失信信息（或缺少决定日期），无需信用修复"
            elif record.status != RecordStatus.ACTIVE:
                self.problem = "该信息已撤销或删除，不再公示"
            elif record.repaired_at is not None:
                self.problem = "该信息已完成信用修复"
            else:
                decision = decide(record, resource, Viewer.credit_office(), today=today)
                if decision.published_until is not None and today > decision.published_until:
                    self.problem = f"该信息公示期已于 {decision.published_until} 届满，已停止公示，无需修复"
            self.eligible_from = eligible or today
            self.label = f"{resource.name} {record.doc_no}"
            self.checklist = checklist_for(resource_code=resource.code, severity=record.severity)
        else:
            entry = session.get(ListEntry, list_entry_id)
            if entry is None:
                raise NotFound(f"名单条目 {list_entry_id} 不存在")
            self.entry, self.subject_id = entry, entry.subject_id
            linked = session.get(Record, entry.record_id) if entry.record_id else None
            self.unit_id = linked.source_unit_id if linked else None
            months = entry.list_type.early_removal_months or int(requirements()["list_entries"]["min_months"])
            start = entry.listed_on or today
            self.eligible_from = add_months(start, months)
            self.problem = None
            if entry.list_type.reward_or_punishment != "punishment":
                self.problem = f"“{entry.list_type.name}”不是失信名单，无需信用修复"
            elif lists.effective_state(entry, linked, today=today) != "active":
                self.problem = "该名单条目当前不在有效期内，无需修复"
            self.label = f"{entry.list_type.name}（条目 {entry.id}）"
            self.checklist = checklist_for(list_type=entry.list_type.code)

    def key(self) -> sa.ColumnElement[bool]:
        if self.record is not None:
            return RepairApplication.record_id == self.record.id
        assert self.entry is not None
        return RepairApplication.list_entry_id == self.entry.id


def eligibility(
    *, session: Session, record_id: int | None = None, list_entry_id: int | None = None, actor: Actor | None = None
) -> dict[str, Any]:
    """Whether repair may be applied for today, from when, with which checklist (for the form and the API).

    With ``actor``: only the subject concerned, the unit whose record it is and the office may ask (the answer names
    the record and says whether it was deleted, repaired or is on a list not yet public)."""
    target = Target(session, record_id=record_id, list_entry_id=list_entry_id)
    if actor is not None and not may_read(session, actor, subject_id=target.subject_id, unit_id=target.unit_id):
        raise Forbidden("只能查询本主体或本单位报送信息的信用修复条件")
    today = clock.today()
    problem = target.problem or (
        f"最短公示期尚未届满，{target.eligible_from} 起方可申请" if today < target.eligible_from else None
    )
    return {
        "eligible": problem is None,
        "problem": problem,
        "eligible_from": target.eligible_from,
        "label": target.label,
        "checklist": target.checklist,
    }


def _notify(session: Session, row: RepairApplication, kind: str, title: str, body: str, **to: Any) -> None:
    outbox.enqueue(
        session=session, key=f"repair:{row.id}:{kind}", kind=kind, title=title, body=body, ref_type=ITEM,
        ref_id=row.id, **(to or {"subject_id": row.subject_id}),
    )  # fmt: skip


def submit(
    *,
    session: Session,
    actor: Actor,
    statement: str,
    evidence: dict[str, str],
    sign_commitment: bool,
    record_id: int | None = None,
    list_entry_id: int | None = None,
) -> RepairApplication:
    target = Target(session, record_id=record_id, list_entry_id=list_entry_id)
    require_subject(actor, target.subject_id, "申请信用修复")
    today, now = clock.today(), clock.now()
    if target.problem:
        raise Conflict(target.problem)
    if today < target.eligible_from:
        raise Conflict(f"最短公示期尚未届满：{target.eligible_from} 起方可申请信用修复")
    pending = session.scalar(
        sa.select(RepairApplication.no).where(target.key(), RepairApplication.status.in_(list(OPEN_REPAIR)))
    )
    if pending:
        raise Conflict(f"该信息已有正在办理的信用修复申请（{pending}）")
    last = session.scalar(
        sa.select(RepairApplication.decided_at)
        .where(target.key(), RepairApplication.status.in_([RepairStatus.REFUSED, RepairStatus.DECLINED]))
        .order_by(RepairApplication.decided_at.desc())
        .limit(1)
    )
    wait = get_settings().repair_reapply_days
    if last is not None:
        again = last.astimezone(clock.CHINA).date() + dt.timedelta(days=wait)
        if today < again:
            raise Conflict(f"上次申请未获准予，{wait} 日内不能再次申请（{again} 起可再次申请）")
    statement = (statement or "").strip()
    if len(statement) < 5:
        raise InvalidInput("申请说明：请说明纠正失信行为、履行义务的情况（至少 5 个字）")
    checklist = []
    commitment_id = None
    for item in target.checklist:
        entry = {"code": item["code"], "label": item["label"], "kind": item["kind"]}
        if item["kind"] == "commitment":
            if not sign_commitment:
                raise InvalidInput(f"修复条件“{item['label']}”：须在线签署信用修复承诺书")
            signed = commitments.sign(
                session=session, actor=actor, subject_id=target.subject_id, template_code="credit_repair",
                values={"record": target.label},
            )  # fmt: skip
            commitment_id = signed.id
            entry["evidence"] = f"已签署 {signed.no}"
        else:
            entry["evidence"] = str(evidence.get(item["code"], "") or "").strip()[:2000]
        checklist.append(entry)
    deadline = due(now, get_settings().repair_accept_days)
    row = RepairApplication(
        no=new_no("XF"),
        target_type="record" if target.record is not None else "list_entry",
        record_id=target.record.id if target.record is not None else None,
        list_entry_id=target.entry.id if target.entry is not None else None,
        subject_id=target.subject_id,
        source_unit_id=target.unit_id,
        applicant=actor.name[:64],
        statement=statement,
        checklist=checklist,
        commitment_id=commitment_id,
        eligible_from=target.eligible_from,
        status=RepairStatus.SUBMITTED,
        submitted_at=now,
        accept_due=deadline.date,
        deadline_provisional=deadline.provisional,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    log_step(session=session, actor=actor, item_type=ITEM, item_id=row.id, step="submitted",
             subject_id=row.subject_id, detail={"target": target.label})  # fmt: skip
    _notify(session, row, "submitted", f"新信用修复申请 {row.no} 待受理",
            f"{target.label}，请于 {row.accept_due} 前受理。", to_office=True)  # fmt: skip
    return row


def missing_items(*, session: Session, row: RepairApplication) -> list[str]:
    """Checklist items without a statement or an attachment."""
    files = {a.item for a in attachments.of(session=session, owner_type=ITEM, owner_id=row.id)}
    return [
        i["label"]
        for i in row.checklist
        if i["kind"] == "evidence" and not i.get("evidence") and i["code"] not in files
    ]


def _expect(row: RepairApplication, *statuses: RepairStatus, step: str) -> None:
    if row.status not in statuses:
        raise Conflict(f"申请 {row.no} 当前状态为「{REPAIR_STATUS_LABELS[RepairStatus(row.status)]}」，不能{step}")


def accept(*, session: Session, actor: Actor, application_id: int, note: str | None = None) -> RepairApplication:
    require_office(actor, "受理信用修复申请")
    row = get(session=session, application_id=application_id, actor=actor)
    _expect(row, RepairStatus.SUBMITTED, step="受理")
    missing = missing_items(session=session, row=row)
    if missing:
        raise Conflict(f"材料不全，不能受理：{'、'.join(missing)}（可不予受理并说明需补充的材料）")
    now = clock.now()
    deadline = due(now, get_settings().repair_decide_days)
    row.status, row.accepted_at, row.decide_due = RepairStatus.ACCEPTED, now, deadline.date
    row.deadline_provisional |= deadline.provisional
    row.updated_at = now
    log_step(session=session, actor=actor, item_type=ITEM, item_id=row.id, step="accepted",
             subject_id=row.subject_id, note=note)  # fmt: skip
    _notify(session, row, "accepted", f"您的信用修复申请 {row.no} 已受理",
            f"将于 {row.decide_due}{'（暂定）' if row.deadline_provisional else ''} 前作出决定。")  # fmt: skip
    if row.source_unit_id is not None:
        _notify(session, row, "opinion_asked", f"信用修复申请 {row.no} 请出具意见",
                f"请于 {row.decide_due} 前就该申请出具同意或不同意修复的意见。",
                unit_id=row.source_unit_id)  # fmt: skip
    return row


def decline(*, session: Session, actor: Actor, application_id: int, reason: str) -> RepairApplication:
    """不予受理 (materials incomplete, not eligible …)."""
    require_office(actor, "处理信用修复申请")
    row = get(session=session, application_id=application_id, actor=actor)
    _expect(row, RepairStatus.SUBMITTED, step="不予受理")
    return _close(session, actor, row, RepairStatus.DECLINED, reason, "declined", "不予受理")


def give_opinion(*, session: Session, actor: Actor, application_id: int, agree: bool, note: str) -> RepairApplication:
    row = get(session=session, application_id=application_id, actor=actor)
    require_unit(actor, row.source_unit_id, "出具修复意见")
    _expect(row, RepairStatus.ACCEPTED, step="出具意见")
    note = (note or "").strip()
    if not note:
        raise InvalidInput("意见说明：必填")
    row.status, row.unit_opinion, row.unit_note = RepairStatus.OPINION, "agree" if agree else "disagree", note
    row.opinion_at = row.updated_at = clock.now()
    log_step(session=session, actor=actor, item_type=ITEM, item_id=row.id, step="opinion",
             subject_id=row.subject_id, note=note, detail={"agree": agree})  # fmt: skip
    return row


def approve(*, session: Session, actor: Actor, application_id: int, note: str = "") -> RepairApplication:
    require_office(actor, "决定信用修复")
    row = get(session=session, application_id=application_id, actor=actor)
    if row.source_unit_id is not None:
        _expect(row, RepairStatus.OPINION, step="准予修复（须先取得信息提供单位意见）")
    else:
        _expect(row, RepairStatus.ACCEPTED, RepairStatus.OPINION, step="准予修复")
    if row.unit_opinion == "disagree" and not note.strip():
        raise InvalidInput("信息提供单位不同意修复，准予修复须说明理由")
    if row.record_id is not None:
        record = session.get(Record, row.record_id)
        assert record is not None
        if record.repaired_at is None:
            records.mark_repaired(session=session, record=record, by=actor.name)
    else:
        entry = session.get(ListEntry, row.list_entry_id)
        assert entry is not None
        if entry.status == EntryStatus.LISTED:
            lists.remove(session=session, actor=actor, entry_id=entry.id, reason=RemovalReason.REPAIR,
                         note=f"信用修复申请 {row.no} 准予修复")  # fmt: skip
        linked = session.get(Record, entry.record_id) if entry.record_id else None
        if linked is not None and linked.repaired_at is None:
            records.mark_repaired(session=session, record=linked, by=actor.name)
    row.status, row.decision_reason = RepairStatus.APPROVED, note.strip() or None
    row.decided_at = row.updated_at = clock.now()
    log_step(session=session, actor=actor, item_type=ITEM, item_id=row.id, step="approved",
             subject_id=row.subject_id, note=note or None)  # fmt: skip
    _notify(session, row, "repaired", f"您的信用修复申请 {row.no} 准予修复",
            "该信息已停止公示，不再作为惩戒和评价扣分依据，档案依规保存。")  # fmt: skip
    return row


def refuse(*, session: Session, actor: Actor, application_id: int, reason: str) -> RepairApplication:
    require_office(actor, "决定信用修复")
    row = get(session=session, application_id=application_id, actor=actor)
    _expect(row, RepairStatus.ACCEPTED, RepairStatus.OPINION, step="不予修复")
    return _close(session, actor, row, RepairStatus.REFUSED, reason, "refused", "不予修复")


def _close(
    session: Session, actor: Actor, row: RepairApplication, status: RepairStatus, reason: str, step: str, label: str
) -> RepairApplication:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(f"{label}须说明理由")
    row.status, row.decision_reason = status, reason
    row.decided_at = row.updated_at = clock.now()
    log_step(session=session, actor=actor, item_type=ITEM, item_id=row.id, step=step,
             subject_id=row.subject_id, note=reason)  # fmt: skip
    again = clock.today() + dt.timedelta(days=get_settings().repair_reapply_days)
    _notify(session, row, step, f"您的信用修复申请 {row.no} {label}",
            f"理由：{reason}\n{again} 起可再次申请。")  # fmt: skip
    return row


def current_deadline(row: RepairApplication) -> tuple[str, str, str, dt.date] | None:
    status = RepairStatus(row.status)
    if status not in OPEN_REPAIR:
        return None
    if status is RepairStatus.SUBMITTED:
        return "accept", "受理", "信用办", row.accept_due
    assert row.decide_due is not None
    if status is RepairStatus.ACCEPTED and row.source_unit_id is not None:
        return "opinion", "出具意见", "信息提供单位", row.decide_due
    return "decide", "决定", "信用办", row.decide_due


def due_items(*, session: Session, today: dt.date | None = None) -> list[DueItem]:
    today = today or clock.today()
    items = []
    for row in session.scalars(
        sa.select(RepairApplication)
        .where(RepairApplication.status.in_(list(OPEN_REPAIR)))
        .order_by(RepairApplication.id)
    ):
        current = current_deadline(row)
        assert current is not None
        step, label, who, day = current
        items.append(
            DueItem(
                kind=ITEM, id=row.id, no=row.no, subject_id=row.subject_id, source_unit_id=row.source_unit_id,
                status=row.status, status_label=REPAIR_STATUS_LABELS[RepairStatus(row.status)], waiting_for=who,
                step=step, step_label=label, due=day, provisional=row.deadline_provisional, overdue=today > day,
                days_left=(day - today).days,
            )
        )  # fmt: skip
    return items


def severity_label(value: str | None) -> str | None:
    return SEVERITY_LABELS.get(Severity(value)) if value is not None and value in Severity._value2member_map_ else None
