"""Appending to the audit log. Every write, and every read of non-public data, goes through ``record``.

Each entry carries the SHA-256 of its own content and of the previous entry's hash, so editing, deleting or
reordering entries breaks the chain where it happened (``verify``). The chain head (one row) is locked by every writer:
on PostgreSQL with SELECT … FOR UPDATE, so concurrent transactions append one after the other and never fork the chain;
SQLite has a single writer anyway.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from xinyong.audit.models import AuditChainHead, AuditEvent
from xinyong.core import clock

GENESIS = "0" * 64


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


def entry_hash(event: AuditEvent, prev_hash: str) -> str:
    """The hash of an entry: its content in a canonical form, then the previous entry's hash."""
    content = [
        _canonical_time(event.at), event.actor, event.actor_role, event.action, event.target_type, event.target_id,
        event.subject_id, event.purpose, event.detail or {}, prev_hash,
    ]  # fmt: skip
    body = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def _lock_head(session: Session) -> AuditChainHead:
    head = session.scalar(sa.select(AuditChainHead).where(AuditChainHead.id == 1).with_for_update())
    if head is None:  # a database created before the chain's row was seeded
        head = AuditChainHead(id=1, last_id=0, last_hash=GENESIS)
        session.add(head)
        session.flush()
    return head


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
) -> AuditEvent:
    head = _lock_head(session)
    event = AuditEvent(
        at=clock.now(),
        actor=actor.name,
        actor_role=actor.role,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        subject_id=subject_id,
        purpose=purpose,
        # What the JSON column will give back (tuples become lists, dates strings), so the hash can be recomputed.
        detail=json.loads(json.dumps(detail or {}, ensure_ascii=False, default=str)),
        prev_hash=head.last_hash,
    )
    event.hash = entry_hash(event, head.last_hash)
    session.add(event)
    session.flush()
    head.last_id = event.id
    head.last_hash = event.hash
    session.flush()
    return event


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
    """Walk the chain in id order; name every entry whose content, link or position does not hold."""
    report = ChainReport()
    previous: str | None = None
    previous_id = 0
    for event in _entries(session):
        if event.hash is None and previous is None:
            report.unchained += 1
            previous_id = event.id
            continue
        report.checked += 1
        expected_prev = GENESIS if previous is None else previous
        if event.hash is None:
            report.problems.append(f"审计记录 {event.id}：缺少散列（链中出现未链入的记录，疑似被插入或改写）")
        elif event.prev_hash != expected_prev:
            report.problems.append(
                f"审计记录 {event.id}：与上一条（{previous_id}）不衔接——其间的记录被删除、插入或调换了顺序"
            )
        elif entry_hash(event, event.prev_hash) != event.hash:
            report.problems.append(f"审计记录 {event.id}：内容与散列不符——该记录被修改")
        previous, previous_id = event.hash, event.id
    head = session.get(AuditChainHead, 1)
    if head is not None and head.last_id and (head.last_id != previous_id or head.last_hash != previous):
        report.problems.append(
            f"审计链头指向记录 {head.last_id}，而最后一条是 {previous_id}——链尾的记录被删除或链头被改动"
        )
    return report
