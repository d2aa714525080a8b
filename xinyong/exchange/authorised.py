"""授权查询: an agency (信用服务机构, bank) reads a subject's non-public information only under the subject's own
recorded authorisation — scope (resources), purpose, period, revocable — and every such read is logged (audit action
``exchange.authorised_read`` with the purpose), which the subject can list.

What an authorised read shows: the records usable today as a 政务共享 department would see them (within their period,
not repaired, revoked or deleted), restricted to the authorisation's resources, identifiers unmasked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from xinyong.audit import service as audit
from xinyong.audit.models import AuditEvent
from xinyong.audit.service import Actor
from xinyong.catalog.models import Resource
from xinyong.core import clock
from xinyong.core.errors import Forbidden, InvalidInput, NotFound
from xinyong.disclosure import Viewer
from xinyong.exchange.models import Authorisation, Subscriber, SubscriberKind
from xinyong.subjects import profile as profiles
from xinyong.subjects.search import find_by_code

READ_ACTION = "exchange.authorised_read"
METHODS = ("online", "paper")
MAX_DAYS = 366 * 3


@dataclass(frozen=True)
class AuthorisedRead:
    authorisation: Authorisation
    profile: profiles.SubjectProfile


def _agency(session: Session, subscriber_id: int) -> Subscriber:
    agency = session.get(Subscriber, subscriber_id)
    if agency is None or not agency.active:
        raise NotFound(f"被授权机构 {subscriber_id} 不存在或已停用")
    if agency.kind != SubscriberKind.AGENCY:
        raise InvalidInput("只能授权信用服务机构或金融机构（订阅方类型 agency）")
    return agency


def grant(
    *,
    session: Session,
    actor: Actor,
    subject_id: int,
    subscriber_id: int,
    purpose: str,
    valid_to: dt.date,
    valid_from: dt.date | None = None,
    scope: list[str] | None = None,
    method: str = "online",
    evidence: str | None = None,
) -> Authorisation:
    """Record an authorisation. ``method`` ``online``: the subject itself (role subject, its own subject);
    ``paper``: the credit office records a signed paper authorisation (``evidence``: its number)."""
    if method not in METHODS:
        raise InvalidInput("授权方式应为 online 或 paper")
    if method == "online" and (actor.role != "subject" or actor.subject_id != subject_id):
        raise Forbidden("在线授权只能由信用主体本人作出")
    if method == "paper":
        if actor.role not in ("credit_office", "admin"):
            raise Forbidden("书面授权由信用办录入")
        if not evidence:
            raise InvalidInput("录入书面授权须填写授权书编号（evidence）")
    purpose = purpose.strip()
    if not purpose:
        raise InvalidInput("须写明查询用途（purpose）")
    start = valid_from or clock.today()
    if valid_to < start:
        raise InvalidInput("授权截止日不能早于起始日")
    if (valid_to - start).days > MAX_DAYS:
        raise InvalidInput("授权期限最长 3 年")
    scope = sorted(set(scope or []))
    if scope:
        known = set(session.scalars(sa.select(Resource.code).where(Resource.code.in_(scope))))
        if unknown := [c for c in scope if c not in known]:
            raise InvalidInput(f"授权范围中的信息资源不存在：{'、'.join(unknown)}")
    agency = _agency(session, subscriber_id)
    row = Authorisation(
        subject_id=subject_id,
        subscriber_id=agency.id,
        scope=scope,
        purpose=purpose[:200],
        valid_from=start,
        valid_to=valid_to,
        method=method,
        evidence=evidence,
        granted_by=actor.name[:64],
        created_at=clock.now(),
    )
    session.add(row)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="exchange.authorise",
        target_type="authorisation",
        target_id=row.id,
        subject_id=subject_id,
        purpose=purpose[:200],
        detail={"agency": agency.name, "scope": scope, "valid_to": valid_to.isoformat(), "method": method},
    )
    return row


def revoke(*, session: Session, actor: Actor, authorisation_id: int) -> Authorisation:
    row = session.get(Authorisation, authorisation_id)
    if row is None:
        raise NotFound(f"授权 {authorisation_id} 不存在")
    own = actor.role == "subject" and actor.subject_id == row.subject_id
    if not own and actor.role not in ("credit_office", "admin"):
        raise Forbidden("只有信用主体本人或信用办可以撤销授权")
    if row.revoked_at is None:
        row.revoked_at, row.revoked_by = clock.now(), actor.name[:64]
        session.flush()
        audit.record(
            session=session,
            actor=actor,
            action="exchange.authorise_revoke",
            target_type="authorisation",
            target_id=row.id,
            subject_id=row.subject_id,
        )
    return row


def authorisations(*, session: Session, subject_id: int) -> list[Authorisation]:
    return list(
        session.scalars(
            sa.select(Authorisation).where(Authorisation.subject_id == subject_id).order_by(Authorisation.id.desc())
        )
    )


def _in_force(session: Session, subject_id: int, agency_id: int, purpose: str, today: dt.date) -> Authorisation:
    rows = session.scalars(
        sa.select(Authorisation)
        .where(
            Authorisation.subject_id == subject_id,
            Authorisation.subscriber_id == agency_id,
            Authorisation.revoked_at.is_(None),
            Authorisation.valid_from <= today,
            Authorisation.valid_to >= today,
        )
        .order_by(Authorisation.id.desc())
    ).all()
    for row in rows:
        if row.purpose == purpose.strip():
            return row
    if rows:
        raise Forbidden(f"查询用途“{purpose}”不在该主体授权的用途内")
    raise Forbidden("该信用主体未授权本机构查询，或授权已过期、已撤销")


def authorised_read(*, session: Session, agency: Subscriber, code: str, purpose: str) -> AuthorisedRead:
    """The subject's usable records within the authorisation's scope; the read is audited with the purpose."""
    if agency.kind != SubscriberKind.AGENCY:
        raise Forbidden("授权查询仅限信用服务机构或金融机构")
    if not purpose.strip():
        raise InvalidInput("须写明查询用途（purpose）")
    subject = find_by_code(session=session, code=code)
    if subject is None:
        raise NotFound(f"未找到代码为 {code.strip()} 的信用主体")
    authorisation = _in_force(session, subject.id, agency.id, purpose, clock.today())
    found = profiles.profile(session=session, code=code, viewer=Viewer.shared())
    scope = set(authorisation.scope or [])
    if scope:
        for section in found.sections:
            section.entries[:] = [e for e in section.entries if e.resource.code in scope]
    audit.record(
        session=session,
        actor=Actor(name=f"sub:{agency.key_prefix}", role="subscriber"),
        action=READ_ACTION,
        target_type="authorisation",
        target_id=authorisation.id,
        subject_id=subject.id,
        purpose=authorisation.purpose,
        detail={
            "agency": agency.name,
            "agency_uscc": agency.uscc,
            "records": [e.record.id for s in found.sections for e in s.entries],
            "scope": sorted(scope),
        },
    )
    return AuthorisedRead(authorisation, found)


def reads_of(*, session: Session, subject_id: int, limit: int = 200) -> list[dict[str, Any]]:
    """Who read what of this subject under an authorisation, newest first (for the subject's own view)."""
    events = session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.subject_id == subject_id, AuditEvent.action == READ_ACTION)
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    )
    return [
        {
            "at": e.at.isoformat(),
            "agency": e.detail.get("agency"),
            "agency_uscc": e.detail.get("agency_uscc"),
            "purpose": e.purpose,
            "authorisation_id": int(e.target_id) if e.target_id else None,
            "records": len(e.detail.get("records", [])),
        }
        for e in events
    ]


def authorisation_view(row: Authorisation, agency_name: str | None = None) -> dict[str, Any]:
    today = clock.today()
    state = (
        "revoked"
        if row.revoked_at is not None
        else "expired"
        if row.valid_to < today
        else "scheduled"
        if row.valid_from > today
        else "active"
    )
    return {
        "id": row.id,
        "agency_id": row.subscriber_id,
        "agency": agency_name,
        "scope": row.scope,
        "purpose": row.purpose,
        "valid_from": row.valid_from.isoformat(),
        "valid_to": row.valid_to.isoformat(),
        "method": row.method,
        "evidence": row.evidence,
        "state": state,
        "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
    }
