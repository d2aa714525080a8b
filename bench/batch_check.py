"""A batch check (批量核查) of thousands of rows, and the clerks' single checks answered while it runs.

    .venv/bin/python bench/batch_check.py --engine sqlite --rows 5000
    .venv/bin/python bench/batch_check.py --engine postgresql --rows 5000 --json var/bench/batch-check-pg.json

1. Creates a database and loads ``--subjects`` subjects (1 % listed) with the checks benchmark's bulk loader, as the
   soak does (``bench/soak.py: prepare``, no history records), and a checker key.
2. Serves the app of this checkout with ``uvicorn --workers W`` on loopback (``bench/soak.py: serve``).
3. Sends single checks (``POST /api/v1/checks``, a random loaded subject, 政府采购) one at a time, one every
   ``--pace`` seconds, for ``--alone`` seconds: the reference, in the same run. Then uploads a CSV of ``--rows``
   codes of loaded subjects to ``POST /api/v1/checks/batches`` from another thread and sends the same single checks,
   paced alike, until the batch is answered.
4. Prints and writes (``--json``): the batch's time and rows per second; the single checks' count, p50 / p95 / p99 / max
   alone and during the batch, and the ratio of the two p99s. Errors: a single check or the batch not answered with
   its status (200, 201), a batch answer without a checked line per row, or fewer checks stored for the batch than
   rows. Exits 1 on any.

Run it from the root of the checkout being measured (the served code is the one this file sits in).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.checks import uscc_of  # noqa: E402
from bench.soak import _pct, bench_database, prepare, serve  # noqa: E402  (the soak's data, server, percentile)

MATTER = "government_procurement"


def summary(latencies: list[float]) -> dict[str, float]:
    """Count and p50 / p95 / p99 / max in ms of ``latencies`` in seconds (the soak's percentile)."""
    return {
        "checks": len(latencies),
        **{f"p{p}": _pct(latencies, p) for p in (50, 95, 99)},
        "max": _pct(latencies, 100),
    }


class Clerk:
    """Single checks, one at a time, paced; each latency in seconds, every unexpected answer as an error."""

    def __init__(self, base: str, key: str, subjects: int, pace: float) -> None:
        self.client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=120)
        self.rng = random.Random(7)
        self.subjects = subjects
        self.pace = pace
        self.errors: list[str] = []

    def check_until(self, stop: threading.Event | float) -> list[float]:
        latencies: list[float] = []
        while not (stop.is_set() if isinstance(stop, threading.Event) else time.monotonic() >= stop):
            code = uscc_of(self.rng.randrange(self.subjects))
            started = time.perf_counter()
            answer = self.client.post("/api/v1/checks", json={"code": code, "matter": MATTER})
            latencies.append(time.perf_counter() - started)
            if answer.status_code != 200 or answer.json()["subject"]["code"] != code:
                self.errors.append(f"check {code}: {answer.status_code} {answer.text[:200]}")
            time.sleep(self.pace)
        return latencies


def batch_check(base: str, key: str, codes: list[str], errors: list[str], out: dict[str, Any]) -> None:
    text = "统一社会信用代码,名称\n" + "".join(f"{code},\n" for code in codes)
    started = time.perf_counter()
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=3600) as client:
        answer = client.post(
            "/api/v1/checks/batches",
            data={"matter": MATTER},
            files={"file": ("batch.csv", text.encode(), "text/csv")},
        )
    out["seconds"] = time.perf_counter() - started
    if answer.status_code != 201:
        errors.append(f"batch: {answer.status_code} {answer.text[:300]}")
        return
    body = answer.json()
    out["batch_no"] = body["batch_no"]
    statuses = [row["status"] for row in body["rows"]]
    if len(statuses) != len(codes) or set(statuses) != {"checked"}:
        errors.append(f"batch: {len(statuses)} lines for {len(codes)} rows, statuses {sorted(set(statuses))}")


def measure(
    url: str, *, subjects: int, rows: int, workdir: Path, workers: int = 2, pace: float = 0.02, alone: float = 10.0
) -> dict[str, Any]:
    """Load ``subjects`` into the empty database at ``url``, serve it, and measure (steps 1–4 of the module)."""
    world = prepare(url, subjects=subjects, records=0, workdir=workdir)
    world.data_dir.mkdir(parents=True, exist_ok=True)
    with serve(world, workers=workers, log=workdir / "server.log") as base:
        clerk = Clerk(base, world.checker_key, subjects, pace)
        clerk.check_until(time.monotonic() + 2)  # every worker's first checks, not measured
        reference = clerk.check_until(time.monotonic() + alone)
        rng = random.Random(11)
        codes = [uscc_of(rng.randrange(subjects)) for _ in range(rows)]
        batch: dict[str, Any] = {}
        errors = clerk.errors
        done = threading.Event()

        def run() -> None:
            try:
                batch_check(base, world.checker_key, codes, errors, batch)
            finally:
                done.set()

        sender = threading.Thread(target=run)
        sender.start()
        during = clerk.check_until(done)
        sender.join()
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            stored = conn.scalar(
                sa.text("SELECT count(*) FROM credit_check WHERE batch_no = :b"), {"b": batch.get("batch_no")}
            )
    finally:
        engine.dispose()
    if stored != rows:
        errors.append(f"{stored} checks stored for the batch of {rows} rows")
    alone_s, during_s = summary(reference), summary(during)
    return {
        "engine": sa.make_url(url).get_backend_name(),
        "subjects": subjects,
        "rows": rows,
        "workers": workers,
        "batch_seconds": batch.get("seconds"),
        "batch_rows_per_second": rows / batch["seconds"] if batch.get("seconds") else None,
        "alone": alone_s,
        "during": during_s,
        "p99_ratio": during_s["p99"] / alone_s["p99"] if alone_s["checks"] and during_s["checks"] else None,
        "errors": errors,
    }


def table(result: dict[str, Any]) -> str:
    lines = [
        f"{result['engine']}: batch check of {result['rows']:,} rows against {result['subjects']:,} subjects, "
        f"uvicorn --workers {result['workers']}: {result['batch_seconds']:.2f} s "
        f"({result['batch_rows_per_second']:,.0f} rows/s)"
        if result["batch_seconds"]
        else f"{result['engine']}: batch check failed",
        "",
        "single checks          count   p50 ms   p95 ms   p99 ms   max ms",
    ]
    for label in ("alone", "during"):
        s = result[label]
        lines.append(
            f"{label + (' the batch' if label == 'during' else ''):<20} {s['checks']:>7,} {s['p50']:>8.1f} "
            f"{s['p95']:>8.1f} {s['p99']:>8.1f} {s['max']:>8.1f}"
        )
    if result["p99_ratio"] is not None:
        lines.append(f"p99 during the batch ÷ p99 alone: {result['p99_ratio']:.2f}")
    lines.append(f"errors: {len(result['errors'])}" + "".join(f"\n  {e}" for e in result["errors"][:10]))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--rows", type=int, default=5_000, help="rows of the batch check")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--pace", type=float, default=0.02, help="seconds between single checks")
    parser.add_argument("--alone", type=float, default=10.0, help="seconds of single checks without the batch")
    parser.add_argument("--workdir", type=Path, help="keep the database (SQLite) and server log here")
    parser.add_argument("--json", type=Path, help="write the result here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        with bench_database(args.engine, workdir) as url:
            result = measure(
                url, subjects=args.subjects, rows=args.rows, workdir=workdir, workers=args.workers, pace=args.pace,
                alone=args.alone,
            )  # fmt: skip
    print(table(result))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    sys.exit(1 if result["errors"] else 0)


if __name__ == "__main__":
    main()
