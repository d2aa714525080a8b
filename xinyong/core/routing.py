"""The routers every domain uses: a sync endpoint runs in one hop to the thread pool, its commit included.

FastAPI runs a plain ``def`` endpoint in the thread pool, then, when the route has a response model (every endpoint
annotated ``-> dict[str, Any]``), validates the answer in a second hop; the request's session was committed in a
third, on the way out of ``get_session``. Each hop wakes a thread and waits for a core, and under load a wait for a
core is part of a check's tail (docs/benchmarks.md, "Soak", sessions 9 and 11). Here such an endpoint is wrapped
in an async function that runs it, then commits the request's session, in a single hop; FastAPI then validates the
answer on the event loop, as it does for any async endpoint. What the endpoint does, and when its transaction
commits (before the response is sent, and not at all when it raises), is unchanged.

An endpoint that must await something first (a form, an uploaded file) is async, and its own code runs on the
event loop, which serves every request of the worker: a statement there stops them all for as long as it takes
(a disk stall, a database restarting). Such an endpoint awaits what it reads, then hands the rest to ``in_thread``:
the same one hop, statements and commit included. The test suite fails any test during which a statement was sent
from the event loop's thread (``tests/conftest.py``).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import fastapi
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from xinyong.core.deps import commit_request_session

P = ParamSpec("P")
T = TypeVar("T")


def _run_and_commit(endpoint: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
    answer = endpoint(*args, **kwargs)
    commit_request_session()
    return answer


async def in_thread(work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """The rest of an async endpoint, after it has awaited its body: ``work`` and the request's commit in one hop to
    the thread pool, off the event loop."""
    return await run_in_threadpool(_run_and_commit, work, args, kwargs)


def in_one_hop(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """``endpoint`` as an async function that runs it and commits in one worker thread; async and generator
    endpoints are returned as they are (they do not run in the thread pool, or stream after returning)."""
    if not inspect.isfunction(endpoint) or (
        inspect.iscoroutinefunction(endpoint)
        or inspect.isgeneratorfunction(endpoint)
        or inspect.isasyncgenfunction(endpoint)
    ):
        return endpoint

    @functools.wraps(endpoint)  # FastAPI reads the parameters and the answer's type through __wrapped__
    async def endpoint_in_one_hop(*args: Any, **kwargs: Any) -> Any:
        return await run_in_threadpool(_run_and_commit, endpoint, args, kwargs)

    return endpoint_in_one_hop


class OneHopRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, in_one_hop(endpoint), **kwargs)


class APIRouter(fastapi.APIRouter):
    """``fastapi.APIRouter`` whose routes are ``OneHopRoute``s."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("route_class", OneHopRoute)
        super().__init__(**kwargs)
