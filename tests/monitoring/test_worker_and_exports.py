"""The worker's idempotency (in a subprocess, as cron runs it) and the CSV/XLSX/PDF exports."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests import factories
from tests.conftest import Database
from tests.monitoring.helpers import received
from xinyong.core.database import session_scope
from xinyong.monitoring import exports, metrics, worker
from xinyong.monitoring.metrics import Scope
from xinyong.monitoring.models import GovernanceIssue, JobRun

ROOT = Path(__file__).resolve().parents[2]


def _worker(db: Database, tmp_path: Path, *args: str) -> list[dict[str, object]]:
    env = {**os.environ, "XINYONG_DATABASE_URL": db.url, "PYTHONPATH": str(ROOT), "XINYONG_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "xinyong", "worker", "--once", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_worker_once_is_idempotent_per_period(fresh_db: Database, tmp_path: Path) -> None:
    with session_scope(fresh_db.engine, write=True) as session:
        factories.subject(session, name="淄博齐鲁阀门有限公司", legal_rep="钱七")
        factories.subject(session, name="淄博齐鲁阀门有限公司 ", legal_rep="钱七")
    first = {o["job"]: o for o in _worker(fresh_db, tmp_path)}
    assert set(first) == set(worker.JOBS)
    assert first["governance_scan"]["state"] == "done"
    assert first["governance_scan"]["result"] == {"duplicate_records": 0, "duplicate_subjects": 1}
    assert first["monthly_summary"]["period"] == "2026-05"
    assert (tmp_path / "summaries" / "monitoring-summary-2026-05.pdf").stat().st_size > 1000
    assert first["deadline_alerts"]["result"] == {"alerts": 0}
    second = {o["job"]: o for o in _worker(fresh_db, tmp_path)}
    # outbox_delivery's period is a quarter of an hour, which may have turned between the two runs: then it runs
    # again and finds nothing to send.
    delivery = second.pop("outbox_delivery")
    assert delivery["state"] == "skipped" or delivery["result"] == {"sent": 0, "failed": 0}
    assert {o["state"] for o in second.values()} == {"skipped"}
    only = _worker(fresh_db, tmp_path, "--job", "governance_scan")
    assert [o["job"] for o in only] == ["governance_scan"]
    with session_scope(fresh_db.engine) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(GovernanceIssue)) == 1
        assert session.scalar(sa.select(sa.func.count()).select_from(JobRun)) in (
            len(worker.JOBS),
            len(worker.JOBS) + 1,
        )


def test_a_failed_job_is_retried_next_round(fresh_db: Database) -> None:
    calls: list[str] = []

    def flaky(_session: Session, period: str) -> dict[str, object]:
        calls.append(period)
        if len(calls) == 1:
            raise RuntimeError("临时故障")
        return {"ok": True}

    worker.register_job("test_flaky", "测试", worker.daily, flaky)
    try:
        assert worker.run_job(fresh_db.engine, "test_flaky").state == "failed"
        assert worker.run_job(fresh_db.engine, "test_flaky").state == "done"
        assert worker.run_job(fresh_db.engine, "test_flaky").state == "skipped"
        with session_scope(fresh_db.engine) as session:
            run = session.scalar(sa.select(JobRun).where(JobRun.job == "test_flaky"))
            assert run is not None and (run.attempts, run.state) == (2, "done")
    finally:
        del worker.JOBS["test_flaky"]
    assert calls == ["2026-06-15", "2026-06-15"]


def _charted(session: Session) -> metrics.Chart:
    unit = factories.unit(session)
    row = factories.record(session, subject_row=factories.subject(session), unit_row=unit)
    row.decision_date = factories.dt.date(2026, 5, 6)
    received(session, row, "2026-05-20")  # May 7, 8, 9 (调休 Saturday), 11–15, 18–20 → 11 working days: late
    return metrics.compute("publicity_by_department", session=session, scope=Scope.month("2026-05"))


def test_csv_and_xlsx_hold_the_chart_tables(session: Session) -> None:
    chart = _charted(session)
    text = exports.chart_csv(chart).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["双公示按时公示率（按部门）"]
    assert ["淄博市生态环境局", "2026-05", "1", "0", "1", "0.0", "正式"] in rows
    book = openpyxl.load_workbook(io.BytesIO(exports.chart_xlsx(chart)))
    late = book.worksheets[1]
    values = [[c.value for c in r] for r in late.iter_rows(min_row=4)]
    assert values[0][6] == 11 and values[0][0] == "淄博市生态环境局"


def test_monthly_pdf_renders_extractable_chinese(session: Session, tmp_path: Path) -> None:
    _charted(session)
    pdf = tmp_path / "summary.pdf"
    pdf.write_bytes(exports.monthly_pdf(session=session, month="2026-05"))
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "公共信用信息监测月报（2026-05）" in text
    assert "双公示按时公示率（按部门）" in text and "淄博市生态环境局" in text
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True)
    assert (tmp_path / "page-1.png").stat().st_size > 2000
