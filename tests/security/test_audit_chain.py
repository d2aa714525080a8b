"""The audit log's hash chain: a DBA's edit, deletion or reordering of entries is caught and named."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests.conftest import Database
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


def test_edit_is_named(fresh_db: Database) -> None:
    _write(fresh_db)
    third = _ids(fresh_db)[2]
    _as_dba(fresh_db, f"UPDATE audit_event SET purpose = '改过' WHERE id = {third}")
    problems = _verify(fresh_db).problems
    assert problems == [f"审计记录 {third}：内容与散列不符——该记录被修改"]


def test_deletion_is_named(fresh_db: Database) -> None:
    _write(fresh_db)
    ids = _ids(fresh_db)
    _as_dba(fresh_db, f"DELETE FROM audit_event WHERE id = {ids[2]}")
    problems = _verify(fresh_db).problems
    assert len(problems) == 1 and problems[0].startswith(f"审计记录 {ids[3]}：与上一条（{ids[1]}）不衔接")


def test_deleting_the_tail_is_caught(fresh_db: Database) -> None:
    _write(fresh_db)
    ids = _ids(fresh_db)
    _as_dba(fresh_db, f"DELETE FROM audit_event WHERE id = {ids[-1]}")
    problems = _verify(fresh_db).problems
    assert len(problems) == 1 and f"审计链头指向记录 {ids[-1]}" in problems[0]


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
    assert f"审计记录 {a}：与上一条" in result.stderr and "审计链校验失败" in result.stderr
