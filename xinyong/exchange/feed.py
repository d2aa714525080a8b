"""Reading the change feed as one subscriber may see it.

Each event names an entity; the item shown is that entity's state at read time passed through the disclosure engine
for the subscriber's viewer (visibility is computed, never stored, so it is computed here too). A record the viewer
may see is an ``upsert`` with its national fields (identifiers masked unless the viewer may see them); one it may no
longer see after a change is a ``withdraw`` (reason: repaired, revoked, deleted, not_visible); one it never could see
(created outside its rights) is left out. The cursor always advances over every event read, shown or not, so a
subscriber never rescans.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.orm import Session

from xinyong.catalog.models import Resource, SourceUnit
from xinyong.core import clock
from xinyong.core.crypto import decrypt
from xinyong.disclosure import Viewer, ViewerKind, decide, get_rules, mask_value
from xinyong.exchange.models import ChangeEvent
from xinyong.records.models import Record, RecordStatus
from xinyong.subjects.models import Subject, SubjectKind
from xinyong.subjects.search import subject_ref

MAX_LIMIT = 1000
RECORD_CREATED = "record.created"


@dataclass
class FeedPage:
    items: list[dict[str, Any]] = field(default_factory=list)
    next_after: int = 0  # pass as ``after`` next time
    has_more: bool = False
    scanned: int = 0


def latest_cursor(*, session: Session) -> int:
    return int(session.scalar(sa.select(sa.func.coalesce(sa.func.max(ChangeEvent.id), 0))) or 0)


def national_fields(record: Record, resource: Resource, *, unmask: bool) -> dict[str, str]:
    """The record as a row of the national format: field code → text, in catalog order; personal identifiers
    restored from their encrypted form when ``unmask``, else masked."""
    pii: dict[str, str] = orjson.loads(decrypt(record.pii_cipher)) if unmask and record.pii_cipher else {}
    row: dict[str, str] = {}
    for spec in resource.fields or []:
        code = spec["code"]
        value = pii.get(code) if code in pii else (record.payload or {}).get(code)
        if value in (None, ""):
            continue
        text = ";".join(str(v) for v in value) if isinstance(value, list) else str(value)
        row[code] = text if unmask else mask_value(text)
    return row


def withdrawal_reason(record: Record) -> str:
    if record.repaired_at is not None:
        return "repaired"
    if record.status == RecordStatus.REVOKED:
        return "revoked"
    if record.status == RecordStatus.DELETED:
        return "deleted"
    return "not_visible"


class _Context:
    """Rows the items of one page need, loaded set-wise (one query per kind of row)."""

    def __init__(self, session: Session, events: Sequence[ChangeEvent]) -> None:
        self.session = session
        self.resources = {r.id: r for r in session.scalars(sa.select(Resource))}
        record_ids = {e.entity_id for e in events if e.entity == "record"}
        record_ids |= {
            int(e.payload["record_id"]) for e in events if e.entity != "record" and e.payload.get("record_id")
        }
        self.records = (
            {r.id: r for r in session.scalars(sa.select(Record).where(Record.id.in_(record_ids)))} if record_ids else {}
        )
        unit_ids = {r.source_unit_id for r in self.records.values()}
        self.units = (
            {u.id: u for u in session.scalars(sa.select(SourceUnit).where(SourceUnit.id.in_(unit_ids)))}
            if unit_ids
            else {}
        )
        subject_ids = {e.subject_id for e in events if e.subject_id} | {
            r.subject_id for r in self.records.values() if r.subject_id
        }
        self.subjects = (
            {s.id: s for s in session.scalars(sa.select(Subject).where(Subject.id.in_(subject_ids)))}
            if subject_ids
            else {}
        )


def _subject(ctx: _Context, subject_id: int | None, *, masked: bool) -> dict[str, Any] | None:
    subject = ctx.subjects.get(subject_id) if subject_id else None
    if subject is None:
        return None
    return {
        "code": subject_ref(subject),
        "name": subject.name,
        "kind": subject.kind,
        "uscc": subject.uscc,
        "id_number_masked": subject.id_masked if subject.kind == SubjectKind.NATURAL_PERSON.value else None,
        "masked": masked,
    }


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def record_item(record: Record, resource: Resource, unit: SourceUnit, decision: Any, *, unmask: bool) -> dict[str, Any]:
    return {
        "resource": resource.code,
        "resource_name": resource.name,
        "unit_code": unit.uscc,
        "unit_name": unit.name,
        "doc_no": record.doc_no,
        "version": record.version,
        "origin": record.origin,
        "decision_date": _iso(record.decision_date),
        "valid_from": _iso(record.valid_from),
        "valid_to": _iso(record.valid_to),
        "publish_until": _iso(record.publish_until),
        "severity": record.severity,
        "status": record.status,
        "repaired": record.repaired_at is not None,
        "public": decision.public,
        "reason": decision.reason,
        "published_from": _iso(decision.published_from),
        "published_until": _iso(decision.published_until),
        "objection": decision.objection,
        "fields": national_fields(record, resource, unmask=unmask),
    }


def _render_record(ctx: _Context, event: ChangeEvent, viewer: Viewer, today: dt.date) -> dict[str, Any] | None:
    record = ctx.records.get(event.entity_id)
    if record is None:
        return None
    resource, unit = ctx.resources[record.resource_id], ctx.units[record.source_unit_id]
    decision = decide(record, resource, viewer, today=today, rules=get_rules())
    base = {"entity": "record", "entity_id": record.id}
    if decision.visible:
        return base | {
            "operation": "upsert",
            "subject": _subject(ctx, record.subject_id, masked=decision.masked),
            "record": record_item(record, resource, unit, decision, unmask=not decision.masked),
        }
    if event.kind == RECORD_CREATED:
        return None  # the subscriber never could see it: nothing to withdraw
    # A public subscriber learns only the opaque id it already holds; a department also gets the record's identity.
    identity = {"resource": resource.code}
    if viewer.kind is not ViewerKind.PUBLIC:
        identity |= {"unit_code": unit.uscc, "doc_no": record.doc_no}
    return base | {"operation": "withdraw", "reason": withdrawal_reason(record), "record": identity}


def _render_list_entry(ctx: _Context, event: ChangeEvent, viewer: Viewer, today: dt.date) -> dict[str, Any] | None:
    from xinyong.lists.models import ListEntry
    from xinyong.lists.service import effective_state, entry_view

    entry = ctx.session.get(ListEntry, event.entity_id)
    if entry is None:
        return None
    record = ctx.records.get(entry.record_id) if entry.record_id else None
    base = {"entity": "list_entry", "entity_id": entry.id}
    office = viewer.kind is ViewerKind.CREDIT_OFFICE
    if not office:
        state = effective_state(entry, record, today=today)
        allowed = state == "active"
        if viewer.kind is ViewerKind.PUBLIC:
            subject = ctx.subjects.get(entry.subject_id) or ctx.session.get(Subject, entry.subject_id)
            if record is not None:
                resource = ctx.resources[record.resource_id]
                allowed = allowed and decide(record, resource, viewer, today=today).visible
            else:
                person = subject is not None and subject.kind == SubjectKind.NATURAL_PERSON.value
                allowed = allowed and entry.list_type.public and not person
        if not allowed:
            if entry.listed_on is None:
                return None  # never published: proposals and notices are the credit office's business
            return base | {"operation": "withdraw", "reason": state, "list_type": entry.list_type.code}
    masked = viewer.kind is ViewerKind.PUBLIC
    return base | {
        "operation": "upsert",
        "subject": _subject(ctx, entry.subject_id, masked=masked),
        "list_entry": entry_view(entry, today=today, record=record),
    }


def _render_other(ctx: _Context, event: ChangeEvent, viewer: Viewer, today: dt.date) -> dict[str, Any] | None:
    """Events other domains emit (objections, repair, evaluation): gated by their record and disclosure class."""
    payload = event.payload or {}
    if viewer.kind is not ViewerKind.CREDIT_OFFICE:
        disclosure = payload.get("disclosure", "private")
        if disclosure == "private" or (disclosure == "shared" and viewer.kind is ViewerKind.PUBLIC):
            return None
        record = ctx.records.get(int(payload["record_id"])) if payload.get("record_id") else None
        if payload.get("record_id") and (
            record is None or not decide(record, ctx.resources[record.resource_id], viewer, today=today).visible
        ):
            return None
    shown = {k: v for k, v in payload.items() if k != "disclosure"}
    return {
        "entity": event.entity,
        "entity_id": event.entity_id,
        "operation": "event",
        "subject": _subject(ctx, event.subject_id, masked=viewer.kind is ViewerKind.PUBLIC),
        "payload": mask_value(shown) if viewer.kind is ViewerKind.PUBLIC else shown,
    }


def read_feed(
    *, session: Session, viewer: Viewer, after: int = 0, limit: int = 100, today: dt.date | None = None
) -> FeedPage:
    """Events after ``after`` (at most ``limit`` scanned), rendered for ``viewer``."""
    limit = max(1, min(limit, MAX_LIMIT))
    today = today or clock.today()
    events = list(
        session.scalars(sa.select(ChangeEvent).where(ChangeEvent.id > after).order_by(ChangeEvent.id).limit(limit))
    )
    page = FeedPage(next_after=after, scanned=len(events), has_more=len(events) == limit)
    if not events:
        return page
    ctx = _Context(session, events)
    for event in events:
        if event.entity == "record":
            item = _render_record(ctx, event, viewer, today)
        elif event.entity == "list_entry":
            item = _render_list_entry(ctx, event, viewer, today)
        else:
            item = _render_other(ctx, event, viewer, today)
        if item is not None:
            page.items.append({"cursor": event.id, "kind": event.kind, "at": event.at.isoformat()} | item)
    page.next_after = events[-1].id
    return page
