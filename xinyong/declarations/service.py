"""自主申报: a subject declares qualifications, honours, contract performance or public-welfare activity; shown
labelled 自主申报（未核实） until a department verifies it (then 自主申报（已核实）); a declaration found untrue is
kept but no longer shown."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from xinyong.audit import service as audit
from xinyong.audit.service import Actor
from xinyong.catalog.models import SourceUnit
from xinyong.core import clock
from xinyong.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from xinyong.declarations.models import CATEGORY_LABELS, DeclarationCategory, DeclarationStatus, SelfDeclaration
from xinyong.disclosure import Viewer, ViewerKind
from xinyong.rights.access import is_office, require_subject
from xinyong.subjects.models import Subject, SubjectKind

UNVERIFIED_LABEL = "自主申报（未核实）"
VERIFIED_LABEL = "自主申报（已核实）"


def declare(
    *,
    session: Session,
    actor: Actor,
    subject_id: int,
    category: str,
    title: str,
    content: str,
    issuer: str | None = None,
    occurred_on: dt.date | None = None,
    valid_to: dt.date | None = None,
) -> SelfDeclaration:
    require_subject(actor, subject_id, "自主申报")
    if category not in DeclarationCategory._value2member_map_:
        raise InvalidInput(f"category：应为 {'、'.join(c.value for c in DeclarationCategory)}")
    title, content = (title or "").strip(), (content or "").strip()
    if not title or len(title) > 200:
        raise InvalidInput("名称：必填，最长 200 字")
    if not content or len(content) > 4000:
        raise InvalidInput("说明：必填，最长 4000 字")
    if occurred_on and occurred_on > clock.today():
        raise InvalidInput("取得/发生日期：不能晚于今天")
    if valid_to and occurred_on and valid_to < occurred_on:
        raise InvalidInput("有效期至：不能早于取得日期")
    row = SelfDeclaration(
        subject_id=subject_id, category=category, title=title, issuer=(issuer or "").strip() or None,
        content=content, occurred_on=occurred_on, valid_to=valid_to, status=DeclarationStatus.DECLARED,
        declared_by=actor.name[:64], declared_at=clock.now(),
    )  # fmt: skip
    session.add(row)
    session.flush()
    audit.record(session=session, actor=actor, action="declaration.declare", target_type="self_declaration",
                 target_id=row.id, subject_id=subject_id, detail={"category": category})  # fmt: skip
    return row


def verify(*, session: Session, actor: Actor, declaration_id: int, confirmed: bool, note: str = "") -> SelfDeclaration:
    """A department (source unit) or the credit office confirms a declaration, or finds it untrue."""
    if actor.role != "source_unit" and not is_office(actor):
        raise Forbidden("自主申报须由部门或信用办核实")
    row = session.get(SelfDeclaration, declaration_id)
    if row is None:
        raise NotFound(f"自主申报 {declaration_id} 不存在")
    if row.status != DeclarationStatus.DECLARED:
        raise Conflict("该申报已核实")
    unit = session.get(SourceUnit, actor.unit_id) if actor.unit_id else None
    row.status = DeclarationStatus.VERIFIED if confirmed else DeclarationStatus.REJECTED
    row.verified_by = (unit.name if unit else "信用办")[:100]
    row.verified_at = clock.now()
    row.verification_note = note.strip() or None
    session.flush()
    audit.record(
        session=session, actor=actor, action="declaration.verify", target_type="self_declaration",
        target_id=row.id, subject_id=row.subject_id, detail={"confirmed": confirmed, "note": note},
    )  # fmt: skip
    return row


def listing(*, session: Session, actor: Actor, status: str | None = None) -> list[SelfDeclaration]:
    query = sa.select(SelfDeclaration).order_by(SelfDeclaration.id.desc()).limit(500)
    if actor.role == "subject":
        query = query.where(SelfDeclaration.subject_id == (actor.subject_id or -1))
    elif actor.role != "source_unit" and not is_office(actor):
        raise Forbidden("无权查看自主申报")
    if status:
        query = query.where(SelfDeclaration.status == status)
    return list(session.scalars(query))


def label_of(row: SelfDeclaration) -> str:
    if row.status == DeclarationStatus.VERIFIED:
        return VERIFIED_LABEL
    if row.status == DeclarationStatus.REJECTED:
        return "核实不符（不公示）"
    return UNVERIFIED_LABEL


def profile_section(*, session: Session, subject_id: int, viewer: Viewer) -> Any:
    """自主申报 on the subject page: legal persons' declarations for everyone (labelled), persons' only for themselves
    and the credit office; untrue ones only for them."""
    from xinyong.subjects.profile import ExtraItem, ExtraSection

    own = viewer.kind in (ViewerKind.SUBJECT, ViewerKind.CREDIT_OFFICE)
    subject = session.get(Subject, subject_id)
    if subject is None or (subject.kind == SubjectKind.NATURAL_PERSON.value and not own):
        return None
    query = sa.select(SelfDeclaration).where(SelfDeclaration.subject_id == subject_id)
    if not own:
        query = query.where(SelfDeclaration.status != DeclarationStatus.REJECTED)
    items = []
    for row in session.scalars(query.order_by(SelfDeclaration.declared_at.desc()).limit(100)):
        lines = [("类别", CATEGORY_LABELS[DeclarationCategory(row.category)])]
        if row.issuer:
            lines.append(("发证/授予机关或相对方", row.issuer))
        if row.occurred_on:
            lines.append(("日期", row.occurred_on.isoformat()))
        if row.valid_to:
            lines.append(("有效期至", row.valid_to.isoformat()))
        lines.append(("说明", row.content))
        if row.verified_by:
            lines.append(("核实单位", row.verified_by))
        items.append(ExtraItem(title=row.title, tags=[label_of(row)], lines=lines))
    if not items:
        return None
    return ExtraSection(
        key="declarations", title="自主申报信息", items=items,
        note="以下信息由信用主体自主申报，标注“未核实”的尚未经部门核实，仅供参考。",
    )  # fmt: skip
