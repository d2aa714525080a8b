"""A small demo build through the real pipeline: every generated row accepted, counts as generated, on both engines."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from tests.conftest import Database
from xinyong.catalog import service as catalog
from xinyong.core.database import session_scope
from xinyong.core.settings import get_settings
from xinyong.demo.builder import build_demo, completed_build
from xinyong.demo.generator import DemoData
from xinyong.demo.writers import field_codes

REPO = Path(__file__).resolve().parents[2]


def test_demo_build_accepts_every_generated_row(fresh_db: Database) -> None:
    region = get_settings().region
    expected = list(DemoData(subjects=300, seed=11, region=region, messy=0.05).records())
    result = build_demo(engine=fresh_db.engine, subjects=300, seed=11, region=region, messy=0.05)

    assert result.rejected == 0, result.errors
    assert result.received == len(expected)
    assert result.accepted == len(expected)
    assert result.linked == len(expected)
    with fresh_db.engine.connect() as conn:
        records = conn.execute(sa.text("SELECT count(*) FROM record")).scalar_one()
        subjects = conn.execute(sa.text("SELECT count(*) FROM subject")).scalar_one()
        units = conn.execute(sa.text("SELECT count(*) FROM source_unit")).scalar_one()
    # Subjects: the 300 generated, plus the departments named in 政务失信记录.
    government = {r.fields["ZW_XDR_SHXYM"] for r in expected if r.subject_index < 0}
    assert records == len(expected)
    assert subjects == 300 + len(government)
    assert units == result.units
    assert set(result.keys) and all(k.startswith("xy_") for k in result.keys.values())
    assert {"网站登录（平台管理员）", "网站登录（信用办）", "网站登录（窗口核查员）"} <= set(result.logins)
    done = completed_build(fresh_db.engine)
    assert done is not None and done["accepted"] == len(expected) and done["subjects"] == 300


def test_generate_command_writes_gb18030_files_that_ingest_reads(tmp_path: Path, fresh_db: Database) -> None:
    env = {**os.environ, "XINYONG_DATABASE_URL": fresh_db.url, "PYTHONPATH": str(REPO)}
    out = tmp_path / "files"
    made = subprocess.run(
        [sys.executable, "-m", "xinyong", "generate", "--out", str(out), "--subjects", "60", "--seed", "5",
         "--encoding", "gb18030", "--resource", "administrative_penalty"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    penalties = out / "administrative_penalty.csv"
    with penalties.open(encoding="gb18030", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == field_codes("administrative_penalty")
    assert len(rows) > 60
    assert (out / "units.csv").read_text(encoding="gb18030").count("\n") > 10

    units = list(csv.DictReader((out / "units.csv").open(encoding="gb18030")))
    with session_scope(fresh_db.engine, write=True) as session:
        for unit in units:
            catalog.register_unit(
                session=session,
                uscc=unit["统一社会信用代码"],
                name=unit["单位名称"],
                region=unit["行政区划代码"],
                resources=unit["可报送信息资源"].split(";"),
            )
    loaded = subprocess.run(
        [sys.executable, "-m", "xinyong", "ingest", str(penalties), "--resource", "administrative_penalty", "--json"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert loaded.returncode == 0, loaded.stderr
    summary = json.loads(loaded.stdout)
    assert summary["rejected"] == 0
    assert summary["accepted"] == len(rows) - 1
