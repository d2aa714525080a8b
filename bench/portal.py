"""Portal benchmark: name search, code lookup and subject page through HTTP, with the raw query as reference.

    .venv/bin/python bench/portal.py --engine sqlite --subjects 100000 --records 1000000
    .venv/bin/python bench/portal.py --engine postgresql --subjects 1000000 --records 10000000 --load-only
    flock /work/wt/bench.lock .venv/bin/python bench/portal.py --engine postgresql --subjects 1000000 --measure-only
    .venv/bin/python bench/portal.py --engine postgresql --subjects 1000000 --measure-only \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_scale_growth_10000000
    .venv/bin/python bench/portal.py --engine postgresql --drop

The loader here is the benchmark's own, written straight into the tables after the real migrations, so it measures
reading, not the collection pipeline: subjects and names (5 % with a former name) generated in Python in chunks of
100,000 (executemany on SQLite, COPY on PostgreSQL), records generated inside the database by INSERT … SELECT over a
series (a hash of the row number picks subject, kind, dates, severity), one transaction per million rows.
The SQLite FTS5 index is filled by the migration's triggers during the load, as it is in production.
The app is served by uvicorn in this process; latencies are measured by a keep-alive HTTP client on loopback (an upper
bound of the server-side time), and the raw database query of the same lookup is timed in the same run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import random
import socket
import statistics
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("XINYONG_TODAY", "2026-06-15")
os.environ["XINYONG_RATE_LIMIT_PER_MINUTE"] = "0"

import sqlalchemy as sa  # noqa: E402
import uvicorn  # noqa: E402

from xinyong.core.bootstrap import upgrade_database  # noqa: E402
from xinyong.core.database import create_db_engine  # noqa: E402
from xinyong.subjects.codes import make_uscc  # noqa: E402

PLACES = ["淄博", "张店", "淄川", "博山", "临淄", "周村", "桓台", "高青", "沂源", "齐鲁", "鲁中", "山东"]
WORDS = list("华鑫源泰恒达瑞丰隆盛安信和兴宏远嘉诚德润佳创新天海祥云金石宝通利永昌汇福锦荣晨辉")
TRADES = [
    "化工",
    "建材",
    "机械",
    "电子",
    "食品",
    "物流",
    "纺织",
    "医药",
    "陶瓷",
    "玻璃",
    "汽车配件",
    "商贸",
    "科技",
    "环保",
]
FORMS = ["有限公司", "有限责任公司", "股份有限公司", "经营部", "商店"]


def subject_name(rng: random.Random, n: int) -> str:
    words = "".join(rng.choice(WORDS) for _ in range(2))
    return f"{rng.choice(PLACES)}{words}{rng.choice(TRADES)}{n % 997}{rng.choice(FORMS)}"


def _sqlite_value(v: Any) -> Any:
    return v.isoformat(sep=" ").replace("+00:00", "") if isinstance(v, dt.datetime) else v


# Hash of the row number into [0, m): deterministic and portable (integer arithmetic only), as in bench/evaluation.py.
def _h(i: str, salt: int, m: int) -> str:
    return f"((({i}) * 2654435761 + {salt}) % 4294967296) % {m}"


CHUNK = 1_000_000  # rows per statement/transaction: progress is visible and no transaction grows without bound


def _insert_subjects(engine: sa.Engine, subjects: int, seed: int, now: dt.datetime) -> None:
    """Subjects and their names (5 % with a former name too), generated in Python in chunks (names need realism)."""
    rng = random.Random(seed)
    subj_cols = "id, kind, uscc, name, region, status, legal_rep, name_conflict, created_at, updated_at"
    name_cols = "id, subject_id, name, first_seen, last_seen, source, is_current, kind, region"
    sqlite = engine.dialect.name == "sqlite"
    name_id = 0
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        for lo in range(1, subjects + 1, 100_000):
            subj_rows: list[tuple[Any, ...]] = []
            name_rows: list[tuple[Any, ...]] = []
            for i in range(lo, min(subjects, lo + 99_999) + 1):
                name = subject_name(rng, i)
                subj_rows.append((i, "legal_person", make_uscc("9", "1", "370302", f"M{i:07d}"), name, "370302",
                                  "active", "张三", False, now, now))  # fmt: skip
                if i % 20 == 0:
                    name_id += 1
                    former = f"{rng.choice(PLACES)}{rng.choice(WORDS)}{rng.choice(WORDS)}{rng.choice(TRADES)}厂"
                    name_rows.append((name_id, i, former, now, now, "bench", False, "legal_person", "370302"))
                name_id += 1
                name_rows.append((name_id, i, name, now, now, "bench", True, "legal_person", "370302"))
            if sqlite:
                cur.execute("BEGIN")
                for table, cols, rows in (("subject", subj_cols, subj_rows), ("subject_name", name_cols, name_rows)):
                    marks = ",".join("?" * len(cols.split(",")))
                    cur.executemany(
                        f"INSERT INTO {table} ({cols}) VALUES ({marks})",
                        [tuple(_sqlite_value(v) for v in r) for r in rows],
                    )
                cur.execute("COMMIT")
            else:
                for table, cols, rows in (("subject", subj_cols, subj_rows), ("subject_name", name_cols, name_rows)):
                    with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                        for r in rows:
                            copy.write_row(r)
                raw.commit()
    finally:
        raw.close()


def _insert_records(engine: sa.Engine, subjects: int, records: int, unit_id: int, resources: dict[str, int]) -> None:
    """Records generated inside the database (INSERT … SELECT over a series; no Python per row), CHUNK per statement.

    30 % licences (valid 1, 3 or 5 years), 70 % penalties (general 6 : serious 1 : minor 1), decision dates spread
    over the 1,500 days before 2026-06-15, subjects drawn by a hash of the row number (≈ records/subjects each).
    """
    sqlite = engine.dialect.name == "sqlite"
    if sqlite:
        day = lambda days: f"date('2026-06-15', '-' || ({days}) || ' days')"  # noqa: E731
        plus = lambda d, days: f"date({d}, '+' || ({days}) || ' days')"  # noqa: E731
        now = "'2026-06-01 00:00:00'"
    else:
        day = lambda days: f"(DATE '2026-06-15' - ({days})::int)"  # noqa: E731
        plus = lambda d, days: f"({d} + ({days})::int)"  # noqa: E731
        now = "TIMESTAMPTZ '2026-06-01 00:00:00+00'"
    licence = f"{_h('i', 11, 10)} < 3"
    decision = day(f"1 + {_h('i', 5, 1500)}")
    period = f"CASE {_h('i', 23, 3)} WHEN 0 THEN 365 WHEN 1 THEN 1095 ELSE 1825 END"
    severity = (
        f"CASE WHEN {_h('i', 13, 8)} < 6 THEN 'general' WHEN {_h('i', 13, 8)} = 6 THEN 'serious' ELSE 'minor' END"
    )
    payload_l = json.dumps({"XK_ZT": "有效", "XK_XKLB": "普通", "XK_NR": "准予许可"}, ensure_ascii=False)
    payload_p = json.dumps(
        {"CF_CFLB": "02", "CF_NR": "罚款人民币1万元", "CF_WFXW": "违反环境保护管理规定"}, ensure_ascii=False
    )
    cast = "" if sqlite else "::jsonb"
    select = (
        f"SELECT i, CASE WHEN {licence} THEN {resources['administrative_license']} "
        f"ELSE {resources['administrative_penalty']} END, 1 + {_h('i', 3, subjects)}, {unit_id}, "
        f"'淄环罚〔B〕' || i || '号', {decision}, CASE WHEN {licence} THEN {decision} END, "
        f"CASE WHEN {licence} THEN {plus(decision, period)} END, CASE WHEN {licence} THEN NULL ELSE {severity} END, "
        f"'active', false, '370302', 'bench', 'legal_person', "
        f"CASE WHEN {licence} THEN '{payload_l}'{cast} ELSE '{payload_p}'{cast} END, "
        f"'{'0' * 64}', 1, 'local', {now}, {now}"
    )
    cols = (
        "id, resource_id, subject_id, source_unit_id, doc_no, decision_date, valid_from, valid_to, severity, status, "
        "objection_open, region, subject_name, subject_kind, payload, content_hash, version, origin, received_at, "
        "updated_at"
    )
    for lo in range(1, records + 1, CHUNK):
        hi = min(records, lo + CHUNK - 1)
        series = (
            f"(WITH RECURSIVE s(i) AS (SELECT {lo} UNION ALL SELECT i + 1 FROM s WHERE i < {hi}) SELECT i FROM s) AS s"
            if sqlite
            else f"generate_series({lo}, {hi}) AS s(i)"
        )
        started = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(sa.text(f"INSERT INTO record ({cols}) {select} FROM {series}"))
        print(f"  records {hi:,} ({time.perf_counter() - started:.0f} s)", flush=True)


def load(engine: sa.Engine, subjects: int, records: int, seed: int = 1) -> None:
    """Bulk-load synthetic subjects, names and records after the real migrations."""
    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    with engine.begin() as conn:
        unit_id = conn.execute(
            sa.text(
                "INSERT INTO source_unit (uscc, name, short_name, region, active, created_at) "
                "VALUES (:u, '淄博市生态环境局', '淄环', '370300', true, :t) RETURNING id"
            ),
            {"u": make_uscc("1", "1", "370300", "00400001"), "t": now},
        ).scalar_one()
        resources: dict[str, int] = dict(conn.execute(sa.text("SELECT code, id FROM resource")).all())
    started = time.perf_counter()
    _insert_subjects(engine, subjects, seed, now)
    print(f"  subjects and names {subjects:,} ({time.perf_counter() - started:.0f} s)", flush=True)
    _insert_records(engine, subjects, records, unit_id, resources)
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            for table in ("subject", "subject_name", "record"):
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
                )
            conn.commit()
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")


def sample_subjects(engine: sa.Engine, subjects: int) -> list[tuple[int, str, str]]:
    """About 2,000 subjects with a code spread over the id range: (id, uscc, name).

    Natural persons (no USCC, not on the public site) and placeholder codes are left out, so a bulk-generated database
    (``--database-url``) is sampled like the benchmark's own.
    """
    from xinyong.subjects.codes import USCC_PLACEHOLDER

    step = max(1, subjects // 2000)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT id, uscc, name FROM subject "
                "WHERE id % :step = 0 AND uscc IS NOT NULL AND uscc <> :ph ORDER BY id"
            ),
            {"step": step, "ph": USCC_PLACEHOLDER},
        ).all()
    return [(int(r[0]), str(r[1]), str(r[2])) for r in rows]


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))] * 1000


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50": pct(values, 50),
        "p95": pct(values, 95),
        "p99": pct(values, 99),
        "mean": statistics.mean(values) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432")
    parser.add_argument("--workdir", type=Path, default=ROOT / "var" / "bench", help="SQLite file and JSON result")
    parser.add_argument("--database", default="bench_portal_db", help="PostgreSQL database name")
    phase = parser.add_mutually_exclusive_group()
    phase.add_argument("--load-only", action="store_true", help="load and stop (run the measurement later)")
    phase.add_argument("--measure-only", action="store_true", help="measure a database loaded by --load-only")
    phase.add_argument("--drop", action="store_true", help="drop the benchmark database/file and stop")
    parser.add_argument(
        "--database-url",
        help="with --measure-only: measure this database instead (e.g. one built by bench/growth.py --keep, whose "
        "subjects, names and records come from the bulk generator with the demo's distributions)",
    )
    args = parser.parse_args()
    if args.database_url and not args.measure_only:
        parser.error("--database-url goes with --measure-only")

    args.workdir.mkdir(parents=True, exist_ok=True)
    path = args.workdir / "portal.db"
    url = args.database_url or (f"sqlite:///{path}" if args.engine == "sqlite" else f"{args.pg}/{args.database}")
    load_seconds = None
    if not args.measure_only:
        if args.engine == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
        else:
            admin = sa.create_engine(f"{args.pg}/postgres", isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)'))
                if not args.drop:
                    conn.execute(
                        sa.text(
                            f"CREATE DATABASE \"{args.database}\" TEMPLATE template0 ENCODING 'UTF8' "
                            "LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
                        )
                    )
            admin.dispose()
        if args.drop:
            return
    os.environ["XINYONG_DATABASE_URL"] = url
    engine = create_db_engine(url)
    if not args.measure_only:
        loader = create_db_engine(url)
        if args.engine == "sqlite":
            # A bulk load that can be redone: no fsync, a large page cache for the random index inserts.
            sa.event.listen(
                loader,
                "connect",
                lambda c, _r: c.execute("PRAGMA synchronous=OFF").execute("PRAGMA cache_size=-2000000"),
            )
        else:
            sa.event.listen(loader, "connect", lambda c, _r: c.execute("SET synchronous_commit = off"))
        upgrade_database(loader)
        started = time.perf_counter()
        load(loader, args.subjects, args.records)
        load_seconds = time.perf_counter() - started
        loader.dispose()
        print(
            f"loaded {args.subjects:,} subjects / {args.records:,} records into {args.engine} in {load_seconds:.0f} s",
            flush=True,
        )
        if args.load_only:
            return
    sample = sample_subjects(engine, args.subjects)
    results = measure(engine, args.engine, sample, args.queries)
    print(f"\n{args.engine}: {args.subjects:,} subjects, {args.records:,} records, {args.queries} queries each (ms)")
    print(f"{'measure':52} {'p50':>8} {'p95':>8} {'p99':>8}")
    for name, s in results.items():
        print(f"{name:52} {s['p50']:8.1f} {s['p95']:8.1f} {s['p99']:8.1f}")
    out = args.workdir / f"portal-{args.engine}.json"
    out.write_text(
        json.dumps(
            {"args": {k: str(v) for k, v in vars(args).items()}, "load_seconds": load_seconds, "results": results},
            ensure_ascii=False,
            indent=1,
        )
    )


def measure(
    engine: sa.Engine, kind: str, sample: list[tuple[int, str, str]], queries: int
) -> dict[str, dict[str, float]]:
    """Time each lookup through HTTP, then the raw database query of the same lookups, on one keep-alive client."""
    from xinyong.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(engine), host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    conn = http.client.HTTPConnection("127.0.0.1", port)

    def get(path: str) -> float:
        t = time.perf_counter()
        conn.request("GET", path, headers={"Accept": "application/json"})
        resp = conn.getresponse()
        resp.read()
        if resp.status != 200:
            raise SystemExit(f"{path}: HTTP {resp.status}")
        return time.perf_counter() - t

    rng = random.Random(7)
    picks = [rng.choice(sample) for _ in range(queries)]
    # Name fragments as people type them: the distinctive middle of a name (two words + trade, 4 characters), and
    # short ones (the two words, or one of them) that match thousands of names.
    fragments = [name[2:6] for _, _, name in picks]
    pairs = [name[2:4] for _, _, name in picks]
    singles = [name[2 + k % 2] for k, (_, _, name) in enumerate(picks)]
    for _, uscc, _ in picks[:20]:  # warm-up
        get(f"/api/v1/subjects/{uscc}")
    results: dict[str, dict[str, float]] = {}
    search = "/api/v1/subjects?q="
    results["name search, 4 characters (HTTP)"] = summary([get(search + urllib.parse.quote(f)) for f in fragments])
    results["name search, 2 characters (HTTP)"] = summary([get(search + urllib.parse.quote(f)) for f in pairs])
    results["name search, 1 character (HTTP)"] = summary([get(search + urllib.parse.quote(f)) for f in singles])
    results["code lookup (HTTP search by USCC)"] = summary([get(search + u) for _, u, _ in picks])
    results["subject page (HTTP JSON /api/v1/subjects/{code})"] = summary(
        [get(f"/api/v1/subjects/{u}") for _, u, _ in picks]
    )
    conn.request("GET", "/", headers={"Accept": "text/html"})
    conn.getresponse().read()
    results["subject page (HTML /subjects/{code})"] = summary([get(f"/subjects/{u}") for _, u, _ in picks])
    server.should_exit = True

    with engine.connect() as db:
        if kind == "sqlite":
            raw_search = sa.text(
                "SELECT DISTINCT sn.subject_id FROM subject_name sn WHERE sn.id IN "
                "(SELECT rowid FROM subject_name_fts WHERE subject_name_fts MATCH :m) LIMIT 20"
            )
            params = [{"m": '"' + f + '"'} for f in fragments]
        else:
            # The pattern inline (literal_execute): a prepared statement's generic plan would not use the trigram index.
            raw_search = sa.text("SELECT DISTINCT subject_id FROM subject_name WHERE name LIKE :m LIMIT 20").bindparams(
                sa.bindparam("m", type_=sa.String, literal_execute=True)
            )
            params = [{"m": f"%{f}%"} for f in fragments]
        raw_short = sa.text("SELECT DISTINCT subject_id FROM subject_name WHERE name LIKE :m LIMIT 20").bindparams(
            sa.bindparam("m", type_=sa.String, literal_execute=True)
        )

        def timed(stmt: Any, p: dict[str, Any]) -> float:
            t = time.perf_counter()
            db.execute(stmt, p).all()
            return time.perf_counter() - t

        results["raw: name match, 4 characters, LIMIT 20"] = summary([timed(raw_search, p) for p in params])
        results["raw: name LIKE, 2 characters, LIMIT 20"] = summary([timed(raw_short, {"m": f"%{f}%"}) for f in pairs])
        code_q = sa.text("SELECT id, name FROM subject WHERE uscc = :u")
        results["raw: code lookup"] = summary([timed(code_q, {"u": u}) for _, u, _ in picks])
        page_q = sa.text("SELECT * FROM record WHERE subject_id = (SELECT id FROM subject WHERE uscc = :u)")
        results["raw: the subject's records"] = summary([timed(page_q, {"u": u}) for _, u, _ in picks])
    return results


if __name__ == "__main__":
    main()
