"""The SQL of one credit check: which statements a check sends, and how long each takes, in-process.

    .venv/bin/python bench/check_statements.py --engine postgresql
    .venv/bin/python bench/check_statements.py --engine sqlite --subjects 20000 --checks 2000

Loads ``--subjects`` subjects with the checks benchmark's loader (``bench/checks.py: bulk_load``, 1 % on the 政府采购
list), then sends ``--checks`` checks through the app in this process (FastAPI's TestClient: routing, the API key,
the check, the commit; no HTTP server), one at a time, 1 in 5 of a listed subject, after 200 to warm the caches.
Every statement is timed from SQLAlchemy's ``before_cursor_execute`` to ``after_cursor_execute`` (sending it,
the server's work, reading the answer); the BEGIN, COMMIT and pool ping are not statements here.

Prints each statement (its first words) with how many a check sends and their median time, the statement time per
check, the median of the whole request, and the CPU time the process spent per check (the app, the test client and
the driver; the database server's is not counted). Run it from a worktree of an older commit to compare with that
commit.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.checks import bulk_load, create_database, drop_database, issue_key, uscc_of  # noqa: E402

TODAY = "2026-06-15"
MATTER = "government_procurement"
WARM = 200


def measure(url: str, subjects: int, checks: int) -> dict[str, Any]:
    import sqlalchemy as sa
    from fastapi.testclient import TestClient
    from sqlalchemy import event

    from xinyong.app import create_app
    from xinyong.core.bootstrap import upgrade_database
    from xinyong.core.database import create_db_engine

    engine = create_db_engine(url)
    upgrade_database(engine)
    bulk_load(engine, subjects)
    with engine.connect() as conn:
        listed = list(conn.scalars(sa.text("SELECT s.uscc FROM subject s JOIN list_entry e ON e.subject_id = s.id")))
    key = issue_key(url)
    timings: dict[str, list[float]] = defaultdict(list)
    started: dict[str, Any] = {}
    counting = [False]

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        started["at"], started["what"] = time.perf_counter(), " ".join(statement.split()[:4])[:56]

    def after(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # SQLite's BEGIN DEFERRED / IMMEDIATE is sent as a statement (xinyong/core/database.py); it is a BEGIN here too.
        if counting[0] and not statement.startswith("BEGIN"):
            timings[started["what"]].append(time.perf_counter() - started["at"])

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    rng = random.Random(1)
    requests: list[float] = []
    try:
        with TestClient(create_app(engine)) as client:
            headers = {"Authorization": f"Bearer {key}"}
            for i in range(WARM + checks):
                counting[0] = i >= WARM
                code = rng.choice(listed) if rng.random() < 0.2 else uscc_of(rng.randrange(subjects))
                if i == WARM:
                    cpu_at = time.process_time()
                at = time.perf_counter()
                answer = client.post("/api/v1/checks", json={"code": code, "matter": MATTER}, headers=headers)
                if answer.status_code != 200:
                    raise SystemExit(f"check answered {answer.status_code}: {answer.text[:300]}")
                if counting[0]:
                    requests.append(time.perf_counter() - at)
            cpu = time.process_time() - cpu_at
    finally:
        engine.dispose()
    return {"timings": timings, "requests": requests, "cpu": cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--checks", type=int, default=1000)
    args = parser.parse_args()
    os.environ["XINYONG_TODAY"] = TODAY
    os.environ["XINYONG_RATE_LIMIT_PER_MINUTE"] = "0"
    with tempfile.TemporaryDirectory(prefix="xinyong-stmts-") as tmp:
        url = create_database(args.engine, Path(tmp))
        try:
            found = measure(url, args.subjects, args.checks)
        finally:
            drop_database(url)
    per_check = 0.0
    print(f"{args.engine}, {args.subjects:,} subjects, {args.checks:,} checks (code: {ROOT})")
    print(f"{'statement':58s} {'per check':>9s} {'median ms':>10s}")
    for what, times in found["timings"].items():
        per_check += sum(times) / args.checks
        print(f"{what:58s} {len(times) / args.checks:9.2f} {1000 * statistics.median(times):10.3f}")
    print(f"statements per check: {sum(len(t) for t in found['timings'].values()) / args.checks:.2f}")
    print(f"statement time per check (mean): {1000 * per_check:.3f} ms")
    print(f"whole request (median, in-process): {1000 * statistics.median(found['requests']):.2f} ms")
    print(
        f"CPU per check (this process: app, test client and driver; mean): {1000 * found['cpu'] / args.checks:.2f} ms"
    )


if __name__ == "__main__":
    main()
