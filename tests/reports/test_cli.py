"""``xinyong report`` and ``xinyong report-batch`` in a subprocess against a committed database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy.orm import Session

from tests import factories
from tests.conftest import Database
from tests.reports.conftest import pdf_text
from xinyong.reports import service
from xinyong.subjects.models import SubjectKind

REPO = Path(__file__).resolve().parents[2]


def _run(fresh_db: Database, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XINYONG_DATABASE_URL": fresh_db.url, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "xinyong", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_report_command_prints_the_number_last(fresh_db: Database, tmp_path: Path) -> None:
    with Session(fresh_db.engine) as session:
        unit = factories.unit(session)
        subject = factories.subject(session, name="淄博命令行测试有限公司")
        factories.record(session, subject_row=subject, unit_row=unit, payload={"CF_WFXW": "未取得排污许可排放污染物"})
        person = factories.subject(session, kind=SubjectKind.NATURAL_PERSON, name="王五")
        session.commit()
        code, person_ref = subject.uscc, f"P{person.id}"
    assert code is not None
    out = tmp_path / "r.pdf"
    done = _run(fresh_db, "report", code, "--out", str(out), "--kind", "no_violation", "--domain", "生态环境")
    assert done.returncode == 0, done.stderr
    number = done.stdout.strip().splitlines()[-1]
    assert number.startswith("XY-370300-") and number in pdf_text(out)
    assert "未取得排污许可排放污染物" in pdf_text(out)
    with Session(fresh_db.engine) as session:
        assert service.verify(session=session, report_no=number, file_data=out.read_bytes()).file_matches

    bad = _run(fresh_db, "report", code, "--out", str(tmp_path / "x.pdf"), "--from", "2026-02-30")
    assert bad.returncode == 2 and "--from" in bad.stderr and "Traceback" not in bad.stderr

    codes = tmp_path / "codes.txt"
    codes.write_text(f"# 批量\n{code}\n91370302MA00000000\n{person_ref}\n", encoding="utf-8")
    batch = _run(fresh_db, "report-batch", "--codes", str(codes), "--out", str(tmp_path / "batch"))
    assert batch.returncode == 1  # one unknown code
    assert "成功 2 份，失败 1 份" in batch.stdout and "未找到" in batch.stderr
    index = (tmp_path / "batch" / "index.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(index) == 4 and sum(1 for line in index if line.endswith("已出具")) == 2
    assert len(list((tmp_path / "batch").glob("XY-*.pdf"))) == 2
