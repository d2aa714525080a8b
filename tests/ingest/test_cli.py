"""``xinyong ingest`` and ``xinyong batches`` as a department clerk runs them: a subprocess on a committed database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson

from tests.conftest import Database
from tests.ingest.fixtures import PENALTY, UNIT_NAME, UNIT_USCC, penalty_rows, valid_penalty_row, write_csv
from xinyong.catalog import service as catalog
from xinyong.core.database import session_scope

REPO = Path(__file__).resolve().parents[2]


def xinyong(db: Database, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XINYONG_DATABASE_URL": db.url, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "xinyong", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_ingest_json_summary_and_batch_history(fresh_db: Database, tmp_path: Path) -> None:
    with session_scope(fresh_db.engine, write=True) as session:
        catalog.register_unit(session=session, uscc=UNIT_USCC, name=UNIT_NAME, region="370300", resources=[PENALTY])
    rows = [*penalty_rows(3), valid_penalty_row(4, CF_JDRQ="2099-01-01")]
    path = write_csv(tmp_path / "处罚.csv", rows, encoding="gb18030", headers="names", crlf=True)

    done = xinyong(fresh_db, "ingest", str(path), "--resource", PENALTY, "--source-unit", UNIT_USCC, "--json")
    assert done.returncode == 0, done.stderr
    summary = orjson.loads(done.stdout)  # one JSON object and nothing else on stdout
    assert {k: summary[k] for k in ("received", "accepted", "duplicates", "rejected", "linked")} == {
        "received": 4,
        "accepted": 3,
        "duplicates": 0,
        "rejected": 1,
        "linked": 3,
    }
    assert summary["rejects_file"] == str(tmp_path / "处罚.rejects.csv")
    assert Path(summary["rejects_file"]).read_text(encoding="gb18030").count("第 5 行 CF_JDRQ：") == 1

    human = xinyong(fresh_db, "ingest", str(path), "--resource", PENALTY)
    assert human.returncode == 0, human.stderr
    assert "重复 3 行" in human.stdout and "拒收 1 行" in human.stdout

    history = xinyong(fresh_db, "batches", "--json")
    assert history.returncode == 0, history.stderr
    listed = orjson.loads(history.stdout)
    assert listed["total"] == 2
    assert [b["accepted"] for b in listed["items"]] == [0, 3]
    table = xinyong(fresh_db, "batches", "--limit", "1")
    assert table.returncode == 0 and "归集批次" in table.stdout


def test_ingest_errors_are_chinese_and_non_zero(fresh_db: Database, tmp_path: Path) -> None:
    missing = xinyong(fresh_db, "ingest", str(tmp_path / "none.csv"), "--resource", PENALTY, "--json")
    assert missing.returncode != 0
    assert "文件不存在" in missing.stderr
    assert orjson.loads(missing.stdout)["error"] == "not_found"

    path = write_csv(tmp_path / "a.csv", penalty_rows(1))
    unknown = xinyong(fresh_db, "ingest", str(path), "--resource", "no_such_resource")
    assert unknown.returncode != 0
    assert "未知的信息资源" in unknown.stderr
    assert unknown.stdout == ""

    broken = tmp_path / "broken.xls"
    broken.write_bytes(b"\x00\x01 not an excel file")
    failed = xinyong(fresh_db, "ingest", str(broken), "--resource", PENALTY, "--json")
    assert failed.returncode != 0
    body = orjson.loads(failed.stdout)
    assert body["batch_id"] and "错误" in failed.stderr
    history = orjson.loads(xinyong(fresh_db, "batches", "--json").stdout)
    assert [(b["state"], b["error"]) for b in history["items"]] == [("failed", body["message"])]
