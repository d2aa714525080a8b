"""Signing in to the website: an argon2-checked password and a signed, expiring session cookie.

The cookie holds only the account id and an expiry, signed with HMAC-SHA256 under XINYONG_SECRET_KEY; the account is
re-read on every request, so deactivating it takes effect at once.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from xinyong.accounts import service as accounts
from xinyong.accounts.models import Account, Role
from xinyong.audit.service import Actor
from xinyong.core import clock
from xinyong.core.deps import SessionDep
from xinyong.core.errors import Forbidden, Unauthenticated
from xinyong.core.settings import get_settings
from xinyong.web import csrf

COOKIE = csrf.COOKIE
SESSION_HOURS = 8
MAX_FAILURES = 5
LOCK_MINUTES = 15


def _sign(body: bytes) -> str:
    return hmac.new(get_settings().secret_key.encode(), body, hashlib.sha256).hexdigest()


def session_token(account: Account, *, hours: int = SESSION_HOURS) -> str:
    expires = int((clock.now() + dt.timedelta(hours=hours)).timestamp())
    body = base64.urlsafe_b64encode(json.dumps({"a": account.id, "e": expires}).encode())
    return f"{body.decode()}.{_sign(body)}"


def account_id_from_token(token: str) -> int | None:
    body, _, signature = token.partition(".")
    if not hmac.compare_digest(_sign(body.encode()), signature):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(body.encode()))
    except (ValueError, TypeError):
        return None
    if int(data.get("e", 0)) < clock.now().timestamp():
        return None
    return int(data["a"])


def sign_in(*, session: Session, username: str, password: str) -> Account:
    """Check a password; repeated failures lock the account for a while."""
    account = session.scalar(sa.select(Account).where(Account.username == username))
    failure = Unauthenticated("用户名或密码错误")
    if account is None or not account.active or account.password_hash is None:
        raise failure
    now = clock.now()
    if account.locked_until is not None and account.locked_until > now:
        raise Unauthenticated(f"登录失败次数过多，账号已锁定至 {account.locked_until.astimezone(clock.CHINA):%H:%M}")
    if not accounts.verify_password(account.password_hash, password):
        account.failed_logins += 1
        if account.failed_logins >= MAX_FAILURES:
            account.locked_until = now + dt.timedelta(minutes=LOCK_MINUTES)
            account.failed_logins = 0
        session.flush()
        raise failure
    account.failed_logins = 0
    account.locked_until = None
    session.flush()
    return account


def account_of(request: Request, session: Session) -> Account | None:
    """The active account the request's session cookie names, if any (read from the database)."""
    token = request.cookies.get(COOKIE)
    account_id = account_id_from_token(token) if token else None
    account = session.get(Account, account_id) if account_id else None
    if account is not None and not account.active:
        account = None
    request.state.account = account
    return account


async def optional_account(request: Request, session: SessionDep) -> Account | None:
    # async: without a cookie there is nothing to read, and a plain def would cost the request a hop to the thread
    # pool anyway (every public page has this dependency).
    if not request.cookies.get(COOKIE):
        request.state.account = None
        return None
    return await run_in_threadpool(account_of, request, session)


async def require_account(account: Annotated[Account | None, Depends(optional_account)]) -> Account:
    if account is None:
        raise Unauthenticated("请先登录")
    return account


OptionalAccount = Annotated[Account | None, Depends(optional_account)]
CurrentAccount = Annotated[Account, Depends(require_account)]


def actor_of(account: Account) -> Actor:
    return Actor(
        name=account.username,
        role=account.role,
        account_id=account.id,
        unit_id=account.unit_id,
        subject_id=account.subject_id,
        region=account.region,
    )


def require_account_role(account: Account, *roles: Role) -> None:
    if account.role not in {r.value for r in roles}:
        raise Forbidden("当前账号无权访问此页面")
