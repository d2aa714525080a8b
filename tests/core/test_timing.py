"""The parts of a request's time for Server-Timing: statements, commit and SQLite's write-lock wait."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from xinyong.core import timing
from xinyong.core.database import create_db_engine, session_scope


def test_statements_and_commit_are_tallied_only_while_a_tally_is_open(engine: Engine) -> None:
    timing.instrument(engine)
    timing.instrument(engine)  # idempotent: statements are not counted twice
    with session_scope(engine, write=True) as session:
        session.execute(sa.text("SELECT 1"))
    assert not timing.active()

    tally, token = timing.open_tally()
    try:
        with session_scope(engine, write=True) as session:
            started = time.perf_counter()
            session.execute(sa.text("SELECT 1"))
            one_statement = time.perf_counter() - started
    finally:
        timing.close_tally(token)
    assert not timing.active()
    assert 0 < tally["db"] <= one_statement * 2 + 0.001  # counted once, however often instrument() ran
    assert tally["commit"] > 0
    if engine.dialect.name == "postgresql":
        assert tally["lock"] == 0


def test_the_wait_for_sqlites_write_lock_is_its_own_part(tmp_path: Path) -> None:
    path = tmp_path / "lock.db"
    engine = create_db_engine(f"sqlite:///{path}")
    timing.instrument(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock for 0.2 s
    release = threading.Timer(0.2, holder.execute, ["ROLLBACK"])
    tally, token = timing.open_tally()
    try:
        release.start()
        with session_scope(engine, write=True) as session:
            session.execute(sa.text("INSERT INTO t VALUES (1)"))
    finally:
        timing.close_tally(token)
        release.join()
        holder.close()
        engine.dispose()
    assert tally["lock"] >= 0.15, tally
    assert tally["db"] < 0.1, tally  # the wait is not counted as a statement
