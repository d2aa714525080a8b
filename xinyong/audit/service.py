"""Appending to the audit log. Every write, and every read of non-public data, goes through ``record``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from xinyong.audit.models import AuditEvent
from xinyong.core import clock


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
    event = AuditEvent(
        at=clock.now(),
        actor=actor.name,
        actor_role=actor.role,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        subject_id=subject_id,
        purpose=purpose,
        detail=detail or {},
    )
    session.add(event)
    session.flush()
    return event
