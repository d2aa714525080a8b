"""The check's hot path: few SQL round trips, the scenarios file parsed once per version, the catalog re-read when
it changes, and ``xinyong serve --workers`` serving checks from several processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests import factories
from tests.checks.conftest import CLERK, CREDIT_OFFICE, put_on_list
from tests.conftest import Database
from xinyong.accounts import service as accounts
from xinyong.accounts.models import Role
from xinyong.app import create_app
from xinyong.audit import service as audit
from xinyong.audit.models import AuditEvent
from xinyong.audit.service import Actor
from xinyong.checks import service as checks
from xinyong.checks.models import Check
from xinyong.core.database import create_db_engine, session_scope
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

    # the subject with its grade, whether it has list entries and records under objection, and the catalog's stamp;
    # its active entries (it has one; no record under objection, so those are not read); then the writes: on
    # PostgreSQL one statement locks the audit chain's head and inserts the check row and its audit entry hashed onto
    # the head; on SQLite the check row, the head, the audit entry. The database moves the head (a trigger).
    if session.get_bind().dialect.name == "postgresql":
        assert counter.seen == ["SELECT"] * 2 + ["WITH"], counter.seen
    else:
        assert counter.seen == ["SELECT"] * 2 + ["INSERT", "SELECT", "INSERT"], counter.seen
    assert [m["code"] for m in outcome.result["measures"]] == ["M01", "M02"]
    stored = session.scalar(sa.select(Check).where(Check.check_no == outcome.check.check_no))
    assert stored is not None and stored.result["summary"] == outcome.result["summary"]
    audit = session.scalar(sa.select(AuditEvent).where(AuditEvent.target_id == outcome.check.check_no))
    assert audit is not None and audit.action == "check.run" and audit.subject_id == company.id


def test_a_check_reads_entries_and_objections_only_for_a_subject_that_has_some(session: Session) -> None:
    """The subject's own statement says whether it has any list entry and any record under objection; the reads that
    would find nothing are not sent, and the answer is the same as when they are."""
    plain = factories.subject(session)
    factories.record(session, subject_row=plain, doc_no="淄环罚〔2026〕1号")
    disputed = factories.subject(session)
    put_on_list(session, disputed, "government_procurement")
    factories.record(session, subject_row=disputed, objection_open=True, doc_no="淄环罚〔2026〕2号")
    session.flush()
    checks.run_check(session=session, actor=CLERK, request=checks.CheckRequest(matter="bidding", code=plain.uscc))

    answers = {}
    for company in (plain, disputed):
        with _counting(session) as counter:
            answers[company.id] = checks.answer_check(
                session=session,
                actor=CLERK,
                request=checks.CheckRequest(matter="government_procurement", code=company.uscc),
            ).result
        answers[company.id]["_reads"] = counter.seen
    assert answers[plain.id]["_reads"] == ["SELECT"]  # the subject with what it has, and the catalog's stamp
    assert answers[plain.id]["entries"] == [] and answers[plain.id]["objection_records"] == []
    assert answers[disputed.id]["_reads"] == ["SELECT"] * 3
    assert [e["list_type"]["code"] for e in answers[disputed.id]["entries"]] == ["government_procurement"]
    assert [r["doc_no"] for r in answers[disputed.id]["objection_records"]] == ["淄环罚〔2026〕2号"]


pg_only = pytest.mark.parametrize("db", ["postgresql"], indirect=True)


def _checker_and_listed(db: Database) -> tuple[str, str]:
    with session_scope(db.engine, write=True) as session:
        key = accounts.create_api_key(session=session, actor=Actor.cli(), role=Role.CHECKER).key
        company = factories.subject(session)
        put_on_list(session, company, "government_procurement")
        return key, company.uscc


@pg_only
def test_a_check_on_postgresql_is_one_exchange_per_statement_without_begin_or_commit(
    fresh_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """libpq's own trace of the connection during one check through the app: the key, two reads (the subject, which
    has a list entry and no record under objection, with the catalog's stamp; its entries) and one write, each one
    exchange (``Sync``), and no BEGIN or COMMIT (``read_first``: the reads and the one-statement write go outside a
    transaction). Before session 14, the same check was BEGIN, eight statements and COMMIT; before session 16, the
    catalog's stamp was a read of its own."""
    monkeypatch.setenv("XINYONG_RATE_LIMIT_PER_MINUTE", "0")
    reset_settings()
    key, code = _checker_and_listed(fresh_db)
    engine = create_db_engine(fresh_db.url, pool_size=1, max_overflow=0)  # every request on the one traced connection
    body, headers = {"code": code, "matter": "government_procurement"}, {"Authorization": f"Bearer {key}"}
    try:
        with TestClient(create_app(engine)) as client:
            for _ in range(8):  # psycopg prepares a statement on its fifth run: a Parse exchange once, then never
                assert client.post("/api/v1/checks", json=body, headers=headers).status_code == 200
            with engine.connect() as conn:
                raw = conn.connection.driver_connection
            trace = tmp_path / "libpq.trace"
            with trace.open("w") as out:
                raw.pgconn.trace(out.fileno())
                try:
                    answer = client.post("/api/v1/checks", json=body, headers=headers)
                finally:
                    raw.pgconn.untrace()
    finally:
        engine.dispose()
        reset_settings()
    assert answer.status_code == 200 and [m["code"] for m in answer.json()["measures"]] == ["M01", "M02"]
    sent = [line.split("\t") for line in trace.read_text().splitlines()]
    sent = [fields[3] for fields in sent if len(fields) > 3 and fields[1] == "F"]
    assert "Query" not in sent, sent  # BEGIN and COMMIT are simple queries
    assert sent.count("Sync") == 4, sent
    with session_scope(fresh_db.engine) as session:
        stored = session.scalar(sa.select(Check).where(Check.check_no == answer.json()["check_id"]))
        assert stored is not None
        entry = session.scalar(sa.select(AuditEvent).where(AuditEvent.target_id == stored.check_no))
        assert entry is not None and entry.action == "check.run"
        assert audit.verify(session=session).ok


@pg_only
def test_a_check_waits_for_a_chain_when_all_are_held_and_is_stored_once(fresh_db: Database) -> None:
    """Outside a transaction, a check's write must never store the check without its audit entry: when every chain's
    head is held by another transaction, its first statement inserts nothing, and it waits for a head and stores
    both."""
    key, code = _checker_and_listed(fresh_db)
    holders = []
    for i in range(audit.STRIPES):
        holder = Session(fresh_db.engine)
        audit.record(session=holder, actor=Actor.cli(), action="test.held", target_id=i)
        holders.append(holder)
    answers: list[httpx.Response] = []
    with TestClient(create_app(fresh_db.engine)) as client:
        request = threading.Thread(
            target=lambda: answers.append(
                client.post(
                    "/api/v1/checks",
                    json={"code": code, "matter": "government_procurement"},
                    headers={"Authorization": f"Bearer {key}"},
                )
            )
        )
        request.start()
        try:
            time.sleep(1.0)
            assert not answers, "the check answered while every chain was held"
            with session_scope(fresh_db.engine) as session:
                assert session.scalar(sa.select(sa.func.count(Check.id))) == 0
        finally:
            for holder in holders:
                holder.commit()
                holder.close()
            request.join(timeout=30)
    assert [a.status_code for a in answers] == [200], [a.text for a in answers]
    with session_scope(fresh_db.engine) as session:
        assert session.scalar(sa.select(sa.func.count(Check.id))) == 1
        entries = session.scalars(sa.select(AuditEvent.action).where(AuditEvent.action == "check.run")).all()
        assert entries == ["check.run"]
        assert audit.verify(session=session).ok


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


def test_the_catalog_stamp_read_with_the_subject_is_the_stamp_read_alone(session: Session) -> None:
    """A check by USCC takes the catalog's version stamp from its subject's statement; it must be the same value the
    stamp's own statement reads (or the cache would be re-read on every check, or never), before and after the
    credit office changes a measure, and a subject not found falls back to the stamp's own read."""
    company = factories.subject(session)
    request = checks.CheckRequest(matter="government_procurement", code=company.uscc)
    stamps = []
    for confirm in (True, False):
        _, _, known = checks._resolve(session=session, request=request)
        assert known is not None
        alone = tuple(session.execute(checks._CATALOG_STAMP).one())
        assert known.catalog_stamp == alone
        stamps.append(alone)
        if confirm:
            local = next(m for m in checks.catalog_measures(session=session) if not checks.returnable(m))
            checks.confirm_measure_basis(
                session=session, actor=CREDIT_OFFICE, code=local.code, basis=[{"document": "某市容缺受理办法"}]
            )
            session.flush()
    assert stamps[0] != stamps[1]
    nobody = checks.CheckRequest(matter="government_procurement", code=factories.uscc())
    checks.catalog_measures(session=session)  # the cache re-read after the change: the check below reads no catalog
    with _counting(session) as counter:
        result = checks.answer_check(session=session, actor=CLERK, request=nobody).result
    assert counter.seen == ["SELECT"] * 2 and result["subject"]["found"] is False  # the subject, then the stamp


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
    """bench/check_statements.py, scaled down: per check by USCC (1 in 5 of a listed subject), each statement sent
    once at most: the key, the subject with the catalog's stamp, (the entries of a listed subject), the writes (one
    on PostgreSQL, three on SQLite)."""
    from bench import check_statements

    monkeypatch.setenv("XINYONG_RATE_LIMIT_PER_MINUTE", "0")
    reset_settings()
    found = check_statements.measure(fresh_db.url, subjects=500, checks=20)
    counts = {what: len(times) for what, times in found["timings"].items()}
    (entries,) = [what for what in counts if what.startswith("SELECT list_entry.id")]
    listed = counts.pop(entries)  # the active entries: read only for a subject with list entries
    assert 0 < listed < 20, listed
    assert not [what for what in counts if what.startswith("SELECT record.id")]  # no record is under objection
    expected = 3 if fresh_db.kind == "postgresql" else 5
    assert sorted(counts.values()) == [20] * expected, counts
    assert len(found["requests"]) == 20


def test_the_objection_records_of_a_check_come_from_the_partial_index(session: Session) -> None:
    # Without it a check read every record of the subject from the table to test objection_open: about ten random
    # reads per check, on disk once the records outgrow memory (migration 0017, docs/benchmarks.md "Growth").
    company = factories.subject(session)
    for n in range(40):
        factories.record(session, subject_row=company, doc_no=f"淄环罚〔2026〕{n}号")
    factories.record(session, subject_row=company, objection_open=True, doc_no="淄环罚〔2026〕99号")
    conn = session.connection()
    compiled = checks._OBJECTION_RECORDS.compile(conn)
    params = {"subject_id": company.id}
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("ANALYZE record")
        # 41 rows are one page, which PostgreSQL rightly scans; what must hold is that the planner can prove the
        # check's condition implies the index's, so with scans ruled out it takes the partial index, not the other.
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        partial = set(
            conn.scalars(sa.text("SELECT indexname FROM pg_indexes WHERE indexdef ILIKE '%objection_open IS true%'"))
        )
        assert "ix_record_objection_open" in partial and len(partial) > 1  # the parent and each partition's
        plan = " ".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + str(compiled), params))
        assert any(name in plan for name in partial), plan
    else:
        conn.exec_driver_sql("ANALYZE")
        values = tuple(
            params[name] if name == "subject_id" else compiled.params[name] for name in compiled.positiontup or ()
        )
        plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled), values))
        assert "ix_record_objection_open" in plan, plan
    found = checks._objection_records(session=session, subject_id=company.id)
    assert [r["doc_no"] for r in found] == ["淄环罚〔2026〕99号"]
