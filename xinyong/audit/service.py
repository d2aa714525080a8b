"""Appending to the audit log. Every write, and every read of non-public data, goes through ``record``.

Each entry carries the SHA-256 of its own content and of the previous entry's hash on its chain, so editing,
deleting or reordering entries breaks the chain where it happened (``verify``). There are ``STRIPES`` chains side by
side (migration 0014), each with a head row. A writer locks the first head no other transaction holds (SELECT … FOR
UPDATE SKIP LOCKED) and keeps it for the rest of its transaction: appends to one chain never fork it, and writers
that coincide take different chains and commit together instead of queueing on each other's commit flush (with one
chain, a check waited for every audit writer ahead of it to reach the disk). SQLite has a single writer anyway and
ignores FOR UPDATE, so there every entry goes to chain 1. The database moves the head when the entry is inserted
(trigger of migration 0015): the app reads the head and inserts, one round trip less than updating it itself.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

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


def entry_hash(event: AuditEvent | Mapping[str, Any], prev_hash: str) -> str:
    """The hash of an entry (a stored one, or the values of one about to be inserted): its content in a canonical
    form, then the previous entry's hash."""
    at, actor, role, action, target_type, target_id, subject_id, purpose, detail, chain = (
        (event[name] for name in _HASHED) if isinstance(event, Mapping) else (getattr(event, n) for n in _HASHED)
    )
    content = [
        _canonical_time(at), actor, role, action, target_type, target_id, subject_id, purpose, detail or {}, prev_hash
    ]  # fmt: skip
    if chain is not None:  # entries from before migration 0014 were hashed without it
        content.append(chain)
    body = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(body.encode()).hexdigest()


_HEADS = cast(sa.Table, AuditChainHead.__table__)
_EVENTS = cast(sa.Table, AuditEvent.__table__)
_FREE_HEAD = sa.select(_HEADS.c.id, _HEADS.c.last_hash).order_by(_HEADS.c.id).limit(1).with_for_update(skip_locked=True)
_HEAD = sa.select(_HEADS.c.id, _HEADS.c.last_hash).where(_HEADS.c.id == sa.bindparam("id")).with_for_update()


def _lock_head(session: Session) -> tuple[int, str]:
    """(chain, last hash) of the head this transaction holds, locked."""
    connection = session.connection()  # begins the transaction if nothing has yet, so it is the one remembered below
    transaction = session.get_transaction()
    held = session.info.get(_HELD)
    if held is not None and held[0] is transaction:
        # Stay on the chain this transaction already holds: taking a second head could deadlock with a writer that
        # waits for one. Locked again (at once, it is ours) because a rolled-back savepoint releases its locks, and
        # re-read because it reverts the head.
        wanted: int | None = held[1]
        head: Any = None
    else:
        wanted = None
        head = connection.execute(_FREE_HEAD).first()
        if head is None:  # every chain is held by another transaction: wait for one, at random so waiters spread
            wanted = random.randint(1, STRIPES)  # load spreading, not security
    if wanted is not None:
        head = connection.execute(_HEAD, {"id": wanted}).first()
    if head is None:  # a database created before the chains' rows were seeded
        connection.execute(_HEADS.insert(), {"id": 1, "last_id": 0, "last_hash": GENESIS})
        head = (1, GENESIS)
    session.info[_HELD] = (transaction, head[0])
    return int(head[0]), str(head[1])


def record(
    *,
    session: Session,
    actor: Actor,
    action: str,
    target_type: str | None = None,
    target_id: str | int | None = None,
    subject_id: int | None = None,
    purpose: str | None = None,
    detail: dict[str, Any] | None = None,
) -> int:
    """Append an entry to the audit log, in ``session``'s transaction; returns the entry's id.

    The head and the entry are read and written with SQLAlchemy Core: the ORM's flush of a check's row and its entry,
    rows nothing reads back, was a quarter of the check's CPU in its endpoint (docs/benchmarks.md, "Soak", session
    11). What the caller added to the session is flushed first, as before, so its rows (and ids) exist when the entry
    is written.
    """
    session.flush()
    chain, last_hash = _lock_head(session)
    entry: dict[str, Any] = {
        "at": clock.now(),
        "actor": actor.name,
        "actor_role": actor.role,
        "action": action,
        "target_type": target_type,
        "target_id": None if target_id is None else str(target_id),
        "subject_id": subject_id,
        "purpose": purpose,
        # What the JSON column will give back (tuples become lists, dates strings), so the hash can be recomputed.
        "detail": json.loads(json.dumps(detail or {}, ensure_ascii=False, default=str)),
        "prev_hash": last_hash,
        "chain": chain,
    }
    entry["hash"] = entry_hash(entry, last_hash)
    # The INSERT moves the head in the database (trigger of migration 0015, one round trip less per audited write).
    return int(session.connection().execute(_EVENTS.insert().returning(_EVENTS.c.id), entry).scalar_one())


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
