"""Typed FastAPI dependencies shared by every domain's routes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from xinyong.accounts import service as accounts
from xinyong.accounts.models import Role
from xinyong.audit.service import Actor
from xinyong.core.database import session_scope
from xinyong.core.errors import Forbidden, Unauthenticated


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the endpoint returns, rolled back when it raises.

    ``scope="function"`` below makes the commit happen before the response is sent, so a client never gets a success
    for data that then failed to commit, and a browser that follows a redirect after a POST sees what it just wrote.
    """
    write = request.method not in ("GET", "HEAD", "OPTIONS")
    with session_scope(request.app.state.engine, write=write) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def optional_actor(request: Request, session: SessionDep) -> Actor | None:
    key = _bearer(request)
    if key is None:
        return None
    _, actor = accounts.authenticate_key(session=session, key=key)
    return actor


async def require_actor(actor: Annotated[Actor | None, Depends(optional_actor)]) -> Actor:
    # async on purpose: it does no I/O, and a plain def would cost every API request a hop to the thread pool.
    if actor is None:
        raise Unauthenticated("需要 API 密钥：请在请求头中提供 Authorization: Bearer <密钥>")
    return actor


OptionalActor = Annotated[Actor | None, Depends(optional_actor)]
CurrentActor = Annotated[Actor, Depends(require_actor)]


def require_role(actor: Actor, *roles: Role) -> None:
    if actor.role not in {r.value for r in roles}:
        raise Forbidden(f"当前角色（{actor.role}）无权执行此操作")
