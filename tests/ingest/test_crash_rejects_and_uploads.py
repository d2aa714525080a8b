"""Crashes in the parts of collection the chunk crash tests do not reach: writing the rejects file, and the HTTP door
(while the upload is being saved, after it is saved and before it is processed, and mid-processing — where it is the
collection process that dies, and the web worker that must answer for it and carry on).

Each run dies through the ``XINYONG_FAULT`` hook (``os._exit``, as SIGKILL would) in a real subprocess — ``xinyong
ingest``, or ``xinyong serve`` for the HTTP cases — and the retry must leave exactly what one clean run leaves in
another fresh database: the same records, quarantine and batch, a complete rejects file, nothing half-stored.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import multiprocessing
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import orjson
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.conftest import Database
from tests.ingest.fixtures import PENALTY, UNIT_USCC, valid_penalty_row, write_csv, write_jsonl
from tests.ingest.test_pipeline import clean_db, other_db, register_units, rows_done, run_cli, state_of  # noqa: F401
from xinyong.accounts import service as accounts
from xinyong.accounts.models import Role
from xinyong.app import create_app
from xinyong.audit.service import Actor
from xinyong.catalog import service as catalog
from xinyong.core.database import session_scope
from xinyong.core.settings import reset_settings
from xinyong.ingest.offload import INTERRUPTED_MESSAGE, IngestProcesses
from xinyong.ingest.pipeline import ingest_file

REPO = Path(__file__).resolve().parents[2]
REJECTED = 10


def rows_with_rejects() -> list[dict[str, str]]:
    """30 rows, every third one refused (a decision date in the future): 10 rejects spread over 8 chunks of 4."""
    return [
        valid_penalty_row(i, CF_JDRQ="2099-01-01") if i % 3 == 1 else valid_penalty_row(i) for i in range(3 * REJECTED)
    ]


def _reasons_by_row(path: Path) -> list[str]:
    """The rejects file's reason column, one entry per row (CSV or JSON Lines)."""
    text = path.read_bytes().decode("utf-8-sig")
    if path.suffix == ".jsonl":
        return [orjson.loads(line)["错误原因"] for line in text.splitlines() if line.strip()]
    return [line.rsplit(",", 1)[-1] for line in text.splitlines()[1:]]


@pytest.mark.parametrize(("fmt", "fault"), [("csv", "rejects_row:4"), ("jsonl", "after_rejects:1")])
def test_crash_while_writing_rejects_then_rerun_gives_the_complete_file(
    clean_db: Database,  # noqa: F811
    other_db: Database,  # noqa: F811
    tmp_path: Path,
    fmt: str,
    fault: str,
) -> None:
    rows = rows_with_rejects()
    source = tmp_path / "in" / f"处罚.{fmt}"
    source.parent.mkdir()
    path = write_csv(source, rows) if fmt == "csv" else write_jsonl(source, rows)
    rejects_file = source.with_name(f"处罚.rejects.{fmt}")

    register_units(other_db.engine)
    reference_dir = tmp_path / "reference"
    reference = ingest_file(
        engine=other_db.engine,
        path=path,
        resource=PENALTY,
        unit_uscc=None,
        actor=Actor.cli(),
        rejects_dir=reference_dir,
    )
    assert reference.rejected == REJECTED
    expected_file = Path(str(reference.rejects_file)).read_bytes()

    died = run_cli(clean_db, path, XINYONG_FAULT=fault)
    assert died.returncode == 137, died.stderr
    # Every chunk is committed; only the rejects file and the batch's completion are missing.
    assert rows_done(clean_db.engine) == ("running", len(rows))
    if fault.startswith("rejects_row"):
        assert not rejects_file.exists(), "a half-written rejects file must never carry the real name"
    else:
        assert rejects_file.read_bytes() == expected_file

    rerun = run_cli(clean_db, path)
    assert rerun.returncode == 0, rerun.stderr
    summary = orjson.loads(rerun.stdout)
    assert summary["resumed"] is True and summary["rejected"] == REJECTED
    assert summary["rejects_file"] == str(rejects_file)
    assert rejects_file.read_bytes() == expected_file
    reasons = _reasons_by_row(rejects_file)
    assert len(reasons) == len(set(reasons)) == REJECTED  # every rejected row once, none twice
    assert not list(rejects_file.parent.glob("*.part"))
    assert state_of(clean_db.engine) == state_of(other_db.engine)


# ---------------------------------------------------------------------------------------------------------------
# The HTTP door


def _unit_key(db: Database) -> str:
    with session_scope(db.engine, write=True) as session:
        unit = catalog.get_unit(session=session, uscc=UNIT_USCC)
        return accounts.create_api_key(session=session, actor=Actor.cli(), role=Role.SOURCE_UNIT, unit=unit).key


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _server(db: Database, fault: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``xinyong serve`` in its own process, set to die at ``fault``."""
    port = _free_port()
    env = {
        **os.environ,
        "XINYONG_DATABASE_URL": db.url,
        "PYTHONPATH": str(REPO),
        "XINYONG_INGEST_CHUNK_SIZE": "4",
        "XINYONG_FAULT": fault,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "xinyong", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300  # a liveness guard only: a crashed server is caught by poll() above
        while True:
            assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
            assert time.monotonic() < deadline, "server did not start"
            try:
                httpx.get(f"{base}/api/v1/batches", timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base, process
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=30)
        if process.stderr:
            process.stderr.close()


def _upload(client: httpx.Client | TestClient, key: str, body: bytes) -> httpx.Response:
    return client.post(
        f"/api/v1/batches/{PENALTY}",
        files={"file": ("三月处罚.csv", body, "text/csv")},
        headers={"Authorization": f"Bearer {key}"},
    )


@pytest.mark.parametrize(
    ("fault", "dies", "resumes"),
    [
        ("upload_block:1", "server", False),
        ("upload_saved:1", "server", False),
        ("after_commit:2", "collector", True),
        ("rejects_row:2", "collector", True),
    ],
)
def test_api_upload_crash_then_resend_equals_one_clean_upload(
    clean_db: Database,  # noqa: F811
    other_db: Database,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fault: str,
    dies: str,
    resumes: bool,
) -> None:
    monkeypatch.setenv("XINYONG_INGEST_CHUNK_SIZE", "4")
    reset_settings()
    rows = rows_with_rejects()
    body = write_csv(tmp_path / "三月处罚.csv", rows).read_bytes()
    uploads = Path(os.environ["XINYONG_DATA_DIR"]) / "uploads"
    saved_name = f"{hashlib.sha256(body).hexdigest()}.csv"

    register_units(other_db.engine)
    with TestClient(create_app(other_db.engine)) as reference_client:
        other_key = _unit_key(other_db)
        reference = _upload(reference_client, other_key, body)
        assert reference.status_code == 201, reference.text
        expected_rejects = reference_client.get(
            reference.json()["rejects_file"], headers={"Authorization": f"Bearer {other_key}"}
        ).content
    expected = state_of(other_db.engine)
    # The reference run shares the data folder; start the crash run from an empty one.
    for leftover in (*uploads.iterdir(), *(uploads.parent / "rejects").iterdir()):
        leftover.unlink()

    key = _unit_key(clean_db)
    with _server(clean_db, fault) as (base, process), httpx.Client(base_url=base, timeout=60) as client:
        if dies == "server":  # the web worker died while saving the upload
            with pytest.raises(httpx.TransportError):
                _upload(client, key, body)
            assert process.wait(timeout=30) == 137
        else:  # the collection process died mid-batch: the web worker answers for it, in Chinese, and stays up
            answer = _upload(client, key, body)
            assert answer.status_code == 503, answer.text
            assert answer.json()["message"] == INTERRUPTED_MESSAGE
            assert process.poll() is None
            assert client.get("/api/v1/batches", headers={"Authorization": f"Bearer {key}"}).status_code == 200

    saved = sorted(p.name for p in uploads.iterdir() if not p.name.startswith("."))
    if fault.startswith("upload_block"):
        # Died while receiving: nothing under a real name, no batch; only the hidden partial file.
        assert saved == [] and rows_done(clean_db.engine) is None
        (partial,) = uploads.glob(".*.part")
        old = time.time() - 7 * 3600
        os.utime(partial, (old, old))  # as if left there hours ago: the next upload clears it away
    elif fault.startswith("upload_saved"):
        assert saved == [saved_name] and (uploads / saved_name).read_bytes() == body
        assert rows_done(clean_db.engine) is None
    else:
        assert saved == [saved_name]
        assert rows_done(clean_db.engine) == ("running", 8 if fault == "after_commit:2" else len(rows))

    with TestClient(create_app(clean_db.engine)) as client:
        again = _upload(client, key, body)
        assert again.status_code == 201, again.text
        assert again.json()["resumed"] is resumes
        assert {k: again.json()[k] for k in ("received", "accepted", "duplicates", "rejected", "linked")} == {
            k: reference.json()[k] for k in ("received", "accepted", "duplicates", "rejected", "linked")
        }
        rejects = client.get(again.json()["rejects_file"], headers={"Authorization": f"Bearer {key}"})
        assert rejects.content == expected_rejects
    assert sorted(p.name for p in uploads.iterdir()) == [saved_name]
    assert state_of(clean_db.engine) == expected


def _with_one_process(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **env: str
) -> tuple[list[dict[str, str]], bytes, str]:
    """One collection process per web worker (and ``env``); the rows, the file that holds them and a unit's key."""
    for name, value in {"XINYONG_INGEST_PROCESSES": "1", **env}.items():
        monkeypatch.setenv(name, value)
    reset_settings()
    rows = rows_with_rejects()
    return rows, write_csv(tmp_path / "三月处罚.csv", rows).read_bytes(), _unit_key(db)


def test_a_dead_collection_process_is_replaced_and_the_resend_resumes(
    clean_db: Database,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same web app, before and after its collection process died: the re-sent file resumes in a new one."""
    rows, body, key = _with_one_process(clean_db, tmp_path, monkeypatch, XINYONG_INGEST_CHUNK_SIZE="4")
    with TestClient(create_app(clean_db.engine)) as client:
        monkeypatch.setenv("XINYONG_FAULT", "after_commit:2")  # read by the process spawned for the first batch
        first = _upload(client, key, body)
        assert first.status_code == 503, first.text
        assert first.json() == {"error": "unavailable", "message": INTERRUPTED_MESSAGE, "detail": {"retry_after": 1}}
        assert first.headers["Retry-After"] == "1"
        assert rows_done(clean_db.engine) == ("running", 8)

        monkeypatch.delenv("XINYONG_FAULT")
        again = _upload(client, key, body)
        assert again.status_code == 201, again.text
        assert again.json()["resumed"] is True
        assert (again.json()["received"], again.json()["rejected"]) == (len(rows), REJECTED)
    assert rows_done(clean_db.engine) == ("completed", len(rows))


def test_the_collection_process_starts_with_the_app_and_collects_the_first_batch(
    clean_db: Database,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``XINYONG_INGEST_PRESTART``: the process runs before any batch, and the first batch needs no other."""
    rows, body, key = _with_one_process(clean_db, tmp_path, monkeypatch, XINYONG_INGEST_PRESTART="1")
    before = {p.pid for p in multiprocessing.active_children()}
    with TestClient(create_app(clean_db.engine)) as client:
        started = {p.pid for p in multiprocessing.active_children()} - before
        assert len(started) == 1, started  # started with the app, not waiting for a batch
        answer = _upload(client, key, body)
        assert answer.status_code == 201, answer.text
        assert answer.json()["rejected"] == REJECTED
        assert {p.pid for p in multiprocessing.active_children()} - before == started
    assert rows_done(clean_db.engine) == ("completed", len(rows))


def test_a_started_collection_process_has_frozen_what_its_imports_made(clean_db: Database) -> None:  # noqa: F811
    collector = IngestProcesses(1, freeze=True)
    try:
        asyncio.run(collector.prestart(clean_db.engine))
        frozen = collector._started().submit(gc.get_freeze_count).result()
        assert frozen > 50_000  # the pipeline's imports, not a handful
    finally:
        collector.shutdown()


def test_collection_processes_run_at_idle_priority_unless_told_otherwise(
    clean_db: Database,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``XINYONG_INGEST_PRIORITY``: idle by default (Linux SCHED_IDLE), the web workers' own with ``normal``."""
    for setting, policy in ((None, os.SCHED_IDLE), ("normal", os.SCHED_OTHER), ("idle", os.SCHED_IDLE)):
        if setting is None:
            monkeypatch.delenv("XINYONG_INGEST_PRIORITY", raising=False)
        else:
            monkeypatch.setenv("XINYONG_INGEST_PRIORITY", setting)
        reset_settings()
        collector = create_app(clean_db.engine).state.ingest
        try:
            asyncio.run(collector.prestart(clean_db.engine))
            assert collector._started().submit(os.sched_getscheduler, 0).result() == policy, setting
        finally:
            collector.shutdown()
    assert os.sched_getscheduler(0) == os.SCHED_OTHER  # the web worker itself keeps its priority


def test_a_database_away_does_not_stop_the_collection_process_starting() -> None:
    collector = IngestProcesses(1)
    try:
        # Port 1 refuses at once: the process logs it and is ready; the first batch will connect for itself.
        asyncio.run(collector.prestart(sa.create_engine("postgresql+psycopg://postgres@127.0.0.1:1/absent")))
        child = collector._started().submit(os.getpid).result()
        assert child in {p.pid for p in multiprocessing.active_children()}
    finally:
        collector.shutdown()
