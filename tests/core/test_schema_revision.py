"""The web app and the worker refuse a database whose schema is not the code's, and say what to run.

Why it matters: since migration 0015 the database moves the audit chain's head; the same code on a 0014 schema left
every head where it was and forked every chain (seen in a benchmark run that served new code on an old database).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.conftest import Database
from xinyong.app import create_app
from xinyong.core.migrate import SchemaOutdated, require_current

REPO = Path(__file__).resolve().parents[2]
OLD = "0014_audit_stripes"


def _set_revision(db: Database, revision: str | None) -> None:
    with db.engine.begin() as conn:
        if revision is None:
            conn.exec_driver_sql("DROP TABLE alembic_version")
        else:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = :v"), {"v": revision})


def test_a_current_schema_passes_and_the_app_starts(fresh_db: Database) -> None:
    require_current(fresh_db.engine)
    with TestClient(create_app(fresh_db.engine)) as client:
        assert client.get("/rules").status_code == 200


@pytest.mark.parametrize("revision", [OLD, None])
def test_an_outdated_or_unmigrated_schema_stops_the_app_from_starting(fresh_db: Database, revision: str | None) -> None:
    _set_revision(fresh_db, revision)
    with pytest.raises(SchemaOutdated) as caught:
        require_current(fresh_db.engine)
    assert "请先运行 xinyong db upgrade" in caught.value.message
    assert (OLD if revision else "空库") in caught.value.message
    with pytest.raises(SchemaOutdated), TestClient(create_app(fresh_db.engine)):
        pass  # the lifespan's start refuses before any request is served


def test_the_worker_refuses_an_outdated_schema_in_one_chinese_line(fresh_db: Database) -> None:
    _set_revision(fresh_db, OLD)
    env = {**os.environ, "XINYONG_DATABASE_URL": fresh_db.url, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-m", "xinyong", "worker", "--once"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert f"数据库结构版本（{OLD}）与程序" in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
