"""Subject registration, the subject's own applications and notices, the credit office's queue (pages and API)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import RedirectResponse, Response

from xinyong.accounts.web import OptionalAccount, actor_of
from xinyong.core.deps import SessionDep
from xinyong.core.errors import ConfigurationError, Conflict, Forbidden, InvalidInput, NotFound
from xinyong.core.routing import APIRouter
from xinyong.objections import service as objections
from xinyong.objections.models import OBJECTION_STATUS_LABELS, ObjectionStatus
from xinyong.repair import service as repairs
from xinyong.repair.models import REPAIR_STATUS_LABELS, RepairStatus
from xinyong.rights import identity, notices, outbox, queue
from xinyong.rights.access import is_office, require_office
from xinyong.rights.web import FormSession, RightsActor, due_view
from xinyong.web.templating import render

router = APIRouter(tags=["异议、信用修复与信用承诺"])


# ---- registration -------------------------------------------------------------------------------------------------


@router.get("/register", include_in_schema=False)
def register_form(request: Request) -> Response:
    return render(request, "rights/register.html", {"error": None, "form": {}})


@router.post("/register", include_in_schema=False)
def register(
    request: Request,
    session: FormSession,
    code: Annotated[str, Form()],
    name: Annotated[str, Form()],
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    email: Annotated[str, Form()] = "",
    phone: Annotated[str, Form()] = "",
) -> Response:
    form = {"code": code, "name": name, "username": username, "email": email, "phone": phone}
    try:
        registration, challenge = identity.start_registration(
            session=session, claim=identity.IdentityClaim(code=code, name=name), username=username,
            password=password, email=email, phone=phone,
        )  # fmt: skip
    except (InvalidInput, Conflict, ConfigurationError) as exc:
        return render(request, "rights/register.html", {"error": exc.message, "form": form}, status_code=422)
    return render(
        request, "rights/register_confirm.html",
        {"token": registration.token, "challenge": challenge, "error": None, "subject_name": challenge.subject.name},
    )  # fmt: skip


@router.post("/register/confirm", include_in_schema=False)
def register_confirm(
    request: Request, session: FormSession, token: Annotated[str, Form()], answer: Annotated[str, Form()]
) -> Response:
    try:
        identity.confirm_registration(session=session, token=token, answer=answer)
    except (InvalidInput, Conflict, NotFound) as exc:
        return render(
            request, "rights/register_confirm.html",
            {"token": token, "challenge": None, "error": exc.message, "subject_name": None}, status_code=422,
        )  # fmt: skip
    return RedirectResponse("/login?next=/me&registered=1", status_code=303)


# ---- the subject's own applications -------------------------------------------------------------------------------


def _my_items(session: SessionDep, actor: Any) -> dict[str, Any]:
    mine_o = objections.listing(session=session, actor=actor)
    mine_r = repairs.listing(session=session, actor=actor)
    return {
        "objections": [(o, objections.current_deadline(o)) for o in mine_o],
        "repairs": [(r, repairs.current_deadline(r)) for r in mine_r],
        "o_labels": {s.value: label for s, label in OBJECTION_STATUS_LABELS.items()},
        "r_labels": {s.value: label for s, label in REPAIR_STATUS_LABELS.items()},
    }


@router.get("/me/rights", include_in_schema=False)
def my_rights(request: Request, session: SessionDep, account: OptionalAccount) -> Response:
    if account is None:
        return RedirectResponse("/login?next=/me/rights", status_code=303)
    actor = actor_of(account)
    if actor.role != "subject" or actor.subject_id is None:
        raise Forbidden("只有经身份核验的信用主体账号可以查看本页（信用办请到 /office/rights 办理）")
    context = _my_items(session, actor) | {
        "notices": notices.notices_of(session=session, subject_id=actor.subject_id),
        "messages": outbox.messages_for_subject(session=session, subject_id=actor.subject_id, limit=20),
    }
    return render(request, "rights/my_rights.html", context)


@router.get("/api/v1/me/notices", summary="本主体收到的失信告知书与通知")
def my_notices(session: SessionDep, actor: RightsActor) -> dict[str, Any]:
    if actor.role != "subject" or actor.subject_id is None:
        raise Forbidden("需以经身份核验的信用主体账号访问")
    return {
        "notices": [
            {"id": n.id, "title": n.title, "body": n.body, "facts": n.facts, "created_at": n.created_at}
            for n in notices.notices_of(session=session, subject_id=actor.subject_id)
        ],
        "messages": [
            {"kind": m.kind, "title": m.title, "body": m.body, "created_at": m.created_at, "sent_at": m.sent_at}
            for m in outbox.messages_for_subject(session=session, subject_id=actor.subject_id)
        ],
    }


# ---- the credit office's queue ------------------------------------------------------------------------------------


@router.get(
    "/api/v1/rights/due",
    summary="待办的异议与信用修复申请及其期限、是否超期（信用办；信息提供单位只见本单位的）",
)
def due_api(session: SessionDep, actor: RightsActor, overdue_only: bool = False) -> dict[str, Any]:
    unit_id = None
    if not is_office(actor):
        if actor.role != "source_unit" or actor.unit_id is None:
            require_office(actor, "查看待办")
        unit_id = actor.unit_id
    mine = queue.open_items(session=session, unit_id=unit_id, region=actor.region if is_office(actor) else None)
    items = [i for i in mine if i.overdue or not overdue_only]
    return {"items": [due_view(i) for i in items], "total": len(items), "overdue": sum(i.overdue for i in items)}


@router.get("/office/rights", include_in_schema=False)
def office_queue(request: Request, session: SessionDep, account: OptionalAccount) -> Response:
    if account is None:
        return RedirectResponse("/login?next=/office/rights", status_code=303)
    actor = actor_of(account)
    require_office(actor, "查看异议与信用修复待办")
    items = queue.open_items(session=session, region=actor.region)
    closed_o = [o for o in objections.listing(session=session, actor=actor, limit=50)
                if o.status in (ObjectionStatus.ANSWERED, ObjectionStatus.REFUSED)]  # fmt: skip
    closed_r = [r for r in repairs.listing(session=session, actor=actor, limit=50)
                if r.status in (RepairStatus.APPROVED, RepairStatus.REFUSED, RepairStatus.DECLINED)]  # fmt: skip
    return render(
        request, "rights/office_queue.html",
        {"items": items, "overdue": sum(i.overdue for i in items), "closed_o": closed_o, "closed_r": closed_r,
         "o_labels": {s.value: label for s, label in OBJECTION_STATUS_LABELS.items()},
         "r_labels": {s.value: label for s, label in REPAIR_STATUS_LABELS.items()}},
    )  # fmt: skip
