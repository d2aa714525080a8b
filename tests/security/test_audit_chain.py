"""The audit log's hash chains: a DBA's edit, deletion or reordering of entries is caught and named; writers that
coincide take different chains and never fork one."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from tests.conftest import Database, _require_engine, new_database
from xinyong.audit import service as audit
from xinyong.audit.service import Actor

REPO = Path(__file__).resolve().parents[2]


def _write(db: Database, n: int = 5) -> None:
    with Session(db.engine) as session:
        for i in range(n):
            audit.record(session=session, actor=Actor.cli(), action="test.write", target_id=i, detail={"i": i})
        session.commit()


def _as_dba(db: Database, *statements: str) -> None:
    """What someone with the database's owner rights can do: switch the append-only triggers off and edit."""
    with db.engine.begin() as conn:
        if db.kind == "postgresql":
            conn.exec_driver_sql("ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_change")
        else:
            conn.exec_driver_sql("DROP TRIGGER audit_event_no_update")
            conn.exec_driver_sql("DROP TRIGGER audit_event_no_delete")
        for statement in statements:
            conn.exec_driver_sql(statement)


def _ids(db: Database) -> list[int]:
    with db.engine.connect() as conn:
        return list(conn.scalars(sa.text("SELECT id FROM audit_event ORDER BY id")))


def _verify(db: Database) -> audit.ChainReport:
    with Session(db.engine) as session:
        return audit.verify(session=session)


def test_intact_chain_verifies_and_triggers_still_refuse(fresh_db: Database) -> None:
    _write(fresh_db)
    report = _verify(fresh_db)
    assert report.ok and report.checked == 5
    with pytest.raises(sa.exc.DBAPIError), fresh_db.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM audit_event")


def test_appending_reads_the_head_and_inserts_and_the_database_moves_the_head(fresh_db: Database) -> None:
    _write(fresh_db, n=1)
    seen: list[str] = []

    def statement(_conn: object, _cursor: object, sql: str, *_args: object) -> None:
        seen.append(" ".join(sql.split()))

    sa.event.listen(fresh_db.engine, "before_cursor_execute", statement)
    try:
        _write(fresh_db, n=1)
    finally:
        sa.event.remove(fresh_db.engine, "before_cursor_execute", statement)
    # The database moves the head (migration 0015's trigger), not an UPDATE from the app.
    audit_statements = [s for s in seen if "audit" in s]
    if fresh_db.kind == "postgresql":  # one round trip: the head is locked, read and hashed onto in the INSERT
        assert len(audit_statements) == 1, audit_statements
        assert audit_statements[0].startswith(
            "WITH head AS (SELECT audit_chain_head.id AS id, audit_chain_head.last_hash"
        )
        assert "FOR UPDATE SKIP LOCKED" in audit_statements[0] and "INSERT INTO audit_event" in audit_statements[0]
    else:
        assert [" ".join(s.split()[:3]) for s in audit_statements] == [
            "SELECT audit_chain_head.id, audit_chain_head.last_hash", "INSERT INTO audit_event"
        ]  # fmt: skip
    with fresh_db.engine.connect() as conn:
        head = conn.execute(sa.text("SELECT last_id, last_hash FROM audit_chain_head WHERE id = 1")).one()
        last = conn.execute(sa.text("SELECT id, hash FROM audit_event ORDER BY id DESC LIMIT 1")).one()
    assert tuple(head) == tuple(last)
    assert _verify(fresh_db).ok


_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    actor=_TEXT.filter(lambda t: len(t) <= 64),
    purpose=_TEXT,
    target=st.one_of(st.none(), _TEXT.filter(lambda t: len(t) <= 64), st.integers()),
    detail=st.dictionaries(
        _TEXT, st.one_of(_TEXT, st.integers(), st.booleans(), st.none(), st.lists(_TEXT, max_size=3))
    ),
)
def test_any_content_is_hashed_the_same_by_the_database_and_by_verify(
    fresh_db: Database, actor: str, purpose: str, target: str | int | None, detail: dict[str, object]
) -> None:
    """On PostgreSQL the database hashes a new entry (``_append_statement``), and ``verify`` recomputes it in Python:
    any text (Chinese, quotes, backslashes, control characters, emoji) must give the same hash in both."""
    with Session(fresh_db.engine) as session:
        audit.record(
            session=session, actor=Actor(name=actor, role="admin"), action="test.any", target_id=target,
            purpose=purpose, detail=detail,
        )  # fmt: skip
        session.commit()
    report = _verify(fresh_db)
    assert report.ok, report.problems


def test_edit_is_named(fresh_db: Database) -> None:
    _write(fresh_db)
    third = _ids(fresh_db)[2]
    _as_dba(fresh_db, f"UPDATE audit_event SET purpose = '改过' WHERE id = {third}")
    problems = _verify(fresh_db).problems
    assert problems == [f"审计记录 {third}（链 1）：内容与散列不符——该记录被修改"]


def test_deletion_is_named(fresh_db: Database) -> None:
    _write(fresh_db)
    ids = _ids(fresh_db)
    _as_dba(fresh_db, f"DELETE FROM audit_event WHERE id = {ids[2]}")
    problems = _verify(fresh_db).problems
    assert len(problems) == 1 and problems[0].startswith(f"审计记录 {ids[3]}（链 1）：与该链上一条（{ids[1]}）不衔接")


def test_deleting_the_tail_is_caught(fresh_db: Database) -> None:
    _write(fresh_db)
    ids = _ids(fresh_db)
    _as_dba(fresh_db, f"DELETE FROM audit_event WHERE id = {ids[-1]}")
    problems = _verify(fresh_db).problems
    assert problems == [f"链 1 的链头指向记录 {ids[-1]}，而该链最后一条是 {ids[-2]}——链尾的记录被删除或链头被改动"]


def test_reordering_is_caught_by_the_cli(fresh_db: Database) -> None:
    _write(fresh_db)
    a, b = _ids(fresh_db)[1:3]
    spare = 10**9
    _as_dba(
        fresh_db,
        f"UPDATE audit_event SET id = {spare} WHERE id = {a}",
        f"UPDATE audit_event SET id = {a} WHERE id = {b}",
        f"UPDATE audit_event SET id = {b} WHERE id = {spare}",
    )
    env = {**os.environ, "XINYONG_DATABASE_URL": fresh_db.url, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-m", "xinyong", "audit", "verify"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert f"审计记录 {a}（链 1）：与该链上一条" in result.stderr and "审计链校验失败" in result.stderr


def test_moving_an_entry_to_another_chain_is_caught(fresh_db: Database) -> None:
    _write(fresh_db)
    ids = _ids(fresh_db)
    _as_dba(fresh_db, f"UPDATE audit_event SET chain = 2 WHERE id = {ids[-1]}")
    problems = _verify(fresh_db).problems
    # Its content no longer matches its hash (the chain is hashed), and chain 1 lost its tail.
    assert problems[0].startswith(f"审计记录 {ids[-1]}（链 2）：")
    assert any(p.startswith("链 1 的链头指向记录") for p in problems)


def test_a_deleted_head_is_caught(fresh_db: Database) -> None:
    _write(fresh_db, n=2)
    with fresh_db.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM audit_chain_head WHERE id = 1")
    assert _verify(fresh_db).problems == ["链 1 没有链头——链头被删除，或记录被改到了不存在的链上"]


def test_one_transaction_stays_on_one_chain_through_a_rolled_back_savepoint(fresh_db: Database) -> None:
    with Session(fresh_db.engine) as session:
        audit.record(session=session, actor=Actor.cli(), action="test.first")
        savepoint = session.begin_nested()
        audit.record(session=session, actor=Actor.cli(), action="test.undone")
        savepoint.rollback()
        audit.record(session=session, actor=Actor.cli(), action="test.after")
        session.commit()
    with fresh_db.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT action, chain FROM audit_event ORDER BY id")).all()
    assert [tuple(r) for r in rows] == [("test.first", 1), ("test.after", 1)]
    assert _verify(fresh_db).ok


def _held(db: Database, n: int) -> list[Session]:
    """``n`` transactions, each having written one audit entry and still open."""
    sessions = []
    for i in range(n):
        session = Session(db.engine)
        audit.record(session=session, actor=Actor.cli(), action="test.held", target_id=i)
        sessions.append(session)
    return sessions


@pytest.fixture
def pg_db(_templates: dict[str, Database], tmp_path: Path) -> Iterator[Database]:
    """A fresh PostgreSQL database: only there do writers overlap (SQLite has one writer, so one chain)."""
    _require_engine("postgresql", _templates)
    with new_database("postgresql", _templates, tmp_path) as fresh:
        yield fresh


def test_coinciding_writers_take_different_chains_and_all_verify(pg_db: Database) -> None:
    fresh_db = pg_db
    sessions = _held(fresh_db, 3)
    chains = [session.info[audit._HELD][1] for session in sessions]
    assert chains == [1, 2, 3]
    # A second entry in the same transaction stays on its chain even though a lower one is free by then.
    sessions[0].commit()
    audit.record(session=sessions[2], actor=Actor.cli(), action="test.again")
    for session in sessions[1:]:
        session.commit()
    for session in sessions:
        session.close()
    _write(fresh_db, n=2)  # later writers reuse the free chains
    with fresh_db.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT action, chain FROM audit_event ORDER BY id")).all()
    assert [tuple(r) for r in rows] == [
        ("test.held", 1), ("test.held", 2), ("test.held", 3), ("test.again", 3), ("test.write", 1), ("test.write", 1)
    ]  # fmt: skip
    assert _verify(fresh_db).ok


def test_with_every_chain_held_a_writer_waits_instead_of_forking(pg_db: Database) -> None:
    fresh_db = pg_db
    sessions = _held(fresh_db, audit.STRIPES)
    waiter = Session(fresh_db.engine)
    waiter.execute(sa.text("SET LOCAL lock_timeout = '200ms'"))
    with pytest.raises(sa.exc.OperationalError, match="lock timeout"):
        audit.record(session=waiter, actor=Actor.cli(), action="test.waiting")
    waiter.rollback()
    for session in sessions:
        session.commit()
        session.close()
    audit.record(session=waiter, actor=Actor.cli(), action="test.waited")
    waiter.commit()
    waiter.close()
    report = _verify(fresh_db)
    assert report.ok and report.checked == audit.STRIPES + 1
