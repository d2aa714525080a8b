"""A sync endpoint runs, and commits, in one hop to the thread pool (``xinyong/core/routing.py``), and the request's
transaction keeps its meaning: committed before the response is sent, not at all when the endpoint raises."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

import anyio.to_thread
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.routing import _IncludedRouter
from fastapi.testclient import TestClient
from starlette.concurrency import run_in_threadpool

from tests import factories
from tests.conftest import Database
from xinyong.accounts import service as accounts
from xinyong.accounts.models import Role
from xinyong.accounts.web import COOKIE, session_token
from xinyong.app import _install_error_handlers, create_app
from xinyong.audit.service import Actor
from xinyong.core.database import create_db_engine, session_scope
from xinyong.core.deps import SessionDep
from xinyong.core.errors import InvalidInput
from xinyong.core.routing import APIRouter


def _endpoints(app: FastAPI) -> Iterator[tuple[str, Callable[..., Any]]]:
    for route in app.routes:
        if isinstance(route, _IncludedRouter):
            for context in route.effective_route_contexts():
                if context.endpoint is not None:
                    yield context.path_format, context.endpoint


def test_no_route_of_the_app_leaves_a_sync_endpoint_to_fastapi(tmp_path: Any) -> None:
    app = create_app(create_db_engine(f"sqlite:///{tmp_path / 'routes.db'}"))
    endpoints = list(_endpoints(app))
    assert len(endpoints) > 100
    sync = [
        path
        for path, endpoint in endpoints
        if not (inspect.iscoroutinefunction(endpoint) or inspect.isasyncgenfunction(endpoint))
    ]
    assert sync == [], f"routes on fastapi's own APIRouter (two hops and a separate commit): {sync}"


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of every function sent to the thread pool from now on."""
    seen: list[str] = []
    real = anyio.to_thread.run_sync

    async def counted(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        seen.append(getattr(func, "__name__", None) or getattr(getattr(func, "func", None), "__name__", repr(func)))
        return await real(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counted)
    return seen


def test_a_check_takes_two_hops_to_the_thread_pool(fresh_db: Database, hops: list[str]) -> None:
    with session_scope(fresh_db.engine, write=True) as session:
        key = accounts.create_api_key(session=session, actor=Actor.cli(), role=Role.CHECKER).key
        code = factories.subject(session).uscc
    with TestClient(create_app(fresh_db.engine)) as client:
        body, headers = {"code": code, "matter": "政府采购"}, {"Authorization": f"Bearer {key}"}
        assert client.post("/api/v1/checks", json=body, headers=headers).status_code == 200
        hops.clear()
        answer = client.post("/api/v1/checks", json=body, headers=headers)
        assert answer.status_code == 200, answer.text
    # The access matrix reads the key in one; the check runs and commits in the other. Before: five (the session
    # opened, the key, the check, the answer's validation, the commit).
    assert hops == ["_role_of", "_run_and_commit"]
    with fresh_db.engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT count(*) FROM credit_check")) == 2


def test_a_public_page_takes_one_hop_and_a_signed_in_page_reads_its_account(
    fresh_db: Database, hops: list[str]
) -> None:
    with session_scope(fresh_db.engine, write=True) as session:
        company = factories.subject(session, name="一跳测试科技有限公司")
        code = company.uscc
        officer = accounts.create_account(session=session, username="xyb", role=Role.CREDIT_OFFICE, password="x" * 12)
        token = session_token(officer)
    with TestClient(create_app(fresh_db.engine)) as client:
        for path in (f"/subjects/{code}", "/search?q=一跳测试", f"/api/v1/subjects/{code}"):
            assert client.get(path).status_code == 200
            hops.clear()
            answer = client.get(path)
            assert answer.status_code == 200, (path, answer.text[:300])
            # Before: six for a page, five for the API (the session opened, the access matrix, the rate limit, the
            # account on a page, the page, the commit).
            assert hops == ["_run_and_commit"], path
        client.cookies.set(COOKIE, token)
        assert client.get("/console").status_code == 200
        hops.clear()
        assert client.get("/console").status_code == 200
        assert hops == ["_role_of", "account_of", "_run_and_commit"]


def _probe_app(database: Database) -> FastAPI:
    router = APIRouter()
    insert = sa.text("INSERT INTO hop_probe (label) VALUES (:label)")

    @router.post("/sync/{label}")
    def sync_write(label: str, session: SessionDep) -> dict[str, Any]:
        session.execute(insert, {"label": label})
        if label.startswith("bad"):
            raise InvalidInput(f"label：{label} 被拒绝")
        return {"label": label}

    @router.post("/async/{label}")
    async def async_write(label: str, session: SessionDep) -> dict[str, Any]:
        await run_in_threadpool(session.execute, insert, {"label": label})
        if label.startswith("bad"):
            raise InvalidInput(f"label：{label} 被拒绝")
        return {"label": label}

    app = FastAPI()
    app.state.engine = database.engine
    app.include_router(router)
    _install_error_handlers(app)
    return app


def test_the_request_transaction_commits_before_the_answer_and_never_on_an_error(
    fresh_db: Database, hops: list[str]
) -> None:
    with fresh_db.engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE hop_probe (label VARCHAR(20) NOT NULL)"))
    client = TestClient(_probe_app(fresh_db))

    def stored() -> list[str]:
        with fresh_db.engine.connect() as conn:
            return sorted(conn.scalars(sa.text("SELECT label FROM hop_probe")))

    hops.clear()
    assert client.post("/sync/a").json() == {"label": "a"}
    assert stored() == ["a"]  # committed before the answer was sent
    assert hops == ["_run_and_commit"]  # the run and the commit in one hop

    hops.clear()
    refused = client.post("/sync/bad1")
    assert refused.status_code == 422 and "bad1 被拒绝" in refused.json()["message"]
    assert stored() == ["a"]  # rolled back
    assert hops == ["_run_and_commit", "end_session"]  # the rollback in a hop of its own

    hops.clear()
    assert client.post("/async/b").status_code == 200
    assert stored() == ["a", "b"]  # an async endpoint's transaction is committed on the way out of get_session
    assert hops == ["execute", "end_session"]
    assert client.post("/async/bad2").status_code == 422
    assert stored() == ["a", "b"]
