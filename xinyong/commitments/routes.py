"""信用承诺 API: templates, online signing, listing, fulfilment (履约 / 违诺)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from xinyong.commitments import service as commitments
from xinyong.commitments.models import COMMITMENT_STATUS_LABELS, Commitment, CommitmentStatus
from xinyong.core.deps import SessionDep
from xinyong.core.errors import Forbidden
from xinyong.core.routing import APIRouter
from xinyong.core.types import RowId
from xinyong.rights.web import RightsActor

router = APIRouter(prefix="/api/v1", tags=["异议、信用修复与信用承诺"])


class CommitmentCreate(BaseModel):
    template: str = Field(description="模板代码，见 GET /api/v1/commitment-templates")
    values: dict[str, str] = Field(default={}, description="模板字段的填写值")


class Fulfilment(BaseModel):
    kept: bool = Field(description="true 履约 / false 违诺")
    note: str = Field(min_length=1, max_length=4000, description="履约情况或违诺事实")
    severity: str = Field(default="general", description="违诺的失信程度 minor/general/serious")


def commitment_view(row: Commitment) -> dict[str, Any]:
    return {
        "id": row.id, "no": row.no, "subject_id": row.subject_id, "template": row.template, "type": row.type,
        "type_label": commitments.type_labels().get(row.type), "title": row.title, "text": row.text,
        "values": row.values, "public": row.public, "status": row.status,
        "status_label": COMMITMENT_STATUS_LABELS[CommitmentStatus(row.status)], "signed_at": row.signed_at,
        "valid_to": row.valid_to, "fulfilment_note": row.fulfilment_note, "broken_record_id": row.broken_record_id,
    }  # fmt: skip


@router.get("/commitment-templates", summary="信用承诺书模板（六类）")
def list_templates() -> dict[str, Any]:
    return {"types": commitments.type_labels(), "templates": commitments.templates()}


@router.post("/commitments", status_code=201, summary="在线签署信用承诺（信用主体）")
def sign(body: CommitmentCreate, session: SessionDep, actor: RightsActor) -> dict[str, Any]:
    if actor.subject_id is None:
        raise Forbidden("只有经身份核验的信用主体账号可以签署信用承诺")
    row = commitments.sign(session=session, actor=actor, subject_id=actor.subject_id, template_code=body.template,
                           values=body.values)  # fmt: skip
    return commitment_view(row)


@router.get("/commitments", summary="信用承诺列表（主体见本主体的；部门、信用办可按主体查询）")
def listing(session: SessionDep, actor: RightsActor, subject_id: RowId | None = None) -> dict[str, Any]:
    rows = commitments.listing(session=session, actor=actor, subject_id=subject_id)
    return {"items": [commitment_view(r) for r in rows], "total": len(rows)}


@router.post("/commitments/{commitment_id}/fulfilment", summary="记录履约或违诺（部门）；违诺生成失信记录")
def fulfilment(commitment_id: RowId, body: Fulfilment, session: SessionDep, actor: RightsActor) -> dict[str, Any]:
    row = commitments.record_fulfilment(session=session, actor=actor, commitment_id=commitment_id, kept=body.kept,
                                        note=body.note, severity=body.severity)  # fmt: skip
    return commitment_view(row)
