"""What the rights pages and API share: who is acting (an API key or a signed-in account), form tokens, views."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from xinyong.accounts.models import Account
from xinyong.accounts.web import COOKIE, OptionalAccount, account_id_from_token, actor_of
from xinyong.audit.service import Actor
from xinyong.core.deps import OptionalActor, get_session
from xinyong.core.errors import Forbidden, Unauthenticated
from xinyong.portal.routes import csrf_token
from xinyong.rights.deadlines import DueItem


def rights_actor(actor: OptionalActor, account: OptionalAccount) -> Actor:
    """An API key (source units' systems) or the session cookie (subjects, unit and office staff in the browser)."""
    if actor is not None:
        return actor
    if account is not None:
        return actor_of(account)
    raise Unauthenticated("请先登录（或在请求头中提供 Authorization: Bearer <密钥>）")


RightsActor = Annotated[Actor, Depends(rights_actor)]

# For form posts answered with a redirect: the transaction is committed before the response is sent, so the page
# the browser fetches next already sees the write (a request-scoped session would commit only after sending).
FormSession = Annotated[Session, Depends(get_session, scope="function")]


def form_account(request: Request, session: FormSession) -> Account | None:
    """The signed-in account, read in the form's own session (a second write session would wait for the first's
    lock on SQLite)."""
    token = request.cookies.get(COOKIE)
    account_id = account_id_from_token(token) if token else None
    account = session.get(Account, account_id) if account_id else None
    if account is not None and not account.active:
        account = None
    request.state.account = account
    return account


FormAccount = Annotated[Account | None, Depends(form_account)]


def check_form(request: Request, token: str) -> None:
    import hmac

    if not hmac.compare_digest(csrf_token(request), token):
        raise Forbidden("表单已过期，请刷新页面后重试")


def due_view(item: DueItem) -> dict[str, Any]:
    return {
        "kind": item.kind,
        "id": item.id,
        "no": item.no,
        "subject_id": item.subject_id,
        "source_unit_id": item.source_unit_id,
        "status": item.status,
        "status_label": item.status_label,
        "waiting_for": item.waiting_for,
        "step": item.step,
        "step_label": item.step_label,
        "due": item.due,
        "provisional": item.provisional,
        "overdue": item.overdue,
        "days_left": item.days_left,
    }
