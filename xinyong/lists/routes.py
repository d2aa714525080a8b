"""List management API: list types for everyone with a key, entry steps for the credit office and admin only."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from xinyong.accounts.models import Role
from xinyong.audit.service import Actor
from xinyong.core.deps import CurrentActor, SessionDep, require_role
from xinyong.core.errors import InvalidInput, NotFound
from xinyong.core.routing import APIRouter
from xinyong.core.text import normalise_code
from xinyong.core.types import RowId
from xinyong.lists import service as lists
from xinyong.lists.basis import public_basis
from xinyong.lists.models import ListEntry, ListType
from xinyong.lists.schemas import BasisUpdate, EntryCreate, ListingCreate, NoticeCreate, RemovalCreate, WithdrawalCreate
from xinyong.subjects.models import Subject

router = APIRouter(prefix="/api/v1", tags=["名单"])
MANAGERS = (Role.CREDIT_OFFICE, Role.ADMIN)


def list_type_view(row: ListType) -> dict[str, Any]:
    return {
        "code": row.code,
        "name": row.name,
        "kind": row.kind,
        "reward_or_punishment": row.reward_or_punishment,
        "public": row.public,
        "authority": row.authority,
        "criteria": row.criteria,
        "duration_years": row.duration_years,
        "duration": row.duration_text,
        "duration_confirmed": row.duration_confirmed,
        "exit_conditions": row.exit_conditions,
        "early_removal_months": row.early_removal_months,
        "representation_days": row.representation_days,
        "basis": public_basis(row.basis),
        "basis_note": row.basis_note,
        "accepts_entries": bool(row.basis),
        "feeds": row.feeds,
        "associated": row.associated,
    }


def _entry_detail(entry: ListEntry) -> dict[str, Any]:
    return lists.entry_view(entry) | {
        "subject_id": entry.subject_id,
        "events": [
            {
                "step": e.step,
                "at": e.at.isoformat(),
                "actor": e.actor,
                "role": e.actor_role,
                "note": e.note,
                "detail": e.detail,
            }
            for e in entry.events
        ],
    }


def _manager(actor: Actor) -> Actor:
    require_role(actor, *MANAGERS)
    return actor


@router.get("/list-types", summary="名单类型（含依据、期限、移出条件）")
def get_list_types(session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    items = [list_type_view(t) for t in lists.list_types(session=session)]
    return {"items": items, "total": len(items)}


@router.put("/list-types/{code}/basis", summary="填写本地名单的认定依据（信用办）")
def put_list_type_basis(code: str, body: BasisUpdate, session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    row = lists.set_basis(session=session, actor=_manager(actor), code=code, basis=body.basis, note=body.note)
    return list_type_view(row)


@router.post("/lists/entries", status_code=201, summary="拟列入（信用办）")
def post_entry(body: EntryCreate, session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    _manager(actor)
    subject_id = body.subject_id
    if subject_id is None:
        if not body.code:
            raise InvalidInput("请提供 subject_id 或 code")
        subject_id = session.scalar(sa.select(Subject.id).where(Subject.uscc == normalise_code(body.code)))
        if subject_id is None:
            raise NotFound(f"统一社会信用代码 {normalise_code(body.code)} 对应的主体不存在")
    entry = lists.propose(
        session=session,
        actor=actor,
        list_type_code=body.list_type,
        subject_id=subject_id,
        reason=body.reason,
        doc_no=body.doc_no,
        authority=body.authority,
        legal_rep_id_number=body.legal_rep_id_number,
    )
    return _entry_detail(entry)


@router.get("/lists/entries/{entry_id}", summary="名单条目及其每一步")
def get_entry(entry_id: RowId, session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    _manager(actor)
    return _entry_detail(lists.get_entry(session=session, entry_id=entry_id))


@router.post("/lists/entries/{entry_id}/notice", summary="告知（生成陈述申辩截止日）")
def post_notice(entry_id: RowId, body: NoticeCreate, session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    entry = lists.send_notice(session=session, actor=_manager(actor), entry_id=entry_id, on=body.on)
    return _entry_detail(entry)


@router.post("/lists/entries/{entry_id}/listing", summary="列入")
def post_listing(entry_id: RowId, body: ListingCreate, session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    entry = lists.confirm_listing(
        session=session,
        actor=_manager(actor),
        entry_id=entry_id,
        listed_on=body.listed_on,
        expires_on=body.expires_on,
        note=body.note,
    )
    return _entry_detail(entry)


@router.post("/lists/entries/{entry_id}/removal", summary="移出")
def post_removal(entry_id: RowId, body: RemovalCreate, session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    entry = lists.remove(
        session=session, actor=_manager(actor), entry_id=entry_id, reason=body.reason, note=body.note, on=body.on
    )
    return _entry_detail(entry)


@router.post("/lists/entries/{entry_id}/withdrawal", summary="不予列入（陈述申辩成立）")
def post_withdrawal(
    entry_id: RowId, body: WithdrawalCreate, session: SessionDep, actor: CurrentActor
) -> dict[str, Any]:
    return _entry_detail(lists.withdraw(session=session, actor=_manager(actor), entry_id=entry_id, note=body.note))


@router.post("/lists/sync", summary="由归集记录生成名单条目（幂等）")
def post_sync(session: SessionDep, actor: CurrentActor) -> dict[str, int]:
    summary = lists.sync_from_records(session=session, actor=_manager(actor))
    return vars(summary)
