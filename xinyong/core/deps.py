"""Typed FastAPI dependencies shared by every domain's routes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from xinyong.accounts import service as accounts
from xinyong.accounts.models import Role
from xinyong.audit.service import Actor
from xinyong.core.database import session_scope
from xinyong.core.errors import Forbidden, Unauthenticated

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])
_READ_FIRST: set[Callable[..., Any]] = set()
_WRITES_APART = "xinyong.writes_apart"  # session.info key: get_session opened this session to read only


def read_first(endpoint: Endpoint) -> Endpoint:
    """Mark an endpoint that reads first and writes only at the end, inside ``write_scope``.

    On SQLite its request's session is then a read transaction and the writes get a short transaction of their own,
    so the reads do not hold the database's one write lock: a check held it through its key lookup, its queries and
    the building of its answer, and checks queued behind each other (docs/benchmarks.md, "Soak"). Elsewhere nothing
    changes: one transaction per request.
    """
    _READ_FIRST.add(endpoint)
    return endpoint


def _writes_apart(request: Request) -> bool:
    return request.app.state.engine.dialect.name == "sqlite" and request.scope.get("endpoint") in _READ_FIRST


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the endpoint returns, rolled back when it raises.

    ``scope="function"`` below makes the commit happen before the response is sent, so a client never gets a success
    for data that then failed to commit, and a browser that follows a redirect after a POST sees what it just wrote.
    """
    apart = _writes_apart(request)
    write = request.method not in ("GET", "HEAD", "OPTIONS") and not apart
    with session_scope(request.app.state.engine, write=write) as session:
        session.info[_WRITES_APART] = apart
        yield session


@contextmanager
def write_scope(request: Request, session: Session) -> Iterator[Session]:
    """Where a ``read_first`` endpoint writes: its own short write transaction on SQLite (committed when the block
    ends), the request's ``session`` elsewhere."""
    if not session.info.get(_WRITES_APART):  # this session writes: PostgreSQL, or a session given another way
        yield session
        return
    with session_scope(request.app.state.engine, write=True) as store:
        yield store


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _known_actor(request: Request, key: str) -> Actor | None:
    known: tuple[str, Actor] | None = getattr(request.state, "key_actor", None)
    return known[1] if known is not None and known[0] == key else None


def key_actor(request: Request, session: Session, key: str) -> Actor:
    """The actor of API key ``key``, authenticated once per request: the access matrix (``access.enforce``) does it
    first, and the route's ``CurrentActor`` then reuses it instead of looking the key up again."""
    actor = _known_actor(request, key)
    if actor is None:
        _, actor = accounts.authenticate_key(session=session, key=key)
        request.state.key_actor = (key, actor)
    return actor


async def optional_actor(request: Request, session: SessionDep) -> Actor | None:
    # async: when the access matrix has already authenticated the key (every keyed route), this is a lookup in the
    # request's state, and a plain def would cost the request a hop to the thread pool for it.
    key = _bearer(request)
    if key is None:
        return None
    return _known_actor(request, key) or await run_in_threadpool(key_actor, request, session, key)


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
