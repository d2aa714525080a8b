"""What each request costs the server in CPU time, by operation: a measure the machine's speed of the day moves
much less than latency does.

    .venv/bin/python bench/server_cpu.py --engine postgresql
    cd /tmp/old && /work/main/.venv/bin/python /work/main/bench/server_cpu.py --code . --engine postgresql

Prepares a database exactly as the soak does (``bench/soak.py: prepare``: 100,000 subjects by default, 1 % listed,
and ``--records`` history records collected through the pipeline), serves the app with ``uvicorn --workers 1`` (the
soak's ``serve``: one process, so its CPU time is the app's), then sends each operation of the soak's mix
(``Load``'s own request methods, with their checks of the answer) ``--requests`` times, one at a time, after
``--warm`` unmeasured ones. Around each operation it reads the CPU time (user + system) of the server process and of
every PostgreSQL server process on the machine (``psutil``; the machine must be otherwise idle for the second to mean
anything). Prints, per operation, the server's and PostgreSQL's CPU milliseconds per request and the client's
p50 / p99 latency. ``--code DIR`` serves another checkout's code (a worktree of an older commit) with this script.

``--against DIR`` compares two checkouts in one run: both apps are served at once (one worker each) on the same
prepared database, and each operation's requests alternate between them in blocks of ``BLOCK``, the order swapped
every block, so a change in the machine's speed during the run (runs of the same code minutes apart have differed
by 30 %) falls on both alike. Prints each app's CPU per request and their ratio; PostgreSQL's CPU cannot be told
apart between the two and is not printed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
OPERATIONS = ("check", "search_name", "search_html", "search_code", "page_html", "page_json")


def _cpu(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:  # a PostgreSQL backend that ended: its time is lost to both readings alike
            continue
        total += times.user + times.system
    return total


def _postgres() -> list[psutil.Process]:
    return [p for p in psutil.process_iter(["name"]) if p.info["name"] in ("postgres", "postmaster")]


def _server(base: str) -> psutil.Process:
    port = int(base.rsplit(":", 1)[1])
    for process in psutil.Process().children(recursive=True):
        try:
            if any(c.laddr.port == port and c.status == psutil.CONN_LISTEN for c in process.net_connections("tcp")):
                return process
        except psutil.NoSuchProcess:
            continue
    raise SystemExit(f"no server process listens on {port}")


BLOCK = 50  # requests to one app before switching to the other (--against)
Found = dict[str, dict[str, float]]  # operation → measure → value


async def _measure(soak: Any, world: Any, bases: list[str], requests: int, warm: int) -> list[Found]:
    """Per app served at ``bases`` (one, or two to compare), per operation: CPU per request and latency."""
    servers = [_server(base) for base in bases]
    loads = [soak.Load(world, base, duration=0, rate=1.0, seed=1) for base in bases]
    found: list[Found] = [{} for _ in bases]
    async with contextlib.AsyncExitStack() as stack:
        for load in loads:
            await stack.enter_async_context(load.connected())
        for op in OPERATIONS:
            sends = [getattr(load, f"_{op}") for load in loads]
            rngs = [random.Random(op) for _ in loads]  # the same requests to each app
            for send, rng, load in zip(sends, rngs, loads, strict=True):
                for _ in range(warm):
                    await send(rng)
                load.tally.latencies[op].clear()
            postgres = _postgres()
            app, db_before = [0.0 for _ in loads], _cpu(postgres)
            block = BLOCK if len(loads) > 1 else requests
            for turn in range(0, requests, block):
                order = range(len(loads)) if (turn // block) % 2 == 0 else reversed(range(len(loads)))
                for i in order:
                    before = _cpu([servers[i]])
                    for _ in range(min(block, requests - turn)):
                        await sends[i](rngs[i])
                    app[i] += _cpu([servers[i]]) - before
            db = _cpu(postgres) - db_before
            for i, load in enumerate(loads):
                latencies = sorted(load.tally.latencies[op])
                errors = load.tally.errors[op]
                if errors or len(latencies) != requests:
                    raise SystemExit(f"{op}: {errors} errors: {load.tally.samples[:3]}")
                found[i][op] = {
                    "app_cpu_ms": 1000 * app[i] / requests,
                    "p50_ms": 1000 * statistics.median(latencies),
                    "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))],
                }
                if len(loads) == 1:  # with two apps, PostgreSQL's time cannot be told apart between them
                    found[i][op]["postgres_cpu_ms"] = 1000 * db / requests
    return found


def measure(
    url: str, *, subjects: int, records: int, requests: int, warm: int, workdir: Path, against: Path | None = None
) -> list[Found]:
    """Prepare ``url`` (an empty database) as the soak does, serve it with one worker (and ``against``'s app beside
    it), and measure every operation; one dict per app, this checkout's first."""
    import bench.soak as soak

    world = soak.prepare(url, subjects=subjects, records=records, workdir=workdir)
    with contextlib.ExitStack() as stack:
        bases = [stack.enter_context(soak.serve(world, workers=1, log=workdir / "server.log"))]
        if against is not None:
            bases.append(stack.enter_context(soak.serve(world, workers=1, log=workdir / "against.log", root=against)))
        return asyncio.run(_measure(soak, world, bases, requests, warm))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=1000, help="measured requests per operation")
    parser.add_argument("--warm", type=int, default=100, help="unmeasured requests per operation before those")
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout whose app is served")
    parser.add_argument("--against", type=Path, help="another checkout, served beside it and compared in the same run")
    args = parser.parse_args()
    code = args.code.resolve()
    against = args.against.resolve() if args.against else None
    sys.path.insert(0, str(code))  # the soak's helpers and the app both come from the checkout measured
    import bench.soak as soak

    os.environ.setdefault("XINYONG_TODAY", soak.TODAY)
    started = time.strftime("%H:%M:%S")
    with tempfile.TemporaryDirectory(prefix="xinyong-cpu-") as tmp, soak.bench_database(args.engine, Path(tmp)) as url:
        found = measure(
            url,
            subjects=args.subjects,
            records=args.records,
            requests=args.requests,
            warm=args.warm,
            workdir=Path(tmp),
            against=against,
        )
    print(f"{args.engine}, {args.subjects:,} subjects, {args.requests:,} requests each, code {code}, {started}")
    if against is None:
        print(f"{'operation':12s} {'app CPU ms':>10s} {'PG CPU ms':>10s} {'p50 ms':>8s} {'p99 ms':>8s}")
        for op, row in found[0].items():
            cpu = f"{row['app_cpu_ms']:10.2f} {row['postgres_cpu_ms']:10.2f}"
            print(f"{op:12s} {cpu} {row['p50_ms']:8.2f} {row['p99_ms']:8.2f}")
        return
    print(f"against {against}, requests alternating in blocks of {BLOCK}")
    print(f"{'operation':12s} {'app CPU ms':>17s} {'ratio':>6s} {'p50 ms':>15s} {'p99 ms':>15s}")
    for op, row in found[0].items():
        other = found[1][op]
        cpu = f"{row['app_cpu_ms']:7.2f} / {other['app_cpu_ms']:7.2f} {row['app_cpu_ms'] / other['app_cpu_ms']:6.2f}"
        latency = f"{row['p50_ms']:6.2f} / {other['p50_ms']:6.2f} {row['p99_ms']:6.2f} / {other['p99_ms']:6.2f}"
        print(f"{op:12s} {cpu} {latency}")


if __name__ == "__main__":
    main()
