"""The database going away: a clean 503 in Chinese (a page for the site, JSON for /api), never a stack trace, and the
next request works again. The command line and the worker say what happened in one Chinese line.

PostgreSQL: the app's server connections are really terminated (``pg_terminate_backend`` on the test database's
backends, never a restart of the shared server), mid-request and between requests. SQLite: the database stays locked
by another writer beyond the busy timeout.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy import event

from tests import factories
from tests.browser import live_server
from tests.conftest import PG_ADMIN_URL, Database
from xinyong.accounts import service as accounts
from xinyong.accounts.models import Role
from xinyong.app import create_app
from xinyong.audit.service import Actor
from xinyong.core.database import create_db_engine, session_scope
from xinyong.core.settings import get_settings, reset_settings
from xinyong.monitoring import worker

REPO = Path(__file__).resolve().parents[2]
HTML = {"Accept": "text/html"}
DEAD_PG = "postgresql+psycopg://postgres@127.0.0.1:1/xinyong_nowhere"
pg_only = pytest.mark.parametrize("db", ["postgresql"], indirect=True)
sqlite_only = pytest.mark.parametrize("db", ["sqlite"], indirect=True)


@pytest.fixture(autouse=True)
def _no_rate_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    # The loops below query faster than the public fair-use limit allows.
    monkeypatch.setenv("XINYONG_RATE_LIMIT_PER_MINUTE", "0")
    reset_settings()


def _subject_code(db: Database) -> str:
    with session_scope(db.engine, write=True) as session:
        factories.unit(session)
        return str(factories.subject(session, name="断线测试有限公司").uscc)


def _terminate_backends(db: Database, pid: int | None = None) -> int:
    """End the server processes serving the test database (all of them, or one): what a restart does to a pool.

    The admin connection is to another database (``postgres``), so it is never among them; ``timeout`` makes the call
    wait until the backends are really gone."""
    name = sa.engine.make_url(db.url).database
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            query = "SELECT count(*) FROM pg_stat_activity WHERE datname = :name AND pid <> pg_backend_pid()"
            query = query.replace("count(*)", "count(pg_terminate_backend(pid, 5000))")
            if pid is not None:
                query += " AND pid = :pid"
            return int(conn.execute(sa.text(query), {"name": name, "pid": pid}).scalar_one())
    finally:
        admin.dispose()


class _KillNextStatement:
    """Arms the engine so that the next statement it runs finds its server connection terminated just before."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.armed = False
        self.killed = 0
        event.listen(db.engine, "before_cursor_execute", self._before)

    def _before(self, conn: sa.Connection, *_args: Any) -> None:
        if not self.armed:
            return
        self.armed = False
        pid = conn.connection.dbapi_connection.info.backend_pid  # type: ignore[union-attr]
        self.killed += _terminate_backends(self.db, pid)

    def remove(self) -> None:
        event.remove(self.db.engine, "before_cursor_execute", self._before)


@pytest.fixture
def killer(fresh_db: Database) -> Iterator[_KillNextStatement]:
    armed = _KillNextStatement(fresh_db)
    yield armed
    armed.remove()


def _assert_clean_503(response: httpx.Response, message: str) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "5"
    assert message in response.text
    for leak in ("Traceback", "psycopg", "sqlalchemy", "sqlite3", "OperationalError"):
        assert leak not in response.text


@pg_only
def test_connection_terminated_mid_request_gives_503_then_recovers(
    fresh_db: Database, killer: _KillNextStatement
) -> None:
    code = _subject_code(fresh_db)
    client = TestClient(create_app(fresh_db.engine))
    before = client.get(f"/api/v1/subjects/{code}")
    assert before.status_code == 200

    killer.armed = True
    dead = client.get(f"/api/v1/subjects/{code}")
    assert killer.killed == 1
    _assert_clean_503(dead, "数据库暂时不可用，请稍后重试")
    assert dead.json()["error"] == "unavailable"
    after = client.get(f"/api/v1/subjects/{code}")
    assert after.status_code == 200 and after.json() == before.json()

    killer.armed = True
    page = client.get(f"/subjects/{code}", headers=HTML)
    assert killer.killed == 2
    _assert_clean_503(page, "数据库暂时不可用，请稍后重试")
    assert page.headers["content-type"].startswith("text/html") and "服务暂时不可用" in page.text
    assert client.get(f"/subjects/{code}", headers=HTML).status_code == 200


@pg_only
def test_write_request_whose_connection_dies_is_refused_cleanly(fresh_db: Database, killer: _KillNextStatement) -> None:
    with session_scope(fresh_db.engine, write=True) as session:
        accounts.create_account(session=session, username="clerk", role=Role.CHECKER, password="pw-123456")
    client = TestClient(create_app(fresh_db.engine))
    killer.armed = True
    dead = client.post("/login", data={"username": "clerk", "password": "pw-123456"}, headers=HTML)
    _assert_clean_503(dead, "数据库暂时不可用，请稍后重试")
    again = client.post("/login", data={"username": "clerk", "password": "pw-123456"}, follow_redirects=False)
    assert again.status_code == 303


@pg_only
def test_all_connections_terminated_between_requests_next_requests_succeed(fresh_db: Database) -> None:
    code = _subject_code(fresh_db)
    client = TestClient(create_app(fresh_db.engine))
    # Fill the pool with several connections, then kill them all while they sit idle in it.
    threads = [threading.Thread(target=client.get, args=(f"/api/v1/subjects/{code}",)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert _terminate_backends(fresh_db) >= 1
    for _ in range(6):  # the pool's checkout test finds every dead connection before a request gets it
        assert client.get(f"/api/v1/subjects/{code}").status_code == 200
        assert client.get(f"/subjects/{code}", headers=HTML).status_code == 200


@pg_only
def test_a_pooled_connection_is_reused_without_a_round_trip(fresh_db: Database, tmp_path: Path) -> None:
    """The pool tests a connection by looking at its socket, not with a query (``core.database._still_connected``):
    libpq's own trace of the connection shows nothing sent or received from checkout to return. With
    ``pool_pre_ping`` it showed a query and its answer, a round trip on every request."""
    engine = create_db_engine(fresh_db.url)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
            raw = conn.connection.driver_connection
        trace = tmp_path / "libpq.trace"
        with trace.open("w") as out:
            raw.pgconn.trace(out.fileno())
            try:
                with engine.connect() as conn:
                    assert conn.connection.driver_connection is raw  # the same connection, from the pool
            finally:
                raw.pgconn.untrace()
        assert trace.read_text() == ""
    finally:
        engine.dispose()


@pg_only
def test_served_app_under_repeated_terminations_answers_only_200_or_clean_503(fresh_db: Database) -> None:
    code = _subject_code(fresh_db)
    statuses: list[int] = []
    bad: list[str] = []
    stop = threading.Event()

    def client_loop(base: str) -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            while not stop.is_set():
                for path, headers in ((f"/api/v1/subjects/{code}", {}), (f"/subjects/{code}", HTML)):
                    response = client.get(path, headers=headers)
                    statuses.append(response.status_code)
                    if response.status_code not in (200, 503) or (
                        response.status_code == 503 and "数据库暂时不可用" not in response.text
                    ):
                        bad.append(f"{response.status_code} {response.text[:200]}")

    with live_server(fresh_db.engine) as base:
        clients = [threading.Thread(target=client_loop, args=(base,)) for _ in range(3)]
        for thread in clients:
            thread.start()
        try:
            for _ in range(15):
                _terminate_backends(fresh_db)
                time.sleep(0.03)
        finally:
            stop.set()
            for thread in clients:
                thread.join(timeout=60)
        assert not bad
        assert statuses
        with httpx.Client(base_url=base, timeout=30) as client:
            for _ in range(5):
                assert client.get(f"/api/v1/subjects/{code}").status_code == 200


@pytest.fixture
def short_busy_timeout(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("XINYONG_SQLITE_BUSY_TIMEOUT", "0.2")
    reset_settings()
    yield


def _hold_write_lock(db: Database) -> sqlite3.Connection:
    holder = sqlite3.connect(sa.engine.make_url(db.url).database or "", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    return holder


@sqlite_only
def test_sqlite_locked_beyond_busy_timeout_gives_503_busy(fresh_db: Database, short_busy_timeout: None) -> None:
    with session_scope(fresh_db.engine, write=True) as session:
        factories.unit(session)
        accounts.create_account(session=session, username="clerk", role=Role.CHECKER, password="pw-123456")
        key = accounts.create_api_key(session=session, actor=Actor.cli(), role=Role.CHECKER).key
        code = str(factories.subject(session).uscc)
    engine = create_db_engine(fresh_db.url)  # built under the short timeout
    client = TestClient(create_app(engine))
    holder = _hold_write_lock(fresh_db)
    try:
        # Readers are not blocked by a writer (WAL): pages and searches go on.
        assert client.get(f"/api/v1/subjects/{code}").status_code == 200
        api = client.post(
            "/api/v1/checks", json={"code": code, "matter": "政府采购"}, headers={"Authorization": f"Bearer {key}"}
        )
        _assert_clean_503(api, "系统繁忙，请稍后再试")
        assert api.json()["error"] == "unavailable"
        page = client.post("/login", data={"username": "clerk", "password": "pw-123456"}, headers=HTML)
        _assert_clean_503(page, "系统繁忙，请稍后再试")
        assert page.headers["content-type"].startswith("text/html")
    finally:
        holder.rollback()
        holder.close()
    again = client.post("/login", data={"username": "clerk", "password": "pw-123456"}, follow_redirects=False)
    assert again.status_code == 303
    engine.dispose()


@sqlite_only
def test_a_sqlite_writer_waits_for_the_lock_and_writes_when_it_is_freed(fresh_db: Database) -> None:
    """The writer asks again for the lock (every millisecond) instead of failing, and its connection keeps the
    configured busy timeout for everything else."""
    engine = create_db_engine(fresh_db.url)
    holder = _hold_write_lock(fresh_db)
    outcome: list[object] = []

    def write() -> None:
        try:
            with session_scope(engine, write=True) as session:
                code = str(factories.subject(session).uscc)
                outcome.append((code, session.connection().exec_driver_sql("PRAGMA busy_timeout").scalar()))
        except Exception as exc:  # reported below, where the assertion names it
            outcome.append(exc)

    writer = threading.Thread(target=write)
    writer.start()
    writer.join(timeout=0.3)
    waited = writer.is_alive() and not outcome  # still asking: the lock is held
    holder.rollback()
    holder.close()
    writer.join(timeout=30)
    assert waited and len(outcome) == 1 and isinstance(outcome[0], tuple), outcome
    code, busy_ms = outcome[0]
    assert busy_ms == int(get_settings().sqlite_busy_timeout * 1000)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM subject WHERE uscc = :c"), {"c": code}).scalar() == 1
    engine.dispose()


def _cli(url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "xinyong", *args],
        env={**os.environ, "XINYONG_DATABASE_URL": url, "PYTHONPATH": str(REPO), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("args", [("batches",), ("worker", "--once"), ("audit", "verify")])
def test_cli_and_worker_without_database_say_so_in_one_chinese_line(args: tuple[str, ...]) -> None:
    done = _cli(DEAD_PG, *args)
    assert done.returncode == 3, done.stderr
    assert "错误：数据库暂时不可用，请稍后重试（数据库 127.0.0.1:1/xinyong_nowhere）" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


@sqlite_only
def test_cli_on_a_locked_sqlite_database_says_busy(fresh_db: Database) -> None:
    holder = _hold_write_lock(fresh_db)
    try:
        done = _cli(
            fresh_db.url, "unit", "add", "--uscc", factories.UNIT_USCC, "--name", "淄博市生态环境局",
            XINYONG_SQLITE_BUSY_TIMEOUT="0.2",
        )  # fmt: skip
    finally:
        holder.rollback()
        holder.close()
    assert done.returncode == 3, done.stderr
    assert "错误：系统繁忙，请稍后再试" in done.stderr
    assert "Traceback" not in done.stderr


def test_worker_loop_survives_rounds_without_database(fresh_db: Database) -> None:
    dead = create_db_engine(DEAD_PG)
    try:
        assert worker.loop(dead, only="governance_scan", interval=0, rounds=2) == 2
    finally:
        dead.dispose()
    assert worker.loop(fresh_db.engine, only="governance_scan", interval=0, rounds=1) == 0
