"""异议: the API (subjects, the credit office, source units by key or account) and the pages that use it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from xinyong.accounts.web import OptionalAccount, actor_of
from xinyong.audit.service import Actor
from xinyong.catalog.models import Resource, SourceUnit
from xinyong.core.deps import SessionDep
from xinyong.core.errors import Conflict, Forbidden, InvalidInput, NotFound, TooLarge
from xinyong.core.routing import APIRouter, in_thread
from xinyong.core.types import RowId
from xinyong.objections import service as objections
from xinyong.objections.models import OBJECTION_STATUS_LABELS, Objection, ObjectionStatus
from xinyong.objections.schemas import Answer, Note, ObjectionCreate, Refusal, Verification
from xinyong.records.models import Record
from xinyong.rights import attachments
from xinyong.rights.access import require_desk
from xinyong.rights.steps import history
from xinyong.rights.web import FormAccount, FormSession, RightsActor
from xinyong.web.templating import render

router = APIRouter(tags=["异议、信用修复与信用承诺"])


def objection_view(session: Session, row: Objection) -> dict[str, Any]:
    current = objections.current_deadline(row)
    record = session.get(Record, row.record_id)
    return {
        "id": row.id,
        "no": row.no,
        "record_id": row.record_id,
        "doc_no": record.doc_no if record else None,
        "status": row.status,
        "status_label": OBJECTION_STATUS_LABELS[ObjectionStatus(row.status)],
        "request": row.request,
        "reasons": row.reasons,
        "requested_changes": row.requested_changes,
        "refusal_reason": row.refusal_reason,
        "verification_note": row.verification_note,
        "applied_changes": row.applied_changes,
        "answer": row.answer,
        "submitted_at": row.submitted_at,
        "deadline": (
            {"step": current[0], "step_label": current[1], "waiting_for": current[2], "due": current[3]}
            if current
            else None
        ),
        "accept_due": row.accept_due,
        "verify_due": row.verify_due,
        "answer_due": row.answer_due,
        "deadline_provisional": row.deadline_provisional,
        "attachments": [
            {"id": a.id, "filename": a.filename, "size": a.size, "content_type": a.content_type}
            for a in attachments.of(session=session, owner_type="objection", owner_id=row.id)
        ],
        "history": [
            {"step": e.step, "at": e.at, "actor": e.actor, "role": e.actor_role, "note": e.note}
            for e in history(session=session, item_type="objection", item_id=row.id)
        ],
    }


@router.post("/api/v1/objections", status_code=201, summary="提出异议（信用主体，针对本主体的一条信息）")
def create_objection(body: ObjectionCreate, session: SessionDep, actor: RightsActor) -> dict[str, Any]:
    row = objections.submit(
        session=session, actor=actor, record_id=body.record_id, reasons=body.reasons, request=body.request,
        requested_changes=body.requested_changes,
    )  # fmt: skip
    return objection_view(session, row)


@router.get("/api/v1/objections", summary="异议列表（主体见本主体的，信息提供单位见本单位信息的，信用办见全部）")
def list_objections(session: SessionDep, actor: RightsActor, status: str | None = None) -> dict[str, Any]:
    rows = objections.listing(session=session, actor=actor, status=status)
    return {"items": [objection_view(session, r) for r in rows], "total": len(rows)}


@router.get("/api/v1/objections/{objection_id}", summary="异议详情：状态、期限（暂定与否）、每一步")
def read_objection(objection_id: RowId, session: SessionDep, actor: RightsActor) -> dict[str, Any]:
    return objection_view(session, objections.get(session=session, objection_id=objection_id, actor=actor))


@router.post("/api/v1/objections/{objection_id}/attachments", status_code=201, summary="上传证明材料（申请人）")
async def upload_attachment(
    objection_id: RowId, session: SessionDep, actor: RightsActor, file: Annotated[UploadFile, File()]
) -> dict[str, Any]:
    content = await file.read(attachments_limit() + 1)  # FastAPI has already received the form

    def store() -> dict[str, Any]:
        row = objections.get(session=session, objection_id=objection_id, actor=actor)
        if actor.subject_id != row.subject_id:
            raise Forbidden("只有申请人可以上传材料")
        stored = attachments.store(session=session, actor=actor, owner_type="objection", owner_id=row.id,
                                   filename=file.filename or "附件", content=content)  # fmt: skip
        return {"id": stored.id, "filename": stored.filename, "size": stored.size}

    return await in_thread(store)


def attachments_limit() -> int:
    from xinyong.core.settings import get_settings

    return get_settings().attachment_max_bytes


@router.post("/api/v1/objections/{objection_id}/accept", summary="受理（信用办）")
def accept_objection(objection_id: RowId, body: Note, session: SessionDep, actor: RightsActor) -> dict[str, Any]:
    return objection_view(
        session, objections.accept(session=session, actor=actor, objection_id=objection_id, note=body.note)
    )


@router.post("/api/v1/objections/{objection_id}/refuse", summary="不予受理（信用办，须说明理由）")
def refuse_objection(objection_id: RowId, body: Refusal, session: SessionDep, actor: RightsActor) -> dict[str, Any]:
    return objection_view(
        session, objections.refuse(session=session, actor=actor, objection_id=objection_id, reason=body.reason)
    )


@router.post("/api/v1/objections/{objection_id}/forward", summary="转信息提供单位核实（信用办）")
def forward_objection(objection_id: RowId, body: Note, session: SessionDep, actor: RightsActor) -> dict[str, Any]:
    return objection_view(
        session, objections.forward(session=session, actor=actor, objection_id=objection_id, note=body.note)
    )


@router.post("/api/v1/objections/{objection_id}/verify", summary="核实结果：更正 / 删除 / 维持（本单位信息的报送单位）")
def verify_objection(
    objection_id: RowId, body: Verification, session: SessionDep, actor: RightsActor
) -> dict[str, Any]:
    row = objections.verify(session=session, actor=actor, objection_id=objection_id, outcome=body.outcome,
                            note=body.note, changes=body.changes)  # fmt: skip
    return objection_view(session, row)


@router.post("/api/v1/objections/{objection_id}/answer", summary="答复申请人，办结（信用办）")
def answer_objection(objection_id: RowId, body: Answer, session: SessionDep, actor: RightsActor) -> dict[str, Any]:
    return objection_view(
        session, objections.answer(session=session, actor=actor, objection_id=objection_id, text=body.text)
    )


# ---- pages ---------------------------------------------------------------------------------------------------------


def _record_context(session: Session, record_id: RowId) -> dict[str, Any]:
    record = session.get(Record, record_id)
    if record is None:
        raise NotFound(f"信用信息记录 {record_id} 不存在")
    resource = session.get(Resource, record.resource_id)
    unit = session.get(SourceUnit, record.source_unit_id)
    fields = [(str(f.get("name")), record.payload.get(f["code"])) for f in (resource.fields if resource else []) or []
              if record.payload.get(f["code"]) not in (None, "") and not f.get("pii")]  # fmt: skip
    return {"record": record, "resource": resource, "unit": unit, "fields": fields}


def _subject_actor(account: OptionalAccount) -> Actor | None:
    return actor_of(account) if account is not None else None


@router.get("/me/objections/new", include_in_schema=False)
def objection_form(request: Request, session: SessionDep, account: OptionalAccount, record: int) -> Response:
    if account is None:
        return RedirectResponse(f"/login?next=/me/objections/new?record={record}", status_code=303)
    context = _record_context(session, record)
    if account.subject_id is None or context["record"].subject_id != account.subject_id:
        raise Forbidden("只能对本主体的信息提出异议")
    return render(request, "objections/form.html", context | {"error": None})


@router.post("/me/objections", include_in_schema=False)
async def objection_submit(
    request: Request,
    session: FormSession,
    account: FormAccount,
    record_id: Annotated[RowId, Form()],
    reasons: Annotated[str, Form()],
    request_kind: Annotated[str, Form()] = "correct",
    correct_value: Annotated[str, Form()] = "",
    files: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    actor = _subject_actor(account)
    if actor is None:
        return RedirectResponse("/login?next=/me", status_code=303)
    # Each file is bounded, and so is how many are read.
    too_many = len(files or []) > attachments.MAX_PER_ITEM
    uploads = (
        [] if too_many else [(u.filename, await u.read(attachments_limit() + 1)) for u in files or [] if u.filename]
    )

    def submit(actor: Actor) -> Response:
        try:
            if too_many:
                raise InvalidInput(f"一次最多上传 {attachments.MAX_PER_ITEM} 个附件")
            for name, content in uploads:  # checked before anything is written
                attachments.check_file(name, content)
            row = objections.submit(
                session=session, actor=actor, record_id=record_id, reasons=reasons, request=request_kind,
                requested_changes={"说明": correct_value.strip()} if correct_value.strip() else {},
            )  # fmt: skip
            for name, content in uploads:
                attachments.store(session=session, actor=actor, owner_type="objection", owner_id=row.id,
                                  filename=name, content=content)  # fmt: skip
        except (InvalidInput, Conflict, TooLarge) as exc:
            context = _record_context(session, record_id)
            return render(request, "objections/form.html", context | {"error": exc.message}, status_code=422)
        return RedirectResponse(f"/me/rights?filed={row.no}", status_code=303)

    return await in_thread(submit, actor)


@router.get("/office/objections/{objection_id}", include_in_schema=False)
def office_objection(request: Request, session: SessionDep, account: OptionalAccount, objection_id: RowId) -> Response:
    if account is None:
        return RedirectResponse(f"/login?next=/office/objections/{objection_id}", status_code=303)
    actor = actor_of(account)
    require_desk(actor)
    row = objections.get(session=session, objection_id=objection_id, actor=actor)
    context = _record_context(session, row.record_id)
    return render(request, "objections/office.html", context | {"o": objection_view(session, row), "actor": actor})


@router.post("/office/objections/{objection_id}/{step}", include_in_schema=False)
def office_objection_step(
    request: Request,
    session: FormSession,
    account: FormAccount,
    objection_id: RowId,
    step: str,
    text: Annotated[str, Form()] = "",
    outcome: Annotated[str, Form()] = "",
    field: Annotated[str, Form()] = "",
    value: Annotated[str, Form()] = "",
) -> Response:
    if account is None:
        return RedirectResponse("/login", status_code=303)
    actor = actor_of(account)
    require_desk(actor)
    if step == "accept":
        objections.accept(session=session, actor=actor, objection_id=objection_id, note=text or None)
    elif step == "refuse":
        objections.refuse(session=session, actor=actor, objection_id=objection_id, reason=text)
    elif step == "forward":
        objections.forward(session=session, actor=actor, objection_id=objection_id, note=text or None)
    elif step == "verify":
        changes = {field: value} if field else {}
        objections.verify(session=session, actor=actor, objection_id=objection_id, outcome=outcome, note=text,
                          changes=changes)  # fmt: skip
    elif step == "answer":
        objections.answer(session=session, actor=actor, objection_id=objection_id, text=text)
    else:
        raise NotFound("未知操作")
    return RedirectResponse(f"/office/objections/{objection_id}", status_code=303)
