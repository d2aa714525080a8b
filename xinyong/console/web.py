"""What every console page needs: a signed-in staff account, its region scope, a CSRF token and flash messages."""

from __future__ import annotations

import hmac
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request
from fastapi.responses import RedirectResponse

from xinyong.accounts.models import Account, Role
from xinyong.accounts.web import OptionalAccount, actor_of, require_account_role
from xinyong.audit.service import Actor
from xinyong.core.errors import Forbidden
from xinyong.web import csrf

STAFF_ROLES = (Role.ADMIN, Role.CREDIT_OFFICE)


async def staff_account(request: Request, account: OptionalAccount) -> Account:  # async: no I/O, no hop
    if account is None:
        # A browser is sent to the portal's sign-in page and comes back afterwards.
        target = quote(str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""))
        raise HTTPException(status_code=303, headers={"Location": f"/login?next={target}"})
    require_account_role(account, *STAFF_ROLES)
    return account


StaffAccount = Annotated[Account, Depends(staff_account)]


async def staff_actor(account: StaffAccount) -> Actor:
    return actor_of(account)


StaffActor = Annotated[Actor, Depends(staff_actor)]


# The app-wide dependency xinyong.web.csrf.verify already refused a wrong token; this second check stays for clarity.
csrf_token = csrf.csrf_token


def check_csrf(request: Request, token: str) -> None:
    if not hmac.compare_digest(csrf_token(request), token or ""):
        raise Forbidden("表单已过期或来源不明，请刷新页面后重试")


def back(path: str, *, ok: str | None = None, error: str | None = None) -> RedirectResponse:
    flash = f"ok={quote(ok)}" if ok else f"error={quote(error or '')}"
    return RedirectResponse(f"{path}{'&' if '?' in path else '?'}{flash}", status_code=303)
