"""Benchmark of the credit check: checks/s and p50/p95/p99 latency under a real HTTP load generator.

What it does, per engine (SQLite file and/or PostgreSQL):
1. creates a fresh database and runs the migrations (``upgrade_database``);
2. bulk-loads N synthetic subjects straight into the tables (its own loader: SQLite ``executemany`` in one
   transaction, PostgreSQL ``COPY``), their ``subject_name`` rows and list entries for 1 % of them
   (government_procurement, so those checks return measures) with ``INSERT … SELECT`` — the API is not used for loading;
3. issues a checker API key, starts ``uvicorn`` (``--workers W``) on loopback and drives ``POST /api/v1/checks`` with
   ``wrk`` and a Lua script (random codes from a sample of 20,000, 1 in 5 of them listed) — every request is a full
   check: key lookup, subject, entries, objections, measures, stored snapshot and audit event;
4. as a reference, times the raw database lookup (subject by USCC + its active entries) from one Python connection;
5. measures the batch check (service level, one transaction) in rows/s for code rows and for name-only rows.

Load generator: Debian ``wrk`` (``apt-get install wrk``); the script refuses to run without it.

    .venv/bin/python bench/checks.py --subjects 1000000 --engines sqlite,postgresql --duration 20 --connections 16

Results are printed as a Markdown table (copy into docs/benchmarks.md under "## Checks").
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from xinyong.subjects.codes import make_uscc  # noqa: E402

PG_ADMIN = os.environ.get("XINYONG_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
TODAY = "2026-06-15"
WORDS = "华信鑫源清源恒泰宏达金鼎瑞丰泰和永盛博远天成东方齐鲁海岱明德新华圣元"
LUA = r"""
local codes = {}
for line in io.lines(os.getenv("BENCH_CODES")) do codes[#codes + 1] = line end
local key = os.getenv("BENCH_KEY")
math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)"), 16) % 100000)
request = function()
  local c = codes[math.random(#codes)]
  return wrk.format("POST", "/api/v1/checks",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. key},
    '{"code":"' .. c .. '","matter":"government_procurement"}')
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"status_errors":%d,"socket_errors":%d,"p50":%d,"p95":%d,"p99":%d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


def name_of(n: int) -> str:
    a, b, c = WORDS[n % len(WORDS)], WORDS[(n // 31) % len(WORDS)], WORDS[(n // 961) % len(WORDS)]
    return f"淄博{a}{b}{c}{n}号有限公司"


def uscc_of(n: int) -> str:
    return make_uscc("9", "1", "370302", f"B{n:07d}")


def create_database(kind: str, workdir: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'bench.db'}"
    name = f"xinyong_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(
            sa.text(
                f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
            )
        )
    admin.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def drop_database(url: str) -> None:
    if url.startswith("postgresql"):
        admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)"))
        admin.dispose()


def bulk_load(engine: sa.Engine, subjects: int) -> float:
    """Subjects, their names and list entries for 1 % of them, straight into the tables. Returns seconds."""
    started = time.perf_counter()
    stamp = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    rows = (("legal_person", uscc_of(n), name_of(n), "370302", "active", "张三", False) for n in range(subjects))
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        if engine.dialect.name == "sqlite":
            sql_stamp = stamp.replace(tzinfo=None).isoformat(sep=" ")
            cur.execute("BEGIN")
            cur.executemany(
                "INSERT INTO subject (kind, uscc, name, region, status, legal_rep, name_conflict, created_at,"
                f" updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, '{sql_stamp}', '{sql_stamp}')",
                rows,
            )
            cur.execute("COMMIT")
        else:
            with cur.copy(
                "COPY subject (kind, uscc, name, region, status, legal_rep, name_conflict, created_at, updated_at)"
                " FROM STDIN"
            ) as copy:
                for row in rows:
                    copy.write_row((*row, stamp, stamp))
            raw.commit()
    finally:
        raw.close()
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO subject_name (subject_id, name, first_seen, last_seen, is_current, kind, region) "
                "SELECT id, name, created_at, created_at, :t, kind, region FROM subject"
            ),
            {"t": True},
        )
        list_type_id = conn.scalar(sa.text("SELECT id FROM list_type WHERE code = 'government_procurement'"))
        conn.execute(
            sa.text(
                "INSERT INTO list_entry (list_type_id, subject_id, status, reason, authority, deadline_provisional,"
                " listed_on, expires_on, origin, created_by, created_at, updated_at) "
                "SELECT :lt, id, 'listed', '虚假材料谋取中标', '淄博市财政局', :f, :on, :until, 'local', 'bench',"
                " created_at, created_at FROM subject WHERE id % 100 = 0"
            ),
            {"lt": list_type_id, "f": False, "on": dt.date(2026, 1, 5), "until": dt.date(2028, 1, 4)},
        )
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    return time.perf_counter() - started


def sample_codes(engine: sa.Engine, subjects: int, path: Path) -> None:
    rng = random.Random(7)
    with engine.connect() as conn:
        listed = [
            r[0] for r in conn.execute(sa.text("SELECT s.uscc FROM subject s JOIN list_entry e ON e.subject_id = s.id"))
        ]
    codes = [uscc_of(rng.randrange(subjects)) for _ in range(16_000)] + rng.sample(listed, min(4_000, len(listed)))
    rng.shuffle(codes)
    path.write_text("\n".join(codes) + "\n")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def issue_key(url: str) -> str:
    from xinyong.accounts import service as accounts
    from xinyong.accounts.models import Role
    from xinyong.audit.service import Actor
    from xinyong.core.database import create_db_engine, session_scope

    engine = create_db_engine(url)
    with session_scope(engine, write=True) as session:
        key = accounts.create_api_key(session=session, actor=Actor.cli(), role=Role.CHECKER, label="bench").key
    engine.dispose()
    return key


def run_wrk(url: str, codes: Path, workdir: Path, args: argparse.Namespace) -> dict[str, Any]:
    key = issue_key(url)
    port = free_port()
    env = {
        **os.environ,
        "XINYONG_DATABASE_URL": url,
        "XINYONG_TODAY": TODAY,
        "XINYONG_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "xinyong.app:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
        cwd=ROOT,  # ``python -m`` puts the working directory ahead of PYTHONPATH: serve this checkout's code
    )
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.2)
        time.sleep(1.0)
        script = workdir / "check.lua"
        script.write_text(LUA)
        wrk_env = {**os.environ, "BENCH_CODES": str(codes), "BENCH_KEY": key}
        # warm-up (caches, connection pools), then the measured run
        subprocess.run(
            ["wrk", "-t1", "-c4", "-d3s", "-s", str(script), f"http://127.0.0.1:{port}"],
            env=wrk_env,
            capture_output=True,
            check=True,
        )
        out = subprocess.run(
            [
                "wrk",
                f"-t{args.threads}",
                f"-c{args.connections}",
                f"-d{args.duration}s",
                "--timeout",
                "5s",
                "-s",
                str(script),
                f"http://127.0.0.1:{port}",
            ],
            env=wrk_env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        server.terminate()
        server.wait(timeout=30)
    line = next(x for x in out.splitlines() if x.startswith("WRKJSON "))
    data = json.loads(line.removeprefix("WRKJSON "))
    data["rps"] = data["requests"] / (data["duration_us"] / 1e6)
    return data


def raw_lookup(engine: sa.Engine, subjects: int, n: int = 5000) -> dict[str, float]:
    """The reference: the bare queries a check needs for a subject (by USCC, then its active entries)."""
    rng = random.Random(11)
    codes = [uscc_of(rng.randrange(subjects)) for _ in range(n)]
    timings = []
    with engine.connect() as conn:
        for code in codes:
            t0 = time.perf_counter()
            sid = conn.execute(sa.text("SELECT id FROM subject WHERE uscc = :c"), {"c": code}).scalar()
            conn.execute(
                sa.text("SELECT id FROM list_entry WHERE subject_id = :s AND status = 'listed'"), {"s": sid}
            ).all()
            timings.append(time.perf_counter() - t0)
    timings.sort()
    return {"per_s": n / sum(timings), "p50": timings[n // 2] * 1e3, "p99": timings[int(n * 0.99)] * 1e3}


def batch_rates(url: str, subjects: int) -> dict[str, float]:
    from xinyong.audit.service import Actor
    from xinyong.checks import service as checks
    from xinyong.checks.upload import UploadRow
    from xinyong.core.database import create_db_engine, session_scope

    engine = create_db_engine(url)
    actor = Actor(name="bench", role="checker")
    rng = random.Random(3)
    code_rows = [UploadRow(row_no=i + 2, code=uscc_of(rng.randrange(subjects)), name="") for i in range(2000)]
    name_rows = [UploadRow(row_no=i + 2, code="", name=name_of(rng.randrange(subjects))) for i in range(500)]
    rates = {}
    for label, rows in (("code", code_rows), ("name", name_rows)):
        t0 = time.perf_counter()
        with session_scope(engine, write=True) as session:
            checks.batch_check(session=session, actor=actor, matter="government_procurement", rows=rows)
        rates[label] = len(rows) / (time.perf_counter() - t0)
    engine.dispose()
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--duration", type=int, default=20, help="seconds of load per engine")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    os.environ["XINYONG_TODAY"] = TODAY
    from xinyong.core.bootstrap import upgrade_database
    from xinyong.core.database import create_db_engine

    results = []
    with tempfile.TemporaryDirectory(prefix="xinyong-bench-") as tmp:
        workdir = Path(tmp)
        for kind in args.engines.split(","):
            url = create_database(kind, workdir)
            try:
                engine = create_db_engine(url)
                upgrade_database(engine)
                load_s = bulk_load(engine, args.subjects)
                print(f"[{kind}] loaded {args.subjects:,} subjects in {load_s:.1f}s", flush=True)
                codes = workdir / f"codes-{kind}.txt"
                sample_codes(engine, args.subjects, codes)
                raw = raw_lookup(engine, args.subjects)
                engine.dispose()
                print(f"[{kind}] raw lookup {raw['per_s']:.0f}/s", flush=True)
                http = run_wrk(url, codes, workdir, args)
                print(f"[{kind}] http {http}", flush=True)
                batch = batch_rates(url, args.subjects)
                print(f"[{kind}] batch {batch}", flush=True)
                results.append((kind, load_s, raw, http, batch))
            finally:
                if not args.keep:
                    drop_database(url)
    print()
    print(
        f"subjects: {args.subjects:,}; wrk -t{args.threads} -c{args.connections} -d{args.duration}s; "
        f"uvicorn --workers {args.workers}; {os.cpu_count()} CPU cores"
    )
    print()
    print(
        "| engine | load (s) | checks/s | p50 (ms) | p95 (ms) | p99 (ms) | errors | raw lookup/s (p50, p99 ms) "
        "| batch code rows/s | batch name rows/s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for kind, load_s, raw, http, batch in results:
        print(
            f"| {kind} | {load_s:.0f} | {http['rps']:.0f} | {http['p50'] / 1000:.1f} | {http['p95'] / 1000:.1f} "
            f"| {http['p99'] / 1000:.1f} | {http['status_errors'] + http['socket_errors']} "
            f"| {raw['per_s']:.0f} ({raw['p50']:.2f}, {raw['p99']:.2f}) | {batch['code']:.0f} | {batch['name']:.0f} |"
        )


if __name__ == "__main__":
    main()
