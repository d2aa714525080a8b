"""Lists: the built-in list types, the entry lifecycle and the turning of collected records into entries.

Lifecycle (DESIGN §4.2): proposed (拟列入) → notice (告知, with a representation period in working days) → listed
(列入) → removed (移出). Every step writes a ``ListEvent`` (who, when) and an audit event. Expiry is never written by
a job: an entry whose ``expires_on`` has passed, or whose underlying record was repaired or revoked, is simply not
active — ``active_entries`` and ``effective_state`` derive that from dates and rows at read time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from sqlalchemy.orm import Session

from xinyong.accounts.models import Role
from xinyong.audit import service as audit
from xinyong.audit.service import Actor
from xinyong.catalog.models import Resource
from xinyong.core import clock, crypto
from xinyong.core.database import refresh_versioned
from xinyong.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from xinyong.core.workdays import add_workdays
from xinyong.exchange import events
from xinyong.lists.models import (
    ENTRY_STATUS_LABELS,
    REMOVAL_REASON_LABELS,
    EntryStatus,
    ListEntry,
    ListEvent,
    ListType,
    RemovalReason,
)
from xinyong.records.models import Record, RecordStatus
from xinyong.subjects.codes import id_number_error
from xinyong.subjects.models import Subject

BUILTIN = Path(__file__).resolve().parent / "data" / "list_types.yaml"
MANAGERS = (Role.CREDIT_OFFICE, Role.ADMIN)
_FIELDS = (
    "name",
    "kind",
    "reward_or_punishment",
    "public",
    "authority",
    "criteria",
    "duration_years",
    "duration_confirmed",
    "duration_text",
    "exit_conditions",
    "early_removal_months",
    "representation_days",
    "basis",
    "basis_note",
    "feeds",
    "associated",
)


# --- list types -------------------------------------------------------------------------------------------------


@lru_cache
def builtin_list_types() -> list[dict[str, Any]]:
    return list(yaml.safe_load(BUILTIN.read_text(encoding="utf-8"))["list_types"])


def load_builtin(*, session: Session) -> int:
    """Insert or refresh the built-in list types; idempotent. A basis the credit office filled in is kept."""
    existing = {t.code: t for t in session.scalars(sa.select(ListType))}
    written = 0
    for spec in builtin_list_types():
        values = {key: spec.get(key) for key in _FIELDS}
        values["exit_conditions"] = values["exit_conditions"] or []
        values["basis"] = values["basis"] or []
        values["feeds"] = values["feeds"] or []
        row = existing.get(spec["code"])
        if row is None:
            session.add(ListType(code=spec["code"], version=1, updated_at=clock.now(), **values))
            written += 1
            continue
        if row.basis and not values["basis"]:
            # A locally recognised list whose basis the credit office has filled in: never wipe it on upgrade.
            values["basis"], values["basis_note"] = row.basis, row.basis_note
        if refresh_versioned(row, values, now=clock.now()):
            written += 1
    session.flush()
    return written


def list_types(*, session: Session) -> list[ListType]:
    return list(session.scalars(sa.select(ListType).order_by(ListType.id)))


def get_list_type(*, session: Session, code: str) -> ListType:
    row = session.scalar(sa.select(ListType).where(ListType.code == code))
    if row is None:
        known = "、".join(session.scalars(sa.select(ListType.code).order_by(ListType.id)))
        raise NotFound(f"未知的名单类型：{code}（可用：{known}）")
    return row


def set_basis(
    *, session: Session, actor: Actor, code: str, basis: list[dict[str, Any]], note: str | None = None
) -> ListType:
    """The credit office fills in the basis of a locally recognised list (e.g. 诚信示范企业)."""
    _require_manager(actor)
    row = get_list_type(session=session, code=code)
    if not basis or any(not str(item.get("document", "")).strip() for item in basis):
        raise InvalidInput("认定依据不能为空：每项须填写文件名称（document）")
    row.basis = [
        {k: v for k, v in item.items() if k in ("document", "doc_no", "article", "point", "confirmed")}
        for item in basis
    ]
    row.basis_note = note
    row.version += 1
    row.updated_at = clock.now()
    audit.record(
        session=session,
        actor=actor,
        action="list_type.set_basis",
        target_type="list_type",
        target_id=code,
        detail={"basis": row.basis},
    )
    session.flush()
    return row


# --- the lifecycle ----------------------------------------------------------------------------------------------


def _require_manager(actor: Actor) -> None:
    if actor.role not in {r.value for r in MANAGERS}:
        raise Forbidden(f"当前角色（{actor.role}）无权管理名单：列入、移出名单限信用办或平台管理员")


def _event(session: Session, entry: ListEntry, actor: Actor, step: str, note: str | None = None, **detail: Any) -> None:
    detail = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in detail.items()}
    session.add(
        ListEvent(
            entry_id=entry.id,
            step=step,
            at=clock.now(),
            actor=actor.name,
            actor_role=actor.role,
            note=note,
            detail=detail,
        )
    )
    audit.record(
        session=session,
        actor=actor,
        action=f"list.{step}",
        target_type="list_entry",
        target_id=entry.id,
        subject_id=entry.subject_id,
        detail={"list_type": entry.list_type.code if entry.list_type else None, **detail}
        | ({"note": note} if note else {}),
    )
    entry.updated_at = clock.now()
    session.flush()
    # The change feed, in the same transaction as the step.
    events.emit(
        session=session,
        kind=f"list_entry.{step}",
        entity="list_entry",
        entity_id=entry.id,
        subject_id=entry.subject_id,
        payload={"record_id": entry.record_id} if entry.record_id else {},
    )


def get_entry(*, session: Session, entry_id: int) -> ListEntry:
    entry = session.get(ListEntry, entry_id)
    if entry is None:
        raise NotFound(f"名单条目 {entry_id} 不存在")
    return entry


def propose(
    *,
    session: Session,
    actor: Actor,
    list_type_code: str,
    subject_id: int,
    reason: str,
    doc_no: str | None = None,
    authority: str | None = None,
    legal_rep_id_number: str | None = None,
) -> ListEntry:
    """拟列入. Refused for a list type without any legal basis (no basis, no list)."""
    _require_manager(actor)
    list_type = get_list_type(session=session, code=list_type_code)
    if not list_type.basis:
        raise Conflict(
            f"名单类型「{list_type.name}」尚未填写认定依据，不能列入（{list_type.basis_note or '无依据不列入'}）"
        )
    subject = session.get(Subject, subject_id)
    if subject is None:
        raise NotFound(f"主体 {subject_id} 不存在")
    if not reason.strip():
        raise InvalidInput("reason：列入事由不能为空")
    id_hash = None
    if legal_rep_id_number:
        problem = id_number_error(legal_rep_id_number)
        if problem:
            raise InvalidInput(f"legal_rep_id_number：{problem}")
        id_hash = crypto.keyed_hash(legal_rep_id_number)
    now = clock.now()
    entry = ListEntry(
        list_type_id=list_type.id,
        subject_id=subject.id,
        status=EntryStatus.PROPOSED,
        reason=reason.strip(),
        doc_no=doc_no,
        authority=authority or list_type.authority,
        origin="local",
        legal_rep_name=subject.legal_rep,
        legal_rep_id_hash=id_hash,
        created_by=actor.name,
        created_at=now,
        updated_at=now,
    )
    entry.list_type = list_type
    session.add(entry)
    session.flush()
    _event(session, entry, actor, "proposed", doc_no=doc_no)
    return entry


def send_notice(*, session: Session, actor: Actor, entry_id: int, on: dt.date | None = None) -> ListEntry:
    """告知: a 告知书 with a representation deadline counted in working days (provisional for unknown years)."""
    _require_manager(actor)
    entry = get_entry(session=session, entry_id=entry_id)
    _expect(entry, EntryStatus.PROPOSED, "告知")
    notice_on = on or clock.today()
    deadline = add_workdays(notice_on, entry.list_type.representation_days)
    entry.status = EntryStatus.NOTICE
    entry.notice_on = notice_on
    entry.representation_deadline = deadline.date
    entry.deadline_provisional = deadline.provisional
    _event(
        session,
        entry,
        actor,
        "notice",
        notice_on=notice_on,
        deadline=deadline.date,
        provisional=deadline.provisional,
    )
    return entry


def confirm_listing(
    *,
    session: Session,
    actor: Actor,
    entry_id: int,
    listed_on: dt.date | None = None,
    expires_on: dt.date | None = None,
    note: str | None = None,
) -> ListEntry:
    """列入: after the representation period has run out (or directly, for list types without one)."""
    _require_manager(actor)
    entry = get_entry(session=session, entry_id=entry_id)
    days = entry.list_type.representation_days
    allowed = {EntryStatus.NOTICE} if days > 0 else {EntryStatus.PROPOSED, EntryStatus.NOTICE}
    if entry.status not in allowed:
        if entry.status == EntryStatus.PROPOSED:
            raise Conflict(f"条目 {entry.id} 尚未告知：须先送达告知书，陈述申辩期（{days} 个工作日）届满后方可列入")
        raise Conflict(f"条目 {entry.id} 当前状态为「{ENTRY_STATUS_LABELS[EntryStatus(entry.status)]}」，不能列入")
    listed_on = listed_on or clock.today()
    if entry.representation_deadline is not None and listed_on <= entry.representation_deadline:
        raise Conflict(
            f"陈述申辩期至 {entry.representation_deadline:%Y-%m-%d} 止"
            f"{'（暂定）' if entry.deadline_provisional else ''}，期满后方可列入"
        )
    if expires_on is None and entry.list_type.duration_years:
        expires_on = _add_years(listed_on, entry.list_type.duration_years) - dt.timedelta(days=1)
    if expires_on is not None and expires_on < listed_on:
        raise InvalidInput("expires_on：有效期至不能早于列入日期")
    entry.status = EntryStatus.LISTED
    entry.listed_on = listed_on
    entry.expires_on = expires_on
    _event(session, entry, actor, "listed", note, listed_on=listed_on, expires_on=expires_on)
    return entry


def withdraw(*, session: Session, actor: Actor, entry_id: int, note: str) -> ListEntry:
    """不予列入: the subject's representation was accepted (or the proposal was wrong)."""
    _require_manager(actor)
    entry = get_entry(session=session, entry_id=entry_id)
    if entry.status not in (EntryStatus.PROPOSED, EntryStatus.NOTICE):
        raise Conflict(f"条目 {entry.id} 已列入或已移出，不能撤回；请使用移出")
    entry.status = EntryStatus.WITHDRAWN
    _event(session, entry, actor, "withdrawn", note)
    return entry


def remove(
    *,
    session: Session,
    actor: Actor,
    entry_id: int,
    reason: RemovalReason,
    note: str | None = None,
    on: dt.date | None = None,
) -> ListEntry:
    """移出. Early removal only after the list type's minimum listing period."""
    _require_manager(actor)
    entry = get_entry(session=session, entry_id=entry_id)
    if entry.status != EntryStatus.LISTED:
        raise Conflict(f"条目 {entry.id} 当前状态为「{ENTRY_STATUS_LABELS[EntryStatus(entry.status)]}」，不能移出")
    on = on or clock.today()
    months = entry.list_type.early_removal_months
    if reason == RemovalReason.EARLY and entry.listed_on is not None:
        if months is None:
            raise Conflict(f"名单「{entry.list_type.name}」没有提前移出的规定")
        earliest = _add_months(entry.listed_on, months)
        if on < earliest:
            raise Conflict(f"列入满 {months} 个月后方可申请提前移出（最早 {earliest:%Y-%m-%d}）")
    entry.status = EntryStatus.REMOVED
    entry.removed_on = on
    entry.removal_reason = reason.value
    _event(session, entry, actor, "removed", note, reason=reason.value, removed_on=on)
    return entry


def _expect(entry: ListEntry, status: EntryStatus, step: str) -> None:
    if entry.status != status:
        raise Conflict(
            f"条目 {entry.id} 当前状态为「{ENTRY_STATUS_LABELS[EntryStatus(entry.status)]}」，不能执行「{step}」"
        )


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _add_months(day: dt.date, months: int) -> dt.date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


# --- reading: what is in force today -----------------------------------------------------------------------------


def effective_state(entry: ListEntry, record: Record | None = None, *, today: dt.date | None = None) -> str:
    """The state as of today, derived from dates and the underlying record (never stored by a job)."""
    today = today or clock.today()
    if entry.status != EntryStatus.LISTED:
        return str(entry.status)
    if record is not None and record.repaired_at is not None:
        return "repaired"
    if record is not None and record.status != RecordStatus.ACTIVE:
        return "revoked"
    if entry.expires_on is not None and entry.expires_on < today:
        return "expired"
    if entry.listed_on is not None and entry.listed_on > today:
        return "scheduled"
    return "active"


STATE_LABELS = {
    **{str(k): v for k, v in ENTRY_STATUS_LABELS.items()},
    "active": "有效",
    "expired": "已期满（自动失效）",
    "repaired": "已信用修复",
    "revoked": "认定已撤销",
    "scheduled": "待生效",
}


def active_clause(today: dt.date | sa.BindParameter[dt.date]) -> sa.ColumnElement[bool]:
    """An entry in force today (over ``list_entry`` outer-joined to its ``record``): the evaluation's list indicators
    and scenario rules use this very condition, so a check, a grade and a 信易+ answer never disagree."""
    return sa.and_(
        ListEntry.status == EntryStatus.LISTED,
        sa.or_(ListEntry.listed_on.is_(None), ListEntry.listed_on <= today),
        sa.or_(ListEntry.expires_on.is_(None), ListEntry.expires_on >= today),
        sa.or_(
            ListEntry.record_id.is_(None), sa.and_(Record.status == RecordStatus.ACTIVE, Record.repaired_at.is_(None))
        ),
    )


# An entry's record. The subject is part of the join (an entry and its record always share the subject: collection
# and merges move both), so PostgreSQL probes only the subject's partition of ``record`` and on Citus the join stays
# on one shard (docs/scaling.md).
_RECORD_OF_ENTRY = sa.and_(Record.id == ListEntry.record_id, Record.subject_id == ListEntry.subject_id)

# Built once with bound parameters: every credit check runs it, and building the statement cost more than running it.
_ACTIVE_ENTRIES = (
    sa.select(ListEntry)
    .outerjoin(Record, _RECORD_OF_ENTRY)
    .where(ListEntry.subject_id == sa.bindparam("subject_id"), active_clause(sa.bindparam("today", type_=sa.Date())))
    .order_by(ListEntry.id)
)


def active_entries(*, session: Session, subject_id: int, today: dt.date | None = None) -> list[ListEntry]:
    """Entries in force for a subject today: listed, not expired, their record (if any) neither repaired nor revoked."""
    today = today or clock.today()
    params = {"subject_id": subject_id, "today": today}
    return list(session.scalars(_ACTIVE_ENTRIES, params).unique())


def records_to_feed(
    resources: set[str], which: sa.ColumnElement[bool] | None = None
) -> sa.Select[Record, str, dict[str, str]]:
    """The records of the list-entry ``resources`` (those ``which`` selects, if given), with their resource."""
    query = (
        sa.select(Record, Resource.code, Resource.roles)
        .join(Resource, Resource.id == Record.resource_id)
        .where(Resource.code.in_(resources))
        .order_by(Record.id)
    )
    return query if which is None else query.where(which)


def associated_entries(
    *,
    session: Session,
    id_number: str | None = None,
    person_name: str | None = None,
    company: Subject | None = None,
    today: dt.date | None = None,
) -> list[ListEntry]:
    """Active entries whose list type restricts associated persons, found for one person.

    By citizen ID (through the keyed hash recorded at listing) or by name within a named company. Only list types
    whose ``associated`` rule provides for it are searched: never by default.
    """
    today = today or clock.today()
    conditions: list[sa.ColumnElement[bool]] = []
    if id_number:
        conditions.append(ListEntry.legal_rep_id_hash == crypto.keyed_hash(id_number))
    if person_name and company is not None:
        conditions.append(sa.and_(ListEntry.subject_id == company.id, ListEntry.legal_rep_name == person_name.strip()))
    if not conditions:
        return []
    query = (
        sa.select(ListEntry)
        .join(ListType, ListType.id == ListEntry.list_type_id)
        .outerjoin(Record, _RECORD_OF_ENTRY)
        .where(sa.or_(*conditions), active_clause(today))
        .order_by(ListEntry.id)
    )
    entries = list(session.scalars(query).unique())
    # ``associated`` is a JSON column: an absent rule may be stored as JSON null, so test it here, not in SQL.
    return [e for e in entries if e.list_type.associated and _associated_in_force(e, today)]


def _associated_in_force(entry: ListEntry, today: dt.date) -> bool:
    rule = entry.list_type.associated or {}
    years = rule.get("years")
    if not years or entry.listed_on is None:
        return True
    return today < _add_years(entry.listed_on, int(years))


def entries_of(*, session: Session, subject_id: int) -> list[ListEntry]:
    return list(session.scalars(sa.select(ListEntry).where(ListEntry.subject_id == subject_id).order_by(ListEntry.id)))


# --- collection: records of list-entry resources become entries ---------------------------------------------------


@dataclass
class SyncSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    unlinked: int = 0  # record not linked to a subject yet: picked up on a later sync
    unmapped: int = 0  # no list type is fed by this record (e.g. an unknown SX_MDMC)


def _feed_index(session: Session) -> dict[tuple[str, str | None], ListType]:
    index: dict[tuple[str, str | None], ListType] = {}
    for list_type in list_types(session=session):
        for feed in list_type.feeds or []:
            names = feed.get("list_names")
            if names:
                for name in names:
                    index[(feed["resource"], name)] = list_type
            else:
                index[(feed["resource"], None)] = list_type
    return index


def sync_from_records(
    *,
    session: Session,
    actor: Actor,
    record_ids: list[int] | None = None,
    which: sa.ColumnElement[bool] | None = None,
) -> SyncSummary:
    """Turn records of list-entry resources into list entries, idempotently (keyed by the record).

    The hook for the collection pipeline and the upper-platform import: call it after a chunk is upserted, with the
    chunk's record ids or a condition that selects its records (``which``: the pipeline's batch and time, which finds
    them through the batch's index where a list of ids is looked for in every partition of ``record``), or with
    neither, to sweep everything. The record's ``origin`` is kept ('collection' for local source units, else the upper
    platform's name). Re-running changes nothing unless the record changed.
    """
    index = _feed_index(session)
    query = records_to_feed({code for code, _ in index}, which)
    if record_ids is not None:
        query = query.where(Record.id.in_(record_ids))
    rows = session.execute(query).all()
    summary = SyncSummary()
    existing = {
        e.record_id: e
        for e in session.scalars(
            sa.select(ListEntry).where(ListEntry.record_id.is_not(None))
            if record_ids is None and which is None
            else sa.select(ListEntry).where(ListEntry.record_id.in_([record.id for record, _, _ in rows]))
        )
    }
    for record, resource_code, roles in rows:
        fed = entry_from_record(index=index, resource_code=resource_code, roles=roles or {}, record=record)
        if fed is None:
            summary.unmapped += 1
            continue
        if record.subject_id is None:
            summary.unlinked += 1
            continue
        list_type, values = fed
        entry = existing.get(record.id)
        if entry is None:
            now = clock.now()
            entry = ListEntry(
                list_type_id=list_type.id,
                subject_id=record.subject_id,
                status=EntryStatus.LISTED,
                record_id=record.id,
                created_by=actor.name,
                created_at=now,
                updated_at=now,
                **values,
            )
            entry.list_type = list_type
            session.add(entry)
            session.flush()
            _event(session, entry, actor, "collected", None, record_id=record.id, origin=values["origin"])
            summary.created += 1
            continue
        changed = {k: v for k, v in values.items() if getattr(entry, k) != v}
        if entry.list_type_id != list_type.id:
            changed["list_type_id"] = list_type.id
        if entry.subject_id != record.subject_id:
            changed["subject_id"] = record.subject_id
        if not changed:
            summary.unchanged += 1
            continue
        for key, value in changed.items():
            setattr(entry, key, value)
        _event(session, entry, actor, "updated", None, record_id=record.id, fields=sorted(changed))
        summary.updated += 1
    session.flush()
    return summary


def feed_index(*, session: Session) -> dict[tuple[str, str | None], ListType]:
    """(resource code, list name or None) → the list type its records feed."""
    return _feed_index(session)


def entry_from_record(
    *, index: dict[tuple[str, str | None], ListType], resource_code: str, roles: dict[str, str], record: Record
) -> tuple[ListType, dict[str, Any]] | None:
    """The list type a list-entry record feeds and the entry's values, or None when no list type takes it.

    Shared by ``sync_from_records`` and the bulk generator (which fills these values into rows of its own)."""
    list_name_field = roles.get("list_name")
    list_name = str(record.payload.get(list_name_field, "")).strip() if list_name_field else None
    list_type = index.get((resource_code, list_name)) or index.get((resource_code, None))
    if list_type is None:
        return None
    return list_type, _entry_values(record, list_type, roles)


def _entry_values(record: Record, list_type: ListType, roles: dict[str, str]) -> dict[str, Any]:
    payload = record.payload or {}
    prefix = (roles.get("doc_no") or "").split("_", 1)[0]
    reason = next(
        (str(payload[k]) for k in (f"{prefix}_LRSY", f"{prefix}_SXQX", f"{prefix}_LRYY") if payload.get(k)), ""
    )
    listed_on = record.decision_date
    expires_on = record.valid_to
    if expires_on is None and listed_on is not None and list_type.duration_years:
        expires_on = _add_years(listed_on, list_type.duration_years) - dt.timedelta(days=1)
    return {
        "reason": reason or f"由{list_type.name}归集记录生成",
        "doc_no": record.doc_no,
        "authority": str(payload.get(roles.get("authority", ""), "")) or list_type.authority,
        "listed_on": listed_on,
        "expires_on": expires_on,
        "origin": "collection" if record.origin in ("local", "", None) else record.origin,
        "legal_rep_name": str(payload.get(f"{prefix}_FRDB") or "") or None,
    }


def entry_view(entry: ListEntry, *, today: dt.date | None = None, record: Record | None = None) -> dict[str, Any]:
    """An entry as the API and pages show it."""
    from xinyong.lists.basis import public_basis

    state = effective_state(entry, record, today=today)
    list_type = entry.list_type
    return {
        "entry_id": entry.id,
        "list_type": {
            "code": list_type.code,
            "name": list_type.name,
            "kind": list_type.kind,
            "reward_or_punishment": list_type.reward_or_punishment,
            "basis": public_basis(list_type.basis),
        },
        "status": entry.status,
        "state": state,
        "state_label": STATE_LABELS.get(state, state),
        "reason": entry.reason,
        "doc_no": entry.doc_no,
        "authority": entry.authority,
        "notice_on": _iso(entry.notice_on),
        "representation_deadline": _iso(entry.representation_deadline),
        "deadline_provisional": entry.deadline_provisional,
        "listed_on": _iso(entry.listed_on),
        "expires_on": _iso(entry.expires_on),
        "removed_on": _iso(entry.removed_on),
        "removal_reason": entry.removal_reason,
        "removal_reason_label": REMOVAL_REASON_LABELS.get(RemovalReason(entry.removal_reason))
        if entry.removal_reason
        else None,
        "origin": entry.origin,
    }


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None
