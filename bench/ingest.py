"""Ingest benchmark: generated penalty rows through the real pipeline vs. the same rows loaded raw, on both engines.

    .venv/bin/python bench/ingest.py                 # 1,000,000 rows, SQLite and PostgreSQL
    .venv/bin/python bench/ingest.py --rows 20000    # scaled down
    .venv/bin/python bench/ingest.py --engines sqlite --profile   # + cProfile of the pipeline run

For each engine, in the same run and on the same CSV file:
- raw: the rows loaded with no validation into an unindexed table of text columns — SQLite: csv.reader + executemany
  in 10,000-row transactions; PostgreSQL: COPY … FROM STDIN (FORMAT csv).
- pipeline: ``xinyong.ingest.pipeline.ingest_file`` into a freshly migrated database whose source units are registered
  (parse → normalise → validate → link → upsert with versions → batch bookkeeping).
Each measurement runs in its own process, so the peak RSS (sampled with psutil every 20 ms) is that load's alone.
PostgreSQL databases are created fresh on 127.0.0.1:5432 with a UTF-8 LC_CTYPE and dropped afterwards.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

PG_ADMIN = os.environ.get("XINYONG_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PENALTY = "administrative_penalty"


class PeakRss:
    """The largest resident set size of this process seen while running (sampled)."""

    def __init__(self, interval: float = 0.02) -> None:
        self.process = psutil.Process()
        self.peak = self.process.memory_info().rss
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)


# ---------------------------------------------------------------------------------------------------------------
# Databases


def pg_create(name: str) -> str:
    import sqlalchemy as sa

    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(
            sa.text(
                f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
            )
        )
    admin.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def pg_drop(name: str) -> None:
    import sqlalchemy as sa

    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


# ---------------------------------------------------------------------------------------------------------------
# The two loads (each runs in a child process)


def load_raw(engine_kind: str, url: str, path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8", newline="") as fh:
        header = next(csv.reader(fh))
    columns = ", ".join(f'"{c}" text' for c in header)
    if engine_kind == "sqlite":
        import sqlite3

        database = url.removeprefix("sqlite:///")
        conn = sqlite3.connect(database, isolation_level=None)
        # The same durability settings the platform uses on SQLite (core/database.py).
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(f"CREATE TABLE raw_penalty ({columns})")
        insert = f"INSERT INTO raw_penalty VALUES ({', '.join('?' for _ in header)})"
        rows = 0
        started = time.perf_counter()
        with PeakRss() as rss, path.open(encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            next(reader)
            batch: list[list[str]] = []
            for row in reader:
                batch.append(row)
                if len(batch) == 10_000:
                    conn.execute("BEGIN")
                    conn.executemany(insert, batch)
                    conn.execute("COMMIT")
                    rows += len(batch)
                    batch.clear()
            if batch:
                conn.execute("BEGIN")
                conn.executemany(insert, batch)
                conn.execute("COMMIT")
                rows += len(batch)
        seconds = time.perf_counter() - started
        conn.close()
        return {"rows": rows, "seconds": seconds, "peak_rss": rss.peak}

    import psycopg

    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo) as pg:
        pg.execute(f"CREATE TABLE raw_penalty ({columns})")
        pg.commit()
        started = time.perf_counter()
        with PeakRss() as rss, path.open("rb") as fh, pg.cursor() as cur:
            with cur.copy("COPY raw_penalty FROM STDIN (FORMAT csv, HEADER true)") as copy:
                while block := fh.read(1 << 20):
                    copy.write(block)
            pg.commit()
        seconds = time.perf_counter() - started
        found = pg.execute("SELECT count(*) FROM raw_penalty").fetchone()
        rows = int(found[0]) if found else 0
    return {"rows": rows, "seconds": seconds, "peak_rss": rss.peak}


def load_pipeline(url: str, path: Path, units_file: Path, profile: Path | None) -> dict[str, Any]:
    from xinyong.audit.service import Actor
    from xinyong.catalog import service as catalog
    from xinyong.core.bootstrap import upgrade_database
    from xinyong.core.database import create_db_engine, session_scope
    from xinyong.ingest.pipeline import ingest_file

    engine = create_db_engine(url)
    upgrade_database(engine)
    with session_scope(engine, write=True) as session, units_file.open(encoding="utf-8", newline="") as fh:
        for unit in csv.DictReader(fh):
            catalog.register_unit(
                session=session,
                uscc=unit["统一社会信用代码"],
                name=unit["单位名称"],
                region=unit["行政区划代码"],
                resources=unit["可报送信息资源"].split(";"),
            )
    profiler = None
    if profile is not None:
        import cProfile

        profiler = cProfile.Profile()
    started = time.perf_counter()
    with PeakRss() as rss:
        if profiler:
            profiler.enable()
        summary = ingest_file(
            engine=engine,
            path=path,
            resource=PENALTY,
            unit_uscc=None,
            actor=Actor(name="bench", role="admin"),
            rejects_dir=path.parent,
        )
        if profiler:
            profiler.disable()
    seconds = time.perf_counter() - started
    if profiler is not None and profile is not None:
        import pstats

        with profile.open("w") as out:
            stats = pstats.Stats(profiler, stream=out)
            stats.sort_stats("cumulative").print_stats(40)
            stats.sort_stats("tottime").print_stats(30)
    engine.dispose()
    return {
        "rows": summary.received,
        "seconds": seconds,
        "peak_rss": rss.peak,
        "accepted": summary.accepted,
        "rejected": summary.rejected,
        "errors": summary.errors[:5],
    }


# ---------------------------------------------------------------------------------------------------------------
# The driver


def generate(rows: int, out: Path, seed: int, source: str) -> tuple[Path, Path, float]:
    """The penalty file and the unit list. ``source``: "single" — every row forwarded by the city's credit office
    (发展和改革委员会) as 数据来源单位, the deciding department kept in CF_CFJG; "many" — each department is its own
    数据来源单位 (the pipeline then stores each chunk unit by unit)."""
    import dataclasses

    from xinyong.demo.generator import DemoData, GeneratedRecord
    from xinyong.demo.writers import write_dataset, write_units

    started = time.perf_counter()
    data = DemoData(subjects=max(100, rows // 2), seed=seed, resources=(PENALTY,), limit=rows)
    units = data.units
    records = data.records()
    if source == "single":
        office = next(u for u in data.units if u.department == "development")
        office = dataclasses.replace(office, resources=(*office.resources, PENALTY))
        units = [office if u.uscc == office.uscc else u for u in data.units]

        def forwarded(record: GeneratedRecord) -> GeneratedRecord:
            record.fields["CF_SJLY"], record.fields["CF_SJLYDM"] = office.name, office.uscc
            return record

        records = (forwarded(r) for r in data.records())
    files = write_dataset(records, out)
    return files[0].path, write_units(units, out / "units.csv"), time.perf_counter() - started


def child(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), *args], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"benchmark step {args[:4]} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(rows: int, engines: list[str], seed: int, workdir: Path, profile: bool, source: str) -> str:
    today = dt.date.today().isoformat()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "XINYONG_TODAY": os.environ.get("XINYONG_TODAY", today),
        "XINYONG_LOG_LEVEL": "WARNING",
        "XINYONG_DATA_DIR": str(workdir / "data"),
    }
    os.environ["XINYONG_TODAY"] = env["XINYONG_TODAY"]
    csv_path, units, gen_seconds = generate(rows, workdir, seed, source)
    size_mb = csv_path.stat().st_size / 1e6
    print(f"generated {rows:,} penalty rows ({size_mb:.0f} MB) in {gen_seconds:.1f} s: {csv_path}", file=sys.stderr)

    results: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    for engine_kind in engines:
        made: list[str] = []
        urls: dict[str, str] = {}
        for phase in ("raw", "pipeline"):
            if engine_kind == "sqlite":
                urls[phase] = f"sqlite:///{workdir / f'{phase}.db'}"
            else:
                name = f"xinyong_bench_{phase}_{uuid.uuid4().hex[:8]}"
                made.append(name)
                urls[phase] = pg_create(name)
        try:
            print(f"{engine_kind}: raw load …", file=sys.stderr)
            raw = child(["--phase", "raw", "--engine", engine_kind, "--url", urls["raw"], "--file", str(csv_path)], env)
            print(f"{engine_kind}: pipeline …", file=sys.stderr)
            extra = ["--profile-out", str(workdir / f"profile-{engine_kind}.txt")] if profile else []
            pipe = child(
                ["--phase", "pipeline", "--engine", engine_kind, "--url", urls["pipeline"], "--file", str(csv_path),
                 "--units", str(units), *extra],
                env,
            )  # fmt: skip
        finally:
            for name in made:
                pg_drop(name)
        results.append((engine_kind, raw, pipe))
        if profile:
            print(f"profile: {workdir / f'profile-{engine_kind}.txt'}", file=sys.stderr)
    return table(rows, results)


def table(rows: int, results: list[tuple[str, dict[str, Any], dict[str, Any]]]) -> str:
    lines = [
        "| engine | rows | raw load (rows/s) | pipeline (rows/s) | ratio | pipeline peak RSS | raw peak RSS "
        "| accepted / rejected |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for engine_kind, raw, pipe in results:
        raw_rate = raw["rows"] / raw["seconds"]
        pipe_rate = pipe["rows"] / pipe["seconds"]
        lines.append(
            f"| {engine_kind} | {rows:,} | {raw_rate:,.0f} ({raw['seconds']:.1f} s) "
            f"| {pipe_rate:,.0f} ({pipe['seconds']:.1f} s) | {pipe_rate / raw_rate:.2f} "
            f"| {pipe['peak_rss'] / 2**20:,.0f} MiB | {raw['peak_rss'] / 2**20:,.0f} MiB "
            f"| {pipe['accepted']:,} / {pipe['rejected']:,} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--engines", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    parser.add_argument("--seed", type=int, default=20250101)
    parser.add_argument("--workdir", type=Path, help="keep the generated file and SQLite databases here")
    parser.add_argument("--profile", action="store_true", help="cProfile the pipeline runs (profile-<engine>.txt)")
    parser.add_argument(
        "--source",
        choices=("single", "many"),
        default="single",
        help="one 数据来源单位 for every row (default) or each department its own",
    )
    # Internal: one measurement in a child process.
    parser.add_argument("--phase", choices=("raw", "pipeline"), help=argparse.SUPPRESS)
    parser.add_argument("--engine", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--units", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--profile-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.phase == "raw":
        print(json.dumps(load_raw(args.engine, args.url, args.file)))
        return
    if args.phase == "pipeline":
        print(json.dumps(load_pipeline(args.url, args.file, args.units, args.profile_out), ensure_ascii=False))
        return
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = set(engines) - {"sqlite", "postgresql"}
    if unknown:
        parser.error(f"unknown engine(s): {', '.join(sorted(unknown))}")
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        print(run(args.rows, engines, args.seed, args.workdir, args.profile, args.source))
        return
    with tempfile.TemporaryDirectory(prefix="xinyong-bench-") as tmp:
        print(run(args.rows, engines, args.seed, Path(tmp), args.profile, args.source))


if __name__ == "__main__":
    main()
