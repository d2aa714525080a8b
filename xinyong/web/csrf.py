"""One CSRF defence for every state-changing request that a browser's session cookie would authenticate.

The token is an HMAC of the session cookie under XINYONG_SECRET_KEY: another site can make a browser send the cookie
(SameSite=Lax already stops most of that) but cannot read a page to learn the token. Forms carry it in the hidden field
``csrf`` (templates call ``csrf_token(request)``); scripts and API clients that use the cookie send ``X-CSRF-Token``.
A request without the session cookie borrows no one's rights, so it needs no token (API keys are never ambient).

``verify`` is an app-wide dependency (``create_app``), so no form route can forget it.
"""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Request

from xinyong.core.errors import Forbidden
from xinyong.core.settings import get_settings

COOKIE = "xy_session"  # the website's session cookie (xinyong.accounts.web)
FIELD = "csrf"
HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def token_for(cookie: str) -> str:
    return hmac.new(get_settings().secret_key.encode(), f"csrf:{cookie}".encode(), hashlib.sha256).hexdigest()


def csrf_token(request: Request) -> str:
    """The token the current page's forms must send back."""
    return token_for(request.cookies.get(COOKIE, ""))


async def verify(request: Request) -> None:
    if request.method in SAFE_METHODS:
        return
    cookie = request.cookies.get(COOKIE)
    if not cookie:
        return
    sent = request.headers.get(HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(_FORM_TYPES):
        value = (await request.form()).get(FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent, token_for(cookie)):
        raise Forbidden("表单已过期或来源不明（CSRF 校验失败），请刷新页面后重试")
