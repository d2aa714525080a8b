"""异议处理: submitted → accepted | refused → forwarded to the source unit → corrected | deleted | upheld → answered.

Deadlines in working days from the settings (DESIGN §4.4 defaults): accepted within ``objection_accept_days`` of
submission, verified by the unit within ``objection_verify_days`` of forwarding, answered within
``objection_answer_days`` of acceptance. ``record.objection_open`` is true from acceptance until the answer (a
refused objection never marks a record: a complaint that is out of scope must not label a record in public).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from xinyong.audit.service import Actor
from xinyong.catalog.models import Resource, SourceUnit
from xinyong.core import clock
from xinyong.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from xinyong.core.settings import get_settings
from xinyong.objections.models import (
    CLOSED,
    OBJECTION_STATUS_LABELS,
    VERIFIED,
    Objection,
    ObjectionStatus,
)
from xinyong.records import service as records
from xinyong.records.models import Record, RecordStatus, Severity
from xinyong.rights import outbox
from xinyong.rights.access import may_read, office_region_filter, require_office, require_subject, require_unit
from xinyong.rights.deadlines import DueItem, due
from xinyong.rights.steps import log_step, new_no

ITEM = "objection"
REQUESTS = {"correct": "更正", "delete": "删除"}
OUTCOMES = {
    "corrected": ObjectionStatus.CORRECTED,
    "deleted": ObjectionStatus.DELETED,
    "upheld": ObjectionStatus.UPHELD,
}


def get(*, session: Session, objection_id: int, actor: Actor | None = None) -> Objection:
    objection = session.get(Objection, objection_id)
    if objection is None:
        raise NotFound(f"异议 {objection_id} 不存在")
    owner = {"subject_id": objection.subject_id, "unit_id": objection.source_unit_id}
    if actor is not None and not may_read(session, actor, **owner):
        raise Forbidden("无权查看该异议：只能查看本主体提出的、本单位报送信息的或本辖区主体的异议")
    return objection


def listing(*, session: Session, actor: Actor, status: str | None = None, limit: int = 200) -> list[Objection]:
    """The objections ``actor`` may see: a subject its own, a source unit those about its records, the office all."""
    query = sa.select(Objection).order_by(Objection.id.desc()).limit(limit)
    if actor.role == "subject":
        query = query.where(Objection.subject_id == (actor.subject_id or -1))
    elif actor.role == "source_unit":
        query = query.where(
            Objection.source_unit_id == (actor.unit_id or -1),
            Objection.status.not_in([ObjectionStatus.SUBMITTED, ObjectionStatus.REFUSED, ObjectionStatus.ACCEPTED]),
        )
    else:
        require_office(actor, "查看异议")
        scope = office_region_filter(actor, Objection.subject_id)
        if scope is not None:
            query = query.where(scope)
    if status:
        query = query.where(Objection.status == status)
    return list(session.scalars(query))


def _touch(objection: Objection) -> None:
    objection.updated_at = clock.now()


def _expect(objection: Objection, *statuses: ObjectionStatus, step: str) -> None:
    if objection.status not in statuses:
        label = OBJECTION_STATUS_LABELS[ObjectionStatus(objection.status)]
        raise Conflict(f"异议 {objection.no} 当前状态为「{label}」，不能{step}")


def _record(session: Session, objection: Objection) -> Record:
    record = session.get(Record, objection.record_id)
    assert record is not None
    return record


def _notify(session: Session, objection: Objection, kind: str, title: str, body: str, **to: Any) -> None:
    recipient = to or {"subject_id": objection.subject_id}
    outbox.enqueue(
        session=session,
        key=f"objection:{objection.id}:{kind}",
        kind=kind,
        title=title,
        body=body,
        ref_type=ITEM,
        ref_id=objection.id,
        **recipient,
    )


def submit(
    *,
    session: Session,
    actor: Actor,
    record_id: int,
    reasons: str,
    request: str = "correct",
    requested_changes: dict[str, Any] | None = None,
) -> Objection:
    """A subject objects to one of its own records."""
    record = session.get(Record, record_id)
    if record is None:
        raise NotFound(f"信用信息记录 {record_id} 不存在")
    require_subject(actor, record.subject_id or -1, "提出异议")
    if record.status != RecordStatus.ACTIVE:
        raise Conflict("该信息已撤销或删除，无需提出异议")
    if request not in REQUESTS:
        raise InvalidInput(f"request：应为 {'、'.join(REQUESTS)}（更正或删除）")
    reasons = (reasons or "").strip()
    if len(reasons) < 5:
        raise InvalidInput("异议理由：请具体说明（至少 5 个字）")
    if len(reasons) > 4000:
        raise InvalidInput("异议理由：最长 4000 字")
    open_one = session.scalar(
        sa.select(Objection.no).where(Objection.record_id == record.id, Objection.status.not_in(list(CLOSED)))
    )
    if open_one is not None:
        raise Conflict(f"该信息已有正在处理的异议（{open_one}），请等待答复")
    now = clock.now()
    deadline = due(now, get_settings().objection_accept_days)
    objection = Objection(
        no=new_no("YY"),
        record_id=record.id,
        subject_id=record.subject_id,
        source_unit_id=record.source_unit_id,
        applicant=actor.name[:64],
        request=request,
        reasons=reasons,
        requested_changes={str(k): v for k, v in (requested_changes or {}).items()},
        status=ObjectionStatus.SUBMITTED,
        applied_changes={},
        submitted_at=now,
        accept_due=deadline.date,
        deadline_provisional=deadline.provisional,
        updated_at=now,
    )
    session.add(objection)
    session.flush()
    log_step(
        session=session, actor=actor, item_type=ITEM, item_id=objection.id, step="submitted",
        subject_id=objection.subject_id, detail={"record_id": record.id, "request": request},
    )  # fmt: skip
    _notify(
        session, objection, "submitted", f"新异议 {objection.no} 待受理",
        f"信用主体对记录 {record.doc_no} 提出异议，请于 {objection.accept_due} 前受理。", to_office=True,
    )  # fmt: skip
    return objection


def accept(*, session: Session, actor: Actor, objection_id: int, note: str | None = None) -> Objection:
    require_office(actor, "受理异议")
    objection = get(session=session, objection_id=objection_id, actor=actor)
    _expect(objection, ObjectionStatus.SUBMITTED, step="受理")
    now = clock.now()
    deadline = due(now, get_settings().objection_answer_days)
    objection.status = ObjectionStatus.ACCEPTED
    objection.accepted_at = now
    objection.answer_due = deadline.date
    objection.deadline_provisional |= deadline.provisional
    _touch(objection)
    record = _record(session, objection)
    record.objection_open = True
    record.updated_at = now
    log_step(session=session, actor=actor, item_type=ITEM, item_id=objection.id, step="accepted",
             subject_id=objection.subject_id, note=note)  # fmt: skip
    _notify(
        session, objection, "accepted", f"您的异议 {objection.no} 已受理",
        f"您对记录 {record.doc_no} 提出的异议已受理，处理期间该信息标注“异议处理中”。"
        f"答复期限：{objection.answer_due}{'（暂定）' if objection.deadline_provisional else ''}。",
    )  # fmt: skip
    return objection


def refuse(*, session: Session, actor: Actor, objection_id: int, reason: str) -> Objection:
    require_office(actor, "处理异议")
    objection = get(session=session, objection_id=objection_id, actor=actor)
    _expect(objection, ObjectionStatus.SUBMITTED, step="不予受理")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("不予受理须说明理由")
    objection.status = ObjectionStatus.REFUSED
    objection.refusal_reason = reason
    objection.closed_at = clock.now()
    _touch(objection)
    log_step(session=session, actor=actor, item_type=ITEM, item_id=objection.id, step="refused",
             subject_id=objection.subject_id, note=reason)  # fmt: skip
    _notify(session, objection, "refused", f"您的异议 {objection.no} 不予受理", f"不予受理的理由：{reason}")
    return objection


def forward(*, session: Session, actor: Actor, objection_id: int, note: str | None = None) -> Objection:
    """Send to the source unit for verification."""
    require_office(actor, "转办异议")
    objection = get(session=session, objection_id=objection_id, actor=actor)
    _expect(objection, ObjectionStatus.ACCEPTED, step="转办")
    now = clock.now()
    deadline = due(now, get_settings().objection_verify_days)
    objection.status = ObjectionStatus.FORWARDED
    objection.forwarded_at = now
    objection.verify_due = deadline.date
    objection.deadline_provisional |= deadline.provisional
    _touch(objection)
    log_step(session=session, actor=actor, item_type=ITEM, item_id=objection.id, step="forwarded",
             subject_id=objection.subject_id, note=note)  # fmt: skip
    unit = session.get(SourceUnit, objection.source_unit_id)
    _notify(
        session, objection, "forwarded", f"您的异议 {objection.no} 已转信息提供单位核实",
        f"已转 {unit.name if unit else '信息提供单位'} 核实，核实期限 {objection.verify_due}。",
    )  # fmt: skip
    outbox.enqueue(
        session=session, key=f"objection:{objection.id}:to_unit", kind="forwarded", unit_id=objection.source_unit_id,
        title=f"异议 {objection.no} 请核实", body=f"请于 {objection.verify_due} 前核实并反馈（更正、删除或维持）。",
        ref_type=ITEM, ref_id=objection.id,
    )  # fmt: skip
    return objection


def _normalise_changes(session: Session, record: Record, changes: dict[str, Any]) -> dict[str, Any]:
    """Corrections as stored values; unknown fields and malformed values refused by name."""
    resource = session.get(Resource, record.resource_id)
    assert resource is not None
    field_codes = {str(f["code"]) for f in resource.fields or [] if not f.get("pii")}
    clean: dict[str, Any] = {}
    for key, value in changes.items():
        if key in ("decision_date", "valid_from", "valid_to", "publish_until"):
            try:
                clean[key] = None if value in (None, "") else dt.date.fromisoformat(str(value))
            except ValueError:
                raise InvalidInput(f"更正内容 {key}：日期格式应为 YYYY-MM-DD") from None
        elif key == "severity":
            if value not in Severity._value2member_map_:
                raise InvalidInput("更正内容 severity：应为 minor、general 或 serious")
            clean[key] = value
        elif key in field_codes:
            clean[key] = None if value is None else str(value).strip()
        else:
            raise InvalidInput(f"更正内容 {key}：不是该信息资源的字段（或为不可更正的证件号码字段）")
    return clean


def verify(
    *,
    session: Session,
    actor: Actor,
    objection_id: int,
    outcome: str,
    note: str,
    changes: dict[str, Any] | None = None,
) -> Objection:
    """The source unit's verification: ``corrected`` (with ``changes``), ``deleted`` or ``upheld``."""
    objection = get(session=session, objection_id=objection_id, actor=actor)
    require_unit(actor, objection.source_unit_id, "核实")
    _expect(objection, ObjectionStatus.FORWARDED, step="核实")
    if outcome not in OUTCOMES:
        raise InvalidInput("outcome：应为 corrected（更正）、deleted（删除）或 upheld（维持）")
    note = (note or "").strip()
    if not note:
        raise InvalidInput("核实意见：必填")
    record = _record(session, objection)
    applied: dict[str, Any] = {}
    if outcome == "corrected":
        applied = _normalise_changes(session, record, changes or {})
        if not applied:
            raise InvalidInput("更正须给出更正的字段及正确值（changes）")
        records.correct_record(session=session, record=record, changes=applied, by=actor.name, reason="objection")
    elif outcome == "deleted":
        records.delete_record(session=session, record=record, by=actor.name, reason="objection")
    objection.status = OUTCOMES[outcome]
    objection.verification_note = note
    objection.applied_changes = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in applied.items()}
    objection.verified_at = clock.now()
    _touch(objection)
    log_step(
        session=session, actor=actor, item_type=ITEM, item_id=objection.id, step=outcome,
        subject_id=objection.subject_id, note=note, detail={"changes": objection.applied_changes},
    )  # fmt: skip
    _notify(
        session, objection, "verified", f"异议 {objection.no} 已核实，待答复",
        f"信息提供单位核实结果：{OBJECTION_STATUS_LABELS[objection.status]}。"
        f"请于 {objection.answer_due} 前答复申请人。",
        to_office=True,
    )  # fmt: skip
    return objection


def answer(*, session: Session, actor: Actor, objection_id: int, text: str) -> Objection:
    require_office(actor, "答复异议")
    objection = get(session=session, objection_id=objection_id, actor=actor)
    _expect(objection, *VERIFIED, step="答复")
    text = (text or "").strip()
    if not text:
        raise InvalidInput("答复内容：必填")
    objection.status = ObjectionStatus.ANSWERED
    objection.answer = text
    objection.closed_at = clock.now()
    _touch(objection)
    record = _record(session, objection)
    record.objection_open = False
    record.updated_at = clock.now()
    log_step(session=session, actor=actor, item_type=ITEM, item_id=objection.id, step="answered",
             subject_id=objection.subject_id, note=text)  # fmt: skip
    _notify(session, objection, "answered", f"您的异议 {objection.no} 已答复", text)
    return objection


_WAITING = {
    ObjectionStatus.SUBMITTED: ("accept", "受理", "信用办"),
    ObjectionStatus.ACCEPTED: ("forward", "转办并答复", "信用办"),
    ObjectionStatus.FORWARDED: ("verify", "核实", "信息提供单位"),
    ObjectionStatus.CORRECTED: ("answer", "答复", "信用办"),
    ObjectionStatus.DELETED: ("answer", "答复", "信用办"),
    ObjectionStatus.UPHELD: ("answer", "答复", "信用办"),
}


def current_deadline(objection: Objection) -> tuple[str, str, str, dt.date] | None:
    """(step, step label, who must act, deadline) of an open objection; None when closed."""
    status = ObjectionStatus(objection.status)
    if status in CLOSED:
        return None
    step, label, who = _WAITING[status]
    day = {"accept": objection.accept_due, "verify": objection.verify_due}.get(step) or objection.answer_due
    assert day is not None
    return step, label, who, day


def due_items(*, session: Session, today: dt.date | None = None) -> list[DueItem]:
    today = today or clock.today()
    items = []
    for objection in session.scalars(
        sa.select(Objection).where(Objection.status.not_in(list(CLOSED))).order_by(Objection.id)
    ):
        current = current_deadline(objection)
        assert current is not None
        step, label, who, day = current
        items.append(
            DueItem(
                kind=ITEM, id=objection.id, no=objection.no, subject_id=objection.subject_id,
                source_unit_id=objection.source_unit_id, status=objection.status,
                status_label=OBJECTION_STATUS_LABELS[ObjectionStatus(objection.status)], waiting_for=who, step=step,
                step_label=label, due=day, provisional=objection.deadline_provisional, overdue=today > day,
                days_left=(day - today).days,
            )
        )  # fmt: skip
    return items
