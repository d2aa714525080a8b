"""The public website (信用门户) and its JSON twins: pages call the same services as the API, templates stay dumb."""

from __future__ import annotations

import datetime as dt
import hmac
from typing import Annotated

from fastapi import Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from xinyong.accounts.models import Role
from xinyong.accounts.web import COOKIE, SESSION_HOURS, OptionalAccount, actor_of, session_token, sign_in
from xinyong.core import clock
from xinyong.core.deps import SessionDep
from xinyong.core.errors import Forbidden, InvalidInput, Unauthenticated
from xinyong.core.routing import APIRouter
from xinyong.core.settings import get_settings
from xinyong.core.types import RowId
from xinyong.disclosure import Viewer, get_rules
from xinyong.portal import articles
from xinyong.portal import publicity as publicity_service
from xinyong.portal.fairuse import fair_use
from xinyong.portal.models import ARTICLE_CATEGORY_LABELS, ArticleCategory
from xinyong.portal.schemas import PublicityItem, PublicityPageRead
from xinyong.records.models import SEVERITY_LABELS
from xinyong.subjects import profile as profiles
from xinyong.subjects import search as searching
from xinyong.subjects.routes import profile_read
from xinyong.subjects.schemas import SubjectProfileRead
from xinyong.web import csrf
from xinyong.web.caching import conditional, conditional_json
from xinyong.web.templating import render

router = APIRouter(tags=["信用门户"])
FairUse = [Depends(fair_use)]
EDITOR_ROLES = (Role.ADMIN.value, Role.CREDIT_OFFICE.value)


def _html(request: Request, name: str, context: dict[str, object], *, private: bool = False) -> Response:
    page = render(request, name, context)
    return conditional(
        request,
        bytes(page.body),
        "text/html; charset=utf-8",
        cache="private, no-store" if private else "public, max-age=60",
    )


def _date(value: str | None, label: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"{label}：日期格式应为 YYYY-MM-DD") from None


# ---- home, search, subject -------------------------------------------------------------------------------------


@router.get("/", include_in_schema=False)
def home(request: Request, session: SessionDep, account: OptionalAccount) -> Response:
    return _html(
        request,
        "portal/home.html",
        {
            "figures": publicity_service.figures(session=session),
            "penalties": publicity_service.latest(session=session, kind="penalties", page_size=6),
            "licenses": publicity_service.latest(session=session, kind="licenses", page_size=6),
            "news": articles.listing(session=session, page_size=5)[0],
            "category_labels": ARTICLE_CATEGORY_LABELS,
        },
        private=account is not None,
    )


@router.get("/search", include_in_schema=False, dependencies=FairUse)
def search_page(
    request: Request,
    session: SessionDep,
    account: OptionalAccount,
    q: Annotated[str, Query(max_length=100)] = "",
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
) -> Response:
    result = searching.search(session=session, q=q, page=page, page_size=20) if q.strip() else None
    return _html(request, "portal/search.html", {"q": q, "result": result}, private=account is not None)


@router.get("/subjects/{code}", include_in_schema=False, dependencies=FairUse)
def subject_page(request: Request, session: SessionDep, code: str, account: OptionalAccount) -> Response:
    found = profiles.profile(session=session, code=code, viewer=Viewer.public())
    return _html(request, "portal/subject.html", {"profile": found, "own": False}, private=account is not None)


# ---- 双公示 ------------------------------------------------------------------------------------------------------


def _publicity(
    session: SessionDep,
    kind: str,
    unit: str | None,
    category: str | None,
    date_from: str | None,
    date_to: str | None,
    page: int,
    page_size: int = 20,
) -> publicity_service.PublicityPage:
    return publicity_service.latest(
        session=session,
        kind=kind,
        unit=unit or None,
        category=category or None,
        date_from=_date(date_from, "起始日期"),
        date_to=_date(date_to, "截止日期"),
        page=page,
        page_size=page_size,
    )


@router.get("/publicity/{kind}", include_in_schema=False, dependencies=FairUse)
def publicity_page(
    request: Request,
    session: SessionDep,
    kind: str,
    account: OptionalAccount,
    unit: str | None = None,
    category: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
) -> Response:
    listing = _publicity(session, kind, unit, category, date_from, date_to, page)
    return _html(
        request,
        "portal/publicity.html",
        {
            "listing": listing,
            "units": publicity_service.units(session=session),
            "categories": publicity_service.categories(kind),
            "filters": {
                "unit": unit or "",
                "category": category or "",
                "date_from": date_from or "",
                "date_to": date_to or "",
            },
        },
        private=account is not None,
    )


@router.get(
    "/api/v1/publicity/{kind}",
    response_model=PublicityPageRead,
    dependencies=FairUse,
    summary="双公示：最新公示的行政许可（licenses）或行政处罚（penalties）",
    description="按决定日期倒序（同日按编号），可按信息提供单位（统一社会信用代码）、类别、决定日期范围筛选。",
)
def publicity_api(
    request: Request,
    session: SessionDep,
    kind: str,
    unit: Annotated[str | None, Query(description="信息提供单位统一社会信用代码")] = None,
    category: Annotated[str | None, Query(description="处罚类别代码（01–14）或许可类别（普通、特许…）")] = None,
    date_from: Annotated[str | None, Query(description="决定日期起（YYYY-MM-DD）")] = None,
    date_to: Annotated[str | None, Query(description="决定日期止（YYYY-MM-DD）")] = None,
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Response:
    listing = _publicity(session, kind, unit, category, date_from, date_to, page, page_size)
    return conditional_json(
        request,
        PublicityPageRead(
            kind=listing.kind,
            total=listing.total,
            total_capped=listing.capped,
            page=listing.page,
            page_size=listing.page_size,
            items=[
                PublicityItem(
                    id=e.record.id,
                    resource=e.resource.code,
                    doc_no=e.record.doc_no,
                    subject_name=e.record.subject_name,
                    subject_code=e.subject_code,
                    decision_date=e.record.decision_date,
                    valid_from=e.record.valid_from,
                    valid_to=e.record.valid_to,
                    severity_label=SEVERITY_LABELS.get(e.record.severity) if e.record.severity else None,  # type: ignore[call-overload]
                    source_unit=e.unit_name,
                    published_until=e.decision.published_until,
                    objection_mark=e.decision.mark,
                    fields=dict(e.fields),
                )
                for e in listing.items
            ],
        ),
    )


# ---- rules, articles -------------------------------------------------------------------------------------------


@router.get("/rules", include_in_schema=False)
def rules_page(request: Request) -> Response:
    return _html(request, "portal/rules.html", {"rules": get_rules()})


@router.get("/articles/{category}", include_in_schema=False)
def articles_page(
    request: Request, session: SessionDep, category: str, page: Annotated[int, Query(ge=1, le=1000)] = 1
) -> Response:
    cat = articles.parse_category(category)
    rows, total = articles.listing(session=session, category=cat, page=page)
    return _html(
        request,
        "portal/articles.html",
        {"category": cat, "label": ARTICLE_CATEGORY_LABELS[cat], "rows": rows, "total": total, "page": page},
    )


@router.get("/articles/{category}/{article_id}", include_in_schema=False)
def article_page(request: Request, session: SessionDep, category: str, article_id: RowId) -> Response:
    article = articles.get(session=session, article_id=article_id)
    cat = ArticleCategory(article.category)
    return _html(request, "portal/article.html", {"article": article, "label": ARTICLE_CATEGORY_LABELS[cat]})


# ---- sign-in, own record, editor -------------------------------------------------------------------------------


csrf_token = csrf.csrf_token  # one mechanism for every form (xinyong/web/csrf.py)


def _check_csrf(request: Request, token: str) -> None:
    if not hmac.compare_digest(csrf_token(request), token):
        raise Forbidden("表单已过期，请刷新页面后重试")


@router.get("/login", include_in_schema=False)
def login_form(request: Request, next: str = "") -> Response:
    return render(request, "portal/login.html", {"next": next, "error": None})


@router.post("/login", include_in_schema=False)
def login(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "",
) -> Response:
    try:
        account = sign_in(session=session, username=username.strip(), password=password)
    except Unauthenticated as exc:
        return render(request, "portal/login.html", {"next": next, "error": exc.message}, status_code=401)
    target = next if next.startswith("/") and not next.startswith("//") else ""
    if not target:
        target = "/admin/articles" if account.role in EDITOR_ROLES else "/me"
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE, session_token(account), max_age=SESSION_HOURS * 3600, httponly=True, samesite="lax",
        secure=get_settings().env == "production" or get_settings().public_url.startswith("https://"),
    )  # fmt: skip
    return response


@router.post("/logout", include_in_schema=False)
@router.get("/logout", include_in_schema=False)
def logout() -> Response:
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(COOKIE)
    return response


def _own_subject_code(session: SessionDep, account: OptionalAccount) -> tuple[str, Viewer]:
    if account is None:
        raise Unauthenticated("请先登录")
    if account.role != Role.SUBJECT.value or account.subject_id is None:
        raise Forbidden("只有绑定了信用主体的账号可以查看本主体的全部信息")
    from xinyong.subjects.models import Subject

    subject = session.get(Subject, account.subject_id)
    if subject is None:
        raise Forbidden("账号绑定的信用主体不存在")
    return searching.subject_ref(subject), Viewer.subject(subject.id)


@router.get("/me", include_in_schema=False)
def own_page(request: Request, session: SessionDep, account: OptionalAccount) -> Response:
    if account is None:
        return RedirectResponse("/login?next=/me", status_code=303)
    code, viewer = _own_subject_code(session, account)
    found = profiles.profile(session=session, code=code, viewer=viewer, actor=actor_of(account))
    return render(request, "portal/subject.html", {"profile": found, "own": True})


@router.get(
    "/api/v1/me",
    response_model=SubjectProfileRead,
    summary="本主体的全部信用信息（含不公示的），每条附是否公示、理由与期限",
    description="需以信用主体账号登录（会话 Cookie）。每次查询记入审计日志。",
)
def own_api(request: Request, session: SessionDep, account: OptionalAccount) -> Response:
    code, viewer = _own_subject_code(session, account)
    assert account is not None
    found = profiles.profile(session=session, code=code, viewer=viewer, actor=actor_of(account))
    return conditional_json(request, profile_read(found), cache="private, no-store")


def _editor(account: OptionalAccount) -> None:
    if account is None:
        raise Unauthenticated("请先登录")
    if account.role not in EDITOR_ROLES:
        raise Forbidden("只有信用办工作人员可以编辑文章")


@router.get("/admin/articles", include_in_schema=False)
def editor_list(request: Request, session: SessionDep, account: OptionalAccount) -> Response:
    if account is None:
        return RedirectResponse("/login?next=/admin/articles", status_code=303)
    _editor(account)
    rows, total = articles.listing(session=session, include_drafts=True, page_size=100)
    return render(request, "portal/editor_list.html", {"rows": rows, "total": total, "labels": ARTICLE_CATEGORY_LABELS})


@router.get("/admin/articles/new", include_in_schema=False)
@router.get("/admin/articles/{article_id}/edit", include_in_schema=False)
def editor_form(
    request: Request, session: SessionDep, account: OptionalAccount, article_id: RowId | None = None
) -> Response:
    _editor(account)
    article = articles.get(session=session, article_id=article_id, include_drafts=True) if article_id else None
    return render(
        request, "portal/editor_form.html", {"article": article, "labels": ARTICLE_CATEGORY_LABELS, "error": None}
    )


@router.post("/admin/articles/new", include_in_schema=False)
@router.post("/admin/articles/{article_id}/edit", include_in_schema=False)
def editor_save(
    request: Request,
    session: SessionDep,
    account: OptionalAccount,
    category: Annotated[str, Form()],
    title: Annotated[str, Form()],
    body: Annotated[str, Form()],
    csrf: Annotated[str, Form()],
    source: Annotated[str, Form()] = "",
    published_on: Annotated[str, Form()] = "",
    published: Annotated[str, Form()] = "",
    article_id: RowId | None = None,
) -> Response:
    _editor(account)
    assert account is not None
    _check_csrf(request, csrf)
    actor = actor_of(account)
    try:
        cat = articles.parse_category(category)
        day = _date(published_on, "发布日期")
        if article_id is None:
            saved = articles.create(
                session=session, actor=actor, category=cat, title=title, body=body, source=source,
                published_on=day, published=bool(published),
            )  # fmt: skip
        else:
            saved = articles.update(
                session=session, actor=actor, article_id=article_id, category=cat, title=title, body=body,
                source=source, published_on=day or clock.today(), published=bool(published),
            )  # fmt: skip
    except InvalidInput as exc:
        return render(
            request,
            "portal/editor_form.html",
            {"article": None, "labels": ARTICLE_CATEGORY_LABELS, "error": exc.message,
             "draft": {"category": category, "title": title, "body": body, "source": source}},
            status_code=422,
        )  # fmt: skip
    return RedirectResponse(f"/admin/articles?saved={saved.id}", status_code=303)
