"""A web worker pays for its first requests before it serves, not while a clerk waits.

A freshly started worker answered its first check in 115–155 ms and its first subject page in 40–50 ms, against
6–8 ms for the next ones; warmed up, in 40–60 and 30–50 ms (docs/benchmarks.md, "Soak", session 17). A restart or a
deploy under load showed as a burst of slow requests, and every soak started with one. What the first requests paid
for, largest first:

- **The ORM's mappings.** SQLAlchemy configures every mapped class (relationships, back-references) on the first query
  through the ORM: 50–70 ms of the first check. ``configure_mappers`` does it now.
- **FastAPI's routes.** FastAPI builds a route's dependency tree, parameter models and response field the first time
  a request is routed through its router, for every route of that router: about 1 ms a route, 45 ms of the first
  check. ``build_routes`` builds them all.
- **Database connections.** The pool opens a connection when a request needs one; on PostgreSQL that is a new
  server process, started while the request waits. ``open_connections`` opens a few and hands them back.
- **Templates.** Jinja compiles a template the first time it renders it. ``compile_templates`` compiles every one.

What is left of the first request is its statements' first compilation and the database's own first reads of its
tables in each new connection. It runs in the lifespan, before uvicorn accepts requests and before the heap is frozen
(``xinyong.core.heap``), so what it builds is frozen with the rest. It reads no record and writes nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from fastapi import FastAPI
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import configure_mappers

from xinyong.accounts.access import app_routes
from xinyong.core.logging import get_logger
from xinyong.web.templating import environment

log = get_logger(__name__)


@dataclass(frozen=True)
class Warmed:
    routes: int
    templates: int
    connections: int
    seconds: float


def build_routes(app: FastAPI) -> int:
    """Build every route FastAPI would otherwise build on the first request through its router; returns how many."""
    return sum(1 for _ in app_routes(app))


def compile_templates() -> int:
    """Compile every page template into the environment's cache; returns how many."""
    names = [name for name in environment.list_templates() if name.endswith(".html")]
    for name in names:
        environment.get_template(name)
    return len(names)


def open_connections(engine: Engine, count: int) -> int:
    """Open ``count`` connections at once, at most the pool's size (it keeps no more), and give them back to the pool;
    returns how many were opened. At once, because a connection handed back is the one the next checkout gets again."""
    size = getattr(engine.pool, "size", None)
    if callable(size):
        count = min(count, int(size()))
    opened = []
    try:
        for _ in range(count):
            connection = engine.connect()
            opened.append(connection)
            connection.exec_driver_sql("SELECT 1")
    finally:
        for connection in opened:
            connection.close()
    return len(opened)


def warm(app: FastAPI, *, connections: int) -> Warmed:
    """Everything above, for the worker serving ``app``; ``connections=0`` opens none (the app passes 0 when the
    database did not answer at start, rather than wait for it again). A database that is down is not an error here:
    the worker starts anyway and its requests get the clean 503 until it is back (``xinyong.app``)."""
    started = time.perf_counter()
    configure_mappers()
    routes, templates = build_routes(app), compile_templates()
    opened = 0
    try:
        opened = open_connections(app.state.engine, connections)
    except DBAPIError as exc:
        log.warning("warm-up: the database did not answer", error=str(exc.orig).splitlines()[0:1])
    warmed = Warmed(routes, templates, opened, time.perf_counter() - started)
    log.info("warmed", routes=routes, templates=templates, connections=opened, ms=round(1000 * warmed.seconds))
    return warmed
