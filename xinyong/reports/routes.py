"""Credit reports over HTTP: issuing (credit office, or a subject for itself) and public verification."""

from __future__ import annotations

import datetime as dt
import hmac
from typing import Annotated
from urllib.parse import quote

from fastapi import File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse, RedirectResponse, Response

from xinyong.accounts.models import Role
from xinyong.accounts.web import OptionalAccount, actor_of
from xinyong.audit.service import Actor
from xinyong.core import clock
from xinyong.core.deps import OptionalActor, SessionDep
from xinyong.core.errors import Forbidden, InvalidInput, TooLarge, Unauthenticated, XinyongError
from xinyong.core.routing import APIRouter, in_thread
from xinyong.core.settings import get_settings
from xinyong.core.types import RowId
from xinyong.portal.routes import csrf_token
from xinyong.reports import render as _render  # noqa: F401  (registers the china_time filter)
from xinyong.reports import service
from xinyong.reports.domains import domain_catalog
from xinyong.reports.models import REPORT_KIND_LABELS, ReportKind
from xinyong.reports.schemas import ReportCreate, ReportVerifyRead
from xinyong.subjects.search import subject_ref
from xinyong.web.templating import render

router = APIRouter(tags=["信用报告"])


def _download(issued: service.IssuedFile) -> Response:
    name = quote(f"信用报告-{issued.report.report_no}.{issued.report.file_format}")
    return Response(
        issued.data,
        media_type=issued.media_type,
        headers={
            "Content-Disposition": f"attachment; filename={issued.filename}; filename*=UTF-8''{name}",
            "X-Report-No": issued.report.report_no,
            "Cache-Control": "private, no-store",
        },
    )


def verification_read(result: service.Verification) -> ReportVerifyRead:
    report = result.report
    if report is None:
        return ReportVerifyRead(valid=False, found=False, report_no=result.report_no, message=result.message)
    kind = ReportKind(report.kind)
    return ReportVerifyRead(
        valid=result.valid,
        found=True,
        report_no=report.report_no,
        message=result.message,
        kind=kind.value,
        kind_label=REPORT_KIND_LABELS[kind],
        subject_name=service.shown_subject_name(report),
        subject_code=report.subject_code or None,
        issued_at=report.issued_at,
        issued_on=report.issued_at.astimezone(clock.CHINA).date(),
        period_from=report.period_from,
        period_to=report.period_to,
        issuer=service.CHANNEL_LABELS.get(report.channel, report.channel),
        code_checked=result.code_checked,
        code_valid=result.code_valid,
        file_checked=result.file_checked,
        file_matches=result.file_matches,
        file_sha256=result.file_sha256,
    )


class _NotAReport(XinyongError):
    status_code = 415
    code = "unsupported_media_type"


async def _read_upload(file: UploadFile) -> bytes:
    limit = get_settings().report_upload_max_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"上传的文件过大：信用报告文件不超过 {limit / 1024 / 1024:.0f} MB")
    if not data:
        raise InvalidInput("file：上传的文件为空")
    # The platform issues PDF and HTML reports; anything else cannot be one of ours (checked by content, not name).
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if not (data.startswith(b"%PDF-") or head.startswith((b"<!doctype html", b"<html"))):
        raise _NotAReport("file：不是本平台出具的信用报告文件（应为 PDF 或 HTML）")
    return data


def _json(result: service.Verification) -> Response:
    body = verification_read(result).model_dump(mode="json")
    return JSONResponse(body, status_code=200 if result.found else 404, headers={"Cache-Control": "no-store"})


# ---- verification (public) -----------------------------------------------------------------------------------------


@router.get(
    "/api/v1/reports/verify/{report_no}",
    response_model=ReportVerifyRead,
    summary="核验信用报告：编号是否由本平台出具、为谁、何时出具；可同时核对验证码",
    description="未登记的编号返回 404 与 `valid: false`；`code` 给出且不正确时 `valid: false`。自然人姓名脱敏。",
    responses={404: {"description": "编号不存在（`valid: false`）"}},
)
def verify_api(
    session: SessionDep,
    report_no: str,
    code: Annotated[str | None, Query(max_length=32, description="报告上的验证码")] = None,
) -> Response:
    return _json(service.verify(session=session, report_no=report_no, code=code))


@router.post(
    "/api/v1/reports/verify/{report_no}",
    response_model=ReportVerifyRead,
    summary="核验信用报告文件：上传 PDF，与出具时登记的 SHA-256 比对",
    description="表单字段 `file`（报告文件），可选 `code`（验证码）。文件被改动过一个字节也不会一致。",
    responses={404: {"description": "编号不存在（`valid: false`）"}},
)
async def verify_file_api(
    session: SessionDep,
    report_no: str,
    file: Annotated[UploadFile, File(description="信用报告 PDF 文件")],
    code: Annotated[str | None, Form(max_length=32)] = None,
) -> Response:
    data = await _read_upload(file)
    return await in_thread(
        lambda: _json(service.verify(session=session, report_no=report_no, code=code, file_data=data))
    )


def _verify_page(request: Request, result: service.Verification | None, report_no: str, code: str = "") -> Response:
    read = verification_read(result) if result is not None else None
    response = render(
        request,
        "reports/verify.html",
        {"result": read, "report_no": report_no, "code": code},
        status_code=404 if result is not None and not result.found else 200,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/reports/verify", include_in_schema=False)
def verify_start(request: Request, report_no: str = "", code: str = "") -> Response:
    if report_no.strip():
        target = f"/reports/verify/{quote(report_no.strip())}"
        return RedirectResponse(target + (f"?code={quote(code.strip())}" if code.strip() else ""), status_code=303)
    return _verify_page(request, None, "")


@router.get("/reports/verify/{report_no}", include_in_schema=False)
def verify_page(
    request: Request, session: SessionDep, report_no: str, code: Annotated[str, Query(max_length=32)] = ""
) -> Response:
    result = service.verify(session=session, report_no=report_no, code=code or None)
    return _verify_page(request, result, report_no, code)


@router.post("/reports/verify/{report_no}", include_in_schema=False)
async def verify_upload_page(
    request: Request,
    session: SessionDep,
    report_no: str,
    file: Annotated[UploadFile, File()],
    code: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    data = await _read_upload(file)

    def verify() -> Response:
        result = service.verify(session=session, report_no=report_no, code=code or None, file_data=data)
        return _verify_page(request, result, report_no, code)

    return await in_thread(verify)


# ---- issuing -------------------------------------------------------------------------------------------------------


def _issuer(actor: Actor | None, account: OptionalAccount) -> tuple[Actor, str]:
    """Who asks for a report: an API key, or a signed-in account (credit office, or a subject for itself)."""
    if actor is not None:
        return actor, "office" if actor.role in service.OFFICE_ROLES else "api"
    if account is not None:
        who = actor_of(account)
        return who, "office" if who.role in service.OFFICE_ROLES else "portal"
    raise Unauthenticated("出具信用报告需要 API 密钥或登录：请在请求头中提供 Authorization: Bearer <密钥>")


@router.post(
    "/api/v1/reports",
    summary="出具信用报告（PDF 或 HTML 文件）",
    description=(
        "信用办（API 密钥或登录账号，角色 admin / credit_office）依申请为任一主体出具；信用主体账号只能为本主体出具。"
        "响应为文件本身，报告编号在响应头 `X-Report-No`。每次出具记入审计日志并登记文件散列。"
    ),
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}, "text/html": {}}, "description": "报告文件"}},
)
def issue_api(body: ReportCreate, session: SessionDep, actor: OptionalActor, account: OptionalAccount) -> Response:
    who, channel = _issuer(actor, account)
    issued = service.issue(
        session=session, code=body.code, kind=body.kind, actor=who, channel=channel, file_format=body.format,
        period_from=body.period_from, period_to=body.period_to, domains=body.domains or None,
    )  # fmt: skip
    return _download(issued)


def _own_subject(account: OptionalAccount) -> int:
    if account is None:
        raise Unauthenticated("请先登录")
    if account.role != Role.SUBJECT.value or account.subject_id is None:
        raise Forbidden("只有绑定了信用主体的账号可以下载本主体的信用报告")
    return account.subject_id


def _own_page(request: Request, session: SessionDep, subject_id: RowId, error: str | None = None) -> Response:
    from xinyong.subjects.models import Subject

    subject = session.get(Subject, subject_id)
    if subject is None:
        raise Forbidden("账号绑定的信用主体不存在")
    response = render(
        request,
        "reports/own.html",
        {
            "subject": subject,
            "reports": service.reports_of(session=session, subject_id=subject_id),
            "kind_labels": {k.value: v for k, v in REPORT_KIND_LABELS.items()},
            "domains": list(domain_catalog().domains.values()),
            "default_from": service.default_period_from(clock.today()),
            "error": error,
        },
        status_code=422 if error else 200,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@router.get("/me/reports", include_in_schema=False)
def own_reports(request: Request, session: SessionDep, account: OptionalAccount) -> Response:
    if account is None:
        return RedirectResponse("/login?next=/me/reports", status_code=303)
    return _own_page(request, session, _own_subject(account))


def _form_date(value: str, label: str) -> dt.date | None:
    if not value.strip():
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"{label}：日期格式应为 YYYY-MM-DD") from None


@router.post("/me/reports", include_in_schema=False)
def own_report_issue(
    request: Request,
    session: SessionDep,
    account: OptionalAccount,
    csrf: Annotated[str, Form()],
    kind: Annotated[str, Form()] = "public",
    period_from: Annotated[str, Form()] = "",
    period_to: Annotated[str, Form()] = "",
    domain: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """A subject downloads its own report, free of charge."""
    subject_id = _own_subject(account)
    assert account is not None
    if not hmac.compare_digest(csrf_token(request), csrf):
        raise Forbidden("表单已过期，请刷新页面后重试")
    from xinyong.subjects.models import Subject

    subject = session.get(Subject, subject_id)
    assert subject is not None
    try:
        issued = service.issue(
            session=session, code=subject_ref(subject), kind=kind, actor=actor_of(account), channel="portal",
            period_from=_form_date(period_from, "报告期间起"), period_to=_form_date(period_to, "报告期间止"),
            domains=domain or None,
        )  # fmt: skip
    except InvalidInput as exc:
        return _own_page(request, session, subject_id, error=exc.message)
    return _download(issued)
