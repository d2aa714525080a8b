"""The short soak: bench/soak.py's mixed load for about 20 s against the app under uvicorn, on both engines.

Searches, subject pages, checks and ingestion (new batches, batches with bad rows, byte-identical re-sends) run at
the same time; the test asserts that nothing failed, that every kind of request ran, and that the stored data add up
afterwards (records = accepted rows, no duplicates, quarantine = rejected rows, audit chain intact). No timing is
asserted: latency is the benchmark's business (docs/benchmarks.md, "Soak").
"""

from __future__ import annotations

import csv
import os
import time
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

from bench import soak
from tests.conftest import Database


def test_the_server_cpu_benchmark_measures_every_operation(fresh_db: Database, tmp_path: Path) -> None:
    """bench/server_cpu.py, scaled down: every operation answered as the soak expects it, and CPU time counted."""
    from bench import server_cpu

    (found,) = server_cpu.measure(fresh_db.url, subjects=500, records=50, requests=20, warm=2, workdir=tmp_path)
    assert list(found) == list(server_cpu.OPERATIONS)
    assert all(row["p50_ms"] > 0 and row["p99_ms"] >= row["p50_ms"] for row in found.values()), found
    # Twenty checks cannot cost the server nothing: the process read is the server's, not another one's.
    assert found["check"]["app_cpu_ms"] > 0, found


def test_the_server_cpu_benchmark_compares_two_apps_served_at_once(fresh_db: Database, tmp_path: Path) -> None:
    """``--against``: a second app (here this same checkout) served beside the first on the same database, every
    operation sent to both in alternating blocks, each app's CPU counted from its own process."""
    from bench import server_cpu

    pair = server_cpu.measure(
        fresh_db.url, subjects=500, records=50, requests=server_cpu.BLOCK + 10, warm=2, workdir=tmp_path,
        against=server_cpu.ROOT,
    )  # fmt: skip
    assert len(pair) == 2 and all(list(found) == list(server_cpu.OPERATIONS) for found in pair)
    assert all(found["check"]["app_cpu_ms"] > 0 and found["check"]["p50_ms"] > 0 for found in pair), pair
    assert (tmp_path / "server.log").exists() and (tmp_path / "against.log").exists()


def test_settle_vacuums_analyses_and_checkpoints_the_loaded_database(fresh_db: Database) -> None:
    """``--settle``: what a deployment's settled data has and a freshly loaded database has not."""
    done = soak.settle(fresh_db.url)
    with fresh_db.engine.connect() as conn:
        if fresh_db.kind == "postgresql":
            assert done == "VACUUM (ANALYZE), CHECKPOINT"
            vacuumed = conn.scalar(
                sa.text("SELECT last_vacuum IS NOT NULL AND last_analyze IS NOT NULL FROM pg_stat_user_tables "
                        "WHERE relname = 'subject'")
            )  # fmt: skip
            assert vacuumed is True
        else:
            assert done == "ANALYZE, PRAGMA wal_checkpoint(TRUNCATE)"
            assert conn.scalar(sa.text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")) == 1
            database = sa.engine.make_url(fresh_db.url).database
            assert database is not None
            wal = Path(database + "-wal")
            assert not wal.exists() or wal.stat().st_size == 0


@pytest.mark.slow
def test_short_soak_has_no_errors_and_keeps_the_data_intact(fresh_db: Database, tmp_path: Path) -> None:
    prepared = soak.prepare(fresh_db.url, subjects=2000, records=500, workdir=tmp_path)
    began = time.time()
    result = soak.soak(prepared, duration=20, workers=1, trace=tmp_path / "trace.csv")

    assert result["error_samples"] == [], result["server_log_tail"]
    assert result["errors"] == 0
    assert [op for op, s in result["operations"].items() if s["requests"] == 0] == []
    assert {op: c["detail"] for op, c in result["integrity"].items() if not c["ok"]} == {}
    assert set(result["integrity"]) == {
        "records_equal_accepted",
        "no_duplicate_records",
        "no_record_versions",
        "quarantine_equals_rejected",
        "batches_equal_answers",
        "checks_equal_answers",
        "audit_verify",
    }
    ingest = result["ingest"]
    # the load did exercise the three kinds of batch, not just count them
    assert ingest["accepted"] > 0 and ingest["duplicates"] > 0 and ingest["rejected"] > 0
    assert result["ok"] is True
    # every server process logged its collector's pauses (bench/gcwatch): both web workers and collection processes
    assert set(result["gc_pauses"]) == {"web", "collection"}  # one worker: uvicorn's master serves

    # --trace: every answered request, in the order sent, on the wall clock of the run; the machine's samples beside
    with (tmp_path / "trace.csv").open() as fh:
        requests = list(csv.DictReader(fh))
    answered = {op: s["requests"] for op, s in result["operations"].items()}
    assert Counter(row["operation"] for row in requests) == answered
    sent = [float(row["sent_at"]) for row in requests]
    assert sent == sorted(sent) and began < sent[0] and sent[-1] < time.time()
    assert all(float(row["latency_ms"]) >= float(row["app_ms"]) > 0 for row in requests)
    assert result["trace"]["machine"] == str(tmp_path / "trace.machine.csv")
    with (tmp_path / "trace.machine.csv").open() as fh:
        samples = list(csv.DictReader(fh))
    if Path("/proc/pressure/io").exists():  # the kernel's stall accounting; without it nothing is sampled
        assert len(samples) >= 100  # ten a second for 20 s
        assert all(0 <= float(row["busy_pct"]) <= 100 for row in samples)
        assert float(samples[0]["at"]) < sent[0] + 1 and float(samples[-1]["at"]) > sent[-1] - 1


def test_gc_pauses_are_told_apart_by_process_and_kept_to_the_load(tmp_path: Path) -> None:
    logs = tmp_path / "gc"
    logs.mkdir()
    master, worker = 100, 101
    (logs / "100.log").write_text(f"# {os.getpid()} uvicorn --factory xinyong.app:create_app\n10.0 2 50.0\n")
    (logs / "101.log").write_text(f"# {master} uvicorn\n9.0 2 120.0\n10.5 2 20.0\n11.0 1 2.0\n30.0 2 99.0\n")
    (logs / "102.log").write_text(f"# {worker} -c --multiprocessing-fork\n11.0 2 40.0\n12.0 2 30.0\n")
    (logs / "103.log").write_text(f"# {master} -c\n11.0 2 4.0\n")  # the resource tracker: not counted

    pauses = soak.gc_pauses(tmp_path / "server.log", 10.0, 20.0)

    assert pauses["web"] == {"full": 1, "full_max_ms": 20.0, "full_total_ms": 20.0, "max_ms": 20.0}
    assert pauses["collection"] == {"full": 2, "full_max_ms": 40.0, "full_total_ms": 70.0, "max_ms": 40.0}
    assert pauses["master"]["full"] == 1


def test_the_batch_check_benchmark_checks_beside_a_batch(fresh_db: Database, tmp_path: Path) -> None:
    """bench/batch_check.py, scaled down: the batch answered with a checked line per row and stored whole, single
    checks answered before and during it, and no error."""
    from bench import batch_check

    found = batch_check.measure(fresh_db.url, subjects=500, rows=300, workdir=tmp_path, pace=0.005, alone=1.0)
    assert found["errors"] == [], found["errors"]
    assert found["engine"] == fresh_db.kind and found["rows"] == 300 and found["batch_seconds"] > 0
    assert found["alone"]["checks"] > 0 and found["during"]["checks"] > 0, found
    assert "batch check of 300 rows" in batch_check.table(found)
