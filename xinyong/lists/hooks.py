"""The lists domain's hooks: the credit office's list queue in the console, the daily sync sweep, subject merges.

Loaded by ``xinyong.hooks.install`` (web app, command line, worker)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from xinyong.audit import service as audit
from xinyong.audit.service import Actor
from xinyong.console.routes import page
from xinyong.console.sections import register_section
from xinyong.console.web import StaffActor, back, check_csrf
from xinyong.core import clock
from xinyong.core.deps import SessionDep
from xinyong.core.errors import Forbidden, XinyongError
from xinyong.core.routing import APIRouter
from xinyong.lists import service
from xinyong.lists.models import ENTRY_STATUS_LABELS, EntryStatus, ListEntry, ListType
from xinyong.monitoring.worker import daily, register_job
from xinyong.subjects.models import Subject

WORKER = Actor(name="worker", role="admin")
QUEUE = "/console/list-queue"


# --- worker ------------------------------------------------------------------------------------------------------


def lists_sync(session: Session, _period: str) -> dict[str, Any]:
    """Sweep all list-entry records into entries: catches records linked to a subject after their batch (idempotent,
    keyed by the record, so a second sweep changes nothing)."""
    return dataclasses.asdict(service.sync_from_records(session=session, actor=WORKER))


register_job("lists_sync", "归集名单记录生成名单条目（全量核对）", daily, lists_sync, before="evaluation_incremental")


# --- subject merges ----------------------------------------------------------------------------------------------


def _move_entries(session: Session, from_id: int, to_id: int) -> list[int]:
    ids = list(session.scalars(sa.select(ListEntry.id).where(ListEntry.subject_id == from_id)))
    _assign(session, ids, to_id)
    return ids


def _assign(session: Session, ids: list[int], to_id: int) -> None:
    # updated_at: the next incremental evaluation re-scores both subjects.
    session.execute(sa.update(ListEntry).where(ListEntry.id.in_(ids)).values(subject_id=to_id, updated_at=clock.now()))


def _register_merge_hooks() -> None:
    from xinyong.console.service import MERGE_HOOKS

    MERGE_HOOKS["list_entries"] = (_move_entries, _assign)


_register_merge_hooks()


# --- the list queue (console) ------------------------------------------------------------------------------------

register_section(
    "list_queue",
    "名单管理",
    QUEUE,
    "拟列入、告知中的名单条目，陈述申辩期限与到期待列入",
)

router = APIRouter(prefix=QUEUE, include_in_schema=False)
Text = Annotated[str, Form()]


@dataclasses.dataclass
class QueueItem:
    entry: ListEntry
    subject: Subject
    list_type: ListType
    due: bool  # may be listed today
    days_left: int | None  # calendar days to the representation deadline


def queue(*, session: Session, region: str | None = None, today: dt.date | None = None) -> list[QueueItem]:
    """Entries proposed or in notice, oldest first; ``due`` when the representation period has run out (or the list
    type has none), i.e. when ``confirm_listing`` would accept them today."""
    today = today or clock.today()
    query = (
        sa.select(ListEntry, Subject, ListType)
        .join(Subject, Subject.id == ListEntry.subject_id)
        .join(ListType, ListType.id == ListEntry.list_type_id)
        .where(ListEntry.status.in_([EntryStatus.PROPOSED, EntryStatus.NOTICE]))
        .order_by(ListEntry.representation_deadline.is_(None), ListEntry.representation_deadline, ListEntry.id)
    )
    if region:
        query = query.where(Subject.region == region)
    items = []
    for entry, subject, list_type in session.execute(query).unique():
        deadline = entry.representation_deadline
        if entry.status == EntryStatus.NOTICE:
            due = deadline is None or deadline < today
        else:
            due = list_type.representation_days == 0
        items.append(QueueItem(entry, subject, list_type, due, (deadline - today).days if deadline else None))
    return items


@router.get("", response_class=HTMLResponse)
def list_queue(request: Request, session: SessionDep, actor: StaffActor) -> HTMLResponse:
    items = queue(session=session, region=actor.region)
    # Proposed and noticed entries are not public yet: reading the queue is recorded.
    audit.record(session=session, actor=actor, action="list.queue_view", detail={"entries": len(items)})
    return page(
        request,
        "lists/queue.html",
        items=items,
        today=clock.today(),
        status_labels={str(k): v for k, v in ENTRY_STATUS_LABELS.items()},
    )


def _in_region(session: Session, actor: Actor, entry_id: int) -> None:
    """A district officer acts only on entries of subjects in the district (as the queue shows them)."""
    entry = service.get_entry(session=session, entry_id=entry_id)
    if actor.region:
        subject = session.get(Subject, entry.subject_id)
        if subject is None or subject.region != actor.region:
            raise Forbidden("该名单条目不属于您所在的区域")


@router.post("/{entry_id}/notice")
def send_notice(request: Request, entry_id: int, session: SessionDep, actor: StaffActor, csrf: Text) -> Response:
    check_csrf(request, csrf)
    try:
        _in_region(session, actor, entry_id)
        entry = service.send_notice(session=session, actor=actor, entry_id=entry_id)
    except XinyongError as exc:
        session.rollback()
        return back(QUEUE, error=exc.message)
    deadline = entry.representation_deadline
    provisional = "（暂定）" if entry.deadline_provisional else ""
    return back(QUEUE, ok=f"条目 {entry_id} 已告知，陈述申辩期至 {deadline}{provisional}")


@router.post("/{entry_id}/listing")
def confirm_listing(request: Request, entry_id: int, session: SessionDep, actor: StaffActor, csrf: Text) -> Response:
    check_csrf(request, csrf)
    try:
        _in_region(session, actor, entry_id)
        entry = service.confirm_listing(session=session, actor=actor, entry_id=entry_id)
    except XinyongError as exc:
        session.rollback()
        return back(QUEUE, error=exc.message)
    return back(QUEUE, ok=f"条目 {entry_id} 已列入，有效期至 {entry.expires_on or '移出决定'}")


@router.post("/{entry_id}/withdrawal")
def withdraw(
    request: Request, entry_id: int, session: SessionDep, actor: StaffActor, csrf: Text, note: Text = ""
) -> Response:
    check_csrf(request, csrf)
    if not note.strip():
        return back(QUEUE, error="不予列入须写明理由（如：陈述申辩理由成立）")
    try:
        _in_region(session, actor, entry_id)
        service.withdraw(session=session, actor=actor, entry_id=entry_id, note=note.strip())
    except XinyongError as exc:
        session.rollback()
        return back(QUEUE, error=exc.message)
    return back(QUEUE, ok=f"条目 {entry_id} 不予列入")
