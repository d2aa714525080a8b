"""Test fixtures.

Policy:
- Every storage test runs on both engines: the ``engine`` fixture is parametrised over SQLite and PostgreSQL
  (127.0.0.1:5432, user postgres). Without a server the PostgreSQL half is skipped locally and FAILS under CI=true.
- Each engine gets one database per test session (per xdist worker), built by running the real migrations.
- ``session`` wraps each test in an outer transaction that is rolled back at the end; services' commits become
  savepoints (``join_transaction_mode="create_savepoint"``), so tests never see each other's rows.
- Tests that need committed data visible to another process (a CLI subprocess, a served app, a browser) use
  ``fresh_db``: a brand-new database per test (SQLite file, or a PostgreSQL copy of a migrated template).
- "Today" is fixed to 2026-06-15 (a Monday) through XINYONG_TODAY unless a test sets it itself.
"""

from __future__ import annotations

import asyncio
import os
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from xinyong import hooks
from xinyong.core.bootstrap import upgrade_database
from xinyong.core.database import create_db_engine, dispose_engines
from xinyong.core.settings import reset_settings

PG_ADMIN_URL = os.environ.get("XINYONG_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
TODAY = "2026-06-15"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# As the web app and the command line do: every domain's worker jobs, dashboard charts and merge hooks registered.
hooks.install()

# Statements sent from a thread that runs an event loop: in the app, a web worker's loop, which serves every request of
# the worker and stops for as long as the statement takes (a disk stall, a database restarting: seconds). Every
# statement belongs in the thread pool (xinyong/core/routing.py); the suite fails any test during which one was not.
_ON_EVENT_LOOP: list[str] = []


_ROOT = Path(__file__).resolve().parent.parent


def _ours(filename: str) -> bool:
    return filename.startswith(str(_ROOT)) and "/site-packages/" not in filename


@sa.event.listens_for(Engine, "before_cursor_execute")
def _statement_on_event_loop(conn: object, cursor: object, statement: str, *_: object) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return  # no loop in this thread: a worker thread, the command line, a test's own setup
    ours = [frame for frame in traceback.extract_stack()[:-1] if _ours(frame.filename)]
    where = "".join(traceback.format_list(ours[-6:]))  # the project's own frames: the code that sent it
    _ON_EVENT_LOOP.append(f"{' '.join(statement.split())[:120]}\n{where}")


@pytest.fixture(autouse=True)
def _no_statement_on_event_loop() -> Iterator[None]:
    _ON_EVENT_LOOP.clear()
    yield
    if _ON_EVENT_LOOP:
        found = list(_ON_EVENT_LOOP)
        _ON_EVENT_LOOP.clear()
        pytest.fail(f"{len(found)} statement(s) sent from the event loop's thread; the first:\n{found[0]}")


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("XINYONG_ENV", "test")
    monkeypatch.setenv("XINYONG_TODAY", TODAY)
    monkeypatch.setenv("XINYONG_DATA_DIR", str(tmp_path / "data"))
    # Tests start hundreds of apps in one process; frozen, each app's garbage would never be freed (the freeze itself
    # is tested in tests/core/test_gc_freeze.py).
    monkeypatch.setenv("XINYONG_GC_FREEZE", "0")
    # Nor should each of them spawn a collection process it may never use (tested in
    # tests/ingest/test_crash_rejects_and_uploads.py).
    monkeypatch.setenv("XINYONG_INGEST_PRESTART", "0")
    reset_settings()
    yield
    reset_settings()


def _pg_available() -> str | None:
    try:
        engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any failure to connect means "no server here"
        return str(exc).splitlines()[0]


def _pg_admin() -> Engine:
    return sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")


def pg_create_database(name: str, template: str = "template0") -> str:
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        # pg_trgm needs a UTF-8 LC_CTYPE for Chinese (with C it silently matches nothing).
        extra = "ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'" if template == "template0" else ""
        conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE {template} {extra}'))
    admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def pg_drop_database(name: str) -> None:
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@dataclass
class Database:
    """A migrated database of one engine, with the URL another process can use."""

    kind: str
    url: str
    engine: Engine


@pytest.fixture(scope="session")
def _templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Database]]:
    os.environ.setdefault("XINYONG_ENV", "test")
    made: dict[str, Database] = {}
    base = tmp_path_factory.mktemp("db")
    sqlite_url = f"sqlite:///{base / 'template.db'}"
    engine = create_db_engine(sqlite_url)
    upgrade_database(engine)
    made["sqlite"] = Database("sqlite", sqlite_url, engine)
    pg_names: list[str] = []
    if _pg_available() is None:
        name = f"xinyong_t_{uuid.uuid4().hex[:10]}"
        url = pg_create_database(name)
        pg_engine = create_db_engine(url)
        upgrade_database(pg_engine)
        pg_engine.dispose()
        pg_names.append(name)
        # The template must have no connections when copied; tests use a copy of it.
        shared = f"{name}_s"
        shared_url = pg_create_database(shared, template=name)
        pg_names.append(shared)
        made["postgresql"] = Database("postgresql", shared_url, create_db_engine(shared_url))
        made["postgresql_template"] = Database("postgresql", url, None)  # type: ignore[arg-type]
    yield made
    for db in made.values():
        if db.engine is not None:
            db.engine.dispose()
    dispose_engines()
    for name in pg_names:
        pg_drop_database(name)


def _require_engine(kind: str, templates: dict[str, Database]) -> Database:
    if kind not in templates:
        reason = f"PostgreSQL not reachable at {PG_ADMIN_URL}: {_pg_available()}"
        if IN_CI:
            pytest.fail(f"CI requires PostgreSQL. {reason}")
        pytest.skip(reason)
    return templates[kind]


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, _templates: dict[str, Database]) -> Database:
    """The shared, migrated database of one engine (use ``session`` for isolation)."""
    return _require_engine(request.param, _templates)


@pytest.fixture
def engine(db: Database) -> Engine:
    return db.engine


@pytest.fixture
def session(db: Database) -> Iterator[Session]:
    connection = db.engine.connect()
    outer = connection.begin()
    sess = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield sess
    finally:
        sess.close()
        outer.rollback()
        connection.close()


@contextmanager
def new_database(kind: str, templates: dict[str, Database], directory: Path, label: str = "f") -> Iterator[Database]:
    """A brand-new migrated database of ``kind``: a SQLite file in ``directory`` or a PostgreSQL copy of the
    migrated template (fast: CREATE DATABASE … TEMPLATE). Dropped afterwards."""
    if kind == "sqlite":
        url = f"sqlite:///{directory / f'{label}-{uuid.uuid4().hex[:6]}.db'}"
        engine = create_db_engine(url)
        upgrade_database(engine)
        yield Database("sqlite", url, engine)
        engine.dispose()
        return
    name = f"xinyong_{label}_{uuid.uuid4().hex[:10]}"
    url = pg_create_database(name, template=templates["postgresql_template"].url.rsplit("/", 1)[1])
    engine = create_db_engine(url)
    yield Database("postgresql", url, engine)
    engine.dispose()
    dispose_engines()
    pg_drop_database(name)


@pytest.fixture
def fresh_db(db: Database, _templates: dict[str, Database], tmp_path: Path) -> Iterator[Database]:
    """A new, empty, migrated database of the same engine as ``db``, committed to and seen by other processes."""
    with new_database(db.kind, _templates, tmp_path) as fresh:
        yield fresh
