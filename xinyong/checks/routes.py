"""Check API for department systems and the service-hall pages for clerks. Both call the same service."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Annotated, Any

from fastapi import File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from xinyong.accounts.models import Account, Role
from xinyong.accounts.web import OptionalAccount, actor_of
from xinyong.audit.service import Actor
from xinyong.checks import service as checks
from xinyong.checks.schemas import CheckCreate, FeedbackCreate, MeasureBasisUpdate
from xinyong.checks.upload import read_upload, write_csv, write_xlsx
from xinyong.core import clock
from xinyong.core.database import session_scope
from xinyong.core.deps import CurrentActor, SessionDep, read_first, require_role, write_scope
from xinyong.core.errors import Conflict, InvalidInput, NotFound, TooLarge, XinyongError
from xinyong.core.routing import APIRouter, in_thread
from xinyong.core.settings import get_settings
from xinyong.core.text import normalise_code
from xinyong.core.types import RowId
from xinyong.lists.basis import public_basis
from xinyong.web.templating import render

router = APIRouter(tags=["信用核查"])
CHECKERS = (Role.CHECKER, Role.CREDIT_OFFICE, Role.ADMIN)
_CODE_LIKE = re.compile(r"^[0-9A-Z]{8,18}$")


# --- API --------------------------------------------------------------------------------------------------------


@router.post("/api/v1/checks", summary="信用核查：名单、评价等级与适用的奖惩措施（含法律依据）")
@read_first
def post_check(body: CheckCreate, request: Request, session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    require_role(actor, *CHECKERS)
    check = checks.answer_check(session=session, actor=actor, request=checks.CheckRequest(**body.model_dump()))
    with write_scope(request, session) as store:
        return checks.store_check(session=store, actor=actor, check=check).result


@router.get("/api/v1/checks/statistics", summary="联合奖惩案例统计（按部门、月份），可导出 CSV/XLSX")
def get_statistics(
    session: SessionDep,
    actor: CurrentActor,
    start: dt.date | None = None,
    end: dt.date | None = None,
    format: str = "json",
) -> Any:
    require_role(actor, Role.CREDIT_OFFICE, Role.ADMIN, Role.CHECKER)
    rows = checks.case_statistics(session=session, start=start, end=end)
    return _export(rows, checks.STAT_COLUMNS, format, "联合奖惩案例统计")


@router.get("/api/v1/checks/{check_id}", summary="核查结果（存档快照）")
def get_check(check_id: str, session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    require_role(actor, *CHECKERS)
    check = checks.get_check(session=session, check_no=check_id)
    return checks.check_view(check) | {"feedback": _feedback(session, check)}


@router.post("/api/v1/checks/{check_id}/feedback", status_code=201, summary="核查反馈：措施是否实施及理由")
def post_feedback(check_id: str, body: FeedbackCreate, session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    require_role(actor, *CHECKERS)  # was open to any key (a source unit or subject could answer a clerk's check)
    items = [checks.FeedbackItem(**i.model_dump()) for i in body.items]
    checks.record_feedback(session=session, actor=actor, check_no=check_id, items=items, department=body.department)
    return {"check_id": check_id, "feedback": _feedback(session, checks.get_check(session=session, check_no=check_id))}


@router.post("/api/v1/checks/batches", status_code=201, summary="批量核查：上传 CSV/XLSX（代码和/或名称列）")
@read_first
async def post_batch(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    matter: Annotated[str, Form(description="事项代码或名称")],
    file: Annotated[UploadFile, File(description="CSV 或 XLSX，表头含「统一社会信用代码」和/或「名称」")],
) -> dict[str, Any]:
    require_role(actor, *CHECKERS)
    content = await _read_limited(file)

    def check_all() -> dict[str, Any]:  # thousands of rows: parsed and looked up off the event loop
        rows = read_upload(file.filename or "upload.csv", _within_limit(content))
        batch_no, lines = checks.batch_check(
            session=session, actor=actor, matter=matter, rows=rows, store=_chunk_transaction(request)
        )
        return {
            "batch_no": batch_no,
            "rows": lines,
            "total": len(lines),
            "needs_confirmation": sum(1 for line in lines if line["status"] == "needs_confirmation"),
        }

    return await in_thread(check_all)


@router.get("/api/v1/checks/batches/{batch_no}", summary="批量核查结果（JSON，或 format=csv/xlsx 下载）")
def get_batch(batch_no: str, session: SessionDep, actor: CurrentActor, format: str = "json") -> Any:
    require_role(actor, *CHECKERS)
    lines = checks.batch_lines(session=session, batch_no=batch_no)
    return _export(lines, checks.BATCH_COLUMNS, format, f"批量核查{batch_no}")


@router.get("/api/v1/matters", summary="行政管理事项")
def get_matters(session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    items = [{"code": m.code, "name": m.name} for m in checks.all_matters(session=session)]
    return {"items": items, "total": len(items)}


@router.get("/api/v1/measures", summary="奖惩措施清单（核查只返回清单内、有依据的措施）")
def get_measures(session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    items = [
        {
            "code": m.code,
            "name": m.name,
            "kind": m.kind,
            "department": m.department,
            "basis": public_basis(m.basis),
            "local_policy": m.local_policy,
            "returned_by_checks": checks.returnable(m),
            "note": None if checks.returnable(m) else "地方政策，依据待信用办确认：确认前核查不返回此措施",
            "list_types": m.list_types,
            "matters": m.matters,
        }
        for m in checks.catalog_measures(session=session)
    ]
    return {"items": items, "total": len(items)}


@router.put("/api/v1/measures/{code}/basis", summary="确认地方措施的依据（信用办）")
def put_measure_basis(code: str, body: MeasureBasisUpdate, session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    row = checks.confirm_measure_basis(session=session, actor=actor, code=code, basis=body.basis)
    return {"code": row.code, "basis": public_basis(row.basis), "returned_by_checks": checks.returnable(row)}


def _feedback(session: SessionDep, check: Any) -> list[dict[str, Any]]:
    return [
        {
            "measure_code": f.measure_code,
            "applied": f.applied,
            "reason": f.reason,
            "department": f.department,
            "at": f.at.isoformat(),
            "by": f.actor,
        }
        for f in checks.feedback_of(session=session, check=check)
    ]


def _export(rows: list[dict[str, Any]], columns: list[tuple[str, str]], format: str, title: str) -> Any:
    if format == "json":
        return {"items": rows, "total": len(rows)}
    stamp = clock.today().strftime("%Y%m%d")
    if format == "csv":
        return Response(
            write_csv(columns, rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f"attachment; filename*=UTF-8''{_quote(title)}-{stamp}.csv"},
        )
    if format == "xlsx":
        return Response(
            write_xlsx(columns, rows, title),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f"attachment; filename*=UTF-8''{_quote(title)}-{stamp}.xlsx"},
        )
    raise InvalidInput("format：可选 json、csv、xlsx")


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text)


def _chunk_transaction(request: Request) -> Callable[[], AbstractContextManager[Session]]:
    """Where a batch check writes each chunk of its checks: a transaction of its own (the batch reads through the
    request's session, ``read_first``: on SQLite without the write lock, on PostgreSQL outside a transaction)."""
    return lambda: session_scope(request.app.state.engine, write=True)


async def _read_limited(file: UploadFile) -> bytes:
    """The upload, one byte over the limit at most (``_within_limit`` tells)."""
    return await file.read(get_settings().check_upload_max_bytes + 1)


def _within_limit(content: bytes) -> bytes:
    limit = get_settings().check_upload_max_bytes
    if len(content) > limit:
        raise TooLarge(f"文件超过上限 {limit / (1024 * 1024):.0f} MB，请拆分后分批核查")
    return content


# --- service-hall pages -----------------------------------------------------------------------------------------


def _clerk(request: Request, account: Account | None) -> Actor | Response:
    if account is None:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    if account.role not in {r.value for r in CHECKERS}:
        return render(request, "checks/denied.html", {}, status_code=403)
    return actor_of(account)


@router.get("/checks", response_class=HTMLResponse, include_in_schema=False)
def hall_page(request: Request, session: SessionDep, account: OptionalAccount) -> Response:
    actor = _clerk(request, account)
    if isinstance(actor, Response):
        return actor
    return render(request, "checks/hall.html", {"matters": checks.all_matters(session=session)})


@router.post("/checks", response_class=HTMLResponse, include_in_schema=False)
def hall_submit(
    request: Request,
    session: SessionDep,
    account: OptionalAccount,
    matter: Annotated[str, Form()],
    query: Annotated[str, Form()] = "",
    subject_id: Annotated[RowId | None, Form()] = None,
) -> Response:
    actor = _clerk(request, account)
    if isinstance(actor, Response):
        return actor
    text = query.strip()
    code = normalise_code(text)
    is_code = bool(_CODE_LIKE.match(code)) and any(ch.isdigit() for ch in code)
    req = checks.CheckRequest(
        matter=matter,
        subject_id=subject_id,
        code=code if is_code and subject_id is None else None,
        name=None if is_code else text,
    )
    context: dict[str, Any] = {"matters": checks.all_matters(session=session), "query": text, "matter": matter}
    try:
        outcome = checks.run_check(session=session, actor=actor, request=req)
    except Conflict as exc:
        return render(
            request,
            "checks/hall.html",
            context | {"error": exc.message, "candidates": exc.detail.get("candidates", [])},
        )
    except (InvalidInput, NotFound) as exc:
        return render(request, "checks/hall.html", context | {"error": exc.message}, status_code=422)
    return RedirectResponse(f"/checks/result/{outcome.check.check_no}", status_code=303)


@router.get("/checks/result/{check_no}", response_class=HTMLResponse, include_in_schema=False)
def result_page(request: Request, check_no: str, session: SessionDep, account: OptionalAccount) -> Response:
    actor = _clerk(request, account)
    if isinstance(actor, Response):
        return actor
    check = checks.get_check(session=session, check_no=check_no)
    return render(
        request,
        "checks/result.html",
        {
            "check": checks.check_view(check),
            "feedback": _feedback(session, check),
            "saved": request.query_params.get("saved") == "1",
        },
    )


@router.post("/checks/result/{check_no}/feedback", response_class=HTMLResponse, include_in_schema=False)
async def result_feedback(request: Request, check_no: str, session: SessionDep, account: OptionalAccount) -> Response:
    actor = _clerk(request, account)
    if isinstance(actor, Response):
        return actor
    form = await request.form()
    items = []
    for key in form:
        if key.startswith("applied_"):
            code = key.removeprefix("applied_")
            items.append(
                checks.FeedbackItem(
                    measure_code=code, applied=form[key] == "yes", reason=str(form.get(f"reason_{code}", "")) or None
                )
            )

    def record(actor: Actor) -> Response:
        try:
            checks.record_feedback(
                session=session,
                actor=actor,
                check_no=check_no,
                items=items,
                department=str(form.get("department", "")) or None,
            )
        except XinyongError as exc:
            check = checks.get_check(session=session, check_no=check_no)
            return render(
                request,
                "checks/result.html",
                {"check": checks.check_view(check), "error": exc.message, "feedback": _feedback(session, check)},
                status_code=422,
            )
        return RedirectResponse(f"/checks/result/{check_no}?saved=1", status_code=303)

    return await in_thread(record, actor)


@router.get("/checks/batch", response_class=HTMLResponse, include_in_schema=False)
def batch_page(request: Request, session: SessionDep, account: OptionalAccount) -> Response:
    actor = _clerk(request, account)
    if isinstance(actor, Response):
        return actor
    return render(request, "checks/batch.html", {"matters": checks.all_matters(session=session)})


@router.post("/checks/batch", response_class=HTMLResponse, include_in_schema=False)
@read_first
async def batch_submit(
    request: Request,
    session: SessionDep,
    account: OptionalAccount,
    matter: Annotated[str, Form()],
    file: Annotated[UploadFile, File()],
) -> Response:
    actor = _clerk(request, account)
    if isinstance(actor, Response):
        return actor
    content = await _read_limited(file)

    def check_all(actor: Actor) -> Response:  # as post_batch: off the event loop
        context: dict[str, Any] = {"matters": checks.all_matters(session=session), "matter": matter}
        try:
            rows = read_upload(file.filename or "upload.csv", _within_limit(content))
            batch_no, lines = checks.batch_check(
                session=session, actor=actor, matter=matter, rows=rows, store=_chunk_transaction(request)
            )
        except XinyongError as exc:
            return render(request, "checks/batch.html", context | {"error": exc.message}, status_code=422)
        return render(request, "checks/batch.html", context | {"batch_no": batch_no, "lines": lines})

    return await in_thread(check_all, actor)


@router.get("/checks/batch/{batch_no}.{format}", include_in_schema=False)
def batch_download(
    request: Request, batch_no: str, format: str, session: SessionDep, account: OptionalAccount
) -> Response:
    actor = _clerk(request, account)
    if isinstance(actor, Response):
        return actor
    if format not in ("csv", "xlsx"):
        raise InvalidInput("只支持 csv 或 xlsx")
    result: Response = _export(
        checks.batch_lines(session=session, batch_no=batch_no), checks.BATCH_COLUMNS, format, f"批量核查{batch_no}"
    )
    return result
