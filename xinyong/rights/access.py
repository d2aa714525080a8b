"""Who may act on what: a subject on its own records, a source unit on its own records, the credit office on all."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from xinyong.accounts.models import Role
from xinyong.audit.service import Actor
from xinyong.core.errors import Forbidden
from xinyong.subjects.models import Subject

OFFICE_ROLES = (Role.CREDIT_OFFICE.value, Role.ADMIN.value)


def is_office(actor: Actor) -> bool:
    return actor.role in OFFICE_ROLES


def require_office(actor: Actor, what: str) -> None:
    if not is_office(actor):
        raise Forbidden(f"当前角色（{actor.role}）无权{what}：限信用办工作人员")


def require_desk(actor: Actor) -> None:
    """The handling pages (/office/...) are for the credit office and source units; a subject follows its own
    applications under /me/rights."""
    if not is_office(actor) and actor.role != Role.SOURCE_UNIT.value:
        raise Forbidden(f"当前角色（{actor.role}）无权办理异议与信用修复：限信用办和信息提供单位")


def require_subject(actor: Actor, subject_id: int, what: str) -> None:
    """The actor is the subject itself (a verified subject account bound to ``subject_id``)."""
    if actor.role != Role.SUBJECT.value or actor.subject_id is None:
        raise Forbidden(f"只有经身份核验的信用主体账号可以{what}")
    if actor.subject_id != subject_id:
        raise Forbidden(f"只能对本主体的信息{what}")


def require_unit(actor: Actor, unit_id: int | None, what: str) -> None:
    """The actor is the source unit that owns the record (the credit office may act for any unit)."""
    if is_office(actor):
        return
    if actor.role != Role.SOURCE_UNIT.value or actor.unit_id is None:
        raise Forbidden(f"当前角色（{actor.role}）无权{what}")
    if actor.unit_id != unit_id:
        raise Forbidden(f"只能{what}本单位报送的信息")


def in_region(session: Session, actor: Actor, subject_id: int) -> bool:
    """A district credit office (account region set) handles only subjects of its district; city staff handle all."""
    if not actor.region:
        return True
    region = session.scalar(sa.select(Subject.region).where(Subject.id == subject_id))
    return region == actor.region


def office_region_filter(
    actor: Actor, subject_column: sa.orm.InstrumentedAttribute[int]
) -> sa.ColumnElement[bool] | None:
    """The WHERE clause restricting a district office's listings to its district (None for city staff)."""
    if not is_office(actor) or not actor.region:
        return None
    return subject_column.in_(sa.select(Subject.id).where(Subject.region == actor.region))


def may_read(session: Session, actor: Actor, *, subject_id: int, unit_id: int | None) -> bool:
    if is_office(actor):
        return in_region(session, actor, subject_id)
    if actor.role == Role.SUBJECT.value:
        return actor.subject_id == subject_id
    if actor.role == Role.SOURCE_UNIT.value:
        return actor.unit_id is not None and actor.unit_id == unit_id
    return False
