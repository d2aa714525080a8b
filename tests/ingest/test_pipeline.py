"""The collection pipeline end to end (file → records, subjects, quarantine, batch), on both engines.

Every test here commits (one transaction per chunk), so each takes ``fresh_db``. The crash tests run ``xinyong
ingest`` in a subprocess, kill it (SIGKILL, and the XINYONG_FAULT hook at every stage) and compare the database after
a rerun with a clean run of the same file into another fresh database.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from sqlalchemy.engine import Engine

from tests.conftest import Database, new_database
from tests.ingest.fixtures import (
    PENALTY,
    UNIT_NAME,
    UNIT_USCC,
    citizen_id,
    individual_business_row,
    natural_person_penalty_row,
    penalty_rows,
    valid_penalty_row,
    write_csv,
    write_json,
    write_jsonl,
    write_xls,
    write_xlsx,
)
from xinyong.audit.models import AuditEvent
from xinyong.audit.service import Actor
from xinyong.catalog import service as catalog
from xinyong.core.crypto import decrypt
from xinyong.core.database import session_scope
from xinyong.core.errors import Forbidden, InvalidInput, NotFound
from xinyong.ingest.models import Batch, QuarantinedRow
from xinyong.ingest.pipeline import FAULT_STAGES, ingest_file
from xinyong.ingest.types import BatchSummary
from xinyong.records.models import Record, RecordVersion
from xinyong.subjects.codes import make_uscc
from xinyong.subjects.models import Subject, SubjectCode, SubjectName

REPO = Path(__file__).resolve().parents[2]
OTHER_UNIT = make_uscc("1", "1", "370300", "00425702")


def register_units(engine: Engine) -> None:
    with session_scope(engine, write=True) as session:
        catalog.register_unit(session=session, uscc=UNIT_USCC, name=UNIT_NAME, region="370300", resources=[PENALTY])
        catalog.register_unit(
            session=session, uscc=OTHER_UNIT, name="淄博市市场监督管理局", region="370300", resources=[]
        )


def ingest(db: Database, path: Path, unit: str | None = None, **kwargs: Any) -> BatchSummary:
    return ingest_file(engine=db.engine, path=path, resource=PENALTY, unit_uscc=unit, actor=Actor.cli(), **kwargs)


def count(engine: Engine, model: type[Any]) -> int:
    with engine.connect() as conn:
        return conn.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def mixed_rows() -> list[dict[str, str]]:
    """Companies, a natural person, an individual business, a bad code, a renamed company, a resent document."""
    rows: list[dict[str, str]] = penalty_rows(6)
    rows.append(natural_person_penalty_row(7))
    rows.append(individual_business_row(8))
    rows.append(valid_penalty_row(9, CF_XDR_SHXYM="91370303MA0000031X"))  # check digit wrong
    rows.append(valid_penalty_row(2, CF_WSH="淄环罚〔2025〕102号", CF_XDR_MC="淄博新名称有限公司2"))
    rows.append(valid_penalty_row(3, CF_NR_FK="5", CF_NR="罚款人民币伍万元整"))  # same document as row 5, changed
    rows.append(valid_penalty_row(4))  # identical to row 6
    return rows


@pytest.fixture
def clean_db(fresh_db: Database) -> Database:
    register_units(fresh_db.engine)
    return fresh_db


def test_accept_link_version_and_duplicate_counts(clean_db: Database, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "处罚.csv", mixed_rows(), encoding="gb18030", headers="names", crlf=True)
    first = ingest(clean_db, path)
    assert (first.received, first.accepted, first.duplicates, first.rejected) == (12, 10, 1, 1)
    assert first.received == first.accepted + first.duplicates + first.rejected
    assert first.linked == 10
    assert first.state == "completed"
    assert count(clean_db.engine, Record) == 9
    assert count(clean_db.engine, RecordVersion) == 1
    assert first.errors == ["第 10 行 CF_XDR_SHXYM：统一社会信用代码校验位错误"]

    with session_scope(clean_db.engine) as session:
        (event,) = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "ingest.batch")).all()
        assert event.target_id == first.batch_id
        assert event.detail["accepted"] == 10


def test_resending_a_file_is_idempotent(clean_db: Database, tmp_path: Path) -> None:
    rows = mixed_rows()[:-2]  # no document twice within the file
    path = write_csv(tmp_path / "处罚.csv", rows, encoding="gb18030", headers="names", crlf=True)
    first = ingest(clean_db, path)
    assert (first.received, first.accepted, first.duplicates, first.rejected) == (10, 9, 0, 1)
    records, versions, subjects = (count(clean_db.engine, m) for m in (Record, RecordVersion, Subject))
    second = ingest(clean_db, path)
    assert second.batch_id != first.batch_id
    assert (second.received, second.accepted, second.duplicates, second.rejected, second.linked) == (10, 0, 9, 1, 0)
    assert (count(clean_db.engine, Record), count(clean_db.engine, RecordVersion)) == (records, versions) == (9, 0)
    assert count(clean_db.engine, Subject) == subjects
    with session_scope(clean_db.engine) as session:
        states = session.scalars(sa.select(Batch.state).order_by(Batch.started_at)).all()
    assert states == ["completed", "completed"]


def test_changed_row_becomes_a_new_version_and_keeps_the_old(clean_db: Database, tmp_path: Path) -> None:
    ingest(clean_db, write_csv(tmp_path / "a.csv", penalty_rows(3)))
    changed = [valid_penalty_row(0), valid_penalty_row(1, CF_NR_FK="9"), valid_penalty_row(2)]
    summary = ingest(clean_db, write_csv(tmp_path / "b.csv", changed))
    assert (summary.accepted, summary.duplicates) == (1, 2)
    with session_scope(clean_db.engine) as session:
        record = session.execute(sa.select(Record).where(Record.doc_no == "淄环罚〔2025〕1号")).scalar_one()
        assert record.version == 2
        assert record.batch_id == summary.batch_id
        old = session.execute(sa.select(RecordVersion).where(RecordVersion.record_id == record.id)).scalar_one()
        assert old.version == 1
        assert old.payload != record.payload
        assert (old.reason, old.replaced_by) == ("resend", summary.batch_id)


def test_name_change_is_kept_as_history_and_flagged(clean_db: Database, tmp_path: Path) -> None:
    ingest(clean_db, write_csv(tmp_path / "a.csv", [valid_penalty_row(1)]))
    renamed = valid_penalty_row(1, CF_WSH="淄环罚〔2025〕901号", CF_XDR_MC="淄博改名有限公司")
    summary = ingest(clean_db, write_csv(tmp_path / "b.csv", [renamed]))
    assert summary.linked == 1
    with session_scope(clean_db.engine) as session:
        subject = session.execute(sa.select(Subject).where(Subject.uscc == renamed["CF_XDR_SHXYM"])).scalar_one()
        assert subject.name_conflict
        names = set(session.scalars(sa.select(SubjectName.name).where(SubjectName.subject_id == subject.id)))
        assert names == {valid_penalty_row(1)["CF_XDR_MC"], "淄博改名有限公司"}
        assert (
            session.scalar(sa.select(sa.func.count()).select_from(Record).where(Record.subject_id == subject.id)) == 2
        )


def test_natural_person_is_linked_by_hash_and_the_id_is_never_stored_in_clear(
    clean_db: Database, tmp_path: Path
) -> None:
    number = citizen_id(7)
    person = natural_person_penalty_row(7)
    again = natural_person_penalty_row(7, CF_WSH="淄环罚〔2025〕个77号")
    bad = natural_person_penalty_row(8, CF_XDR_ZJHM=citizen_id(8), CF_JDRQ="2099-01-01")  # rejected, ID in raw
    summary = ingest(clean_db, write_csv(tmp_path / "p.csv", [person, again, bad]))
    assert (summary.accepted, summary.rejected, summary.linked) == (2, 1, 2)
    with session_scope(clean_db.engine) as session:
        subject_ids = set(session.scalars(sa.select(Record.subject_id)))
        assert len(subject_ids) == 1
        subject = session.get_one(Subject, subject_ids.pop())
        assert subject.kind == "natural_person"
        assert decrypt(subject.id_cipher or b"") == number
        assert subject.id_masked == f"{number[:4]}**********{number[-4:]}"
    # Scan every stored byte of every table for either ID number, in text and in UTF-8.
    secrets = [number, citizen_id(8)]
    with clean_db.engine.connect() as conn:
        metadata = sa.MetaData()
        metadata.reflect(bind=conn)
        for table in metadata.sorted_tables:
            for row in conn.execute(sa.select(table)):
                for value in row:
                    blob = value if isinstance(value, bytes) else str(value).encode()
                    assert not any(s.encode() in blob for s in secrets), f"ID number in clear in {table.name}"
    rejects = (tmp_path / "p.rejects.csv").read_text(encoding="utf-8")
    assert citizen_id(8) in rejects  # the unit gets its own row back to fix it


def test_rows_of_a_unit_not_granted_the_resource_are_rejected(clean_db: Database, tmp_path: Path) -> None:
    rows = [valid_penalty_row(1), valid_penalty_row(2, CF_SJLYDM=OTHER_UNIT)]
    summary = ingest(clean_db, write_csv(tmp_path / "u.csv", rows))
    assert (summary.accepted, summary.rejected) == (1, 1)
    assert summary.errors == ["第 3 行 CF_SJLYDM：信息提供单位未登记或未获准报送该资源"]
    # With --source-unit: every row must carry that unit's code.
    mismatched = ingest(clean_db, write_csv(tmp_path / "v.csv", rows), unit=UNIT_USCC)
    assert mismatched.rejected == 1
    assert "与报送单位" in mismatched.errors[0] and mismatched.errors[0].startswith("第 3 行 CF_SJLYDM：")
    with pytest.raises(Forbidden, match="未获准报送"):
        ingest(clean_db, write_csv(tmp_path / "w.csv", rows), unit=OTHER_UNIT)
    with pytest.raises(NotFound, match="未登记"):
        ingest(clean_db, write_csv(tmp_path / "x.csv", rows), unit=make_uscc("1", "1", "370300", "00425703"))


def test_rejects_file_round_trips_in_gb18030(clean_db: Database, tmp_path: Path) -> None:
    rows = [valid_penalty_row(1), valid_penalty_row(2, CF_XDR_SHXYM="91370303MA0000031X", CF_JDRQ="2099-1-1")]
    path = write_csv(tmp_path / "gbk.csv", rows, encoding="gb18030", headers="names", crlf=True)
    summary = ingest(clean_db, path)
    assert summary.rejects_file == str(tmp_path / "gbk.rejects.csv")
    raw = Path(summary.rejects_file).read_bytes()
    assert b"\r\n" in raw
    with Path(summary.rejects_file).open(encoding="gb18030", newline="") as fh:
        table = list(csv.reader(fh))
    assert table[0][0] == "行政相对人名称" and table[0][-1] == "错误原因"
    assert len(table) == 2
    assert table[1][:-1] == [rows[1][k] for k in rows[1]]  # the values exactly as sent
    assert "第 3 行 CF_XDR_SHXYM：统一社会信用代码校验位错误" in table[1][-1]
    assert "第 3 行 CF_JDRQ：" in table[1][-1]
    # Fixed and sent again: accepted, and no rejects file is left behind.
    fixed = write_csv(tmp_path / "gbk.csv", [valid_penalty_row(2)], encoding="gb18030", headers="names", crlf=True)
    again = ingest(clean_db, fixed)
    assert (again.accepted, again.rejected, again.rejects_file) == (1, 0, None)
    assert not (tmp_path / "gbk.rejects.csv").exists()


@pytest.mark.parametrize("fmt", ["xlsx", "xls"])
def test_rejects_file_of_excel_input_is_xlsx(clean_db: Database, tmp_path: Path, fmt: str) -> None:
    rows = [valid_penalty_row(1), valid_penalty_row(2, CF_CFLB="没收")]
    writer = write_xlsx if fmt == "xlsx" else write_xls
    summary = ingest(clean_db, writer(tmp_path / f"in.{fmt}", rows, headers="names"))
    assert (summary.accepted, summary.rejected) == (1, 1)
    assert summary.rejects_file == str(tmp_path / "in.rejects.xlsx")
    sheet = load_workbook(summary.rejects_file, read_only=True).worksheets[0]
    table = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert table[0][-1] == "错误原因" and table[0][0] == "行政相对人名称"
    assert table[1][0] == rows[1]["CF_XDR_MC"]
    assert str(table[1][-1]).startswith("第 3 行 CF_CFLB：")


def test_every_format_ingests(clean_db: Database, tmp_path: Path) -> None:
    def block(n: int) -> list[dict[str, str]]:
        return penalty_rows(3, start=n * 10)

    files = [
        write_csv(tmp_path / "gb.csv", block(1), encoding="gb18030", headers="names", crlf=True),
        write_csv(tmp_path / "bom.csv", block(2), bom=True),
        write_xlsx(tmp_path / "x.xlsx", block(3), headers="names", date_cells=True),
        write_xls(tmp_path / "x.xls", block(4), date_cells=True),
        write_json(tmp_path / "j.json", block(5)),
        write_jsonl(tmp_path / "j.jsonl", block(6), headers="names"),
    ]
    for path in files:
        summary = ingest(clean_db, path)
        assert (summary.received, summary.accepted, summary.rejected) == (3, 3, 0), (path.name, summary.errors)
    assert count(clean_db.engine, Record) == 18
    with session_scope(clean_db.engine) as session:
        formats = {name: fmt for name, fmt in session.execute(sa.select(Batch.filename, Batch.file_format))}
    assert formats == {
        "gb.csv": "csv",
        "bom.csv": "csv",
        "x.xlsx": "xlsx",
        "x.xls": "xls",
        "j.json": "json",
        "j.jsonl": "jsonl",
    }


def test_unreadable_file_fails_its_batch(clean_db: Database, tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"this is not a workbook")
    with pytest.raises(InvalidInput) as caught:
        ingest(clean_db, path)
    with session_scope(clean_db.engine) as session:
        batch = session.execute(sa.select(Batch)).scalar_one()
    assert batch.state == "failed"
    assert batch.error == caught.value.message
    assert caught.value.detail["batch_id"] == batch.id


# ---------------------------------------------------------------------------------------------------------------
# Crash and resume


@pytest.fixture
def other_db(db: Database, _templates: dict[str, Database], tmp_path: Path) -> Iterator[Database]:
    """A second fresh database of the same engine (the reference for "one clean run")."""
    with new_database(db.kind, _templates, tmp_path, "o") as other:
        yield other


def state_of(engine: Engine) -> dict[str, Any]:
    """Everything an ingest leaves behind, without ids, times, batch ids or random ciphertexts."""
    with session_scope(engine) as session:
        subjects = {
            s.id: (s.kind, s.uscc, s.id_hash, s.name, s.region, s.name_conflict, s.id_masked)
            for s in session.scalars(sa.select(Subject))
        }
        records = {
            r.id: (
                r.doc_no,
                subjects.get(r.subject_id) if r.subject_id else None,
                r.version,
                r.content_hash,
                orjson.dumps(r.payload, option=orjson.OPT_SORT_KEYS),
                decrypt(r.pii_cipher) if r.pii_cipher else None,
                r.decision_date,
                r.severity,
                r.status,
                r.region,
            )
            for r in session.scalars(sa.select(Record))
        }
        versions = sorted(
            (records[v.record_id][0], v.version, v.content_hash, v.reason)
            for v in session.scalars(sa.select(RecordVersion))
        )
        names = sorted(
            (subjects[n.subject_id], n.name, n.is_current, n.source) for n in session.scalars(sa.select(SubjectName))
        )
        codes = sorted((subjects[c.subject_id], c.code_type, c.code) for c in session.scalars(sa.select(SubjectCode)))
        quarantine = sorted(
            (q.row_no, decrypt(q.raw_cipher), orjson.dumps(q.reasons))
            for q in session.scalars(sa.select(QuarantinedRow))
        )
        batches = [
            (b.state, b.rows_done, b.received, b.accepted, b.duplicates, b.rejected, b.linked, b.subjects_created)
            for b in session.scalars(sa.select(Batch))
        ]
    return {
        "subjects": sorted(subjects.values(), key=repr),
        "records": sorted(records.values(), key=repr),
        "versions": versions,
        "names": names,
        "codes": codes,
        "quarantine": quarantine,
        "batches": batches,
    }


def crash_rows() -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for i in range(120):
        if i % 17 == 5:
            rows.append(valid_penalty_row(i, CF_JDRQ="2099-01-01"))  # rejected
        elif i % 11 == 3:
            rows.append(natural_person_penalty_row(i))
        elif i % 13 == 4:
            rows.append(individual_business_row(i))
        else:
            rows.append(valid_penalty_row(i))
    # Resends inside the file, spread across chunks: changed, identical, renamed subject.
    rows.append(valid_penalty_row(2, CF_NR_FK="7"))
    rows.append(valid_penalty_row(6))
    rows.append(valid_penalty_row(8, CF_WSH="淄环罚〔2025〕908号", CF_XDR_MC="淄博换名有限公司8"))
    return rows


def cli_env(db: Database, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "XINYONG_DATABASE_URL": db.url,
        "PYTHONPATH": str(REPO),
        "XINYONG_INGEST_CHUNK_SIZE": "4",
        **extra,
    }


def run_cli(db: Database, path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "xinyong", "ingest", str(path), "--resource", PENALTY, "--json"],
        env=cli_env(db, **extra),
        capture_output=True,
        text=True,
        timeout=120,
    )


def rows_done(engine: Engine) -> tuple[str, int] | None:
    with engine.connect() as conn:
        row = conn.execute(sa.select(Batch.state, Batch.rows_done)).first()
    return None if row is None else (row[0], row[1])


def test_sigkill_mid_file_then_rerun_equals_one_clean_run(
    clean_db: Database, other_db: Database, tmp_path: Path
) -> None:
    rows = crash_rows()
    path = write_csv(tmp_path / "crash.csv", rows, encoding="gb18030", headers="names", crlf=True)
    register_units(other_db.engine)
    ingest(other_db, path)
    expected = state_of(other_db.engine)

    process = subprocess.Popen(
        [sys.executable, "-m", "xinyong", "ingest", str(path), "--resource", PENALTY, "--json"],
        env=cli_env(clean_db),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    seen = None
    while time.monotonic() < deadline and process.poll() is None:
        seen = rows_done(clean_db.engine)
        if seen is not None and seen[1] >= 16:
            break
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    interrupted = rows_done(clean_db.engine)
    assert interrupted is not None and interrupted[0] == "running", "the ingest finished before it could be killed"
    assert 0 < interrupted[1] < len(rows)

    rerun = run_cli(clean_db, path)
    assert rerun.returncode == 0, rerun.stderr
    summary = orjson.loads(rerun.stdout)
    assert summary["resumed"] is True
    assert state_of(clean_db.engine) == expected
    assert summary["received"] == len(rows) == summary["accepted"] + summary["duplicates"] + summary["rejected"]


def test_crash_at_every_stage_then_rerun_equals_one_clean_run(
    clean_db: Database, other_db: Database, tmp_path: Path
) -> None:
    rows = crash_rows()
    path = write_csv(tmp_path / "crash.csv", rows, bom=True)
    register_units(other_db.engine)
    ingest(other_db, path)
    expected = state_of(other_db.engine)

    # Each run dies at another stage of a later chunk; each rerun resumes where the last one stopped.
    for n, stage in enumerate(FAULT_STAGES):
        chunk = 2 + 3 * n
        died = run_cli(clean_db, path, XINYONG_FAULT=f"{stage}:{chunk}")
        assert died.returncode == 137, (stage, died.stderr)
        assert died.stdout == ""
        state, done = rows_done(clean_db.engine) or ("", 0)
        assert state == "running"
        committed = chunk if stage == "after_commit" else chunk - 1
        assert done == 4 * committed, stage
    finished = run_cli(clean_db, path)
    assert finished.returncode == 0, finished.stderr
    assert state_of(clean_db.engine) == expected
    assert (tmp_path / "crash.rejects.csv").exists()


def test_each_chunk_runs_the_statements_built_once(clean_db: Database, tmp_path: Path) -> None:
    """The statements every chunk runs (the stored-record lookup and insert, the subject lookup, the change feed, the
    notices' query and inserts, the batch's counts) are built once and shared by all chunks: building a statement and
    its cache key costs more than running it, and on SQLite a chunk holds the one write lock meanwhile
    (docs/benchmarks.md, "Soak", session 15). Fails when one of them is built per call again."""
    from xinyong.ingest import pipeline

    path = write_json(tmp_path / "处罚.json", penalty_rows(30))
    chunks: list[dict[str, list[Any]]] = []  # per chunk: SQL → the statement objects executed for it
    inside = [False]
    store_chunk = pipeline._store_chunk

    def counted(**options: Any) -> int:
        chunks.append({})
        inside[0] = True
        try:
            return store_chunk(**options)
        finally:
            inside[0] = False

    def executed(conn: Any, clauseelement: Any, multiparams: Any, params: Any, options: Any, result: Any) -> None:
        if inside[0]:
            sql = str(clauseelement.compile(dialect=conn.dialect))
            chunks[-1].setdefault(sql, []).append(clauseelement)

    sa.event.listen(clean_db.engine, "after_execute", executed)
    try:
        pipeline._store_chunk = counted  # type: ignore[assignment]
        summary = ingest(clean_db, path, chunk_size=10)
    finally:
        pipeline._store_chunk = store_chunk  # type: ignore[assignment]
        sa.event.remove(clean_db.engine, "after_execute", executed)
    assert (summary.accepted, len(chunks)) == (30, 3)
    second, third = chunks[1], chunks[2]
    hot = [
        "FROM record",
        "INSERT INTO record ",
        "FROM subject",
        "INSERT INTO subject",
        "change_event",
        "UPDATE batch",
        "dishonesty",
    ]
    for marker in hot:
        assert any(marker in sql for sql in third), f"no statement with {marker!r} in a chunk"
    rebuilt = [
        sql
        for sql, statements in third.items()
        if any(marker in sql for marker in hot)
        and not all(any(s is t for t in second.get(sql, [])) for s in statements)
    ]
    assert rebuilt == [], "\n\n".join(rebuilt)
