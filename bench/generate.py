"""The bulk generator at its design size, without the database it does not fit in.

    .venv/bin/python bench/generate.py                                          # 10M subjects, 100M records
    .venv/bin/python bench/generate.py --subjects 100000 --records 1000000      # a quick look

100,000,000 records need about 131 GB as a PostgreSQL database (docs/benchmarks.md, "100M records does not fit"), more
than this machine's disk. What can still be measured at that size is the generator: that it produces 10,000,000
subjects and 100,000,000 records, streaming, in reasonable time. So:

1. A scratch PostgreSQL database is prepared exactly as ``xinyong bulk`` prepares one (``xinyong.demo.bulk.prepare``:
   migrate, register the units, build the record templates from the demo generator through ``prepare_row``).
2. ``--jobs`` forked processes each produce their range of subjects with ``copy_blocks``: the very COPY lines a load
   writes. Each counts the lines and their UTF-8 bytes per table, then drops them. Each reports its peak resident
   memory (``ru_maxrss``): constant memory is what "streaming" means here.
3. In the same run, the reference: ``bulk_load`` of ``--reference-records`` records of the same generator into
   PostgreSQL (COPY from as many processes, indexes rebuilt, ``VACUUM ANALYZE``). The ratio of its load stage's
   records/s to the producers' alone is what writing costs. Its bytes per record as built give the size the full
   data set would need.

Prints a Markdown table for docs/benchmarks.md ("Growth", "The generator at 100M records").
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The growth benchmark's database handling, and its build as the reference load (bulk_load, size as built).
from bench.growth import PG, SEED, build, create, drop  # noqa: E402

TABLES = ("subject", "subject_name", "subject_code", "record", "list_entry")


def _produce(data: Any, pool: Any, now: dt.datetime, start: int, stop: int, block: int, done: Any, out: Any) -> None:
    from xinyong.demo.bulk import Dialect, Producer, copy_blocks

    producer = Producer(data, pool, now, Dialect("postgresql"))
    lines = dict.fromkeys(TABLES, 0)
    size = dict.fromkeys(TABLES, 0)
    for block_rows in copy_blocks(producer, start, stop, block):
        for table, _, table_lines in block_rows.tables:
            lines[table] += len(table_lines)
            size[table] += len("".join(table_lines).encode())  # what COPY would send
        with done.get_lock():
            done[0] += block_rows.subjects
            done[1] += block_rows.records
    out.put({"lines": lines, "bytes": size, "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss})


def generate(url: str, subjects: int, records: int, jobs: int, block: int) -> dict[str, Any]:
    from xinyong.core.database import create_db_engine
    from xinyong.core.settings import get_settings
    from xinyong.demo.bulk import DEFAULT_POOL, prepare

    engine = create_db_engine(url)
    started = time.perf_counter()
    data, pool, now = prepare(
        engine=engine,
        subjects=subjects,
        records=records,
        seed=SEED,
        region=get_settings().region,
        pool=DEFAULT_POOL,
        say=lambda message: print(f"  {message}", flush=True),
    )
    engine.dispose()
    prepared = time.perf_counter() - started
    context = mp.get_context("fork")  # the templates are shared with the producers, not pickled
    done = context.Array("q", 2)
    out = context.Queue()
    size = -(-subjects // jobs)
    workers = [
        context.Process(target=_produce, args=(data, pool, now, first, min(subjects, first + size), block, done, out))
        for first in range(0, subjects, size)
    ]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    reports: list[dict[str, Any]] = []
    last_print = started
    while len(reports) < len(workers):
        try:
            reports.append(out.get(timeout=1))
        except Exception:  # queue.Empty: nothing finished yet
            if any(w.exitcode not in (None, 0) for w in workers):
                raise SystemExit(f"a producer failed: exit codes {[w.exitcode for w in workers]}") from None
        if time.perf_counter() - last_print >= 60:
            last_print = time.perf_counter()
            elapsed = last_print - started
            rate = done[1] / elapsed
            print(f"  {elapsed:6.0f} s: {done[0]:,} subjects, {done[1]:,} records ({rate:,.0f}/s)", flush=True)
    seconds = time.perf_counter() - started
    for worker in workers:
        worker.join()
    return {
        "subjects": subjects,
        "records": int(done[1]),
        "jobs": jobs,
        "prepare_seconds": prepared,
        "produce_seconds": seconds,
        "lines": {t: sum(r["lines"][t] for r in reports) for t in TABLES},
        "bytes": {t: sum(r["bytes"][t] for r in reports) for t in TABLES},
        "producer_maxrss_mib": [r["maxrss_kib"] / 1024 for r in reports],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subjects", type=int, default=10_000_000)
    parser.add_argument("--records", type=int, default=100_000_000)
    parser.add_argument("--jobs", type=int, default=2, help="producer processes (and COPY processes of the reference)")
    parser.add_argument("--block", type=int, default=2000, help="subjects per block, as xinyong bulk")
    parser.add_argument("--reference-records", type=int, default=2_000_000, help="0: no reference load")
    args = parser.parse_args()
    url = f"{PG}/bench_generate_scratch"
    create("postgresql", url)
    try:
        print(f"producing {args.subjects:,} subjects / about {args.records:,} records, {args.jobs} processes")
        found = generate(url, args.subjects, args.records, args.jobs, args.block)
    finally:
        drop("postgresql", url)
    ref: dict[str, Any] | None = None
    if args.reference_records:
        url = f"{PG}/bench_generate_reference"
        try:
            ref_subjects = max(1, args.reference_records * args.subjects // args.records)
            print(f"reference: bulk_load of {ref_subjects:,} subjects / {args.reference_records:,} records")
            ref = build("postgresql", url, ref_subjects, args.reference_records, args.jobs)
        finally:
            drop("postgresql", url)
    rate = found["records"] / found["produce_seconds"]
    copy_bytes = sum(found["bytes"].values())
    print()
    print("| measure | value |")
    print("|---|---:|")
    print(f"| subjects produced | {found['lines']['subject']:,} |")
    print(f"| records produced | {found['records']:,} |")
    print(f"| list entries | {found['lines']['list_entry']:,} |")
    print(f"| names / codes | {found['lines']['subject_name']:,} / {found['lines']['subject_code']:,} |")
    print(f"| preparation (migrate, units, templates) | {found['prepare_seconds']:.0f} s |")
    print(f"| production, {found['jobs']} processes | {found['produce_seconds']:,.0f} s ({rate:,.0f} records/s) |")
    print(f"| COPY text produced | {copy_bytes / 1e9:,.1f} GB ({copy_bytes / found['records']:,.0f} B/record) |")
    peak = ", ".join(f"{m:,.0f}" for m in found["producer_maxrss_mib"])
    print(f"| peak memory of each producer | {peak} MiB |")
    if ref is not None:
        load_rate = ref["records"] / ref["seconds"]["load"]
        per_record = ref["size"]["bytes_per_record"]
        print(
            f"| reference load: records, load stage | {ref['records']:,} in {ref['seconds']['load']:.1f} s "
            f"({load_rate:,.0f} records/s) |"
        )
        print(f"| producers alone ÷ producers + COPY | {rate / load_rate:.2f}× |")
        print(f"| reference database as built | {per_record:,.0f} B/record |")
        print(f"| the produced records as a database (estimate) | {per_record * found['records'] / 1e9:,.0f} GB |")
    print(f"\nfree disk now: {os.statvfs('/').f_bavail * os.statvfs('/').f_frsize / 1e9:,.0f} GB")


if __name__ == "__main__":
    main()
