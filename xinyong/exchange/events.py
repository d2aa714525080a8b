"""Appending to the change feed, in the same transaction as the change itself.

Cursor guarantee: a reader that has seen event N will never later see an event with an id below N. SQLite has one
writer at a time, so ids are handed out in commit order anyway. On PostgreSQL a sequence hands out ids when rows are
inserted, not when transactions commit: T1 takes id 10, T2 takes 11 and commits first, a reader sees 11, moves its
cursor past it and never sees 10. Every writer of this table therefore first takes one transaction-scoped advisory lock
(``pg_advisory_xact_lock``), held until its commit: the next writer draws its ids only after the previous one has
committed, so the visible ids are always a gap-free prefix of what will ever be visible. (The alternative, a "visible up
to the oldest in-flight transaction" rule over ``pg_snapshot_xmin``, needs a transaction id per row and still loses
events whose sequence value is older than their transaction id; the lock is simpler and provably ordered.) The cost is
that event-writing transactions commit one after another from their first event on, so writers emit as late in their
transaction as they can; the collection pipeline writes a chunk's events in one statement at the end of its upsert.

This module imports nothing from other domains, so every domain can call it.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping, Sequence
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from xinyong.core import clock
from xinyong.core.database import JsonType
from xinyong.exchange.models import ChangeEvent

_event = cast(sa.Table, ChangeEvent.__table__)

# An arbitrary 64-bit key of this application's advisory lock ("xinyong change_event").
FEED_LOCK_KEY = 0x78696E79_6F6E6701


def lock_feed(session: Session) -> None:
    """Serialise event writers until this transaction ends (PostgreSQL; SQLite already has one writer)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": FEED_LOCK_KEY})


def emit(
    *,
    session: Session,
    kind: str,
    entity: str,
    entity_id: int,
    subject_id: int | None,
    payload: Mapping[str, Any] | None = None,
) -> int:
    """Append one change event in the caller's transaction; returns its id (the cursor value).

    ``kind`` is ``<entity>.<what happened>`` (``objection.closed``, ``evaluation.graded``); ``payload`` must hold no
    personal identifiers. The feed decides per subscriber whether the event is shown: events of ``record`` and
    ``list_entry`` are rendered from the current row through the disclosure engine; for other entities the payload's
    ``record_id`` (visibility follows that record) and ``disclosure`` (``public`` / ``shared`` / ``private``, default
    ``private`` = credit office only) decide. Call it as late in the transaction as possible (see the module docstring).
    """
    lock_feed(session)
    statement = (
        sa.insert(_event)
        .values(
            at=clock.now(),
            kind=kind,
            entity=entity,
            entity_id=entity_id,
            subject_id=subject_id,
            payload=dict(payload or {}),
        )
        .returning(_event.c.id)
    )
    return int(session.execute(statement).scalar_one())


def emit_record_changes(
    *,
    session: Session,
    resource_id: int,
    source_unit_id: int | Sequence[int],
    batch_id: str,
    now: dt.datetime,
    doc_nos: Sequence[str] | None = None,
) -> None:
    """One INSERT … SELECT for every record a pipeline chunk wrote (stamped with its batch and time).

    Several units (a chunk of a mixed file) are handled in the same statement, their events in the order the units are
    given, each unit's in record order: as if emitted unit by unit, without one statement per unit. ``doc_nos`` (for
    one unit: the document numbers the chunk wrote) lets the database find those records through the unique key
    instead of reading every record of the batch so far, which made each chunk of a long file slower than the last.
    (With several units SQLite's planner cannot use the unique key for an OR of per-unit number lists, so they are
    not narrowed.)
    """
    units = [source_unit_id] if isinstance(source_unit_id, int) else list(source_unit_id)
    if not units:
        return
    values: dict[str, Any] = {
        "at": now,
        "payload": {"batch": batch_id},
        "resource_id": resource_id,
        "batch_id": batch_id,
        "now": now,
    }
    if len(units) == 1:
        statement = _one_unit_changes(named=doc_nos is not None)
        values |= {"unit_id": units[0]} | ({"doc_nos": list(doc_nos)} if doc_nos is not None else {})
    else:
        record = _record_table()
        order = sa.case({unit: n for n, unit in enumerate(units)}, value=record.c.source_unit_id)
        statement = _record_changes(record.c.source_unit_id.in_(units), order)
    lock_feed(session)
    session.execute(statement, values)


def _record_table() -> sa.Table:
    from xinyong.records.models import Record  # records imports this module; keep the import one-way at load time

    return cast(sa.Table, Record.__table__)


def _record_changes(units: sa.ColumnElement[bool], *order: sa.ColumnElement[Any]) -> sa.Insert:
    """INSERT … SELECT of the events of the records of a batch stamped with a chunk's time, of the units ``units``
    selects, in ``order`` and then record order."""
    record = _record_table()
    kind = sa.case((record.c.version == 1, sa.literal("record.created")), else_=sa.literal("record.versioned"))
    source = (
        sa.select(
            sa.bindparam("at", type_=_event.c.at.type),
            kind,
            sa.literal("record"),
            record.c.id,
            record.c.subject_id,
            sa.bindparam("payload", type_=JsonType),
        )
        .where(
            record.c.resource_id == sa.bindparam("resource_id"),
            units,
            record.c.batch_id == sa.bindparam("batch_id"),
            record.c.updated_at == sa.bindparam("now"),
        )
        .order_by(*order, record.c.id)
    )
    return sa.insert(_event).from_select(["at", "kind", "entity", "entity_id", "subject_id", "payload"], source)


@functools.cache
def _one_unit_changes(*, named: bool) -> sa.Insert:
    """``_record_changes`` for one unit (the usual file), built once (see ``subjects.service._ignoring_conflicts``);
    ``named``: narrowed to the document numbers the chunk wrote."""
    record = _record_table()
    unit = record.c.source_unit_id == sa.bindparam("unit_id")
    if named:
        unit = sa.and_(unit, record.c.doc_no.in_(sa.bindparam("doc_nos", expanding=True)))
    return _record_changes(unit)
