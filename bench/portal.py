"""Portal benchmark: name search, code lookup and subject page through HTTP, with the raw query as reference.

    .venv/bin/python bench/portal.py --engine sqlite --subjects 100000 --records 1000000
    .venv/bin/python bench/portal.py --engine postgresql --subjects 100000 --records 1000000

The loader here is the benchmark's own: synthetic subjects, names and records written straight into the tables
(executemany on SQLite, COPY on PostgreSQL) after the real migrations, so it measures reading, not the collection
pipeline. The SQLite FTS5 index is filled by the migration's triggers during the load, as it is in production.
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


def load(engine: sa.Engine, subjects: int, records: int, seed: int = 1) -> list[tuple[int, str, str]]:
    """Bulk-load synthetic rows; returns (id, uscc, name) of a sample of subjects for the queries."""
    rng = random.Random(seed)
    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    with engine.begin() as conn:
        unit_id = conn.execute(
            sa.text(
                "INSERT INTO source_unit (uscc, name, short_name, region, active, created_at) "
                "VALUES (:u, '淄博市生态环境局', '淄环', '370300', true, :t) RETURNING id"
            ),
            {"u": make_uscc("1", "1", "370300", "00400001"), "t": now},
        ).scalar_one()
        resources = dict(conn.execute(sa.text("SELECT code, id FROM resource")).all())
    sample: list[tuple[int, str, str]] = []
    subj_rows: list[tuple[Any, ...]] = []
    name_rows: list[tuple[Any, ...]] = []
    for i in range(1, subjects + 1):
        uscc = make_uscc("9", "1", "370302", f"MB{i:06d}")
        name = subject_name(rng, i)
        subj_rows.append((i, "legal_person", uscc, name, "370302", "active", "张三", False, now, now))
        name_rows.append((i, i, name, now, now, "bench", True))
        if i % max(1, subjects // 2000) == 0:
            sample.append((i, uscc, name))
    today = dt.date(2026, 6, 15)
    rec_rows: list[tuple[Any, ...]] = []
    for j in range(1, records + 1):
        sid = rng.randint(1, subjects)
        decision = today - dt.timedelta(days=rng.randint(1, 1500))
        if rng.random() < 0.3:
            res, sev, valid_from, valid_to = (
                resources["administrative_license"],
                None,
                decision,
                decision + dt.timedelta(days=rng.choice([365, 1095, 1825])),
            )
            payload = {"XK_ZT": "有效", "XK_XKLB": "普通", "XK_NR": "准予许可"}
        else:
            res, sev, valid_from, valid_to = (
                resources["administrative_penalty"],
                rng.choice(["general"] * 6 + ["serious", "minor"]),
                None,
                None,
            )
            payload = {"CF_CFLB": "02", "CF_NR": "罚款人民币1万元", "CF_WFXW": "违反环境保护管理规定"}
        rec_rows.append(
            (j, res, sid, unit_id, f"淄环罚〔{decision.year}〕{j}号", decision, valid_from, valid_to, sev, "active", 0,
             "370302", "bench", "legal_person", json.dumps(payload, ensure_ascii=False), "0" * 64, 1, "local", now, now)
        )  # fmt: skip
    subj_cols = "id, kind, uscc, name, region, status, legal_rep, name_conflict, created_at, updated_at"
    name_cols = "id, subject_id, name, first_seen, last_seen, source, is_current"
    rec_cols = (
        "id, resource_id, subject_id, source_unit_id, doc_no, decision_date, valid_from, valid_to, severity, status, "
        "objection_open, region, subject_name, subject_kind, payload, content_hash, version, origin, received_at, "
        "updated_at"
    )
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        if engine.dialect.name == "sqlite":
            cur.execute("BEGIN")
            for table, cols, rows in (
                ("subject", subj_cols, subj_rows),
                ("subject_name", name_cols, name_rows),
                ("record", rec_cols, rec_rows),
            ):
                marks = ",".join("?" * len(cols.split(",")))
                for k in range(0, len(rows), 50_000):
                    cur.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", [
                        tuple(_sqlite_value(v) for v in r)
                        for r in rows[k : k + 50_000]
                    ])  # fmt: skip
            cur.execute("COMMIT")
            cur.execute("ANALYZE")
        else:
            for table, cols, rows in (
                ("subject", subj_cols, subj_rows),
                ("subject_name", name_cols, name_rows),
                ("record", rec_cols, rec_rows),
            ):
                with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                    for r in rows:
                        copy.write_row(r)
            for table in ("subject", "subject_name", "record"):
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
            raw.commit()
            cur.execute("ANALYZE")
            raw.commit()
    finally:
        raw.close()
    return sample


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
    args = parser.parse_args()

    if args.engine == "sqlite":
        path = ROOT / "var" / "bench" / "portal.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        admin = sa.create_engine(f"{args.pg}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text("DROP DATABASE IF EXISTS xinyong_bench_portal WITH (FORCE)"))
            conn.execute(
                sa.text(
                    "CREATE DATABASE xinyong_bench_portal TEMPLATE template0 ENCODING 'UTF8' "
                    "LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
                )
            )
        admin.dispose()
        url = f"{args.pg}/xinyong_bench_portal"
    os.environ["XINYONG_DATABASE_URL"] = url
    engine = create_db_engine(url)
    upgrade_database(engine)
    started = time.perf_counter()
    sample = load(engine, args.subjects, args.records)
    load_seconds = time.perf_counter() - started
    print(
        f"loaded {args.subjects:,} subjects / {args.records:,} records into {args.engine} in {load_seconds:.0f} s",
        flush=True,
    )

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
    picks = [rng.choice(sample) for _ in range(args.queries)]
    # A name fragment as people type it: the distinctive middle of a name (two words + trade), ≥ 3 characters.
    fragments = [name[2:6] for _, _, name in picks]
    for _, uscc, _ in picks[:20]:  # warm-up
        get(f"/api/v1/subjects/{uscc}")
    results: dict[str, dict[str, float]] = {}
    results["name search (HTTP /api/v1/subjects?q=)"] = summary(
        [get("/api/v1/subjects?q=" + urllib.parse.quote(f)) for f in fragments]
    )
    results["code lookup (HTTP /api/v1/subjects?q=USCC)"] = summary(
        [get("/api/v1/subjects?q=" + u) for _, u, _ in picks]
    )
    results["subject page (HTTP /api/v1/subjects/{code})"] = summary(
        [get(f"/api/v1/subjects/{u}") for _, u, _ in picks]
    )
    conn.request("GET", "/", headers={"Accept": "text/html"})
    conn.getresponse().read()
    results["subject page (HTML /subjects/{code})"] = summary([get(f"/subjects/{u}") for _, u, _ in picks])

    with engine.connect() as db:
        if args.engine == "sqlite":
            raw_search = sa.text(
                "SELECT DISTINCT sn.subject_id FROM subject_name sn WHERE sn.id IN "
                "(SELECT rowid FROM subject_name_fts WHERE subject_name_fts MATCH :m) LIMIT 20"
            )
            params = [{"m": '"' + f + '"'} for f in fragments]
        else:
            raw_search = sa.text("SELECT DISTINCT subject_id FROM subject_name WHERE name LIKE :m LIMIT 20")
            params = [{"m": f"%{f}%"} for f in fragments]

        def timed(stmt: Any, p: dict[str, Any]) -> float:
            t = time.perf_counter()
            db.execute(stmt, p).all()
            return time.perf_counter() - t

        results["raw: name search (index, LIMIT 20)"] = summary([timed(raw_search, p) for p in params])
        code_q = sa.text("SELECT id, name FROM subject WHERE uscc = :u")
        results["raw: code lookup"] = summary([timed(code_q, {"u": u}) for _, u, _ in picks])
        page_q = sa.text("SELECT * FROM record WHERE subject_id = (SELECT id FROM subject WHERE uscc = :u)")
        results["raw: subject's records"] = summary([timed(page_q, {"u": u}) for _, u, _ in picks])
    server.should_exit = True

    print(f"\n{args.engine}: {args.subjects:,} subjects, {args.records:,} records, {args.queries} queries each (ms)")
    print(f"{'measure':48} {'p50':>8} {'p95':>8} {'p99':>8}")
    for name, s in results.items():
        print(f"{name:48} {s['p50']:8.1f} {s['p95']:8.1f} {s['p99']:8.1f}")
    out = ROOT / "var" / "bench" / f"portal-{args.engine}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps({"args": vars(args), "load_seconds": load_seconds, "results": results}, ensure_ascii=False, indent=1)
    )


if __name__ == "__main__":
    main()
