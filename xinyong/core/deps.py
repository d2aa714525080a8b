"""Typed FastAPI dependencies shared by every domain's routes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from xinyong.accounts import service as accounts
from xinyong.accounts.models import Role
from xinyong.audit.service import Actor
from xinyong.core.database import commit, end_session, open_session, session_scope
from xinyong.core.errors import Forbidden, Unauthenticated

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])
_READ_FIRST: set[Callable[..., Any]] = set()
_WRITES_APART = "xinyong.writes_apart"  # session.info key: get_session opened this session to read only
# The request's session, for the endpoint's thread (xinyong/core/routing.py commits it there). A context variable
# because FastAPI runs a sync endpoint in a worker thread with a copy of the request's context.
_REQUEST_SESSION: ContextVar[Session | None] = ContextVar("xinyong_request_session", default=None)


def read_first(endpoint: Endpoint) -> Endpoint:
    """Mark an endpoint that reads first and writes only at the end, inside ``write_scope``, in one statement.

    On SQLite its request's session is then a read transaction and the writes get a short transaction of their own,
    so the reads do not hold the database's one write lock: a check held it through its key lookup, its queries and
    the building of its answer, and checks queued behind each other (docs/benchmarks.md, "Soak").

    On PostgreSQL its session sends every statement outside a transaction (autocommit): no BEGIN before the reads
    and no COMMIT after the write, two round trips fewer (docs/benchmarks.md, "Soak", session 14). The
    reads see what they would in a transaction: PostgreSQL's READ COMMITTED takes a new snapshot for every statement
    anyway. What makes it safe is the write being one statement (``audit.insert_audited``: the row and its audit
    entry), which is atomic and durable on its own; an endpoint that needs two writes to succeed or fail together
    must not be marked, unless it writes them in a transaction of its own (``session_scope(engine, write=True)``),
    as a batch check does for each chunk of its checks.
    """
    _READ_FIRST.add(endpoint)
    return endpoint


def _read_first(request: Request) -> bool:
    endpoint = request.scope.get("endpoint")
    endpoint = getattr(endpoint, "__wrapped__", endpoint)  # the function under xinyong/core/routing.py's wrapper
    return endpoint in _READ_FIRST


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One transaction per request: committed when the endpoint returns, rolled back when it raises (``read_first``
    endpoints: see there).

    ``scope="function"`` below makes the commit happen before the response is sent, so a client never gets a success
    for data that then failed to commit, and a browser that follows a redirect after a POST sees what it just wrote.

    async, because opening a session does no I/O: a plain generator cost every request two hops to the thread pool,
    in and out, each waking a thread (docs/benchmarks.md, "Soak", session 11). A sync endpoint commits in its own
    thread as it returns (``xinyong/core/routing.py``), so here there is usually nothing left to send; only what
    is left (an async endpoint's transaction, a rollback) goes to the thread pool.
    """
    engine = request.app.state.engine
    read_first = _read_first(request)
    apart = read_first and engine.dialect.name == "sqlite"
    autocommit = read_first and engine.dialect.name == "postgresql"
    write = request.method not in ("GET", "HEAD", "OPTIONS") and not apart
    session = open_session(engine, write=write, autocommit=autocommit)
    session.info[_WRITES_APART] = apart
    _REQUEST_SESSION.set(session)
    try:
        yield session
    except BaseException:
        await run_in_threadpool(end_session, session, failed=True)
        raise
    if session.in_transaction():
        await run_in_threadpool(end_session, session, failed=False)
    else:
        session.close()  # committed in the endpoint's thread: nothing to send


def commit_request_session() -> None:
    """Commit the request's session, if it has a transaction: the end of a sync endpoint, in the endpoint's thread."""
    session = _REQUEST_SESSION.get()
    if session is not None and session.in_transaction():
        commit(session)


@contextmanager
def write_scope(request: Request, session: Session) -> Iterator[Session]:
    """Where a ``read_first`` endpoint writes: its own short write transaction on SQLite (committed when the block
    ends), the request's ``session`` elsewhere (on PostgreSQL outside a transaction: one statement)."""
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
        actor = accounts.authenticate_key(session=session, key=key)
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
