"""Name search's candidate statement from a cold cache: with the join to ``subject`` (before migration 0016) and from
the name rows alone (since), on one database built by ``bench/growth.py --keep``, in the same run.

    .venv/bin/python bench/search_cold.py --records 50000000          # database bench_scale_growth_50000000
    .venv/bin/python bench/search_cold.py --records 1000000 --rounds 2 --queries 200

Each round restarts PostgreSQL and drops the OS page cache (``--restart``; needs root), then sends the statement of
one variant for ``--queries`` 4-character fragments of real names (``bench/growth.py``'s sample and fragments), one at
a time on one connection, timed from send to the last row:

- **join**: the candidates (names starting with the fragment, names containing it; at most 201 of each) joined to
  ``subject`` for the current name, kind, region and merge, as the app did before migration 0016;
- **names**: the same candidates with the copies of kind, region and merge their name rows now carry, plus, when some
  subject was found only by a former name, the statement reading those subjects' current names: what the app sends
  now (``xinyong/subjects/search.py: _name_candidates``).

Rounds alternate join, names, names, join, … so that a drift of the machine's speed during the run weighs on both.
Prints p50/p95/p99 per variant over all its rounds, and the page reads (``pg_statio`` blocks read from outside
PostgreSQL's buffers, per query) of each.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.growth import SEED, fragment, sample_subjects  # noqa: E402

RESTART = (
    "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main restart && sync "
    "&& echo 3 > /proc/sys/vm/drop_caches"
)
_STAGES = (
    "SELECT {cols}, 0 AS stage FROM (SELECT * FROM subject_name WHERE name >= %(t)s AND name < %(t)s || chr(1114111) "
    "AND name LIKE %(prefix)s LIMIT 201) AS a "
    "UNION ALL SELECT {cols}, 1 FROM (SELECT * FROM subject_name WHERE name LIKE '%%{f}%%' LIMIT 201) AS b"
)
JOIN = (
    "SELECT c.stage, s.id, s.name, s.kind, s.region, s.merged_into_id FROM ("
    + _STAGES.replace("{cols}", "subject_id, name")
    + ") AS c JOIN subject s ON s.id = c.subject_id"
)
NAMES = _STAGES.replace("{cols}", "subject_id, name, is_current, kind, region, merged")
CURRENT = "SELECT id, name FROM subject WHERE id = ANY(%s)"
BLOCKS_READ = (
    "SELECT coalesce(sum(heap_blks_read + coalesce(idx_blks_read, 0)), 0) FROM pg_statio_user_tables "
    "WHERE relname IN ('subject', 'subject_name')"
)


def _blocks_read(dsn: str) -> int:
    import psycopg

    time.sleep(1)
    with psycopg.connect(dsn, autocommit=True) as conn:
        return int(conn.execute(BLOCKS_READ).fetchone()[0])  # type: ignore[index]


def run(dsn: str, variant: str, fragments: list[str], restart: str) -> tuple[list[float], int]:
    import psycopg

    if restart:
        subprocess.run(restart, shell=True, check=True)
        time.sleep(2)
    before = _blocks_read(dsn)
    times: list[float] = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET jit = off")  # as the app's connections (xinyong/core/database.py)
        for f in fragments:
            escaped = f.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_").replace("'", "''")
            params = {"t": f, "prefix": escaped + "%"}
            started = time.perf_counter()
            if variant == "join":
                conn.execute(JOIN.replace("{f}", escaped), params).fetchall()
            else:
                rows = conn.execute(NAMES.replace("{f}", escaped), params).fetchall()
                current = {r[0] for r in rows if r[2]}
                former_only = sorted({r[0] for r in rows} - current)
                if former_only:
                    conn.execute(CURRENT, (former_only,)).fetchall()
            times.append(time.perf_counter() - started)
    after = _blocks_read(dsn)  # the measuring backend has exited, so its counts are reported
    return times, after - before


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, required=True, help="size of the bench/growth.py database")
    parser.add_argument("--subjects-ratio", type=float, default=10.0)
    parser.add_argument("--queries", type=int, default=300, help="fragments per round")
    parser.add_argument("--rounds", type=int, default=4, help="rounds, alternating join/names/names/join")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--restart", default=RESTART, help="shell command run before each round ('' for none)")
    args = parser.parse_args()
    subjects = max(1, round(args.records / args.subjects_ratio))
    dsn = f"host={args.host} user=postgres dbname=bench_scale_growth_{args.records}"
    order = ["join", "names", "names", "join"] * (args.rounds // 4 + 1)
    found: dict[str, list[float]] = {"join": [], "names": []}
    reads: dict[str, list[int]] = {"join": [], "names": []}
    for n, variant in enumerate(order[: args.rounds]):
        # Other subjects each round: a fragment's pages must not be warm from an earlier round's same query.
        fragments = [fragment(name) for _, name in sample_subjects(subjects, args.queries, seed=SEED + 100 + n)]
        times, blocks = run(dsn, variant, fragments, args.restart)
        found[variant].extend(times)
        reads[variant].append(blocks)
        p50 = 1000 * statistics.median(times)
        print(f"round {n + 1} {variant}: p50 {p50:.1f} ms, {blocks / len(times):.0f} page reads per query", flush=True)
    print(f"\n{args.records:,} records, {args.queries} fragments per round, cold before each round")
    print("| candidates | rounds | p50 (ms) | p95 | p99 | page reads per query |")
    print("|---|---:|---:|---:|---:|---:|")
    for variant, times in found.items():
        if not times:
            continue
        p50, p95, p99 = (1000 * _quantile(times, x) for x in (0.5, 0.95, 0.99))
        per_query = sum(reads[variant]) / len(times)
        print(f"| {variant} | {len(reads[variant])} | {p50:.1f} | {p95:.1f} | {p99:.1f} | {per_query:.0f} |")


if __name__ == "__main__":
    main()
