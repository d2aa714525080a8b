"""信用修复: the API and the pages (the subject's application form, the credit office's handling page)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile as StarletteUpload

from xinyong.accounts.web import OptionalAccount, actor_of
from xinyong.core.deps import SessionDep
from xinyong.core.errors import Conflict, Forbidden, InvalidInput, NotFound, TooLarge
from xinyong.core.routing import APIRouter, in_thread
from xinyong.core.settings import get_settings
from xinyong.core.types import RowId
from xinyong.records.models import Record
from xinyong.repair import service as repairs
from xinyong.repair.models import REPAIR_STATUS_LABELS, RepairApplication, RepairStatus
from xinyong.rights import attachments
from xinyong.rights.access import require_desk
from xinyong.rights.steps import history
from xinyong.rights.web import FormAccount, FormSession, RightsActor
from xinyong.web.templating import render

router = APIRouter(tags=["异议、信用修复与信用承诺"])


class RepairCreate(BaseModel):
    record_id: RowId | None = Field(default=None, description="失信记录编号（与 list_entry_id 二选一）")
    list_entry_id: RowId | None = Field(default=None, description="名单条目编号")
    statement: str = Field(min_length=1, max_length=4000, description="纠正失信行为、履行义务的情况")
    evidence: dict[str, str] = Field(default={}, description="修复条件代码 → 说明（附件另行上传）")
    sign_commitment: bool = Field(default=False, description="在线签署信用修复承诺书")


class Reason(BaseModel):
    reason: str = Field(min_length=1, max_length=4000)


class Opinion(BaseModel):
    agree: bool
    note: str = Field(min_length=1, max_length=4000)


class Decision(BaseModel):
    note: str = Field(default="", max_length=4000)


def repair_view(session: Session, row: RepairApplication) -> dict[str, Any]:
    current = repairs.current_deadline(row)
    return {
        "id": row.id,
        "no": row.no,
        "target_type": row.target_type,
        "record_id": row.record_id,
        "list_entry_id": row.list_entry_id,
        "status": row.status,
        "status_label": REPAIR_STATUS_LABELS[RepairStatus(row.status)],
        "statement": row.statement,
        "checklist": row.checklist,
        "missing": repairs.missing_items(session=session, row=row),
        "commitment_id": row.commitment_id,
        "eligible_from": row.eligible_from,
        "unit_opinion": row.unit_opinion,
        "unit_note": row.unit_note,
        "decision_reason": row.decision_reason,
        "submitted_at": row.submitted_at,
        "accept_due": row.accept_due,
        "decide_due": row.decide_due,
        "deadline_provisional": row.deadline_provisional,
        "deadline": (
            {"step": current[0], "step_label": current[1], "waiting_for": current[2], "due": current[3]}
            if current else None
        ),
        "attachments": [
            {"id": a.id, "item": a.item, "filename": a.filename, "size": a.size}
            for a in attachments.of(session=session, owner_type="repair", owner_id=row.id)
        ],
        "history": [
            {"step": e.step, "at": e.at, "actor": e.actor, "role": e.actor_role, "note": e.note}
            for e in history(session=session, item_type="repair", item_id=row.id)
        ],
    }  # fmt: skip


@router.get("/api/v1/repairs/eligibility", summary="能否申请信用修复、何时起、需要哪些条件")
def eligibility(
    session: SessionDep, actor: RightsActor, record_id: RowId | None = None, list_entry_id: RowId | None = None
) -> dict[str, Any]:
    return repairs.eligibility(session=session, record_id=record_id, list_entry_id=list_entry_id, actor=actor)


@router.post("/api/v1/repairs", status_code=201, summary="申请信用修复（信用主体）")
def create_repair(body: RepairCreate, session: SessionDep, actor: RightsActor) -> dict[str, Any]:
    row = repairs.submit(
        session=session, actor=actor, record_id=body.record_id, list_entry_id=body.list_entry_id,
        statement=body.statement, evidence=body.evidence, sign_commitment=body.sign_commitment,
    )  # fmt: skip
    return repair_view(session, row)


@router.get("/api/v1/repairs", summary="信用修复申请列表（按身份限定范围）")
def list_repairs(session: SessionDep, actor: RightsActor, status: str | None = None) -> dict[str, Any]:
    rows = repairs.listing(session=session, actor=actor, status=status)
    return {"items": [repair_view(session, r) for r in rows], "total": len(rows)}


@router.get("/api/v1/repairs/{application_id}", summary="信用修复申请详情")
def read_repair(application_id: RowId, session: SessionDep, actor: RightsActor) -> dict[str, Any]:
    return repair_view(session, repairs.get(session=session, application_id=application_id, actor=actor))


@router.post("/api/v1/repairs/{application_id}/attachments", status_code=201, summary="上传某项修复条件的证明材料")
async def upload(
    application_id: RowId,
    session: SessionDep,
    actor: RightsActor,
    file: Annotated[UploadFile, File()],
    item: Annotated[str, Form(description="修复条件代码，如 obligations")],
) -> dict[str, Any]:
    content = await file.read(get_settings().attachment_max_bytes + 1)  # FastAPI has already received the form

    def store() -> dict[str, Any]:
        row = repairs.get(session=session, application_id=application_id, actor=actor)
        if actor.subject_id != row.subject_id:
            raise Forbidden("只有申请人可以上传材料")
        if item not in {i["code"] for i in row.checklist}:
            raise InvalidInput(f"item：{item} 不是该申请的修复条件")
        stored = attachments.store(session=session, actor=actor, owner_type="repair", owner_id=row.id,
                                   filename=file.filename or "附件", content=content, item=item)  # fmt: skip
        return {"id": stored.id, "filename": stored.filename, "size": stored.size, "item": item}

    return await in_thread(store)


@router.post("/api/v1/repairs/{application_id}/accept", summary="受理（信用办；材料须齐全）")
def accept(application_id: RowId, session: SessionDep, actor: RightsActor) -> dict[str, Any]:
    return repair_view(session, repairs.accept(session=session, actor=actor, application_id=application_id))


@router.post("/api/v1/repairs/{application_id}/decline", summary="不予受理（信用办，须说明理由）")
def decline(application_id: RowId, body: Reason, session: SessionDep, actor: RightsActor) -> dict[str, Any]:
    return repair_view(
        session, repairs.decline(session=session, actor=actor, application_id=application_id, reason=body.reason)
    )


@router.post("/api/v1/repairs/{application_id}/opinion", summary="出具意见（信息提供单位，仅本单位的信息）")
def opinion(application_id: RowId, body: Opinion, session: SessionDep, actor: RightsActor) -> dict[str, Any]:
    row = repairs.give_opinion(
        session=session, actor=actor, application_id=application_id, agree=body.agree, note=body.note
    )
    return repair_view(session, row)


@router.post("/api/v1/repairs/{application_id}/approve", summary="准予修复（信用办）：停止公示、不再惩戒与扣分")
def approve(application_id: RowId, body: Decision, session: SessionDep, actor: RightsActor) -> dict[str, Any]:
    return repair_view(
        session, repairs.approve(session=session, actor=actor, application_id=application_id, note=body.note)
    )


@router.post("/api/v1/repairs/{application_id}/refuse", summary="不予修复（信用办，须说明理由）")
def refuse(application_id: RowId, body: Reason, session: SessionDep, actor: RightsActor) -> dict[str, Any]:
    return repair_view(
        session, repairs.refuse(session=session, actor=actor, application_id=application_id, reason=body.reason)
    )


# ---- pages ---------------------------------------------------------------------------------------------------------


@router.get("/me/repairs/new", include_in_schema=False)
def repair_form(request: Request, session: SessionDep, account: OptionalAccount, record: int) -> Response:
    if account is None:
        return RedirectResponse(f"/login?next=/me/repairs/new?record={record}", status_code=303)
    row = session.get(Record, record)
    if row is None:
        raise NotFound(f"信用信息记录 {record} 不存在")
    if account.subject_id is None or row.subject_id != account.subject_id:
        raise Forbidden("只能为本主体的信息申请信用修复")
    info = repairs.eligibility(session=session, record_id=record)
    return render(request, "repair/form.html", {"record": row, "info": info, "error": None})


@router.post("/me/repairs", include_in_schema=False)
async def repair_submit(request: Request, session: FormSession, account: FormAccount) -> Response:
    if account is None:
        return RedirectResponse("/login?next=/me", status_code=303)
    actor = actor_of(account)
    form = await request.form()
    raw_id = str(form.get("record_id", "")).strip()
    if not raw_id.isdigit() or len(raw_id) > 18:  # 18 digits: always within a 64-bit id
        raise InvalidInput(f"record_id：应为记录编号（数字），收到“{raw_id[:40]}”")
    record_id = int(raw_id)
    files: dict[str, tuple[str, bytes]] = {}  # the form is already received; only the checklist's items are kept
    for key, upload in form.multi_items():
        if key.startswith("file_") and isinstance(upload, StarletteUpload) and upload.filename:
            files[key.removeprefix("file_")] = (
                upload.filename,
                await upload.read(get_settings().attachment_max_bytes + 1),
            )

    def submit() -> Response:
        info = repairs.eligibility(session=session, record_id=record_id, actor=actor)
        evidence = {i["code"]: str(form.get(f"evidence_{i['code']}", "")) for i in info["checklist"]}
        try:
            uploads = [(item["code"], *files[item["code"]]) for item in info["checklist"] if item["code"] in files]
            for _, name, content in uploads:  # checked before anything is written
                attachments.check_file(name, content)
            row = repairs.submit(
                session=session, actor=actor, record_id=record_id, statement=str(form.get("statement", "")),
                evidence=evidence, sign_commitment=form.get("sign_commitment") == "on",
            )  # fmt: skip
            for code, name, content in uploads:
                attachments.store(session=session, actor=actor, owner_type="repair", owner_id=row.id, filename=name,
                                  content=content, item=code)  # fmt: skip
        except (InvalidInput, Conflict, TooLarge) as exc:
            record = session.get(Record, record_id)
            return render(
                request, "repair/form.html", {"record": record, "info": info, "error": exc.message}, status_code=422
            )
        return RedirectResponse(f"/me/rights?filed={row.no}", status_code=303)

    return await in_thread(submit)


@router.get("/office/repairs/{application_id}", include_in_schema=False)
def office_repair(request: Request, session: SessionDep, account: OptionalAccount, application_id: RowId) -> Response:
    if account is None:
        return RedirectResponse(f"/login?next=/office/repairs/{application_id}", status_code=303)
    actor = actor_of(account)
    require_desk(actor)
    row = repairs.get(session=session, application_id=application_id, actor=actor)
    record = session.get(Record, row.record_id) if row.record_id else None
    return render(request, "repair/office.html", {"r": repair_view(session, row), "record": record, "actor": actor})


@router.post("/office/repairs/{application_id}/{step}", include_in_schema=False)
def office_repair_step(
    request: Request,
    session: FormSession,
    account: FormAccount,
    application_id: RowId,
    step: str,
    text: Annotated[str, Form()] = "",
    agree: Annotated[str, Form()] = "",
) -> Response:
    if account is None:
        return RedirectResponse("/login", status_code=303)
    actor = actor_of(account)
    require_desk(actor)
    if step == "accept":
        repairs.accept(session=session, actor=actor, application_id=application_id, note=text or None)
    elif step == "decline":
        repairs.decline(session=session, actor=actor, application_id=application_id, reason=text)
    elif step == "opinion":
        repairs.give_opinion(
            session=session, actor=actor, application_id=application_id, agree=agree == "yes", note=text
        )
    elif step == "approve":
        repairs.approve(session=session, actor=actor, application_id=application_id, note=text)
    elif step == "refuse":
        repairs.refuse(session=session, actor=actor, application_id=application_id, reason=text)
    else:
        raise NotFound("未知操作")
    return RedirectResponse(f"/office/repairs/{application_id}", status_code=303)
