"""Growth curves: how each operation's cost grows with the data, from 1M to 100M records.

    .venv/bin/python bench/growth.py                                   # PostgreSQL: 1M, 10M, 100M records
    .venv/bin/python bench/growth.py --engine sqlite --sizes 1000000,10000000
    .venv/bin/python bench/growth.py --plot-only                       # redraw docs/growth.png from the JSON files

For each size (records; subjects = records / 10 unless ``--subjects-ratio`` says otherwise) on a fresh database:

1. **build** it with the bulk generator (``xinyong.demo.bulk``: the demo's distributions, straight into the tables);
2. measure, with the app served by uvicorn in this process and a keep-alive HTTP client on loopback (each figure is
   server time plus loopback HTTP), beside the raw database query of the same lookup timed on one connection:
   - **name search** ``GET /api/v1/subjects?q=`` (4-character fragments of real names) vs. the raw FTS5 / trigram query;
   - **subject page** ``GET /api/v1/subjects/{code}`` vs. the raw "subject by code + its records" queries;
   - **check** ``POST /api/v1/checks`` (matter 政府采购, one request at a time) vs. the raw "subject by code + its
     listed entries" queries;
3. **evaluation** of all subjects (``evaluation.service.evaluate``, default model, every result written) vs. one raw
   aggregate over all records (the floor of any evaluation that reads every record once; ``bench/evaluation.py``);
4. **ingest**: one fixed 行政处罚 file (``--ingest-rows``, generated like ``bench/ingest.py``: the demo's penalties,
   forwarded by the city's credit office, for subjects that already exist) through the real pipeline
   (``ingest_file``) on top of the data, vs. the raw engine load of the same file (``bench/ingest.py``'s
   ``load_raw``: SQLite ``executemany`` / PostgreSQL ``COPY`` into an unindexed text table);
5. **size**: the database (PostgreSQL ``pg_database_size``; SQLite the file and its WAL) and bytes per record, as
   built (recorded by the build phase) and again when measured.

The database is dropped after its size is measured unless ``--keep``. Results go to
``bench/results/growth-<engine>.json`` (one entry per size, merged with earlier runs; committed) and the curves to
``docs/growth.png`` (log-x; latencies p95, ingest rows/s, evaluation seconds, bytes per record).
Run the measurement under the shared lock (``flock /work/wt/bench.lock …``) with ``--phase measure`` after a
``--phase build`` outside it, or everything at once with the default ``--phase all``.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import logging
import os
import random
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("XINYONG_TODAY", "2026-06-15")
os.environ["XINYONG_RATE_LIMIT_PER_MINUTE"] = "0"

import sqlalchemy as sa  # noqa: E402
import structlog  # noqa: E402

from xinyong.core.database import create_db_engine, session_scope  # noqa: E402
from xinyong.core.settings import get_settings, reset_settings  # noqa: E402

PG = os.environ.get("XINYONG_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
# Results are kept in the repository (a fresh clone can redraw the curves and print the table); databases are not.
OUT = ROOT / "bench" / "results"
PNG = ROOT / "docs" / "growth.png"
SEED = 20250101


def database_url(engine: str, records: int, workdir: Path) -> str:
    if engine == "sqlite":
        return f"sqlite:///{workdir / f'growth_{records}.db'}"
    return f"{PG}/bench_scale_growth_{records}"


def create(engine: str, url: str) -> None:
    if engine == "sqlite":
        path = Path(sa.engine.make_url(url).database or "")
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return
    name = sa.engine.make_url(url).database
    admin = sa.create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        # C collation for the B-trees (sorting and comparing by code point, as C.UTF-8 would, without libc's
        # strcoll); a UTF-8 LC_CTYPE, which pg_trgm needs to see Chinese characters at all.
        conn.execute(
            sa.text(f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C.UTF-8'")
        )
    admin.dispose()


def drop(engine: str, url: str) -> None:
    if engine == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(str(sa.engine.make_url(url).database) + suffix).unlink(missing_ok=True)
        return
    admin = sa.create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {sa.engine.make_url(url).database} WITH (FORCE)"))
    admin.dispose()


def engine_for(url: str) -> sa.Engine:
    os.environ["XINYONG_DATABASE_URL"] = url
    reset_settings()
    engine = create_db_engine(url)
    if engine.dialect.name == "postgresql":
        # As bench/evaluation.py: a hash aggregate over millions of groups wants memory, and JIT compilation of the
        # model's CASE expressions costs more than it saves. Session settings, not server changes.
        sa.event.listen(engine, "connect", lambda c, _r: c.execute("SET work_mem = '256MB'; SET jit = off"))
    return engine


# ---------------------------------------------------------------------------------------------------------------
# Build


def build(engine_kind: str, url: str, subjects: int, records: int, jobs: int) -> dict[str, Any]:
    from xinyong.demo.bulk import bulk_load

    create(engine_kind, url)
    engine = engine_for(url)
    started = time.perf_counter()
    result = bulk_load(
        engine=engine,
        subjects=subjects,
        records=records,
        seed=SEED,
        region=get_settings().region,
        jobs=jobs,
        say=lambda message: print(f"  {message}", flush=True),
    )
    wall = time.perf_counter() - started
    # The size as built: a measurement adds its ingest file and evaluation results (and, with autovacuum off, their
    # dead rows), so a database measured twice would otherwise report more bytes per record than it holds.
    size = database_bytes(engine_kind, engine, url)
    engine.dispose()
    print(f"  size as built: {size['bytes'] / 2**30:.2f} GiB, {size['bytes_per_record']:.0f} B/record", flush=True)
    return {**result.as_detail(), "wall_seconds": wall, "size": size}


def built_size(entry: dict[str, Any]) -> dict[str, Any]:
    """Bytes per record of a stored result: as built when known, else as found by the (first) measurement."""
    return dict(entry.get("build", {}).get("size") or entry["measure"]["size"])


# ---------------------------------------------------------------------------------------------------------------
# Measure


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50": pct(values, 50),
        "p95": pct(values, 95),
        "p99": pct(values, 99),
        "mean": statistics.mean(values) * 1000,
        "n": len(values),
    }


def sample_subjects(subjects: int, n: int, seed: int = 7) -> list[tuple[str, str]]:
    """(USCC, name) of ``n`` random subjects with a USCC, recomputed from the generator (nothing read back)."""
    from xinyong.demo.generator import DemoData
    from xinyong.subjects.codes import USCC_PLACEHOLDER

    data = DemoData(subjects=subjects, seed=SEED, region=get_settings().region)
    rng = random.Random(seed)
    picked: list[tuple[str, str]] = []
    while len(picked) < n:
        profile = data.subject(rng.randrange(subjects))
        if profile.uscc and profile.uscc != USCC_PLACEHOLDER:
            picked.append((profile.uscc, profile.name))
    return picked


def fragment(name: str) -> str:
    """What a person types: four characters from the distinctive middle of a name (after the place word)."""
    return name[2:6] if len(name) >= 6 else name


def serve(engine: sa.Engine) -> tuple[Any, int]:
    import uvicorn

    from xinyong.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(engine), host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, port


def checker_key(engine: sa.Engine) -> str:
    from xinyong.accounts import service as accounts
    from xinyong.accounts.models import Role
    from xinyong.audit.service import Actor

    with session_scope(engine, write=True) as session:
        return accounts.create_api_key(session=session, actor=Actor.cli(), role=Role.CHECKER, label="growth").key


def measure_http(engine: sa.Engine, picks: list[tuple[str, str]], key: str) -> dict[str, Any]:
    server, port = serve(engine)
    conn = http.client.HTTPConnection("127.0.0.1", port)

    def call(method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> float:
        started = time.perf_counter()
        conn.request(method, path, body=body, headers={"Accept": "application/json", **(headers or {})})
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"{method} {path}: HTTP {response.status}")
        return time.perf_counter() - started

    check_headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def check(code: str) -> float:
        body = json.dumps({"code": code, "matter": "government_procurement"}).encode()
        return call("POST", "/api/v1/checks", body, check_headers)

    for code, _ in picks[:20]:  # warm-up: connections, caches, the first request's imports
        call("GET", f"/api/v1/subjects/{code}")
        check(code)
    results = {
        "search": summary([call("GET", "/api/v1/subjects?q=" + urllib.parse.quote(fragment(n))) for _, n in picks]),
        "subject_page": summary([call("GET", f"/api/v1/subjects/{code}") for code, _ in picks]),
        "check": summary([check(code) for code, _ in picks]),
    }
    server.should_exit = True
    conn.close()
    return results


def measure_raw(engine: sa.Engine, picks: list[tuple[str, str]]) -> dict[str, Any]:
    sqlite = engine.dialect.name == "sqlite"
    # The same work as the app's candidate stage: the names containing the fragment through the engine's index, as
    # many as the app gathers to rank (XINYONG_SEARCH_MAX_RESULTS + 1), no sort, no DISTINCT (which would read every
    # match before the LIMIT applies).
    limit = get_settings().search_max_results + 1
    if sqlite:
        search = sa.text(
            "SELECT sn.subject_id, sn.name FROM subject_name_fts f JOIN subject_name sn ON sn.id = f.rowid "
            "WHERE subject_name_fts MATCH :m LIMIT :n"
        )
        search_params = [{"m": '"' + fragment(n) + '"', "n": limit} for _, n in picks]
    else:
        # The pattern inline, as the app writes it: psycopg prepares a statement after five uses, and the generic plan
        # of ``LIKE $1`` is a sequential scan (docs/portal.md).
        search = sa.text("SELECT subject_id, name FROM subject_name WHERE name LIKE :m LIMIT :n").bindparams(
            sa.bindparam("m", type_=sa.String, literal_execute=True)
        )
        search_params = [{"m": f"%{fragment(n)}%", "n": limit} for _, n in picks]
    by_code = sa.text("SELECT id FROM subject WHERE uscc = :c")
    records = sa.text("SELECT * FROM record WHERE subject_id = :s")
    entries = sa.text("SELECT id FROM list_entry WHERE subject_id = :s AND status = 'listed'")
    with engine.connect() as conn:

        def timed(*steps: tuple[Any, dict[str, Any]]) -> float:
            started = time.perf_counter()
            for statement, params in steps:
                conn.execute(statement, params).all()
            return time.perf_counter() - started

        def page(code: str, follow: Any) -> float:
            started = time.perf_counter()
            subject_id = conn.execute(by_code, {"c": code}).scalar()
            conn.execute(follow, {"s": subject_id}).all()
            return time.perf_counter() - started

        return {
            "search": summary([timed((search, p)) for p in search_params]),
            "subject_page": summary([page(code, records) for code, _ in picks]),
            "check": summary([page(code, entries) for code, _ in picks]),
        }


def measure_evaluation(engine: sa.Engine) -> dict[str, Any]:
    from evaluation import REFERENCE  # bench/evaluation.py

    from xinyong.audit.service import Actor
    from xinyong.evaluation import service

    started = time.perf_counter()
    with engine.connect() as conn:
        groups, rows = conn.execute(sa.text(REFERENCE)).one()
    reference = time.perf_counter() - started
    started = time.perf_counter()
    with session_scope(engine, write=True) as session:
        run = service.evaluate(session=session, actor=Actor.cli(), changed_only=False)
        evaluated, written = run.subjects_evaluated, run.results_written
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "subjects": evaluated,
        "written": written,
        "subjects_per_s": evaluated / seconds if seconds else 0.0,
        "raw_seconds": reference,
        "raw_groups": int(groups or 0),
        "raw_rows": int(rows or 0),
    }


def renumbered(path: Path, suffix: str) -> Path:
    """A copy of the penalty file with ``suffix`` appended to every 行政处罚决定书文号 (CF_WSH)."""
    out = path.with_name(path.stem + "-renumbered" + path.suffix)
    with path.open(encoding="utf-8", newline="") as src, out.open("w", encoding="utf-8", newline="") as dst:
        reader = csv.DictReader(src)
        writer = csv.DictWriter(dst, fieldnames=list(reader.fieldnames or []))
        writer.writeheader()
        for row in reader:
            row["CF_WSH"] += suffix
            writer.writerow(row)
    return out


def measure_ingest(engine_kind: str, engine: sa.Engine, url: str, rows: int, workdir: Path) -> dict[str, Any]:
    from ingest import generate, load_raw  # bench/ingest.py

    from xinyong.audit.service import Actor
    from xinyong.catalog import service as catalog
    from xinyong.ingest.pipeline import ingest_file

    folder = Path(tempfile.mkdtemp(prefix="growth-ingest-", dir=workdir))
    try:
        path, units_file, _ = generate(rows, folder, SEED, "single")
        with engine.connect() as conn:
            earlier = conn.execute(sa.text("SELECT count(*) FROM batch")).scalar_one()
        if earlier:
            # Measured before (--keep): the same file again would be all duplicates, which is not the same work.
            # New document numbers make every row a new record of the same existing subjects.
            path = renumbered(path, f"-{earlier + 1}")
        with session_scope(engine, write=True) as session, units_file.open(encoding="utf-8", newline="") as fh:
            for unit in csv.DictReader(fh):
                catalog.register_unit(
                    session=session,
                    uscc=unit["统一社会信用代码"],
                    name=unit["单位名称"],
                    region=unit["行政区划代码"],
                    resources=unit["可报送信息资源"].split(";"),
                )
        raw = load_raw(engine_kind, url, path)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE raw_penalty"))
        started = time.perf_counter()
        result = ingest_file(
            engine=engine,
            path=path,
            resource="administrative_penalty",
            unit_uscc=None,
            actor=Actor(name="growth", role="admin"),
            rejects_dir=folder,
        )
        seconds = time.perf_counter() - started
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {
        "rows": result.received,
        "accepted": result.accepted,
        "rejected": result.rejected,
        "duplicates": result.duplicates,
        "seconds": seconds,
        "rows_per_s": result.received / seconds if seconds else 0.0,
        "raw_rows_per_s": raw["rows"] / raw["seconds"] if raw["seconds"] else 0.0,
    }


def database_bytes(engine_kind: str, engine: sa.Engine, url: str) -> dict[str, Any]:
    if engine_kind == "sqlite":
        # At rest: the WAL folded back into the file (after a load or ANALYZE it can hold a third of the data). On a
        # connection of its own, before any read: a checkpoint cannot truncate under an open read transaction.
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    with engine.connect() as conn:
        records = conn.execute(sa.text("SELECT count(*) FROM record")).scalar_one()
        if engine_kind == "sqlite":
            path = Path(str(sa.engine.make_url(url).database))
            size = sum(Path(str(path) + s).stat().st_size for s in ("", "-wal") if Path(str(path) + s).exists())
            tables: dict[str, int] = {}
        else:
            size = conn.execute(sa.text("SELECT pg_database_size(current_database())")).scalar_one()
            tables = {
                name: int(total)
                for name, total in conn.execute(
                    sa.text(
                        "SELECT c.relname, pg_total_relation_size(c.oid) + coalesce((SELECT sum("
                        "pg_total_relation_size(i.inhrelid)) FROM pg_inherits i WHERE i.inhparent = c.oid), 0) "
                        "FROM pg_class c WHERE c.relname IN ('record', 'subject', 'subject_name', 'list_entry') "
                        "AND c.relkind IN ('r', 'p')"
                    )
                )
            }
    return {"bytes": int(size), "records": int(records), "bytes_per_record": size / records, "tables": tables}


WARM_TABLES = ("subject", "subject_name", "subject_code")


def prewarm(engine: sa.Engine) -> float:
    """Read the subject tables and their indexes into the OS page cache; the seconds it took."""
    started = time.perf_counter()
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_prewarm"))
            relations = conn.scalars(
                sa.text(
                    "SELECT c.oid::regclass::text FROM pg_class c WHERE c.oid = ANY(CAST(:t AS regclass[])) "
                    "UNION SELECT i.indexrelid::regclass::text FROM pg_index i "
                    "WHERE i.indrelid = ANY(CAST(:t AS regclass[]))"
                ),
                {"t": list(WARM_TABLES)},
            ).all()
            for relation in relations:
                conn.execute(sa.text("SELECT pg_prewarm(:r, 'read')"), {"r": relation})
        else:
            # SQLite has no prewarm: reading every row of each table and of the trigram index's own tables brings
            # their pages in (not their B-tree indexes, which the code lookups then read as they go).
            for table in (*WARM_TABLES, "subject_name_fts_data", "subject_name_fts_idx"):
                for _ in conn.execution_options(yield_per=10_000).execute(sa.text(f"SELECT * FROM {table}")):
                    pass
        conn.commit()
    return time.perf_counter() - started


def print_latencies(label: str, result: dict[str, Any]) -> None:
    for name in ("search", "subject_page", "check"):
        ours, raw = result["http"][name], result["raw"][name]
        print(
            f"  {label}{name}: HTTP p50/p95/p99 {ours['p50']:.1f}/{ours['p95']:.1f}/{ours['p99']:.1f} ms; "
            f"raw p95 {raw['p95']:.2f} ms",
            flush=True,
        )


def measure(engine_kind: str, url: str, subjects: int, queries: int, ingest_rows: int, workdir: Path) -> dict[str, Any]:
    engine = engine_for(url)
    result: dict[str, Any] = {"load_average": os.getloadavg()}
    result["size"] = database_bytes(engine_kind, engine, url)
    print(f"  size: {result['size']['bytes'] / 2**30:.2f} GiB, {result['size']['bytes_per_record']:.0f} B/record")
    picks = sample_subjects(subjects, queries)
    key = checker_key(engine)
    result["raw"] = measure_raw(engine, picks)
    result["http"] = measure_http(engine, picks, key)
    print_latencies("", result)
    # Steady state: on a server that has been answering, the subjects and their names (a few percent of the
    # database) are in memory; right after a bulk build they are not. Measured again with other subjects after
    # reading those tables in, the way PostgreSQL's pg_prewarm (or its autoprewarm after a restart) would.
    result["warm"] = {"prewarm_seconds": prewarm(engine)}
    others = sample_subjects(subjects, queries, seed=8)
    result["warm"]["raw"] = measure_raw(engine, others)
    result["warm"]["http"] = measure_http(engine, others, key)
    print_latencies(f"warm ({result['warm']['prewarm_seconds']:.0f} s to read the subject tables in), ", result["warm"])
    result["evaluation"] = measure_evaluation(engine)
    ev = result["evaluation"]
    print(
        f"  evaluation: {ev['seconds']:.1f} s for {ev['subjects']:,} subjects; raw aggregate {ev['raw_seconds']:.1f} s"
    )
    if ingest_rows:
        result["ingest"] = measure_ingest(engine_kind, engine, url, ingest_rows, workdir)
        ing = result["ingest"]
        print(
            f"  ingest: {ing['rows_per_s']:.0f} rows/s ({ing['accepted']:,} accepted); raw {ing['raw_rows_per_s']:.0f}"
        )
    result["load_average_after"] = os.getloadavg()
    engine.dispose()
    return result


# ---------------------------------------------------------------------------------------------------------------
# Results and the picture


def results_file(engine_kind: str) -> Path:
    return OUT / f"growth-{engine_kind}.json"


def save(engine_kind: str, records: int, key: str, value: dict[str, Any]) -> None:
    path = results_file(engine_kind)
    path.parent.mkdir(parents=True, exist_ok=True)
    stored = json.loads(path.read_text()) if path.exists() else {}
    stored.setdefault(str(records), {})[key] = value
    path.write_text(json.dumps(stored, ensure_ascii=False, indent=1))


def plot(png: Path = PNG) -> Path:
    """Six panels, log-x: p95 of search, subject page and check (ours and raw), evaluation seconds, ingest rows/s,
    bytes per record; one line per engine."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(15, 8.5))
    panels = [
        ("search", "name search p95 (ms)"),
        ("subject_page", "subject page p95 (ms)"),
        ("check", "check p95 (ms)"),
        ("evaluation", "evaluate all subjects (s)"),
        ("ingest", "ingest (rows/s)"),
        ("size", "database bytes per record"),
    ]
    styles = {"postgresql": "tab:blue", "sqlite": "tab:orange"}
    for ax, (key, title) in zip(axes.flat, panels, strict=True):
        for engine_kind in ("postgresql", "sqlite"):
            path = results_file(engine_kind)
            if not path.exists():
                continue
            stored = json.loads(path.read_text())
            points = sorted((int(r), m["measure"]) for r, m in stored.items() if "measure" in m)
            if not points:
                continue
            xs = [r for r, _ in points]
            color = styles[engine_kind]
            if key in ("search", "subject_page", "check"):
                ax.plot(xs, [m["http"][key]["p95"] for _, m in points], "o-", color=color,
                        label=f"{engine_kind} HTTP, cold start")  # fmt: skip
                ax.plot(xs, [m["raw"][key]["p95"] for _, m in points], "o--", color=color, alpha=0.5,
                        label=f"{engine_kind} raw query")  # fmt: skip
                warm = [(x, m["warm"]) for x, (_, m) in zip(xs, points, strict=True) if "warm" in m]
                if warm:
                    ax.plot([x for x, _ in warm], [w["http"][key]["p95"] for _, w in warm], "s:", color=color,
                            label=f"{engine_kind} HTTP, subject tables in memory")  # fmt: skip
            elif key == "evaluation":
                ax.plot(xs, [m["evaluation"]["seconds"] for _, m in points], "o-", color=color, label=f"{engine_kind}")
                ax.plot(xs, [m["evaluation"]["raw_seconds"] for _, m in points], "o--", color=color, alpha=0.5,
                        label=f"{engine_kind} raw aggregate")  # fmt: skip
                ax.set_yscale("log")
            elif key == "ingest":
                pairs = [(x, m["ingest"]) for x, (_, m) in zip(xs, points, strict=True) if "ingest" in m]
                ax.plot([x for x, _ in pairs], [i["rows_per_s"] for _, i in pairs], "o-", color=color,
                        label=f"{engine_kind} pipeline")  # fmt: skip
                ax.plot([x for x, _ in pairs], [i["raw_rows_per_s"] for _, i in pairs], "o--", color=color, alpha=0.5,
                        label=f"{engine_kind} raw load")  # fmt: skip
                ax.set_yscale("log")
            else:
                sizes = [built_size(stored[str(x)])["bytes_per_record"] for x in xs]
                ax.plot(xs, sizes, "o-", color=color, label=engine_kind)
                ax.set_ylim(bottom=0)  # a flat line, not a zoomed-in slope
        ax.set_xscale("log")
        ax.set_title(title)
        ax.set_xlabel("records")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("xinyong: cost of each operation as the data grows (bench/growth.py)")
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=90)
    return png


def report() -> str:
    """The Markdown table of every measured size and engine (for docs/benchmarks.md), with growth ratios."""
    lines = [
        "| engine | records | subjects | build (s) | size | B/record | search p50/p95/p99 (ms) | raw search p95 | "
        "subject page p50/p95/p99 | raw page p95 | check p50/p95/p99 | raw check p95 | evaluate all (s) | "
        "raw aggregate (s) | ingest rows/s | raw load rows/s | load avg |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for engine_kind in ("postgresql", "sqlite"):
        path = results_file(engine_kind)
        if not path.exists():
            continue
        stored = json.loads(path.read_text())
        for records, entry in sorted(stored.items(), key=lambda kv: int(kv[0])):
            m, b = entry.get("measure"), entry.get("build", {})
            if not m:
                continue
            h, r, ev, ing = m["http"], m["raw"], m["evaluation"], m.get("ingest", {})
            size = built_size(entry)

            lines.append(
                f"| {engine_kind} | {int(records):,} | {b.get('subjects', 0):,} | {b.get('wall_seconds', 0):,.0f} | "
                f"{size['bytes'] / 2**30:.1f} GiB | {size['bytes_per_record']:,.0f} | {trio(h['search'])} | "
                f"{r['search']['p95']:.1f} | {trio(h['subject_page'])} | {r['subject_page']['p95']:.1f} | "
                f"{trio(h['check'])} | {r['check']['p95']:.2f} | {ev['seconds']:,.1f} | {ev['raw_seconds']:,.1f} | "
                f"{ing.get('rows_per_s', 0):,.0f} | {ing.get('raw_rows_per_s', 0):,.0f} | "
                f"{m['load_average'][0]:.1f}–{m.get('load_average_after', m['load_average'])[0]:.1f} |"
            )
    lines += [
        "",
        "Steady state (the subject tables read into memory first, then other subjects than above):",
        "",
        "| engine | records | read in (s) | search p50/p95/p99 (ms) | raw search p95 | subject page p50/p95/p99 | "
        "raw page p95 | check p50/p95/p99 | raw check p95 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for engine_kind in ("postgresql", "sqlite"):
        path = results_file(engine_kind)
        stored = json.loads(path.read_text()) if path.exists() else {}
        for records, entry in sorted(stored.items(), key=lambda kv: int(kv[0])):
            w = entry.get("measure", {}).get("warm")
            if not w:
                continue
            h, r = w["http"], w["raw"]
            lines.append(
                f"| {engine_kind} | {int(records):,} | {w['prewarm_seconds']:.0f} | {trio(h['search'])} | "
                f"{r['search']['p95']:.1f} | {trio(h['subject_page'])} | {r['subject_page']['p95']:.1f} | "
                f"{trio(h['check'])} | {r['check']['p95']:.2f} |"
            )
    return "\n".join(lines)


def trio(x: dict[str, float]) -> str:
    return f"{x['p50']:.1f} / {x['p95']:.1f} / {x['p99']:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--sizes", default="1000000,10000000,100000000", help="records, comma-separated")
    parser.add_argument("--subjects-ratio", type=float, default=10.0, help="records per subject (default 10)")
    parser.add_argument("--jobs", type=int, default=2, help="bulk generator processes (PostgreSQL)")
    parser.add_argument("--queries", type=int, default=300, help="requests per HTTP measurement")
    parser.add_argument("--ingest-rows", type=int, default=50_000, help="rows of the ingest file (0: skip)")
    parser.add_argument("--phase", choices=["all", "build", "measure"], default="all")
    parser.add_argument("--keep", action="store_true", help="keep each database after measuring it")
    parser.add_argument("--workdir", type=Path, default=ROOT / "var" / "bench" / "growth")
    parser.add_argument("--plot-only", action="store_true")
    parser.add_argument("--report", action="store_true", help="print the Markdown table of the stored results")
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    if args.report:
        print(report())
        return
    if not args.plot_only:
        args.workdir.mkdir(parents=True, exist_ok=True)
        for records in (int(s) for s in args.sizes.split(",")):
            subjects = max(1, round(records / args.subjects_ratio))
            url = database_url(args.engine, records, args.workdir)
            print(f"[{args.engine}] {subjects:,} subjects / {records:,} records", flush=True)
            if args.phase in ("all", "build"):
                built = build(args.engine, url, subjects, records, args.jobs)
                print(f"  built in {built['wall_seconds']:.0f} s: {built['records']:,} records", flush=True)
                save(args.engine, records, "build", built)
            if args.phase in ("all", "measure"):
                measured = measure(args.engine, url, subjects, args.queries, args.ingest_rows, args.workdir)
                save(args.engine, records, "measure", measured)
                if not args.keep:
                    drop(args.engine, url)
    print(f"curves: {plot()}")


if __name__ == "__main__":
    main()
