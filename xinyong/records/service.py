"""Storing records: upsert by (resource, source unit, document number), keeping every earlier version.

Written for the collection pipeline's chunks: one SELECT finds the stored state of every document number of a chunk,
one INSERT … SELECT copies the states about to be replaced into ``record_version``, then one multi-row INSERT and
one executemany UPDATE write the new states. No ORM objects are built per row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

import orjson
import sqlalchemy as sa
from sqlalchemy.orm import Session

from xinyong.core import clock
from xinyong.core.crypto import encrypt, keyed_hash
from xinyong.core.errors import InvalidInput
from xinyong.exchange import events
from xinyong.ingest.types import PreparedRow
from xinyong.records.models import Record, RecordStatus, RecordVersion
from xinyong.subjects.service import insert_ignoring_conflicts

_record = cast(sa.Table, Record.__table__)
_version = cast(sa.Table, RecordVersion.__table__)

_IN_CHUNK = 5000

# The columns of a record that a version keeps (the state before it was replaced).
_VERSIONED = (
    "version",
    "subject_id",
    "decision_date",
    "valid_from",
    "valid_to",
    "publish_until",
    "severity",
    "status",
    "subject_name",
    "payload",
    "pii_cipher",
    "content_hash",
    "batch_id",
)


def _json_default(value: Any) -> str:
    # Decimal, dates and anything else JSON has no type for: their canonical text.
    return str(value)


def _canonical(state: dict[str, Any]) -> str:
    """A record's canonical JSON (sorted keys; dates and decimals as text): the text its content hash is taken of."""
    return orjson.dumps(state, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=_json_default).decode()


def _digest(state: dict[str, Any]) -> str:
    """Keyed hash of a record's canonical JSON."""
    return keyed_hash(_canonical(state))


def content_hash(row: PreparedRow) -> str:
    """Keyed hash of everything a resend could change, PII included, so a change is seen without storing it in clear."""
    return keyed_hash(content_text(row))


def content_text(row: PreparedRow) -> str:
    """The canonical text ``content_hash`` is taken of (the bulk generator fills a template of it per record)."""
    return _canonical(
        {
            "payload": row.payload,
            "pii": row.pii,
            "decision_date": row.decision_date,
            "valid_from": row.valid_from,
            "valid_to": row.valid_to,
            "publish_until": row.publish_until,
            "severity": row.severity,
            "status": row.status,
        }
    )


def pii_cipher(row: PreparedRow) -> bytes | None:
    return encrypt(orjson.dumps(row.pii, option=orjson.OPT_SORT_KEYS).decode()) if row.pii else None


@dataclass(frozen=True)
class Incoming:
    """One valid row to store, with the subject it was linked to."""

    row: PreparedRow
    # Every record belongs to a subject: on PostgreSQL it is the partition key (collection refuses a row naming none).
    subject_id: int


@dataclass
class UpsertOutcome:
    inserted: int = 0
    versioned: int = 0
    duplicates: int = 0
    # Per input position: "inserted", "versioned" or "duplicate".
    results: list[str] | None = None

    @property
    def accepted(self) -> int:
        return self.inserted + self.versioned


def upsert_records(
    *,
    session: Session,
    resource_id: int,
    source_unit_id: int,
    region: str | None,
    batch_id: str,
    origin: str,
    items: Sequence[Incoming],
    now: dt.datetime,
) -> UpsertOutcome:
    """Store ``items`` of one unit: new document numbers inserted, changed ones versioned, identical ones left alone.

    A document number that occurs twice in ``items`` is applied in order (the second occurrence sees the first), as
    if the rows had arrived one by one.
    """
    return upsert_units_records(
        session=session,
        resource_id=resource_id,
        units=[source_unit_id] * len(items),
        regions={source_unit_id: region},
        batch_id=batch_id,
        origin=origin,
        items=items,
        now=now,
    )


def upsert_units_records(
    *,
    session: Session,
    resource_id: int,
    units: Sequence[int],
    regions: dict[int, str | None],
    batch_id: str,
    origin: str,
    items: Sequence[Incoming],
    now: dt.datetime,
) -> UpsertOutcome:
    """``upsert_records`` for a chunk whose rows come from several units (``units[i]`` sent ``items[i]``; a record is
    identified by resource, unit and document number), in one round of statements rather than one per unit: a file
    the credit office forwards for ~80 departments otherwise costs ~80 rounds per chunk.
    """
    outcome = UpsertOutcome(results=[""] * len(items))
    _lock_natural_keys(session, resource_id, units)
    hashes = [content_hash(item.row) for item in items]
    # Waves: the n-th occurrence of each (unit, document number) goes into wave n, so within a wave every key is
    # unique and can be handled set-based.
    waves: list[list[int]] = []
    seen: dict[tuple[int, str], int] = {}
    for position, item in enumerate(items):
        key = (units[position], item.row.doc_no)
        n = seen.get(key, 0)
        seen[key] = n + 1
        if n == len(waves):
            waves.append([])
        waves[n].append(position)
    for wave in waves:
        _apply_wave(
            session=session,
            resource_id=resource_id,
            units=units,
            regions=regions,
            batch_id=batch_id,
            origin=origin,
            items=items,
            hashes=hashes,
            positions=wave,
            now=now,
            outcome=outcome,
        )
    # The change feed, in the same transaction: one INSERT … SELECT for what this call wrote, unit by unit in the order
    # the units first appear in the chunk.
    assert outcome.results is not None
    written: dict[int, list[str]] = {}
    for position, result in enumerate(outcome.results):
        if result in ("inserted", "versioned"):
            written.setdefault(units[position], []).append(items[position].row.doc_no)
    if written:
        events.emit_record_changes(
            session=session,
            resource_id=resource_id,
            source_unit_id=[unit_id for unit_id in dict.fromkeys(units) if unit_id in written],
            batch_id=batch_id,
            now=now,
            # One unit (the usual file): name its numbers, so the records are found through the unique key. Bound
            # parameters stay well under SQLite's limit; a larger chunk falls back to the batch-wide scan.
            doc_nos=next(iter(written.values()))
            if len(written) == 1 and len(next(iter(written.values()))) <= _IN_CHUNK
            else None,
        )
    return outcome


def natural_key_lock(resource_id: int, unit_id: int) -> int:
    """The 64-bit advisory lock key of one (resource, unit): a hash, so it cannot meet the feed's fixed key in
    practice (and a collision would only make two writers take turns)."""
    digest = hashlib.blake2b(f"xinyong record key {resource_id} {unit_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _lock_natural_keys(session: Session, resource_id: int, units: Sequence[int]) -> None:
    """On PostgreSQL, hold (until commit) one advisory lock per (resource, unit) this chunk writes.

    ``record`` is partitioned by subject, so its unique indexes include ``subject_id`` and no index can refuse a
    second record with the same (resource, unit, document number) under another subject. Two writers of the same
    unit's resource therefore take turns: each sees what the other committed when it looks numbers up, and a resend
    that changes the subject moves the one stored record instead of adding a second. Locks are taken in ascending
    order, so two chunks of mixed files cannot deadlock on them. SQLite has one writer and keeps its unique key.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    for key in sorted({natural_key_lock(resource_id, unit_id) for unit_id in units}):
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _apply_wave(
    *,
    session: Session,
    resource_id: int,
    units: Sequence[int],
    regions: dict[int, str | None],
    batch_id: str,
    origin: str,
    items: Sequence[Incoming],
    hashes: Sequence[str],
    positions: Sequence[int],
    now: dt.datetime,
    outcome: UpsertOutcome,
) -> None:
    assert outcome.results is not None
    # (unit, number) → (record id, its subject, content hash, version). Not keyed by subject: a resend may name
    # another subject than the stored record (then the record moves, on PostgreSQL to another partition).
    stored: dict[tuple[int, str], tuple[int, int, str, int]] = {}
    for unit_id, doc_nos in _numbers_by_unit((units[p], items[p].row.doc_no) for p in positions):
        numbers = {"resource_id": resource_id, "unit_id": unit_id, "doc_nos": doc_nos}
        for doc_no, record_id, subject_id, stored_hash, version in session.execute(_STORED, numbers):
            stored[(unit_id, doc_no)] = (record_id, subject_id, stored_hash, version)

    inserts: list[dict[str, Any]] = []
    inserted_at: list[int] = []
    updates: list[dict[str, Any]] = []
    for position in positions:
        item, digest, unit_id = items[position], hashes[position], units[position]
        current = stored.get((unit_id, item.row.doc_no))
        if current is None:
            inserts.append(
                _state(item, digest)
                | {
                    "resource_id": resource_id,
                    "source_unit_id": unit_id,
                    "doc_no": item.row.doc_no,
                    "objection_open": False,
                    "region": regions[unit_id],
                    "version": 1,
                    "batch_id": batch_id,
                    "origin": origin,
                    "received_at": now,
                    "updated_at": now,
                }
            )
            inserted_at.append(position)
            outcome.results[position] = "inserted"
        elif current[2] == digest:
            outcome.results[position] = "duplicate"
        else:
            updates.append(
                {f"new_{k}": v for k, v in _state(item, digest).items()}
                | {
                    "b_id": current[0],
                    "b_subject_id": current[1],
                    "new_version": current[3] + 1,
                    "new_batch_id": batch_id,
                    "new_updated_at": now,
                }
            )
            outcome.results[position] = "versioned"

    if updates:
        # Keep the state being replaced, in one INSERT … SELECT.
        for start in range(0, len(updates), _IN_CHUNK):
            part = updates[start : start + _IN_CHUNK]
            columns = [_record.c[name] for name in _VERSIONED]
            source = sa.select(
                _record.c.id,
                *columns,
                sa.literal(now, type_=_version.c.replaced_at.type),
                sa.literal(batch_id, type_=_version.c.replaced_by.type),
                sa.literal("resend", type_=_version.c.reason.type),
            ).where(
                _record.c.id.in_([u["b_id"] for u in part]),
                # Keyed by the partition key too: only the partitions of these subjects are read.
                _record.c.subject_id.in_(sorted({u["b_subject_id"] for u in part})),
            )
            session.execute(
                sa.insert(_version).from_select(
                    ["record_id", *_VERSIONED, "replaced_at", "replaced_by", "reason"], source
                )
            )
        statement = (
            sa.update(_record)
            # The stored subject prunes the update to the record's partition; a changed subject moves the row.
            .where(_record.c.id == sa.bindparam("b_id"), _record.c.subject_id == sa.bindparam("b_subject_id"))
            .values(
                {name: sa.bindparam(f"new_{name}") for name in (*_STATE_COLUMNS, "version", "batch_id", "updated_at")}
            )
        )
        session.execute(statement, updates)
    lost: list[int] = []
    if inserts:
        written = _insert_new(session, inserts, resource_id=resource_id, batch_id=batch_id, now=now)
        # A concurrent writer stored some of these numbers first: compare against its state instead.
        lost = [
            p
            for p, row in zip(inserted_at, inserts, strict=True)
            if (row["source_unit_id"], row["doc_no"]) not in written
        ]
        for p in lost:
            outcome.results[p] = ""
    outcome.inserted += len(inserts) - len(lost)
    outcome.versioned += len(updates)
    outcome.duplicates += len(positions) - len(inserts) - len(updates)
    if lost:
        _apply_wave(
            session=session,
            resource_id=resource_id,
            units=units,
            regions=regions,
            batch_id=batch_id,
            origin=origin,
            items=items,
            hashes=hashes,
            positions=lost,
            now=now,
            outcome=outcome,
        )


def _insert_new(
    session: Session, inserts: list[dict[str, Any]], *, resource_id: int, batch_id: str, now: dt.datetime
) -> set[tuple[int, str]]:
    """Insert new records, skipping keys a concurrent writer stored first; returns the (unit, number) keys written.

    SQLite: one ``INSERT … ON CONFLICT DO NOTHING RETURNING``. PostgreSQL: the same insert without RETURNING, which
    psycopg sends as one short prepared statement per row in pipeline mode, then one indexed SELECT of the keys this
    insert stamped (this batch, this chunk's time, version 1). With RETURNING, SQLAlchemy would send a single
    statement of ~20,000 placeholders per 1,000 rows, which psycopg re-parses every time (no cache for such
    statements): that parse alone cost ~70 µs a row.
    """
    if session.get_bind().dialect.name != "postgresql":
        returning = insert_ignoring_conflicts(session, _record, "source_unit_id", "doc_no")
        return {(unit_id, doc_no) for unit_id, doc_no in session.execute(returning, inserts)}
    session.execute(insert_ignoring_conflicts(session, _record), inserts)
    written: set[tuple[int, str]] = set()
    for unit_id, doc_nos in _numbers_by_unit((row["source_unit_id"], row["doc_no"]) for row in inserts):
        numbers = {"resource_id": resource_id, "unit_id": unit_id, "doc_nos": doc_nos, "batch_id": batch_id, "now": now}
        written.update((unit_id, doc_no) for doc_no in session.scalars(_STAMPED, numbers))
    return written


# The chunk's statements, built once (see ``subjects.service._ignoring_conflicts`` for why).
# (resource, unit, some document numbers) → what is stored under them.
_STORED = sa.select(
    _record.c.doc_no, _record.c.id, _record.c.subject_id, _record.c.content_hash, _record.c.version
).where(
    _record.c.resource_id == sa.bindparam("resource_id"),
    _record.c.source_unit_id == sa.bindparam("unit_id"),
    _record.c.doc_no.in_(sa.bindparam("doc_nos", expanding=True)),
)
# Which of those numbers this insert wrote (PostgreSQL: stamped with this batch and chunk time, first version).
_STAMPED = _STORED.with_only_columns(_record.c.doc_no).where(
    _record.c.batch_id == sa.bindparam("batch_id"),
    _record.c.received_at == sa.bindparam("now"),
    _record.c.version == 1,
)


def _numbers_by_unit(keys: Iterable[tuple[int, str]]) -> Iterator[tuple[int, list[str]]]:
    """(unit, its document numbers) in slices of at most ``_IN_CHUNK`` numbers.

    One lookup per unit on purpose: ``unit IN (…) AND doc_no IN (…)`` makes both engines probe the unique index for
    every combination (80 units × 2,000 numbers = 160,000 probes for a chunk of a mixed file).
    """
    by_unit: dict[int, list[str]] = {}
    for unit_id, doc_no in keys:
        by_unit.setdefault(unit_id, []).append(doc_no)
    for unit_id, doc_nos in by_unit.items():
        for start in range(0, len(doc_nos), _IN_CHUNK):
            yield unit_id, doc_nos[start : start + _IN_CHUNK]


_STATE_COLUMNS = (
    "subject_id",
    "decision_date",
    "valid_from",
    "valid_to",
    "publish_until",
    "severity",
    "status",
    "subject_name",
    "subject_kind",
    "payload",
    "pii_cipher",
    "content_hash",
)


def _state(item: Incoming, digest: str) -> dict[str, Any]:
    row = item.row
    return {
        "subject_id": item.subject_id,
        "decision_date": row.decision_date,
        "valid_from": row.valid_from,
        "valid_to": row.valid_to,
        "publish_until": row.publish_until,
        "severity": row.severity,
        "status": row.status,
        "subject_name": row.subject.name,
        "subject_kind": row.subject.kind,
        "payload": row.payload,
        "pii_cipher": pii_cipher(row),
        "content_hash": digest,
    }


# --- changes to one record outside collection: objection outcomes, credit repair, upstream withdrawals -----------

# Top-level columns an objection may correct besides payload fields.
CORRECTABLE_COLUMNS = ("decision_date", "valid_from", "valid_to", "publish_until", "severity")


def record_changed(*, session: Session, record: Record, reason: str, actor: str) -> None:
    """Every change made outside collection ends here: the change event for the feed, in the same transaction."""
    if reason == "repair":
        kind, payload = "record.repaired", None
    elif record.status != RecordStatus.ACTIVE:
        kind, payload = "record.status", {"status": record.status}
    else:
        kind, payload = "record.versioned", {"reason": reason}
    events.emit(
        session=session, kind=kind, entity="record", entity_id=record.id, subject_id=record.subject_id, payload=payload
    )


def _keep_version(session: Session, record: Record, *, reason: str, by: str, now: dt.datetime) -> None:
    """Archive the current state as a version; the record moves to the next version number."""
    session.add(
        RecordVersion(
            record_id=record.id,
            **{name: getattr(record, name) for name in _VERSIONED},
            replaced_at=now,
            replaced_by=by[:64],
            reason=reason,
        )
    )
    record.version += 1
    record.updated_at = now


def _state_hash(record: Record) -> str:
    """The content hash of a record changed outside collection (its version is part of it)."""
    return _digest(
        {
            "payload": record.payload,
            "decision_date": record.decision_date,
            "valid_from": record.valid_from,
            "valid_to": record.valid_to,
            "publish_until": record.publish_until,
            "severity": record.severity,
            "status": record.status,
            "version": record.version,
        }
    )


def correct_record(
    *, session: Session, record: Record, changes: dict[str, Any], by: str, reason: str = "objection"
) -> Record:
    """A new version of ``record`` with ``changes`` (payload field codes or CORRECTABLE_COLUMNS); the state before is
    kept in ``record_version`` with ``reason``. Values must already be normalised by the caller."""
    now = clock.now()
    _keep_version(session, record, reason=reason, by=by, now=now)
    payload = dict(record.payload or {})
    for key, value in changes.items():
        if key in CORRECTABLE_COLUMNS:
            setattr(record, key, value)
        else:
            payload[key] = value
    record.payload = payload
    record.content_hash = _state_hash(record)
    session.flush()
    record_changed(session=session, record=record, reason=reason, actor=by)
    return record


def change_status(*, session: Session, record: Record, status: str, by: str, reason: str) -> Record:
    """Revoke or delete a record (or make it active again): the row and every version stay in the archive."""
    if status not in {s.value for s in RecordStatus}:
        raise InvalidInput(f"未知记录状态：{status}")
    if record.status == status:
        return record
    _keep_version(session, record, reason=reason, by=by, now=clock.now())
    record.status = status
    record.content_hash = _state_hash(record)
    session.flush()
    record_changed(session=session, record=record, reason=reason, actor=by)
    return record


def delete_record(*, session: Session, record: Record, by: str, reason: str = "objection") -> Record:
    """Status ``deleted`` (an objection found the record wrong): hidden everywhere, kept in the archive."""
    return change_status(session=session, record=record, status=RecordStatus.DELETED.value, by=by, reason=reason)


def mark_repaired(*, session: Session, record: Record, by: str, at: dt.datetime | None = None) -> Record:
    """Credit repair approved: ``repaired_at`` set, so publication, measures and score deductions stop at once."""
    now = clock.now()
    _keep_version(session, record, reason="repair", by=by, now=now)
    record.repaired_at = at or now
    session.flush()
    record_changed(session=session, record=record, reason="repair", actor=by)
    return record
