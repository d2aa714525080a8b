"""The check's hot path: few SQL round trips, the scenarios file parsed once per version, the catalog re-read when
it changes, and ``xinyong serve --workers`` serving checks from several processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests import factories
from tests.checks.conftest import CLERK, CREDIT_OFFICE, put_on_list
from tests.conftest import Database
from xinyong.accounts import service as accounts
from xinyong.accounts.models import Role
from xinyong.audit.models import AuditEvent
from xinyong.audit.service import Actor
from xinyong.checks import service as checks
from xinyong.checks.models import Check
from xinyong.core.database import session_scope
from xinyong.core.settings import reset_settings
from xinyong.evaluation.spec import DATA_DIR

REPO = Path(__file__).resolve().parents[2]


class _Statements:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.seen.append(statement.split(None, 1)[0].upper())


@contextmanager
def _counting(session: Session) -> Iterator[_Statements]:
    counter = _Statements()
    engine = session.get_bind().engine
    sa.event.listen(engine, "before_cursor_execute", counter)
    try:
        yield counter
    finally:
        sa.event.remove(engine, "before_cursor_execute", counter)


def test_a_check_costs_a_bounded_number_of_statements(session: Session) -> None:
    company = factories.subject(session)
    put_on_list(session, company, "government_procurement")
    request = checks.CheckRequest(matter="government_procurement", code=company.uscc)
    checks.run_check(session=session, actor=CLERK, request=request)  # the catalog cache is now warm
    session.flush()

    with _counting(session) as counter:
        outcome = checks.run_check(session=session, actor=CLERK, request=request)

    # catalog stamp, subject with its grade, entries, objection records, the audit chain's head (the audit entry is
    # hashed onto the previous one), then the check row and its audit row (one flush); the database moves the head
    assert sorted(counter.seen) == ["INSERT"] * 2 + ["SELECT"] * 5, counter.seen
    assert [m["code"] for m in outcome.result["measures"]] == ["M01", "M02"]
    stored = session.scalar(sa.select(Check).where(Check.check_no == outcome.check.check_no))
    assert stored is not None and stored.result["summary"] == outcome.result["summary"]
    audit = session.scalar(sa.select(AuditEvent).where(AuditEvent.target_id == outcome.check.check_no))
    assert audit is not None and audit.action == "check.run" and audit.subject_id == company.id


def test_a_confirmed_basis_is_seen_by_the_next_check(session: Session) -> None:
    """The catalog is cached across checks but re-read as soon as the credit office changes it."""
    company = factories.subject(session)
    put_on_list(session, company, "government_procurement")
    request = checks.CheckRequest(matter="government_procurement", code=company.uscc)
    checks.run_check(session=session, actor=CLERK, request=request)
    local = [m for m in checks.catalog_measures(session=session) if not checks.returnable(m)]
    assert local, "the built-in catalog has local-policy measures without a basis"
    measure = local[0]
    checks.confirm_measure_basis(
        session=session, actor=CREDIT_OFFICE, code=measure.code, basis=[{"document": "某市容缺受理办法"}]
    )
    assert checks.returnable(next(m for m in checks.catalog_measures(session=session) if m.code == measure.code))


def test_an_edited_scenarios_file_is_read_again(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    company = factories.subject(session)
    scenarios_file = tmp_path / "scenarios.yaml"
    scenarios_file.write_text((DATA_DIR / "scenarios.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setenv("XINYONG_SCENARIOS_FILE", str(scenarios_file))
    reset_settings()
    try:
        first = checks.run_check(
            session=session, actor=CLERK, request=checks.CheckRequest(matter="xinyiyue", code=company.uscc)
        )
        assert first.result["matter"] == {"code": "xinyiyue", "name": "信易+ 信易阅"}
        text = scenarios_file.read_text(encoding="utf-8").replace("name: 信易阅", "name: 信易阅（图书馆）")
        scenarios_file.write_text(text, encoding="utf-8")
        second = checks.run_check(
            session=session, actor=CLERK, request=checks.CheckRequest(matter="xinyiyue", code=company.uscc)
        )
        assert second.result["matter"]["name"] == "信易+ 信易阅（图书馆）"
    finally:
        monkeypatch.delenv("XINYONG_SCENARIOS_FILE")
        reset_settings()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_with_workers_answers_checks(fresh_db: Database) -> None:
    with session_scope(fresh_db.engine, write=True) as session:
        key = accounts.create_api_key(session=session, actor=Actor.cli(), role=Role.CHECKER).key
        company = factories.subject(session)
        put_on_list(session, company, "government_procurement")
        code = company.uscc
    port = _free_port()
    env = {**os.environ, "XINYONG_DATABASE_URL": fresh_db.url, "PYTHONPATH": str(REPO)}
    server = subprocess.Popen(
        [sys.executable, "-m", "xinyong", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            answers = [
                client.post(
                    "/api/v1/checks",
                    json={"code": code, "matter": "government_procurement"},
                    headers={"Authorization": f"Bearer {key}"},
                )
                for _ in range(6)
            ]
            unauthenticated = client.post("/api/v1/checks", json={"code": code, "matter": "government_procurement"})
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    assert all([m["code"] for m in a.json()["measures"]] == ["M01", "M02"] for a in answers)
    assert len({a.json()["check_id"] for a in answers}) == 6
    assert unauthenticated.status_code == 401
    with session_scope(fresh_db.engine) as session:
        assert session.scalar(sa.select(sa.func.count(Check.id))) == 6


def test_the_statement_benchmark_counts_what_a_check_sends(fresh_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """bench/check_statements.py, scaled down: eight statements per check by USCC, each once."""
    from bench import check_statements

    monkeypatch.setenv("XINYONG_RATE_LIMIT_PER_MINUTE", "0")
    reset_settings()
    found = check_statements.measure(fresh_db.url, subjects=500, checks=20)
    counts = sorted(len(times) for times in found["timings"].values())
    assert counts == [20] * 8, {what: len(times) for what, times in found["timings"].items()}
    assert len(found["requests"]) == 20
