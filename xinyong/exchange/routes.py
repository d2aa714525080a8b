"""Exchange API: the change feed and webhooks, department pull, authorised queries and the subject's own grants."""

from __future__ import annotations

import datetime as dt
import hmac
from typing import Annotated, Any

from fastapi import Form, Path, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from xinyong.accounts import service as accounts
from xinyong.accounts.models import Role
from xinyong.accounts.web import OptionalAccount, actor_of
from xinyong.audit.service import Actor
from xinyong.core.deps import SessionDep, _bearer
from xinyong.core.errors import Forbidden, Unauthenticated
from xinyong.core.routing import APIRouter
from xinyong.core.types import Cursor, RowId
from xinyong.disclosure import Viewer
from xinyong.exchange import authorised, feed, subscribers
from xinyong.exchange.models import Subscriber, SubscriberKind, WebhookDelivery
from xinyong.subjects import profile as profiles
from xinyong.subjects.routes import profile_read
from xinyong.subjects.search import subject_ref
from xinyong.web import csrf
from xinyong.web.templating import render

router = APIRouter(tags=["共享交换"])

CodePath = Annotated[str, Path(description="统一社会信用代码、旧代码或门户编号")]
DEPARTMENT_ROLES = {Role.CHECKER.value, Role.SOURCE_UNIT.value}
OFFICE_ROLES = {Role.CREDIT_OFFICE.value, Role.ADMIN.value}


class FeedPageRead(BaseModel):
    items: list[dict[str, Any]]
    next_after: int = Field(description="下次请求的 after")
    has_more: bool
    viewer: str


class WebhookSet(BaseModel):
    url: str = Field(max_length=500, description="HTTPS 地址（开发环境可用本机回环 http://127.0.0.1:…）")
    after: Cursor | None = Field(default=None, description="从该游标之后开始推送（默认保持原游标）")


class Replay(BaseModel):
    after: Cursor = Field(description="从该游标之后重新推送")


class AuthorisationCreate(BaseModel):
    agency_id: RowId = Field(description="被授权机构（订阅方）编号")
    purpose: str = Field(min_length=1, max_length=200, description="查询用途")
    valid_to: dt.date = Field(description="授权截止日")
    valid_from: dt.date | None = None
    scope: list[str] = Field(default_factory=list, description="可查询的信息资源代码（空 = 全部）")


class PaperAuthorisationCreate(AuthorisationCreate):
    subject_code: str = Field(description="授权主体的代码")
    evidence: str = Field(min_length=1, max_length=200, description="书面授权书编号")


def _caller(request: Request, session: SessionDep) -> tuple[Subscriber | None, Actor, Viewer]:
    """A subscriber key, or a platform API key acting as its role's viewer."""
    key = _bearer(request)
    if key is None:
        raise Unauthenticated("需要订阅密钥或 API 密钥：Authorization: Bearer <密钥>")
    if subscribers.is_subscriber_key(key):
        subscriber = subscribers.authenticate(session=session, key=key)
        return subscriber, subscribers.actor_of(subscriber), subscribers.viewer_of(subscriber)
    actor = accounts.authenticate_key(session=session, key=key)
    if actor.role in OFFICE_ROLES:
        return None, actor, Viewer.credit_office()
    if actor.role in DEPARTMENT_ROLES:
        return None, actor, Viewer.shared()
    raise Forbidden(f"当前角色（{actor.role}）不能订阅变更")


def _subscriber(request: Request, session: SessionDep) -> Subscriber:
    subscriber, _, _ = _caller(request, session)
    if subscriber is None:
        raise Forbidden("推送设置需要订阅密钥（xinyong exchange subscriber add 签发）")
    return subscriber


@router.get(
    "/api/v1/feed",
    response_model=FeedPageRead,
    summary="变更订阅（按游标增量读取）",
    description="返回 after 之后的变更，逐条经公示规则按订阅方权限呈现：公众级只见依规公示信息，不再公示的记录以"
    "“withdraw”出现；政务共享部门见共享信息。next_after 为下次的游标（跳过的事件也已计入）。",
)
def read_feed(
    request: Request,
    session: SessionDep,
    after: Annotated[Cursor, Query(description="游标：上次返回的 next_after")] = 0,
    limit: Annotated[int, Query(ge=1, le=feed.MAX_LIMIT)] = 100,
) -> FeedPageRead:
    _, _, viewer = _caller(request, session)
    page = feed.read_feed(session=session, viewer=viewer, after=after, limit=limit)
    return FeedPageRead(items=page.items, next_after=page.next_after, has_more=page.has_more, viewer=viewer.kind.value)


@router.put("/api/v1/feed/webhook", summary="登记或更换推送地址；返回签名密钥（只显示一次）")
def set_webhook(request: Request, session: SessionDep, body: WebhookSet) -> dict[str, Any]:
    subscriber = _subscriber(request, session)
    secret = subscribers.set_webhook(
        session=session, actor=subscribers.actor_of(subscriber), subscriber=subscriber, url=body.url, after=body.after
    )
    return {"url": subscriber.webhook_url, "after": subscriber.webhook_after, "secret": secret}


@router.post("/api/v1/feed/webhook/replay", summary="从指定游标之后重新推送")
def replay(request: Request, session: SessionDep, body: Replay) -> dict[str, Any]:
    subscriber = _subscriber(request, session)
    subscribers.replay(session=session, actor=subscribers.actor_of(subscriber), subscriber=subscriber, after=body.after)
    return {"after": subscriber.webhook_after}


@router.get("/api/v1/feed/webhook/deliveries", summary="推送投递日志（最近 100 次尝试）")
def delivery_log(request: Request, session: SessionDep) -> dict[str, Any]:
    import sqlalchemy as sa

    subscriber = _subscriber(request, session)
    rows = session.scalars(
        sa.select(WebhookDelivery)
        .where(WebhookDelivery.subscriber_id == subscriber.id)
        .order_by(WebhookDelivery.id.desc())
        .limit(100)
    )
    return {
        "after": subscriber.webhook_after,
        "attempts": subscriber.attempts,
        "next_attempt_at": subscriber.next_attempt_at.isoformat() if subscriber.next_attempt_at else None,
        "items": [
            {
                "event_id": d.event_id,
                "attempt": d.attempt,
                "at": d.at.isoformat(),
                "ok": d.ok,
                "status_code": d.status_code,
                "error": d.error,
                "duration_ms": d.duration_ms,
            }
            for d in rows
        ],
    }


@router.get(
    "/api/v1/shared/subjects/{code}",
    summary="政务共享：部门按主体读取其有权使用的信息",
    description="部门 API 密钥（checker / source_unit）或政务共享部门的订阅密钥。每次读取记入审计日志。",
)
def shared_subject(request: Request, session: SessionDep, code: CodePath) -> Response:
    _, actor, viewer = _caller(request, session)
    if viewer.kind.value != "shared":
        raise Forbidden("政务共享接口仅限有共享权限的部门")
    found = profiles.profile(session=session, code=code, viewer=viewer, actor=actor)
    return JSONResponse(profile_read(found).model_dump(mode="json"), headers={"Cache-Control": "private, no-store"})


@router.get(
    "/api/v1/authorised/subjects/{code}",
    summary="授权查询：信用服务机构/金融机构在主体授权范围内读取非公开信息",
    description="机构订阅密钥；purpose 须与主体授权的用途一致；授权须在期限内且未撤销。"
    "每次读取记入审计日志，主体可查。",
)
def authorised_subject(
    request: Request,
    session: SessionDep,
    code: CodePath,
    purpose: Annotated[str, Query(min_length=1, max_length=200, description="查询用途")],
) -> Response:
    subscriber, _, _ = _caller(request, session)
    if subscriber is None or subscriber.kind != SubscriberKind.AGENCY:
        raise Forbidden("授权查询仅限信用服务机构或金融机构的订阅密钥")
    read = authorised.authorised_read(session=session, agency=subscriber, code=code, purpose=purpose)
    body = profile_read(read.profile).model_dump(mode="json") | {
        "authorisation": authorised.authorisation_view(read.authorisation, subscriber.name)
    }
    return JSONResponse(body, headers={"Cache-Control": "private, no-store"})


@router.post("/api/v1/authorisations", status_code=201, summary="信用办录入书面授权")
def paper_authorisation(request: Request, session: SessionDep, body: PaperAuthorisationCreate) -> dict[str, Any]:
    _, actor, _ = _caller(request, session)
    if actor.role not in OFFICE_ROLES:
        raise Forbidden("书面授权由信用办录入")
    from xinyong.subjects.search import find_by_code

    subject = find_by_code(session=session, code=body.subject_code)
    if subject is None:
        from xinyong.core.errors import NotFound

        raise NotFound(f"未找到代码为 {body.subject_code} 的信用主体")
    row = authorised.grant(
        session=session,
        actor=actor,
        subject_id=subject.id,
        subscriber_id=body.agency_id,
        purpose=body.purpose,
        valid_from=body.valid_from,
        valid_to=body.valid_to,
        scope=body.scope,
        method="paper",
        evidence=body.evidence,
    )
    return authorised.authorisation_view(row)


# --- the subject's own authorisations and the reads made under them ------------------------------------------------


def _own(account: OptionalAccount) -> Actor:
    if account is None:
        raise Unauthenticated("请先登录")
    if account.role != Role.SUBJECT.value or account.subject_id is None:
        raise Forbidden("只有绑定了信用主体的账号可以管理授权")
    return actor_of(account)


def _own_view(session: SessionDep, actor: Actor) -> dict[str, Any]:
    import sqlalchemy as sa

    assert actor.subject_id is not None
    rows = authorised.authorisations(session=session, subject_id=actor.subject_id)
    names = {row.id: row.name for row in session.execute(sa.select(Subscriber.id, Subscriber.name))}
    agencies = session.scalars(
        sa.select(Subscriber).where(Subscriber.kind == SubscriberKind.AGENCY, Subscriber.active.is_(True))
    ).all()
    return {
        "authorisations": [authorised.authorisation_view(r, names.get(r.subscriber_id)) for r in rows],
        "reads": authorised.reads_of(session=session, subject_id=actor.subject_id),
        "agencies": [{"id": a.id, "name": a.name, "uscc": a.uscc} for a in agencies],
    }


@router.get("/api/v1/me/authorisations", summary="本主体的授权及在授权下被查询的记录")
def own_authorisations(session: SessionDep, account: OptionalAccount) -> JSONResponse:
    view = _own_view(session, _own(account))
    return JSONResponse(view, headers={"Cache-Control": "private, no-store"})


@router.post("/api/v1/me/authorisations", status_code=201, summary="信用主体授权机构查询本主体非公开信息")
def own_grant(session: SessionDep, account: OptionalAccount, body: AuthorisationCreate) -> dict[str, Any]:
    actor = _own(account)
    assert actor.subject_id is not None
    row = authorised.grant(
        session=session,
        actor=actor,
        subject_id=actor.subject_id,
        subscriber_id=body.agency_id,
        purpose=body.purpose,
        valid_from=body.valid_from,
        valid_to=body.valid_to,
        scope=body.scope,
    )
    return authorised.authorisation_view(row)


@router.delete("/api/v1/me/authorisations/{authorisation_id}", summary="撤销授权")
def own_revoke(session: SessionDep, account: OptionalAccount, authorisation_id: RowId) -> dict[str, Any]:
    row = authorised.revoke(session=session, actor=_own(account), authorisation_id=authorisation_id)
    return authorised.authorisation_view(row)


def _csrf(request: Request) -> str:
    return csrf.csrf_token(request)


@router.get("/me/authorisations", include_in_schema=False)
def own_page(request: Request, session: SessionDep, account: OptionalAccount) -> Response:
    if account is None:
        return RedirectResponse("/login?next=/me/authorisations", status_code=303)
    actor = _own(account)
    from xinyong.subjects.models import Subject

    subject = session.get(Subject, actor.subject_id)
    context = _own_view(session, actor) | {
        "subject_code": subject_ref(subject) if subject else "",
        "form_token": _csrf(request),
    }
    page = render(request, "exchange/authorisations.html", context)
    page.headers["Cache-Control"] = "private, no-store"
    return page


@router.post("/me/authorisations", include_in_schema=False)
def own_page_action(
    request: Request,
    session: SessionDep,
    account: OptionalAccount,
    csrf: Annotated[str, Form()],
    action: Annotated[str, Form()],
    agency_id: Annotated[RowId | None, Form()] = None,
    purpose: Annotated[str, Form()] = "",
    valid_to: Annotated[dt.date | None, Form()] = None,
    scope: Annotated[str, Form()] = "",
    authorisation_id: Annotated[RowId | None, Form()] = None,
) -> Response:
    actor = _own(account)
    if not hmac.compare_digest(_csrf(request), csrf):
        raise Forbidden("表单已过期，请刷新页面后重试")
    if action == "revoke" and authorisation_id is not None:
        authorised.revoke(session=session, actor=actor, authorisation_id=authorisation_id)
    elif action == "grant" and agency_id is not None and valid_to is not None:
        assert actor.subject_id is not None
        authorised.grant(
            session=session,
            actor=actor,
            subject_id=actor.subject_id,
            subscriber_id=agency_id,
            purpose=purpose,
            valid_to=valid_to,
            scope=[s.strip() for s in scope.replace("，", ",").split(",") if s.strip()],
        )
    else:
        raise Forbidden("无法识别的操作")
    return RedirectResponse("/me/authorisations", status_code=303)
