"""The step log of objections and repair applications: one ``rights_event`` row and one audit event per step."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from xinyong.audit import service as audit
from xinyong.audit.service import Actor
from xinyong.core import clock
from xinyong.rights.models import RightsEvent


def log_step(
    *,
    session: Session,
    actor: Actor,
    item_type: str,
    item_id: int,
    step: str,
    subject_id: int,
    note: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    session.add(
        RightsEvent(
            item_type=item_type,
            item_id=item_id,
            step=step,
            at=clock.now(),
            actor=actor.name[:64],
            actor_role=actor.role,
            note=note,
        )
    )
    audit.record(
        session=session,
        actor=actor,
        action=f"{item_type}.{step}",
        target_type=item_type,
        target_id=item_id,
        subject_id=subject_id,
        detail=(detail or {}) | ({"note": note} if note else {}),
    )


def history(*, session: Session, item_type: str, item_id: int) -> list[RightsEvent]:
    return list(
        session.scalars(
            sa.select(RightsEvent)
            .where(RightsEvent.item_type == item_type, RightsEvent.item_id == item_id)
            .order_by(RightsEvent.id)
        )
    )


def new_no(prefix: str) -> str:
    """A readable number: prefix, date, random suffix (YY20260615A1B2C3)."""
    import secrets

    return f"{prefix}{clock.today():%Y%m%d}{secrets.token_hex(3).upper()}"
