"""A web worker warms up before it serves (xinyong/web/warmup.py): mappings, routes, templates, connections."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import routing
from fastapi.testclient import TestClient

from tests.conftest import Database
from xinyong.app import create_app
from xinyong.core.database import create_db_engine
from xinyong.core.settings import get_settings
from xinyong.web import warmup
from xinyong.web.templating import environment


@pytest.fixture
def routes_built(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The paths of the routes FastAPI builds (their dependency trees, parameter and response models), as it builds
    them: on the first request through a route's router, unless the warm-up built them first."""
    built: list[str] = []
    original: Callable[..., Any] = routing._EffectiveRouteContext.from_api_route

    def counted(*args: Any, **kwargs: Any) -> Any:
        context = original(*args, **kwargs)
        built.append(str(getattr(context, "path_format", "?")))
        return context

    monkeypatch.setattr(routing._EffectiveRouteContext, "from_api_route", counted)
    yield built


def test_a_started_worker_builds_no_route_on_its_first_requests(fresh_db: Database, routes_built: list[str]) -> None:
    with TestClient(create_app(fresh_db.engine)) as client:  # the lifespan runs: the warm-up with it
        warmed = len(routes_built)
        assert warmed > 100  # every API route and page
        routes_built.clear()
        assert client.get("/rules").status_code == 200
        assert client.get("/api/v1/subjects", params={"q": "公司"}).status_code == 200
        assert client.post("/api/v1/checks", json={"code": "x", "matter": "y"}).status_code == 401
        assert routes_built == []


def test_without_the_warm_up_the_first_request_builds_its_routers_routes(
    fresh_db: Database, routes_built: list[str]
) -> None:
    """The control: what the warm-up spares a worker's first requests (no lifespan, so no warm-up)."""
    client = TestClient(create_app(fresh_db.engine))
    assert client.post("/api/v1/checks", json={"code": "x", "matter": "y"}).status_code == 401
    assert "/api/v1/checks" in routes_built


def test_the_warm_up_compiles_every_page_and_leaves_connections_in_the_pool(fresh_db: Database) -> None:
    app = create_app(fresh_db.engine)
    fresh_db.engine.dispose()  # an empty pool, as in a worker just started
    assert fresh_db.engine.pool.checkedin() == 0  # type: ignore[attr-defined]

    warmed = warmup.warm(app, connections=3)

    pages = [name for name in environment.list_templates() if name.endswith(".html")]
    assert (warmed.templates, warmed.connections) == (len(pages), 3)
    assert all(environment.cache is not None and any(key[1] == name for key in environment.cache) for name in pages)
    assert fresh_db.engine.pool.checkedin() == 3  # type: ignore[attr-defined]
    assert get_settings().warm_connections == 4  # what a worker opens unless configured otherwise
    # never more than the pool keeps (more would wait for a connection none gives back)
    size = fresh_db.engine.pool.size()  # type: ignore[attr-defined]
    assert warmup.open_connections(fresh_db.engine, size + 3) == size


def test_a_database_down_at_start_does_not_stop_the_worker() -> None:
    app = create_app(create_db_engine("postgresql+psycopg://postgres@127.0.0.1:1/xinyong"))  # nothing listens on 1

    warmed = warmup.warm(app, connections=2)

    assert warmed.connections == 0 and warmed.routes > 100


def test_the_warm_up_configures_the_orm_mappings_a_new_process_has_not(fresh_db: Database) -> None:
    """SQLAlchemy configures every mapping on the first query through the ORM: in a worker, its first request. A new
    interpreter, because this one's mappings were configured by the tests before."""
    script = (
        "import sqlalchemy as sa\n"
        "from xinyong.app import create_app\n"
        "from xinyong.core.database import create_db_engine\n"
        "from xinyong.subjects.models import Subject\n"
        "from xinyong.web import warmup\n"
        f"app = create_app(create_db_engine({fresh_db.url!r}))\n"
        "print(sa.inspect(Subject).configured)\n"
        "warmup.warm(app, connections=1)\n"
        "print(sa.inspect(Subject).configured)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.split() == ["False", "True"], done.stderr[-2000:]
