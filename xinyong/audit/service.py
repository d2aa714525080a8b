"""Appending to the audit log. Every write, and every read of non-public data, goes through ``record``.

Each entry carries the SHA-256 of its own content and of the previous entry's hash on its chain, so editing,
deleting or reordering entries breaks the chain where it happened (``verify``). There are ``STRIPES`` chains side by
side (migration 0014), each with a head row. A writer locks the first head no other transaction holds (SELECT … FOR
UPDATE SKIP LOCKED) and keeps it for the rest of its transaction: appends to one chain never fork it, and writers
that coincide take different chains and commit together instead of queueing on each other's commit flush (with one
chain, a check waited for every audit writer ahead of it to reach the disk). SQLite has a single writer anyway and
ignores FOR UPDATE, so there every entry goes to chain 1. The database moves the head when the entry is inserted
(trigger of migration 0015). On PostgreSQL the head is locked and read, and the entry hashed onto it and inserted,
in one statement (``_append_statement``): an audited write costs one round trip, not two, and an audited row with
its entry (``insert_audited``) one, not three.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, TypedDict, Unpack, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from xinyong.audit.models import AuditChainHead, AuditEvent
from xinyong.core import clock

GENESIS = "0" * 64
STRIPES = 8  # how many chains migration 0014 seeds; more than the writers a deployment runs at once
_HELD = "xinyong.audit.head"  # session.info key: the head this session's transaction holds


@dataclass(frozen=True)
class Actor:
    """Who is acting: an account, an API key or the command line."""

    name: str
    role: str | None = None
    account_id: int | None = None
    unit_id: int | None = None
    subject_id: int | None = None
    region: str | None = None

    @classmethod
    def cli(cls) -> Actor:
        return cls(name="cli", role="admin")


def _canonical_time(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


_HASHED = (
    "at",
    "actor",
    "actor_role",
    "action",
    "target_type",
    "target_id",
    "subject_id",
    "purpose",
    "detail",
    "chain",
)
_CONTENT = _HASHED[:-1]  # hashed before the previous entry's hash; the chain comes after it


def _canonical(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def _hashed_head(event: AuditEvent | Mapping[str, Any]) -> str:
    """The canonical form of an entry's content up to the previous entry's hash: the JSON array of its fields, open
    after their last comma. The previous hash and the chain follow (``_hashed_tail``), and the whole is hashed."""
    at, actor, role, action, target_type, target_id, subject_id, purpose, detail = (
        (event[name] for name in _CONTENT) if isinstance(event, Mapping) else (getattr(event, n) for n in _CONTENT)
    )
    content = [_canonical_time(at), actor, role, action, target_type, target_id, subject_id, purpose, detail or {}]
    return _canonical(content)[:-1] + ","


def _hashed_tail(prev_hash: str, chain: int | None) -> str:
    # entries from before migration 0014 were hashed without their chain; _append_statement builds this in SQL
    return _canonical(prev_hash) + ("" if chain is None else f",{_canonical(chain)}") + "]"


def entry_hash(event: AuditEvent | Mapping[str, Any], prev_hash: str) -> str:
    """The hash of an entry (a stored one, or the values of one about to be inserted): its content in a canonical
    form, then the previous entry's hash and its chain."""
    chain = event["chain"] if isinstance(event, Mapping) else event.chain
    return hashlib.sha256((_hashed_head(event) + _hashed_tail(prev_hash, chain)).encode()).hexdigest()


_HEADS = cast(sa.Table, AuditChainHead.__table__)
_EVENTS = cast(sa.Table, AuditEvent.__table__)
_FIRST_HEAD = sa.select(_HEADS.c.id, _HEADS.c.last_hash).order_by(_HEADS.c.id).limit(1)


def _sqlite_head(connection: sa.Connection) -> tuple[int, str]:
    """(chain, last hash) of the first chain's head: on SQLite the writer holds the database's one write lock, so
    there is no other writer to spread over chains."""
    head = connection.execute(_FIRST_HEAD).first()
    if head is None:  # a database created before the chains' rows were seeded
        connection.execute(_HEADS.insert(), {"id": 1, "last_id": 0, "last_hash": GENESIS})
        return 1, GENESIS
    return int(head[0]), str(head[1])


class AuditAbout(TypedDict, total=False):
    """What an audit entry says besides who acted and what they did (the keyword arguments of ``record``)."""

    target_type: str | None
    target_id: str | int | None
    subject_id: int | None
    purpose: str | None
    detail: dict[str, Any] | None


def _entry_values(actor: Actor, action: str, about: AuditAbout) -> dict[str, Any]:
    target_id, detail = about.get("target_id"), about.get("detail")
    return {
        "at": clock.now(),
        "actor": actor.name,
        "actor_role": actor.role,
        "action": action,
        "target_type": about.get("target_type"),
        "target_id": None if target_id is None else str(target_id),
        "subject_id": about.get("subject_id"),
        "purpose": about.get("purpose"),
        # What the JSON column will give back (tuples become lists, dates strings), so the hash can be recomputed.
        "detail": json.loads(json.dumps(detail or {}, ensure_ascii=False, default=str)),
    }


@lru_cache(maxsize=64)
def _append_statement(
    entry: tuple[str, ...], row: tuple[sa.Table, tuple[str, ...]] | None, *, free: bool
) -> sa.Select[Any]:
    """One PostgreSQL statement that locks a chain's head, inserts a row of ``row``'s table (if any) and the entry
    hashed onto the head, and returns (entry id, chain, row id). ``entry`` and ``row`` name the columns given, bound
    as ``e_<column>`` and ``r_<column>``. ``free``: the first head no other transaction holds, skipping those held;
    else the head bound as ``chain``, waiting for it if need be. It returns nothing, and inserts nothing, when no
    head was free. Built once per set of columns: building a statement of this size costs more CPU than running it.

    The hash is the one ``entry_hash`` computes: the app binds the canonical content (``_hashed_head``) and the
    database appends the tail (``_hashed_tail``: the head's hash, a hex string, and the chain, an integer) and hashes
    it with its own ``sha256``. Locking, hashing and inserting in the database is what saves the round trips; a
    statement is atomic on its own, so with ``row`` it is a complete audited write even outside a transaction.
    """
    head_query = sa.select(_HEADS.c.id, _HEADS.c.last_hash)
    if free:
        head_query = head_query.order_by(_HEADS.c.id).limit(1).with_for_update(skip_locked=True)
    else:
        head_query = head_query.where(_HEADS.c.id == sa.bindparam("chain", type_=sa.Integer)).with_for_update()
    head = head_query.cte("head")
    tail = sa.literal('"') + head.c.last_hash + sa.literal('",') + sa.cast(head.c.id, sa.Text) + sa.literal("]")
    content = sa.bindparam("hashed_head", type_=sa.Text) + tail
    hashed = sa.func.encode(sa.func.sha256(sa.func.convert_to(content, "UTF8")), "hex")
    values = [sa.bindparam(f"e_{name}", type_=_EVENTS.c[name].type) for name in entry]
    inserted = (
        _EVENTS.insert()
        .from_select([*entry, "prev_hash", "hash", "chain"], sa.select(*values, head.c.last_hash, hashed, head.c.id))
        .returning(_EVENTS.c.id, _EVENTS.c.chain)
        .cte("entry")
    )
    if row is None:
        return sa.select(inserted.c.id, inserted.c.chain, sa.null())
    table, columns = row
    row_values = [sa.bindparam(f"r_{name}", type_=table.c[name].type) for name in columns]
    row_inserted = (
        table.insert()
        .from_select(list(columns), sa.select(*row_values).select_from(head))
        .returning(table.c.id)
        .cte("audited_row")
    )
    return sa.select(inserted.c.id, inserted.c.chain, row_inserted.c.id).select_from(
        inserted.join(row_inserted, sa.true())
    )


def _append_postgresql(
    session: Session, entry: Mapping[str, Any], row: tuple[sa.Table, Mapping[str, Any]] | None
) -> tuple[int, int | None]:
    connection = session.connection()
    transaction = session.get_transaction()
    held = session.info.get(_HELD)
    # Stay on the chain this transaction already holds: taking a second head could deadlock with a writer that waits
    # for one. Locked again (at once, it is ours) because a rolled-back savepoint releases its locks.
    wanted: int | None = held[1] if held is not None and held[0] is transaction else None
    columns = (tuple(entry), None if row is None else (row[0], tuple(row[1])))
    params = {f"e_{name}": value for name, value in entry.items()} | {"hashed_head": _hashed_head(entry)}
    if row is not None:
        params |= {f"r_{name}": value for name, value in row[1].items()}
    appended = None
    if wanted is None:
        appended = connection.execute(_append_statement(*columns, free=True), params).first()
        if appended is None:  # every chain is held by another transaction: wait for one, at random so waiters spread
            wanted = random.randint(1, STRIPES)  # load spreading, not security
    if appended is None:
        appended = connection.execute(_append_statement(*columns, free=False), params | {"chain": wanted}).first()
    if appended is None:  # a database created before the chains' rows were seeded
        connection.execute(_HEADS.insert(), {"id": wanted, "last_id": 0, "last_hash": GENESIS})
        appended = connection.execute(_append_statement(*columns, free=False), params | {"chain": wanted}).one()
    session.info[_HELD] = (transaction, appended[1])
    return int(appended[0]), appended[2]


def _append(
    session: Session, entry: dict[str, Any], row: tuple[sa.Table, Mapping[str, Any]] | None
) -> tuple[int, int | None]:
    """Append ``entry`` (after inserting ``row``): (entry id, row id)."""
    session.flush()  # what the caller added to the session exists (with its id) before the entry is written
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        return _append_postgresql(session, entry, row)
    row_id = None
    if row is not None:
        table, values = row
        row_id = connection.execute(table.insert().returning(table.c.id), dict(values)).scalar_one()
    chain, last_hash = _sqlite_head(connection)
    entry |= {"prev_hash": last_hash, "chain": chain}
    entry["hash"] = entry_hash(entry, last_hash)
    # The INSERT moves the head in the database (trigger of migration 0015).
    return int(connection.execute(_EVENTS.insert().returning(_EVENTS.c.id), entry).scalar_one()), row_id


def record(*, session: Session, actor: Actor, action: str, **about: Unpack[AuditAbout]) -> int:
    """Append an entry to the audit log, in ``session``'s transaction; returns the entry's id.

    The head and the entry are read and written with SQLAlchemy Core: the ORM's flush of a check's row and its entry,
    rows nothing reads back, was a quarter of the check's CPU in its endpoint (docs/benchmarks.md, "Soak", session
    11). What the caller added to the session is flushed first, as before, so its rows (and ids) exist when the entry
    is written.
    """
    return _append(session, _entry_values(actor, action, about), None)[0]


def insert_audited(
    *,
    session: Session,
    table: sa.Table,
    values: Mapping[str, Any],
    actor: Actor,
    action: str,
    **about: Unpack[AuditAbout],
) -> int:
    """Insert one row of ``table`` (which has an ``id``) and its audit entry; returns the row's id.

    On PostgreSQL both go in one statement, atomic on its own: a check is stored with it from a session that reads
    outside a transaction (``xinyong/core/deps.py: read_first``), with no BEGIN and no COMMIT to wait for. Elsewhere
    the row and then the entry are inserted in ``session``'s transaction.
    """
    row_id = _append(session, _entry_values(actor, action, about), (table, values))[1]
    assert row_id is not None  # both paths insert the row or raise
    return int(row_id)


@dataclass
class ChainReport:
    checked: int = 0
    unchained: int = 0  # entries written before the chain existed (migration 0009)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _entries(session: Session, chunk: int = 5000) -> Iterator[AuditEvent]:
    last = 0
    while True:
        rows = session.scalars(
            sa.select(AuditEvent).where(AuditEvent.id > last).order_by(AuditEvent.id).limit(chunk)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].id
        session.expunge_all()


def verify(*, session: Session) -> ChainReport:
    """Walk the entries in id order, each against the previous entry of its chain; then check every chain's head."""
    report = ChainReport()
    last: dict[int, tuple[int, str]] = {}  # chain -> (id, hash) of its latest entry so far
    for event in _entries(session):
        if event.hash is None and not last:
            report.unchained += 1
            continue
        report.checked += 1
        chain = event.chain or 1
        previous_id, expected_prev = last.get(chain, (0, GENESIS))
        where = f"审计记录 {event.id}（链 {chain}）"
        if event.hash is None:
            report.problems.append(f"{where}：缺少散列（链中出现未链入的记录，疑似被插入或改写）")
        elif event.prev_hash != expected_prev:
            report.problems.append(
                f"{where}：与该链上一条（{previous_id or '链首'}）不衔接——其间的记录被删除、插入或调换了顺序"
            )
        elif entry_hash(event, event.prev_hash) != event.hash:
            report.problems.append(f"{where}：内容与散列不符——该记录被修改")
        last[chain] = (event.id, event.hash or "")
    heads = {head.id: head for head in session.scalars(sa.select(AuditChainHead))}
    for chain in sorted(set(last) - set(heads)):
        report.problems.append(f"链 {chain} 没有链头——链头被删除，或记录被改到了不存在的链上")
    for chain, head in sorted(heads.items()):
        last_id, last_hash = last.get(chain, (0, GENESIS))
        if (head.last_id, head.last_hash) != (last_id, last_hash):
            report.problems.append(
                f"链 {chain} 的链头指向记录 {head.last_id}，而该链最后一条是 {last_id or '（无）'}"
                "——链尾的记录被删除或链头被改动"
            )
    return report
