"""自主申报 API: a subject declares, a department verifies."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from xinyong.core.deps import SessionDep
from xinyong.core.errors import Forbidden
from xinyong.core.routing import APIRouter
from xinyong.core.types import RowId
from xinyong.declarations import service as declarations
from xinyong.declarations.models import CATEGORY_LABELS, DeclarationCategory, SelfDeclaration
from xinyong.rights.web import RightsActor

router = APIRouter(prefix="/api/v1/declarations", tags=["异议、信用修复与信用承诺"])


class DeclarationCreate(BaseModel):
    category: str = Field(description="qualification 资质 / honour 荣誉 / contract 合同履约 / welfare 公益活动")
    title: str = Field(min_length=1, max_length=200)
    content: str = Field(min_length=1, max_length=4000)
    issuer: str | None = Field(default=None, max_length=200)
    occurred_on: dt.date | None = None
    valid_to: dt.date | None = None


class Verification(BaseModel):
    confirmed: bool
    note: str = Field(default="", max_length=2000)


def declaration_view(row: SelfDeclaration) -> dict[str, Any]:
    return {
        "id": row.id, "subject_id": row.subject_id, "category": row.category,
        "category_label": CATEGORY_LABELS[DeclarationCategory(row.category)], "title": row.title,
        "issuer": row.issuer, "content": row.content, "occurred_on": row.occurred_on, "valid_to": row.valid_to,
        "status": row.status, "label": declarations.label_of(row), "verified_by": row.verified_by,
    }  # fmt: skip


@router.post("", status_code=201, summary="自主申报（信用主体）")
def declare(body: DeclarationCreate, session: SessionDep, actor: RightsActor) -> dict[str, Any]:
    if actor.subject_id is None:
        raise Forbidden("只有经身份核验的信用主体账号可以自主申报")
    row = declarations.declare(session=session, actor=actor, subject_id=actor.subject_id, **body.model_dump())
    return declaration_view(row)


@router.get("", summary="自主申报列表")
def listing(session: SessionDep, actor: RightsActor, status: str | None = None) -> dict[str, Any]:
    rows = declarations.listing(session=session, actor=actor, status=status)
    return {"items": [declaration_view(r) for r in rows], "total": len(rows)}


@router.post("/{declaration_id}/verify", summary="核实自主申报（部门或信用办）")
def verify(declaration_id: RowId, body: Verification, session: SessionDep, actor: RightsActor) -> dict[str, Any]:
    row = declarations.verify(session=session, actor=actor, declaration_id=declaration_id, confirmed=body.confirmed,
                              note=body.note)  # fmt: skip
    return declaration_view(row)
