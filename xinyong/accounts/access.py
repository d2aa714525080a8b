"""Who may call what: the access matrix, one row per route of the application, enforced in one place.

Every route (method + path template) of ``create_app()`` has a row here naming the roles that may call it, the
credential that counts (an API key, the website's session cookie, or either) and the scope rule the route applies on
top (a source unit sees only its own batches, a subject only itself). ``enforce`` runs before every route — before the
body is even validated — and refuses a caller whose role is not in the row; a route missing from the matrix is refused
to everybody (fail closed), and ``tests/security/test_access_matrix.py`` fails until the row is added.

The routes keep their own checks as a second line (and apply the scopes, which need the rows they read).
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

from fastapi import FastAPI, HTTPException, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.routing import Route

from xinyong.accounts.models import ROLE_LABELS, Role
from xinyong.core.database import session_scope
from xinyong.core.deps import SessionDep, get_session, key_actor
from xinyong.core.errors import Forbidden, Unauthenticated

ANONYMOUS = "anonymous"
ROLES: tuple[str, ...] = (ANONYMOUS, *(r.value for r in (Role.SUBJECT, Role.SOURCE_UNIT, Role.CHECKER)),
                          Role.CREDIT_OFFICE.value, Role.ADMIN.value)  # fmt: skip


class Channel(enum.StrEnum):
    PUBLIC = "public"  # no credential needed
    KEY = "key"  # Authorization: Bearer <API key>
    COOKIE = "cookie"  # the website's signed session cookie (pages, /me)
    ANY = "any"  # either; a Bearer key wins when both are sent


class Scope(enum.StrEnum):
    NONE = "none"
    UNIT = "unit"  # a source unit sees only its own batches / records
    SUBJECT = "subject"  # a subject sees and acts only on itself
    REGION = "region"  # staff with a region see only their region
    OWN = "own"  # a subject sees only its own applications, a source unit those about its own records, the office all


@dataclass(frozen=True)
class Rule:
    roles: frozenset[str]
    channel: Channel
    scope: Scope = Scope.NONE
    subscribers: bool = False  # exchange subscriber keys (xy_sub_…) are also accepted; the route checks their kind

    def allows(self, role: str) -> bool:
        return role in self.roles


def _rule(roles: str, channel: Channel, scope: Scope = Scope.NONE, *, subscribers: bool = False) -> Rule:
    codes = {"A": ANONYMOUS, "S": "subject", "U": "source_unit", "C": "checker", "O": "credit_office", "D": "admin"}
    return Rule(frozenset(codes[c] for c in roles), channel, scope, subscribers)


PUBLIC = _rule("ASUCOD", Channel.PUBLIC)
STAFF_PAGE = _rule("OD", Channel.COOKIE, Scope.REGION)  # console, dashboard, article editor
CLERK_PAGE = _rule("COD", Channel.COOKIE)  # the service hall's check pages
OWN_PAGE = _rule("S", Channel.COOKIE, Scope.SUBJECT)  # a subject's own record, reports, authorisations
ANY_KEY = _rule("SUCOD", Channel.KEY)
CHECKER_KEY = _rule("COD", Channel.KEY)
OFFICE_KEY = _rule("OD", Channel.KEY)
BATCH_READ = _rule("UOD", Channel.KEY, Scope.UNIT)
SUBSCRIBER_ONLY = _rule("", Channel.KEY, subscribers=True)
OWN_API = _rule("S", Channel.ANY, Scope.SUBJECT)  # a subject's own applications, by key or cookie
OFFICE_ANY = _rule("OD", Channel.ANY)
UNIT_ANY = _rule("UOD", Channel.ANY, Scope.UNIT)  # the unit that owns the record (the office may act for it)
RIGHTS_READ = _rule("SUOD", Channel.ANY, Scope.OWN)
RIGHTS_DESK = _rule("UOD", Channel.COOKIE, Scope.UNIT)  # the handling pages of the office and the source unit

# (method, path template) → rule. HEAD follows GET.
ACCESS: dict[tuple[str, str], Rule] = {
    # FastAPI's own documentation pages
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/docs/oauth2-redirect"): PUBLIC,
    ("GET", "/redoc"): PUBLIC,
    # subjects (public search and profile; a key with more rights sees more, audited)
    ("GET", "/api/v1/subjects"): PUBLIC,
    ("GET", "/api/v1/subjects/{code}"): PUBLIC,
    # collection
    ("POST", "/api/v1/batches/{resource}"): _rule("U", Channel.KEY, Scope.UNIT),
    ("GET", "/api/v1/batches"): BATCH_READ,
    ("GET", "/api/v1/batches/{batch_id}"): BATCH_READ,
    ("GET", "/api/v1/batches/{batch_id}/rejects"): BATCH_READ,
    # portal
    ("GET", "/"): PUBLIC,
    ("GET", "/search"): PUBLIC,
    ("GET", "/subjects/{code}"): PUBLIC,
    ("GET", "/publicity/{kind}"): PUBLIC,
    ("GET", "/api/v1/publicity/{kind}"): PUBLIC,
    ("GET", "/rules"): PUBLIC,
    ("GET", "/articles/{category}"): PUBLIC,
    ("GET", "/articles/{category}/{article_id}"): PUBLIC,
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("GET", "/logout"): PUBLIC,
    ("POST", "/logout"): PUBLIC,
    ("GET", "/me"): OWN_PAGE,
    ("GET", "/api/v1/me"): OWN_PAGE,
    ("GET", "/admin/articles"): STAFF_PAGE,
    ("GET", "/admin/articles/new"): STAFF_PAGE,
    ("GET", "/admin/articles/{article_id}/edit"): STAFF_PAGE,
    ("POST", "/admin/articles/new"): STAFF_PAGE,
    ("POST", "/admin/articles/{article_id}/edit"): STAFF_PAGE,
    # lists
    ("GET", "/api/v1/list-types"): ANY_KEY,
    ("PUT", "/api/v1/list-types/{code}/basis"): OFFICE_KEY,
    ("POST", "/api/v1/lists/entries"): OFFICE_KEY,
    ("GET", "/api/v1/lists/entries/{entry_id}"): OFFICE_KEY,
    ("POST", "/api/v1/lists/entries/{entry_id}/notice"): OFFICE_KEY,
    ("POST", "/api/v1/lists/entries/{entry_id}/listing"): OFFICE_KEY,
    ("POST", "/api/v1/lists/entries/{entry_id}/removal"): OFFICE_KEY,
    ("POST", "/api/v1/lists/entries/{entry_id}/withdrawal"): OFFICE_KEY,
    ("POST", "/api/v1/lists/sync"): OFFICE_KEY,
    # checks
    ("POST", "/api/v1/checks"): CHECKER_KEY,
    ("GET", "/api/v1/checks/statistics"): CHECKER_KEY,
    ("GET", "/api/v1/checks/{check_id}"): CHECKER_KEY,
    ("POST", "/api/v1/checks/{check_id}/feedback"): CHECKER_KEY,
    ("POST", "/api/v1/checks/batches"): CHECKER_KEY,
    ("GET", "/api/v1/checks/batches/{batch_no}"): CHECKER_KEY,
    ("GET", "/api/v1/matters"): ANY_KEY,
    ("GET", "/api/v1/measures"): ANY_KEY,
    ("PUT", "/api/v1/measures/{code}/basis"): OFFICE_KEY,
    ("GET", "/checks"): CLERK_PAGE,
    ("POST", "/checks"): CLERK_PAGE,
    ("GET", "/checks/result/{check_no}"): CLERK_PAGE,
    ("POST", "/checks/result/{check_no}/feedback"): CLERK_PAGE,
    ("GET", "/checks/batch"): CLERK_PAGE,
    ("POST", "/checks/batch"): CLERK_PAGE,
    ("GET", "/checks/batch/{batch_no}.{format}"): CLERK_PAGE,
    # console (credit office and admins; staff with a region see their region)
    **{
        (method, path): STAFF_PAGE
        for method, path in (
            ("GET", "/console"),
            ("GET", "/console/catalog"),
            ("GET", "/console/catalog/{code}"),
            ("POST", "/console/catalog/{code}"),
            ("GET", "/console/lists"),
            ("POST", "/console/lists/behaviour"),
            ("POST", "/console/lists/application"),
            ("POST", "/console/lists/{kind}/{item_id}/retire"),
            ("GET", "/console/units"),
            ("POST", "/console/units/{unit_id}/grants"),
            ("GET", "/console/accounts"),
            ("POST", "/console/apikeys"),
            ("POST", "/console/apikeys/{prefix}/revoke"),
            ("GET", "/console/batches"),
            ("GET", "/console/batches/{batch_id}"),
            ("POST", "/console/batches/rows/{row_id}/raw"),
            ("GET", "/console/records"),
            ("GET", "/console/records/{record_id}"),
            ("GET", "/console/subjects"),
            ("GET", "/console/subjects/{subject_id}"),
            ("POST", "/console/subjects/{subject_id}/rename"),
            ("POST", "/console/subjects/{subject_id}/codes"),
            ("POST", "/console/subjects/{subject_id}/merge"),
            ("POST", "/console/merges/{merge_id}/undo"),
            ("GET", "/console/governance"),
            ("POST", "/console/governance/{issue_id}"),
            ("POST", "/console/governance-scan"),
            ("GET", "/console/dashboard"),
            ("GET", "/console/dashboard/summary.pdf"),
            ("GET", "/console/dashboard/{key}.{fmt}"),
        )
    },
    # evaluation: the explanation is for the office and the subject itself; 信易+ answers for checking departments
    ("GET", "/api/v1/evaluation/{code}"): _rule("SOD", Channel.KEY, Scope.SUBJECT),
    ("GET", "/api/v1/scenarios"): ANY_KEY,
    ("POST", "/api/v1/scenarios/{scenario}/check"): CHECKER_KEY,
    ("GET", "/api/v1/inspections/{campaign}"): PUBLIC,
    ("GET", "/api/v1/inspections/{campaign}/verify"): PUBLIC,
    # reports: verification is public; issuing is for the office, or a subject for itself
    ("GET", "/api/v1/reports/verify/{report_no}"): PUBLIC,
    ("POST", "/api/v1/reports/verify/{report_no}"): PUBLIC,
    ("GET", "/reports/verify"): PUBLIC,
    ("GET", "/reports/verify/{report_no}"): PUBLIC,
    ("POST", "/reports/verify/{report_no}"): PUBLIC,
    ("POST", "/api/v1/reports"): _rule("SOD", Channel.ANY, Scope.SUBJECT),
    ("GET", "/me/reports"): OWN_PAGE,
    ("POST", "/me/reports"): OWN_PAGE,
    # exchange
    ("GET", "/api/v1/feed"): _rule("UCOD", Channel.KEY, subscribers=True),
    ("PUT", "/api/v1/feed/webhook"): SUBSCRIBER_ONLY,
    ("POST", "/api/v1/feed/webhook/replay"): SUBSCRIBER_ONLY,
    ("GET", "/api/v1/feed/webhook/deliveries"): SUBSCRIBER_ONLY,
    ("GET", "/api/v1/shared/subjects/{code}"): _rule("UC", Channel.KEY, subscribers=True),
    ("GET", "/api/v1/authorised/subjects/{code}"): SUBSCRIBER_ONLY,
    ("POST", "/api/v1/authorisations"): OFFICE_KEY,
    ("GET", "/api/v1/me/authorisations"): OWN_PAGE,
    ("POST", "/api/v1/me/authorisations"): OWN_PAGE,
    ("DELETE", "/api/v1/me/authorisations/{authorisation_id}"): OWN_PAGE,
    ("GET", "/me/authorisations"): OWN_PAGE,
    ("POST", "/me/authorisations"): OWN_PAGE,
    # rights (issue 5). The API takes a key or the cookie. A subject files and follows only its own applications; the
    # credit office accepts, refuses, forwards, answers and decides; the source unit whose record it is verifies an
    # objection and gives its opinion on a repair (the office may act for a unit). Checkers have no part in it.
    ("GET", "/register"): PUBLIC,
    ("POST", "/register"): PUBLIC,
    ("POST", "/register/confirm"): PUBLIC,
    ("GET", "/me/rights"): OWN_PAGE,
    ("GET", "/api/v1/me/notices"): OWN_API,
    ("GET", "/api/v1/rights/due"): _rule("UOD", Channel.ANY, Scope.UNIT),
    ("GET", "/office/rights"): _rule("OD", Channel.COOKIE),
    ("POST", "/api/v1/objections"): OWN_API,
    ("GET", "/api/v1/objections"): RIGHTS_READ,
    ("GET", "/api/v1/objections/{objection_id}"): RIGHTS_READ,
    ("POST", "/api/v1/objections/{objection_id}/attachments"): OWN_API,
    ("POST", "/api/v1/objections/{objection_id}/accept"): OFFICE_ANY,
    ("POST", "/api/v1/objections/{objection_id}/refuse"): OFFICE_ANY,
    ("POST", "/api/v1/objections/{objection_id}/forward"): OFFICE_ANY,
    ("POST", "/api/v1/objections/{objection_id}/verify"): UNIT_ANY,
    ("POST", "/api/v1/objections/{objection_id}/answer"): OFFICE_ANY,
    ("GET", "/me/objections/new"): OWN_PAGE,
    ("POST", "/me/objections"): OWN_PAGE,
    ("GET", "/office/objections/{objection_id}"): RIGHTS_DESK,
    ("POST", "/office/objections/{objection_id}/{step}"): RIGHTS_DESK,  # the service checks the step's role
    ("GET", "/api/v1/repairs/eligibility"): RIGHTS_READ,
    ("POST", "/api/v1/repairs"): OWN_API,
    ("GET", "/api/v1/repairs"): RIGHTS_READ,
    ("GET", "/api/v1/repairs/{application_id}"): RIGHTS_READ,
    ("POST", "/api/v1/repairs/{application_id}/attachments"): OWN_API,
    ("POST", "/api/v1/repairs/{application_id}/accept"): OFFICE_ANY,
    ("POST", "/api/v1/repairs/{application_id}/decline"): OFFICE_ANY,
    ("POST", "/api/v1/repairs/{application_id}/opinion"): UNIT_ANY,
    ("POST", "/api/v1/repairs/{application_id}/approve"): OFFICE_ANY,
    ("POST", "/api/v1/repairs/{application_id}/refuse"): OFFICE_ANY,
    ("GET", "/me/repairs/new"): OWN_PAGE,
    ("POST", "/me/repairs"): OWN_PAGE,
    ("GET", "/office/repairs/{application_id}"): RIGHTS_DESK,
    ("POST", "/office/repairs/{application_id}/{step}"): RIGHTS_DESK,
    # commitments: the templates are public text; departments (and checkers, for 告知承诺制) read signed commitments;
    # only a department records fulfilment or breach (a breach becomes a record of that unit)
    ("GET", "/api/v1/commitment-templates"): PUBLIC,
    ("POST", "/api/v1/commitments"): OWN_API,
    ("GET", "/api/v1/commitments"): _rule("SUCOD", Channel.ANY, Scope.SUBJECT),
    ("POST", "/api/v1/commitments/{commitment_id}/fulfilment"): _rule("U", Channel.ANY, Scope.UNIT),
    # self-declarations: a subject declares; a department or the office reads and verifies
    ("POST", "/api/v1/declarations"): OWN_API,
    ("GET", "/api/v1/declarations"): _rule("SUOD", Channel.ANY, Scope.SUBJECT),
    ("POST", "/api/v1/declarations/{declaration_id}/verify"): _rule("UOD", Channel.ANY),
    # the list queue (console section of the lists domain)
    ("GET", "/console/list-queue"): STAFF_PAGE,
    ("POST", "/console/list-queue/{entry_id}/notice"): STAFF_PAGE,
    ("POST", "/console/list-queue/{entry_id}/listing"): STAFF_PAGE,
    ("POST", "/console/list-queue/{entry_id}/withdrawal"): STAFF_PAGE,
}

# Mounted file trees (not routes): public.
PUBLIC_MOUNTS = ("/static",)


def app_routes(app: FastAPI) -> Iterator[tuple[str, str]]:
    """Every (method, path template) the application answers, HEAD left out (it follows GET)."""
    from fastapi.routing import _IncludedRouter

    for route in app.routes:
        if isinstance(route, _IncludedRouter):
            for context in route.effective_route_contexts():
                for method in sorted(context.methods or ()):
                    yield method, context.path_format
        elif isinstance(route, Route):
            for method in sorted(route.methods or ()):
                if method != "HEAD":
                    yield method, route.path


def rule_for(method: str, path: str) -> Rule | None:
    return ACCESS.get(("GET" if method == "HEAD" else method, path))


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def caller_role(request: Request, session: SessionDep, channel: Channel) -> str | None:
    """The role the request's credential carries on ``channel``; None when it carries none (anonymous).

    A credential that is present but invalid (an unknown or revoked key) is refused outright.
    """
    from xinyong.accounts.web import account_of

    key = _bearer(request) if channel in (Channel.KEY, Channel.ANY) else None
    if key is not None:
        return key_actor(request, session, key).role
    if channel in (Channel.COOKIE, Channel.ANY):
        account = account_of(request, session)
        return account.role if account is not None else None
    return None


_SESSION_USE: dict[int, bool] = {}


def _uses_request_session(route: object) -> bool:
    key = id(route)
    if key not in _SESSION_USE:
        pending, found = list(getattr(getattr(route, "dependant", None), "dependencies", [])), False
        while pending and not found:
            dependant = pending.pop()
            found = dependant.call is get_session and dependant.name is not None
            pending.extend(dependant.dependencies)
        _SESSION_USE[key] = found
    return _SESSION_USE[key]


def _role_of(request: Request, session: Session, route: object, channel: Channel) -> str | None:
    if _uses_request_session(route):
        return caller_role(request, session, channel)
    # A route that runs its own transactions (collection streams a file in chunks) must not find the write lock
    # taken by the request's session: read the credential in a short read-only transaction of its own.
    with session_scope(request.app.state.engine) as own:
        return caller_role(request, own, channel)


async def enforce(request: Request, session: SessionDep) -> None:
    """The app-wide dependency: refuse a caller the matrix does not allow, before anything else runs.

    async: only reading a credential needs the database, so only then does it go to the thread pool; a public
    page or search passes without a hop."""
    route = request.scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    rule = rule_for(request.method, str(path)) if path else None
    if rule is None:
        raise Forbidden("该接口未列入访问控制矩阵，拒绝访问")
    if rule.allows(ANONYMOUS):
        return
    from xinyong.exchange import subscribers

    key = _bearer(request)
    if key is not None and rule.channel is not Channel.COOKIE and subscribers.is_subscriber_key(key):
        if rule.subscribers:
            return  # the route authenticates the subscriber and checks its kind
        raise Forbidden("订阅密钥无权访问此接口")
    role = await run_in_threadpool(_role_of, request, session, route, rule.channel)
    if role is None:
        if rule.channel is Channel.COOKIE and request.method == "GET" and not request.url.path.startswith("/api/"):
            # A browser is sent to the sign-in page and comes back afterwards.
            target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
            raise HTTPException(status_code=303, headers={"Location": f"/login?next={target}"})
        what = "API 密钥（Authorization: Bearer <密钥>）" if rule.channel is Channel.KEY else "登录"
        raise Unauthenticated(f"需要{what}")
    if not rule.allows(role):
        allowed = "、".join(ROLE_LABELS[Role(r)] for r in ROLES if r != ANONYMOUS and rule.allows(r))
        raise Forbidden(f"当前角色（{role}）无权访问此功能" + (f"（限{allowed}）" if allowed else ""))
