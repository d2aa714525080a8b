"""Soak: a mixed load against the real app for minutes, with zero errors and the stored data intact at the end.

    .venv/bin/python bench/soak.py --engine sqlite --duration 600
    .venv/bin/python bench/soak.py --engine postgresql --duration 600 --json var/bench/soak-postgresql.json

1. Creates a database (a SQLite file in the work directory, or a PostgreSQL database ``bench_soak_<hex>`` dropped at
   the end), runs the migrations and loads the subjects with the checks benchmark's bulk loader
   (``bench/checks.py: bulk_load`` — subjects, their names, 1 % on the 政府采购 list); then collects ``--records``
   penalty rows of a history through the real pipeline (``ingest_file``), so subject pages have records.
2. Registers four source units (one for the history, three live departments) with API keys and a checker key.
   With ``--settle``, then vacuums, analyses and checkpoints the loaded database (``settle``), so the load does not
   meet the aftermath of its own bulk load.
3. Serves the app with ``uvicorn --workers W`` in a subprocess on loopback and runs, in parallel for ``--duration``
   seconds, closed-loop virtual users (each: request, wait for the answer, think for an exponentially distributed
   time) of every kind below — aiohttp on uvloop (``--client httpx``: httpx on asyncio's loop), one keep-alive
   connection pool:

   | operation | request | users | mean think |
   |---|---|---:|---:|
   | search_name | ``GET /api/v1/subjects?q=<4 characters of a name>`` | 3 | 0.5 s |
   | search_html | ``GET /search?q=<4 characters of a name>`` | 1 | 0.5 s |
   | search_code | ``GET /api/v1/subjects?q=<USCC>`` | 2 | 0.5 s |
   | page_html | ``GET /subjects/<USCC>`` | 3 | 0.4 s |
   | page_json | ``GET /api/v1/subjects/<USCC>`` (1 in 10 a subject created by this run's ingestion) | 2 | 0.4 s |
   | check | ``POST /api/v1/checks`` (matter 政府采购, checker key; 1 in 5 codes listed) | 4 | 0.25 s |
   | ingest_new / ingest_bad / ingest_resend | ``POST /api/v1/batches/<resource>``, one user per live unit | 3 | 2 s |

   Each live unit sends, in a fixed cycle, a new batch (20–200 penalty or licence rows, 15 % naming subjects the
   platform does not know yet), a batch with 1–5 bad rows (wrong USCC check character, missing document number,
   impossible date), and a byte-identical re-send of one of its earlier batches. ``--rate`` divides every think time.
4. Counts as an error: a connection error or timeout, any 5xx, any other status than the one expected (200, 201), and
   an answer that is wrong — a code search not finding its subject, a batch whose accepted / duplicate / rejected
   counts differ from what was sent, a bad row not rejected with a Chinese reason naming its row and field.
5. After the load (server stopped): integrity — records stored = rows accepted, no (resource, unit, document number)
   stored twice, no record versions (nothing changed), quarantined rows = rows rejected, batches stored = batches
   answered, checks stored = checks answered, and ``xinyong audit verify`` passes.

Prints a table (p50/p95/p99 per operation, throughput, errors, integrity, the latency targets) and writes JSON.
``--trace FILE`` also writes every request and ten samples a second of the machine as CSV (``write_trace``).
Exits 1 on any error or failed integrity check; missed latency targets are reported, not fatal.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import csv
import datetime as dt
import itertools
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import sqlalchemy as sa
import uvloop

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.checks import bulk_load, name_of, uscc_of  # noqa: E402  (the one bulk loader of subjects)
from xinyong.core.timing import PARTS  # noqa: E402  (the parts of the app's time in its Server-Timing header)
from xinyong.subjects.codes import USCC_ALPHABET, make_uscc  # noqa: E402

TODAY = "2026-06-15"
PG_ADMIN = os.environ.get("XINYONG_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PENALTY, LICENSE = "administrative_penalty", "administrative_license"
MATTER = "government_procurement"
# (code body, name, short name): the first unit holds the history, the others send live batches.
UNITS = [
    ("00500001", "淄博市生态环境局", "环"),
    ("00500002", "淄博市市场监督管理局", "市监"),
    ("00500003", "淄博市应急管理局", "应急"),
    ("00500004", "淄博市住房和城乡建设局", "住建"),
]
# operation → (virtual users, mean think time in seconds)
MIX: dict[str, tuple[int, float]] = {
    "search_name": (3, 0.5),
    "search_html": (1, 0.5),
    "search_code": (2, 0.5),
    "page_html": (3, 0.4),
    "page_json": (2, 0.4),
    "check": (4, 0.25),
    "ingest": (len(UNITS) - 1, 2.0),
}
OPERATIONS = [op for op in MIX if op != "ingest"] + ["ingest_new", "ingest_bad", "ingest_resend"]
# An ingest user's cycle of batch kinds: every kind comes up within the first three batches.
INGEST_CYCLE = ["new", "bad", "resend", "new", "new", "bad", "resend"]
# (operations, statistic, limit in ms): the aims of the portal and checks issues.
TARGETS = [
    (("search_name", "search_html", "search_code"), "p95", 50.0),
    (("page_html", "page_json"), "p95", 30.0),
    (("check",), "p99", 20.0),
]
CJK = re.compile(r"[\u4e00-\u9fff]")
SERVER_TIMING = re.compile(r"\b(\w+);dur=([0-9.]+)")


# --- data ----------------------------------------------------------------------------------------------------------


@dataclass
class Unit:
    uscc: str
    name: str
    short: str
    key: str = ""


@dataclass
class World:
    """What the load needs to know about the prepared database."""

    url: str
    subjects: int
    units: list[Unit]
    checker_key: str
    listed: list[str]
    history_accepted: int
    data_dir: Path


def new_subject(i: int) -> tuple[str, str]:
    """A subject the platform does not know before this run (the same i gives the same code and name)."""
    return make_uscc("9", "1", "370303", f"MN{i:06d}"), f"淄博新设{'甲乙丙丁戊己庚辛壬癸'[i % 10]}商贸{i}号有限公司"


def _day(rng: random.Random) -> str:
    return (dt.date(2026, 6, 1) - dt.timedelta(days=rng.randrange(1, 900))).isoformat()


def penalty_row(unit: Unit, doc_no: str, code: str, name: str, day: str) -> dict[str, str]:
    until = (dt.date.fromisoformat(day) + dt.timedelta(days=365)).isoformat()
    return {
        "CF_XDR_MC": name,
        "CF_XDR_LB": "法人及非法人组织",
        "CF_XDR_SHXYM": code,
        "CF_FRDB": "张三",
        "CF_WSH": doc_no,
        "CF_WFXW": "违反安全生产管理规定",
        "CF_SY": "未按规定开展安全生产教育和培训",
        "CF_YJ": "《中华人民共和国安全生产法》第九十七条",
        "CF_CFLB": "罚款",
        "CF_NR": "罚款人民币贰万元整",
        "CF_NR_FK": "2",
        "CF_JDRQ": day,
        "CF_YXQ": until,
        "CF_CFJG": unit.name,
        "CF_CFJGDM": unit.uscc,
        "CF_SJLY": unit.name,
        "CF_SJLYDM": unit.uscc,
    }


def license_row(unit: Unit, doc_no: str, code: str, name: str, day: str) -> dict[str, str]:
    until = (dt.date.fromisoformat(day) + dt.timedelta(days=5 * 365)).isoformat()
    return {
        "XK_XDR_MC": name,
        "XK_XDR_LB": "法人及非法人组织",
        "XK_XDR_SHXYM": code,
        "XK_FRDB": "张三",
        "XK_XKWS": "准予行政许可决定书",
        "XK_WSH": doc_no,
        "XK_XKLB": "普通",
        "XK_XKZS": "经营许可证",
        "XK_XKBH": doc_no.replace("〔", "-").replace("〕", "-").removesuffix("号"),
        "XK_NR": "准予许可",
        "XK_JDRQ": day,
        "XK_YXQZ": day,
        "XK_YXQZI": until,
        "XK_XKJG": unit.name,
        "XK_XKJGDM": unit.uscc,
        "XK_ZT": "有效",
        "XK_LYDW": unit.name,
        "XK_LYDWDM": unit.uscc,
    }


# field of each resource broken by each kind of bad row
_BAD_FIELDS = {
    PENALTY: {"code": "CF_XDR_SHXYM", "doc": "CF_WSH", "date": "CF_JDRQ"},
    LICENSE: {"code": "XK_XDR_SHXYM", "doc": "XK_WSH", "date": "XK_JDRQ"},
}


def spoil(row: dict[str, str], resource: str, how: str) -> str:
    """Make ``row`` invalid in one field; returns the field the rejection must name."""
    fld = _BAD_FIELDS[resource][how]
    if how == "code":
        code = row[fld]
        wrong = USCC_ALPHABET[(USCC_ALPHABET.index(code[-1]) + 1) % len(USCC_ALPHABET)]
        row[fld] = code[:-1] + wrong
    elif how == "doc":
        del row[fld]
    else:
        row[fld] = "2025-13-45"
    return fld


def _create_pg(label: str) -> str:
    name = f"bench_soak_{label}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(
            sa.text(
                f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
            )
        )
    admin.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def _drop_pg(url: str) -> None:
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)"))
    admin.dispose()


@contextmanager
def bench_database(engine_kind: str, workdir: Path) -> Iterator[str]:
    if engine_kind == "sqlite":
        path = workdir / "soak.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        yield f"sqlite:///{path}"
        return
    url = _create_pg("run")
    try:
        yield url
    finally:
        _drop_pg(url)


def prepare(url: str, *, subjects: int, records: int, workdir: Path) -> World:
    """Migrate, load the subjects, register the units and keys, collect the history (into an empty database)."""
    from xinyong.accounts import service as accounts
    from xinyong.accounts.models import Role
    from xinyong.audit.service import Actor
    from xinyong.catalog import service as catalog
    from xinyong.core.bootstrap import upgrade_database
    from xinyong.core.database import create_db_engine, session_scope
    from xinyong.ingest.pipeline import ingest_file

    engine = create_db_engine(url)
    try:
        upgrade_database(engine)
        bulk_load(engine, subjects)
        units = [Unit(make_uscc("1", "1", "370300", body), name, short) for body, name, short in UNITS]
        with session_scope(engine, write=True) as session:
            for unit in units:
                row = catalog.register_unit(
                    session=session, uscc=unit.uscc, name=unit.name, region="370300", resources=[PENALTY, LICENSE],
                    short_name=f"淄{unit.short}",
                )  # fmt: skip
                unit.key = accounts.create_api_key(
                    session=session, actor=Actor.cli(), role=Role.SOURCE_UNIT, unit=row, label="soak"
                ).key
            checker_key = accounts.create_api_key(
                session=session, actor=Actor.cli(), role=Role.CHECKER, label="soak"
            ).key
        history_accepted = 0
        if records:
            rng = random.Random(5)
            history = units[0]
            rows = []
            for i in range(records):
                n = rng.randrange(subjects)
                rows.append(
                    penalty_row(history, f"淄{history.short}罚〔2025〕H{i}号", uscc_of(n), name_of(n), _day(rng))
                )
            path = workdir / "history.json"
            path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
            summary = ingest_file(
                engine=engine, path=path, resource=PENALTY, unit_uscc=history.uscc, actor=Actor.cli(),
                rejects_dir=workdir, filename="history.json",
            )  # fmt: skip
            if summary.accepted != records:
                raise SystemExit(f"history: {summary.accepted} of {records} rows accepted")
            history_accepted = summary.accepted
        with engine.connect() as conn:
            listed = list(
                conn.execute(sa.text("SELECT s.uscc FROM subject s JOIN list_entry e ON e.subject_id = s.id")).scalars()
            )
    finally:
        engine.dispose()
    return World(url, subjects, units, checker_key, listed, history_accepted, workdir / "data")


def settle(url: str) -> str:
    """Bring the freshly loaded database to the state a deployment's data is in, before the load: on PostgreSQL
    ``VACUUM (ANALYZE)`` (hint bits, visibility map, statistics) and a ``CHECKPOINT`` (the loaded data written out
    now); on SQLite ``ANALYZE`` and a WAL checkpoint into the database file. Without it the load may meet the first
    reads setting the loaded rows' hint bits, autovacuum's first pass and a checkpoint writing the load out; which of
    these matters is not established (docs/benchmarks.md, "Soak", session 14). Returns what was done."""
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                conn.exec_driver_sql("VACUUM (ANALYZE)")
                conn.exec_driver_sql("CHECKPOINT")
                return "VACUUM (ANALYZE), CHECKPOINT"
            conn.exec_driver_sql("ANALYZE")
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            return "ANALYZE, PRAGMA wal_checkpoint(TRUNCATE)"
    finally:
        engine.dispose()


class Machine:
    """Samples the machine ten times a second while the load runs (``--trace``): the cores' time by kind
    (``/proc/stat``) and the time tasks stalled waiting for a core or for I/O (``/proc/pressure``, where the kernel
    has it). Lined up with the requests on the wall clock, it says whether a slow request met a busy machine, a
    stalled disk or neither. Linux only; elsewhere it records nothing."""

    COLUMNS = ("at", "busy_pct", "iowait_pct", "steal_pct", "cpu_stall_ms", "io_stall_ms", "io_full_stall_ms")

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.rows: list[tuple[float, ...]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="soak-machine", daemon=True)

    @staticmethod
    def _read() -> tuple[float, list[int], list[int]] | None:
        try:
            cpu = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
            stalls = []
            for name in ("cpu", "io"):
                lines = Path(f"/proc/pressure/{name}").read_text().splitlines()
                totals = {line.split()[0]: int(line.rsplit("total=", 1)[1]) for line in lines}
                stalls += [totals["some"]] + ([totals["full"]] if name == "io" else [])
        except (OSError, ValueError, KeyError, IndexError):
            return None
        return time.time(), cpu, stalls

    def _run(self) -> None:
        last = self._read()
        while last is not None and not self._stop.wait(self.interval):
            now = self._read()
            if now is None:
                return
            # user, nice, system, idle, iowait, irq, softirq, steal (ticks of 10 ms, summed over the cores)
            cpu = [b - a for a, b in zip(last[1], now[1], strict=True)]
            ticks = max(1, sum(cpu))
            stalls = [(b - a) / 1000 for a, b in zip(last[2], now[2], strict=True)]  # µs → ms
            busy = ticks - cpu[3] - cpu[4]
            self.rows.append((now[0], *(100 * v / ticks for v in (busy, cpu[4], cpu[7])), *stalls))
            last = now

    def __enter__(self) -> Machine:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


TRACE_COLUMNS = ("operation", "sent_at", "latency_ms", "app_ms", "db_ms", "commit_ms", "lock_ms")


def write_trace(path: Path, tally: Tally, machine: Machine) -> Path:
    """Every answered request to ``path`` and the machine's samples beside it (``<stem>.machine.csv``), as CSV on
    one wall clock; returns the machine file's path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(TRACE_COLUMNS)
        for op, at, *seconds in sorted(tally.trace, key=lambda row: row[1]):
            writer.writerow([op, f"{at:.4f}", *(f"{1000 * v:.2f}" for v in seconds)])
    samples = path.with_name(f"{path.stem}.machine.csv")
    with samples.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(Machine.COLUMNS)
        writer.writerows([f"{row[0]:.4f}", *(f"{v:.1f}" for v in row[1:])] for row in machine.rows)
    return samples


# --- server --------------------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _gc_log(server_log: Path) -> Path:
    directory = server_log.parent / "gc"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def gc_pauses(server_log: Path, start: float, end: float, workers: int = 2) -> dict[str, dict[str, float]]:
    """The server processes' garbage-collector pauses between ``start`` and ``end`` (epoch seconds), from
    bench/gcwatch: per kind of process, the full collections (count, longest, total ms) and the longest pause.

    The kind comes from the process tree: uvicorn's master is this process's child, the web workers are the master's
    children and the collection processes are the workers' children. With one worker, uvicorn's master serves."""
    logs = {int(path.stem): path.read_text().splitlines() for path in _gc_log(server_log).glob("*.log")}
    parent = {pid: int(lines[0].split()[1]) for pid, lines in logs.items() if lines and lines[0].startswith("#")}
    masters = {pid for pid, ppid in parent.items() if ppid == os.getpid()}
    serving = masters if workers == 1 else {pid for pid, ppid in parent.items() if ppid in masters}
    found: dict[str, dict[str, float]] = {}
    for pid, lines in logs.items():
        if pid not in parent or lines[0].split(maxsplit=2)[2:] == ["-c"]:
            continue  # multiprocessing's resource tracker (``python -c``), which serves nothing
        kind = "web" if pid in serving else "master" if pid in masters else "collection"
        into = found.setdefault(kind, {"full": 0, "full_max_ms": 0.0, "full_total_ms": 0.0, "max_ms": 0.0})
        for line in lines[1:]:
            at, generation, ms = line.split()
            if not start <= float(at) <= end:
                continue
            into["max_ms"] = max(into["max_ms"], float(ms))
            if generation == "2":
                into["full"] += 1
                into["full_max_ms"] = max(into["full_max_ms"], float(ms))
                into["full_total_ms"] += float(ms)
    return found


@contextmanager
def serve(world: World, *, workers: int, log: Path, root: Path = ROOT) -> Iterator[str]:
    """The app of checkout ``root`` (this one by default) under uvicorn in a subprocess on a loopback port; yields the
    base URL."""
    port = _free_port()
    env = {
        **os.environ,
        "XINYONG_DATABASE_URL": world.url,
        "XINYONG_TODAY": os.environ.get("XINYONG_TODAY", TODAY),
        "XINYONG_DATA_DIR": str(world.data_dir),
        "XINYONG_RATE_LIMIT_PER_MINUTE": "0",  # one client address makes all the requests
        "XINYONG_SERVER_TIMING": "1",  # the app's own share of each latency (xinyong/web/timing.py)
        "XINYONG_LOG_LEVEL": "WARNING",
        # bench/gcwatch/sitecustomize.py: every server process logs its garbage collector's pauses (gc_pauses).
        "PYTHONPATH": os.pathsep.join([str(root), str(root / "bench" / "gcwatch")]),
        "XINYONG_BENCH_GC_LOG": str(_gc_log(log)),
    }
    cmd = [sys.executable, "-m", "uvicorn", "--factory", "xinyong.app:create_app", "--host", "127.0.0.1",
           "--port", str(port), "--workers", str(workers), "--log-level", "info", "--no-access-log"]  # fmt: skip
    with log.open("wb") as out:
        # cwd=root: ``python -m`` puts the working directory first on sys.path, ahead of PYTHONPATH, so a soak of one
        # checkout started from another's directory served the other's code (it happened, session 8).
        server = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=root)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90
            while True:
                if server.poll() is not None:
                    raise RuntimeError(f"server exited with {server.returncode}: {log.read_text()[-2000:]}")
                try:
                    # Every worker started, not only the first: a worker still importing competes for the cores
                    # (and collects its start-up garbage, 100 ms pauses) while the load runs. uvicorn says so at
                    # info level, once per worker; with the access log off that is all it says.
                    started = log.read_text(errors="replace").count("Application startup complete")
                    if started >= workers and httpx.get(f"{base}/rules", timeout=5).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("server did not start within 90 s")
                time.sleep(0.3)
            yield base
        finally:
            server.terminate()
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


# --- load ----------------------------------------------------------------------------------------------------------


@dataclass
class Sent:
    """A batch as sent, with the answer it must get."""

    resource: str
    body: bytes
    good: int
    bad: dict[int, str]  # row number → field named in the rejection


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: {op: [] for op in OPERATIONS})
    # What the app itself took (its Server-Timing header): the rest of a latency is loopback and the load generator,
    # which shares the machine's cores with the server.
    server: dict[str, list[float]] = field(default_factory=lambda: {op: [] for op in OPERATIONS})
    # (start, end) on the client's clock of each answered request: which ones ran while a batch was being collected.
    spans: dict[str, list[tuple[float, float]]] = field(default_factory=lambda: {op: [] for op in OPERATIONS})
    errors: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OPERATIONS, 0))
    samples: list[str] = field(default_factory=list)
    batches: int = 0
    rows_sent: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    checks_ok: int = 0
    created_codes: list[str] = field(default_factory=list)
    began: float = 0.0  # the load's start on the clock of ``spans``
    began_wall: float = 0.0  # the same moment on the wall clock (``time.time``), the clock of ``--trace``
    # (operation, sent at on the wall clock, latency, app, db, commit, lock) of each answered request, in seconds:
    # what the slowest ones spent their time on (``parts``), and what ``--trace`` writes.
    trace: list[tuple[str, float, float, float, float, float, float]] = field(default_factory=list)

    def parts(self, op: str) -> list[tuple[float, ...]]:
        """(latency, app, db, commit, lock) of each answered request of ``op``."""
        return [row[2:] for row in self.trace if row[0] == op]

    def error(self, op: str, what: str) -> None:
        self.errors[op] += 1
        if len(self.samples) < 50:
            self.samples.append(f"{op}: {what}")


@dataclass
class Answer:
    """A response, read whole (the latency of a request includes reading its body), whichever client sent it."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode()

    def json(self) -> Any:
        return json.loads(self.content)


# The load generator's HTTP client. It shares the two cores with the server, and the time it spends on a response
# (parsing it, or waiting for its event loop) is counted in that request's latency: aiohttp on uvloop costs it
# less CPU per request than httpx on asyncio's loop (docs/benchmarks.md, "Soak", session 12).
CLIENTS = ("aiohttp", "httpx")
CLIENT_ERRORS = (httpx.HTTPError, aiohttp.ClientError, asyncio.TimeoutError)


class Load:
    def __init__(
        self, world: World, base: str, duration: float, rate: float, seed: int, client: str = CLIENTS[0]
    ) -> None:
        self.world, self.base, self.duration, self.rate = world, base, duration, rate
        self.tally = Tally()
        self.seed = seed
        self.doc_seq = 0
        self.client = client

    @asynccontextmanager
    async def connected(self) -> AsyncIterator[None]:
        """One keep-alive pool of up to 64 connections for the requests sent inside.

        An idle connection is dropped by the client after 2 s, before uvicorn's 5-second keep-alive timeout closes
        it, so a request is never written into a connection the server is closing at that moment (an error that says
        nothing about the app; a browser or proxy does the same)."""
        if self.client == "httpx":
            limits = httpx.Limits(max_connections=64, max_keepalive_connections=64, keepalive_expiry=2.0)
            async with httpx.AsyncClient(base_url=self.base, timeout=60.0, limits=limits) as client:

                async def send_httpx(method: str, url: str, **kw: Any) -> Answer:
                    r = await client.request(method, url, **kw)
                    return Answer(r.status_code, r.headers, r.content)

                self._send = send_httpx
                yield
            return
        connector = aiohttp.TCPConnector(limit=64, keepalive_timeout=2.0)
        timeout = aiohttp.ClientTimeout(total=60.0)
        async with aiohttp.ClientSession(self.base, connector=connector, timeout=timeout) as session:

            async def send_aiohttp(method: str, url: str, **kw: Any) -> Answer:
                if "content" in kw:
                    kw["data"] = kw.pop("content")
                async with session.request(method, url, **kw) as r:
                    return Answer(r.status, r.headers, await r.read())

            self._send = send_aiohttp
            yield

    def run(self) -> Tally:
        """The load, on uvloop with aiohttp (asyncio's own loop with httpx)."""
        loop_factory = uvloop.new_event_loop if self.client == "aiohttp" else None
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            return runner.run(self._run())

    async def _run(self) -> Tally:
        async with self.connected():
            self.deadline = time.monotonic() + self.duration
            self.tally.began, self.tally.began_wall = time.perf_counter(), time.time()
            users = []
            for op, (count, think) in MIX.items():
                for k in range(count):
                    rng = random.Random(f"{self.seed}-{op}-{k}")
                    users.append(self._user(op, k, think / self.rate, rng))
            await asyncio.gather(*users)
        return self.tally

    async def _user(self, op: str, k: int, think: float, rng: random.Random) -> None:
        sent: list[Sent] = []
        turn = 0
        # Users start spread over their first think time rather than all at once.
        await asyncio.sleep(rng.uniform(0, think))
        while time.monotonic() < self.deadline:
            try:
                if op == "ingest":
                    await self._ingest(self.world.units[1 + k], INGEST_CYCLE[turn % len(INGEST_CYCLE)], sent, rng)
                    turn += 1
                else:
                    await getattr(self, f"_{op}")(rng)
            except Exception as exc:  # an answer that is not what it should be (e.g. not JSON) is an error too
                self.tally.error(op if op != "ingest" else "ingest_new", f"{type(exc).__name__}: {exc}")
            await asyncio.sleep(rng.expovariate(1 / think))

    async def _request(self, op: str, method: str, url: str, **kw: Any) -> Answer | None:
        started = time.perf_counter()
        try:
            response = await self._send(method, url, **kw)
        except CLIENT_ERRORS as exc:
            self.tally.error(op, f"{method} {url}: {type(exc).__name__} {exc}")
            return None
        elapsed = time.perf_counter() - started
        expected = 201 if method == "POST" and "/batches/" in url else 200
        if response.status_code != expected:
            self.tally.error(op, f"{method} {url}: HTTP {response.status_code} {response.text[:300]}")
            return None
        self.tally.latencies[op].append(elapsed)
        self.tally.spans[op].append((started, started + elapsed))
        header = response.headers.get("server-timing", "")
        timing = {name: float(ms) / 1000 for name, ms in SERVER_TIMING.findall(header)}
        if "app" in timing:
            self.tally.server[op].append(timing["app"])
            db, commit, lock = (timing.get(part, 0.0) for part in PARTS)
            sent_at = started - self.tally.began + self.tally.began_wall
            self.tally.trace.append((op, sent_at, elapsed, timing["app"], db, commit, lock))
        return response

    def _subject(self, rng: random.Random) -> tuple[str, str]:
        n = rng.randrange(self.world.subjects)
        return uscc_of(n), name_of(n)

    async def _search_name(self, rng: random.Random) -> None:
        _, name = self._subject(rng)
        fragment = name[2:6]  # three words and a digit of the middle of a name, as people type a fragment
        r = await self._request("search_name", "GET", "/api/v1/subjects", params={"q": fragment})
        if r is not None and r.json()["total"] < 1:
            self.tally.error("search_name", f"{fragment}: nothing found")

    async def _search_html(self, rng: random.Random) -> None:
        _, name = self._subject(rng)
        r = await self._request("search_html", "GET", "/search", params={"q": name[2:6]})
        if r is not None and 'href="/subjects/' not in r.text:  # the fragment of a real name finds something
            self.tally.error("search_html", f"{name[2:6]}: no result on the page")

    async def _search_code(self, rng: random.Random) -> None:
        code, _ = self._subject(rng)
        r = await self._request("search_code", "GET", "/api/v1/subjects", params={"q": code})
        if r is not None and code not in [item["code"] for item in r.json()["items"]]:
            self.tally.error("search_code", f"{code}: not found")

    async def _page_html(self, rng: random.Random) -> None:
        code, name = self._subject(rng)
        r = await self._request("page_html", "GET", f"/subjects/{code}", headers={"Accept": "text/html"})
        if r is not None and name not in r.text:
            self.tally.error("page_html", f"{code}: name not on the page")

    async def _page_json(self, rng: random.Random) -> None:
        created = self.tally.created_codes
        code = rng.choice(created) if created and rng.random() < 0.1 else self._subject(rng)[0]
        r = await self._request("page_json", "GET", f"/api/v1/subjects/{code}")
        if r is not None and r.json()["code"] != code:
            self.tally.error("page_json", f"{code}: answered {r.json()['code']}")

    async def _check(self, rng: random.Random) -> None:
        listed = self.world.listed
        code = rng.choice(listed) if listed and rng.random() < 0.2 else self._subject(rng)[0]
        r = await self._request(
            "check", "POST", "/api/v1/checks", json={"code": code, "matter": MATTER},
            headers={"Authorization": f"Bearer {self.world.checker_key}"},
        )  # fmt: skip
        if r is not None:
            self.tally.checks_ok += 1

    def _new_batch(self, unit: Unit, bad: int, rng: random.Random) -> Sent:
        resource = PENALTY if rng.random() < 0.7 else LICENSE
        build, letter = (penalty_row, "罚") if resource == PENALTY else (license_row, "许")
        rows = []
        for _ in range(rng.randint(20, 200)):
            self.doc_seq += 1
            if rng.random() < 0.15:
                code, name = new_subject(rng.randrange(50_000))
            else:
                code, name = self._subject(rng)
            doc_no = f"淄{unit.short}{letter}〔2026〕S{self.seed}-{self.doc_seq}号"
            rows.append(build(unit, doc_no, code, name, _day(rng)))
        broken: dict[int, str] = {}
        for index in rng.sample(range(len(rows)), bad):
            broken[index + 1] = spoil(rows[index], resource, rng.choice(["code", "doc", "date"]))
        body = json.dumps(rows, ensure_ascii=False).encode()
        return Sent(resource, body, len(rows) - bad, broken)

    async def _ingest(self, unit: Unit, kind: str, sent: list[Sent], rng: random.Random) -> None:
        if kind == "resend" and sent:
            batch, op = rng.choice(sent), "ingest_resend"
        else:
            kind = "bad" if kind == "bad" else "new"
            batch, op = self._new_batch(unit, rng.randint(1, 5) if kind == "bad" else 0, rng), f"ingest_{kind}"
        r = await self._request(
            op, "POST", f"/api/v1/batches/{batch.resource}", content=batch.body,
            headers={"Authorization": f"Bearer {unit.key}", "Content-Type": "application/json"},
        )  # fmt: skip
        if r is None:
            return
        body = r.json()
        t = self.tally
        t.batches += 1
        t.rows_sent += batch.good + len(batch.bad)
        t.accepted += body["accepted"]
        t.duplicates += body["duplicates"]
        t.rejected += body["rejected"]
        fresh = op != "ingest_resend"
        want = (batch.good + len(batch.bad), batch.good if fresh else 0, 0 if fresh else batch.good, len(batch.bad))
        got = (body["received"], body["accepted"], body["duplicates"], body["rejected"])
        if got != want or body["state"] != "completed":
            t.error(op, f"batch {body['batch_id']}: (received, accepted, duplicates, rejected) {got}, expected {want}")
        rejects = {item["row_no"]: item["reasons"] for item in body["rejects"]}
        if set(rejects) != set(batch.bad):
            t.error(op, f"batch {body['batch_id']}: rejected rows {sorted(rejects)}, expected {sorted(batch.bad)}")
        for row_no, fld in batch.bad.items():
            reasons = rejects.get(row_no, [])
            prefix = f"第 {row_no} 行"
            if not any(r.startswith(prefix) and fld in r and CJK.search(r.removeprefix(prefix)) for r in reasons):
                t.error(op, f"batch {body['batch_id']} row {row_no}: no Chinese reason naming {fld}: {reasons}")
        if fresh:
            # A few subjects of this batch for the page readers: new ones must be visible at once.
            code_field = "CF_XDR_SHXYM" if batch.resource == PENALTY else "XK_XDR_SHXYM"
            rows = json.loads(batch.body)
            t.created_codes.extend(rows[i][code_field] for i in range(min(3, len(rows))) if i + 1 not in batch.bad)
            sent.append(batch)


# --- after the load ------------------------------------------------------------------------------------------------


def integrity(world: World, tally: Tally) -> dict[str, dict[str, Any]]:
    """The stored state against what the load was told; each entry {ok, detail}."""
    from xinyong.core.database import create_db_engine

    engine = create_db_engine(world.url)
    live = [u.uscc for u in world.units[1:]]
    q = {
        "records": "SELECT count(*) FROM record",
        "duplicate_keys": "SELECT count(*) FROM (SELECT resource_id, source_unit_id, doc_no FROM record "
        "GROUP BY resource_id, source_unit_id, doc_no HAVING count(*) > 1) d",
        "versions": "SELECT count(*) FROM record_version",
        "quarantined": "SELECT count(*) FROM quarantined_row q JOIN batch b ON b.id = q.batch_id "
        "JOIN source_unit u ON u.id = b.source_unit_id WHERE u.uscc IN :live",
        "batches": "SELECT count(*), coalesce(sum(b.accepted), 0), coalesce(sum(b.duplicates), 0), "
        "coalesce(sum(b.rejected), 0), coalesce(sum(CASE WHEN b.state = 'completed' THEN 0 ELSE 1 END), 0) "
        "FROM batch b JOIN source_unit u ON u.id = b.source_unit_id WHERE u.uscc IN :live",
        "checks": "SELECT count(*) FROM credit_check",
    }
    with engine.connect() as conn:
        got = {}
        for name, sql in q.items():
            stmt = sa.text(sql)
            if ":live" in sql:
                stmt = stmt.bindparams(sa.bindparam("live", expanding=True))
            got[name] = tuple(conn.execute(stmt, {"live": live} if ":live" in sql else {}).one())
    engine.dispose()
    expected_records = world.history_accepted + tally.accepted
    batches = got["batches"]
    verify = subprocess.run(
        [sys.executable, "-m", "xinyong", "audit", "verify"],
        env={**os.environ, "XINYONG_DATABASE_URL": world.url, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    out = (verify.stdout + verify.stderr).strip()
    return {
        "records_equal_accepted": {
            "ok": got["records"][0] == expected_records,
            "detail": f"{got['records'][0]} stored, {world.history_accepted} history + {tally.accepted} accepted",
        },
        "no_duplicate_records": {
            "ok": got["duplicate_keys"][0] == 0,
            "detail": f"{got['duplicate_keys'][0]} (resource, unit, doc_no) stored more than once",
        },
        "no_record_versions": {
            "ok": got["versions"][0] == 0,
            "detail": f"{got['versions'][0]} versions (re-sends are byte-identical: expect 0)",
        },
        "quarantine_equals_rejected": {
            "ok": got["quarantined"][0] == tally.rejected,
            "detail": f"{got['quarantined'][0]} quarantined, {tally.rejected} rejected",
        },
        "batches_equal_answers": {
            "ok": batches == (tally.batches, tally.accepted, tally.duplicates, tally.rejected, 0),
            "detail": f"stored (batches, accepted, duplicates, rejected, not completed) {batches}; answered "
            f"{(tally.batches, tally.accepted, tally.duplicates, tally.rejected, 0)}",
        },
        "checks_equal_answers": {
            "ok": got["checks"][0] == tally.checks_ok,
            "detail": f"{got['checks'][0]} stored, {tally.checks_ok} answered",
        },
        "audit_verify": {"ok": verify.returncode == 0, "detail": out.splitlines()[-1] if out else ""},
    }


def _pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000


def _tail(parts: list[tuple[float, ...]], low: float, high: float) -> dict[str, float]:
    """Where the requests ranked from percentile ``low`` to ``high`` by the client's latency spent it, in mean
    milliseconds: outside the app (loopback, the server's event loop and the load generator, which share the cores),
    and inside it the wait for SQLite's write lock, the database's statements, the commit, and the rest (Python, and
    waiting for a core). From 98.5 to 99.5 these are the requests that set the p99; from 99 to 100, the slowest 1 %."""
    ranked = sorted(parts)
    first = int(len(ranked) * low / 100)
    band = ranked[first : max(first + 1, int(len(ranked) * high / 100))]
    if not band:
        return {}
    latency, app, db, commit, lock = (sum(column) / len(band) * 1000 for column in zip(*band, strict=True))
    return {
        "requests": len(band), "latency": latency, "outside_app": latency - app, "lock": lock, "db": db,
        "commit": commit, "rest_of_app": app - db - commit - lock,
    }  # fmt: skip


def _beside_batches(spans: list[tuple[float, float]], batches: list[tuple[float, float]]) -> dict[str, Any]:
    """Latency of the requests that overlapped a batch being collected (a POST to the batch API in flight) against
    those that did not: whether a tail is the cores shared with collection."""
    batches = sorted(batches)
    starts = [start for start, _ in batches]
    ends = list(itertools.accumulate((end for _, end in batches), max))  # latest end among batches begun so far
    during, apart = [], []
    for start, end in spans:
        i = bisect.bisect_left(starts, end)  # batches that began before this request ended
        (during if i and ends[i - 1] > start else apart).append(end - start)
    return {
        name: {"requests": len(group), "p50_ms": _pct(group, 50), "p99_ms": _pct(group, 99)}
        for name, group in (("during_batches", during), ("apart", apart))
    }


def _slowest_over_time(tally: Tally, seconds: float, share: float = 0.01, parts: int = 10) -> dict[str, Any]:
    """When the slowest ``share`` of the searches, pages and checks (batches left out) were sent, counted by tenth of
    the run: a tail spread evenly is the load; one bunched in a tenth is an event (a process starting, a checkpoint)."""
    sent = sorted(
        (
            (end - start, start - tally.began)
            for op in OPERATIONS
            if not op.startswith("ingest")
            for start, end in tally.spans[op]
        ),
        reverse=True,
    )
    slowest = sent[: max(1, int(len(sent) * share))] if sent else []
    counts = [0] * parts
    for _, at in slowest:
        counts[min(parts - 1, max(0, int(at / seconds * parts)))] += 1
    return {"requests": len(slowest), "from_ms": slowest[-1][0] * 1000 if slowest else float("nan"), "by_tenth": counts}


# (key in the report, percentile band, label in the table)
TAIL_BANDS = [("around_p99", 98.5, 99.5, "p98.5–p99.5"), ("slowest_1pct", 99.0, 100.0, "slowest 1 %")]


def report(world: World, tally: Tally, checks: dict[str, dict[str, Any]], seconds: float) -> dict[str, Any]:
    ops: dict[str, dict[str, Any]] = {}
    batch_spans = [span for op in OPERATIONS if op.startswith("ingest") for span in tally.spans[op]]
    for op in OPERATIONS:
        lat = tally.latencies[op]
        ops[op] = {
            "requests": len(lat) + tally.errors[op],
            "errors": tally.errors[op],
            "per_s": len(lat) / seconds,
            "p50_ms": _pct(lat, 50),
            "p95_ms": _pct(lat, 95),
            "p99_ms": _pct(lat, 99),
            "max_ms": max(lat) * 1000 if lat else float("nan"),
            "server_p50_ms": _pct(tally.server[op], 50),
            "server_p95_ms": _pct(tally.server[op], 95),
            "server_p99_ms": _pct(tally.server[op], 99),
            **{key: _tail(tally.parts(op), low, high) for key, low, high, _ in TAIL_BANDS},
            "beside_batches": _beside_batches(tally.spans[op], batch_spans),
        }
    targets = []
    for names, stat, limit in TARGETS:
        for op in names:
            value = ops[op][f"{stat}_ms"]
            targets.append({"operation": op, "statistic": stat, "limit_ms": limit, "ms": value, "met": value <= limit})
    total = sum(o["requests"] for o in ops.values())
    errors = sum(tally.errors.values())
    return {
        "engine": sa.make_url(world.url).get_backend_name(),
        "seconds": seconds,
        "subjects": world.subjects,
        "history_records": world.history_accepted,
        "requests": total,
        "errors": errors,
        "per_s": (total - errors) / seconds,
        "operations": ops,
        "ingest": {
            "batches": tally.batches,
            "rows_sent": tally.rows_sent,
            "accepted": tally.accepted,
            "duplicates": tally.duplicates,
            "rejected": tally.rejected,
        },
        "slowest_over_time": _slowest_over_time(tally, seconds),
        "integrity": checks,
        "targets": targets,
        "error_samples": tally.samples,
        "ok": errors == 0 and all(c["ok"] for c in checks.values()) and all(o["requests"] for o in ops.values()),
    }


def _loads(result: dict[str, Any]) -> str:
    la = result.get("load_average")
    if not la:
        return "?"
    return f"{la['before'][0]:.1f} before, {la['after'][0]:.1f} / {la['after'][1]:.1f} / {la['after'][2]:.1f} after"


def table(result: dict[str, Any]) -> str:
    lines = [
        f"{result['engine']}: {result['seconds']:.0f} s, {result['requests']:,} requests "
        f"({result['per_s']:.1f}/s), {result['errors']} errors; {result['subjects']:,} subjects, "
        f"{result['history_records']:,} history records; uvicorn --workers {result.get('server_workers', '?')}; "
        f"load average {_loads(result)}"
        + (
            f"; load generator: {g['client']}, {g['cpu_ms_per_request']:.2f} ms CPU per request"
            if (g := result.get("load_generator"))
            else ""
        ),
        "",
        f"{'operation':16} {'requests':>9} {'errors':>7} {'per s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'max ms':>8}   server p50 / p95 / p99",
    ]
    for op, s in result["operations"].items():
        server = "/".join(f"{s.get(f'server_{p}_ms', float('nan')):5.1f}" for p in ("p50", "p95", "p99"))
        lines.append(
            f"{op:16} {s['requests']:9,} {s['errors']:7} {s['per_s']:7.2f} {s['p50_ms']:8.1f} {s['p95_ms']:8.1f} "
            f"{s['p99_ms']:8.1f} {s['max_ms']:8.1f}   {server}"
        )
    lines += ["", "where the time went (mean ms): latency = outside the app + lock + statements + commit + rest"]
    for op, s in result["operations"].items():
        for key, _, _, label in TAIL_BANDS:
            if t := s.get(key):
                lines.append(
                    f"  {op:16} {label:12} {t['latency']:6.1f} = {t['outside_app']:5.1f} + {t['lock']:5.1f} + "
                    f"{t['db']:5.1f} + {t['commit']:5.1f} + {t['rest_of_app']:5.1f}   ({t['requests']} requests)"
                )
    lines += ["", "while a batch was being collected / apart: requests, p50, p99 (ms)"]
    for op, s in result["operations"].items():
        if not op.startswith("ingest") and (b := s.get("beside_batches")):
            d, a = b["during_batches"], b["apart"]
            lines.append(
                f"  {op:16} {d['requests']:6,} {d['p50_ms']:6.1f} {d['p99_ms']:6.1f}   /  "
                f"{a['requests']:6,} {a['p50_ms']:6.1f} {a['p99_ms']:6.1f}"
            )
    if slow := result.get("slowest_over_time"):
        lines += [
            "",
            f"the slowest 1 % of searches, pages and checks ({slow['requests']:,}, ≥ {slow['from_ms']:.1f} ms), "
            f"by tenth of the run: {' '.join(str(n) for n in slow['by_tenth'])}",
        ]
    if pauses := result.get("gc_pauses"):
        lines += ["", "garbage collector during the load: full collections (longest, total ms); longest pause (ms)"]
        lines += [
            f"  {kind:16} {p['full']:3.0f} ({p['full_max_ms']:6.1f}, {p['full_total_ms']:7.1f});  {p['max_ms']:6.1f}"
            for kind, p in pauses.items()
        ]
    i = result["ingest"]
    lines += [
        "",
        f"ingest: {i['batches']} batches, {i['rows_sent']:,} rows sent, {i['accepted']:,} accepted, "
        f"{i['duplicates']:,} duplicates, {i['rejected']} rejected",
        "",
        "integrity:",
    ]
    lines += [f"  {'ok  ' if c['ok'] else 'FAIL'} {name}: {c['detail']}" for name, c in result["integrity"].items()]
    lines += ["", "targets:"]
    lines += [
        f"  {'met ' if t['met'] else 'MISS'} {t['operation']} {t['statistic']} {t['ms']:.1f} ms (≤ {t['limit_ms']:.0f})"
        for t in result["targets"]
    ]
    if result["error_samples"]:
        lines += ["", "errors (first 50):", *(f"  {s}" for s in result["error_samples"])]
    return "\n".join(lines)


@contextmanager
def _locked(path: Path | None) -> Iterator[None]:
    """Hold ``flock(path)`` (the shared benchmark lock) if given, so the measurement runs alone."""
    if path is None:
        yield
        return
    import fcntl

    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def soak(
    world: World,
    *,
    duration: float,
    workers: int,
    rate: float = 1.0,
    seed: int = 1,
    lock: Path | None = None,
    client: str = CLIENTS[0],
    trace: Path | None = None,
) -> dict[str, Any]:
    """Serve, load for ``duration`` seconds, stop the server, check integrity; returns the report. With ``trace``,
    also writes every request and the machine's samples there (``write_trace``)."""
    log = world.data_dir.parent / "server.log"
    world.data_dir.mkdir(parents=True, exist_ok=True)
    with _locked(lock):
        load_before = os.getloadavg()
        with serve(world, workers=workers, log=log) as base:
            started, wall_start, cpu_start = time.monotonic(), time.time(), time.process_time()
            machine = Machine() if trace is not None else None  # sampled only for a trace: it runs on the cores served
            with machine or nullcontext():
                tally = Load(world, base, duration, rate, seed, client).run()
            seconds, wall_end, cpu = time.monotonic() - started, time.time(), time.process_time() - cpu_start
        load_after = os.getloadavg()
        result = report(world, tally, integrity(world, tally), seconds)
    result["load_average"] = {"before": load_before, "after": load_after}
    result["server_workers"] = workers
    # This process does nothing but the load meanwhile: its CPU is the load generator's, taken from the server's cores.
    result["load_generator"] = {"client": client, "cpu_ms_per_request": 1000 * cpu / max(1, result["requests"])}
    result["gc_pauses"] = gc_pauses(log, wall_start, wall_end, workers)
    result["server_log_tail"] = log.read_text(errors="replace")[-3000:]
    if trace is not None and machine is not None:
        result["trace"] = {"requests": str(trace), "machine": str(write_trace(trace, tally, machine))}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--duration", type=float, default=600, help="seconds of load")
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--records", type=int, default=100_000, help="history rows collected before the load")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--rate", type=float, default=1.0, help="divides every think time (2 = twice the load)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the report here")
    parser.add_argument("--workdir", type=Path, help="keep the database (SQLite), uploads and server log here")
    parser.add_argument("--lock", type=Path, help="flock this file around the measurement (not the data load)")
    parser.add_argument("--client", choices=CLIENTS, default=CLIENTS[0], help="the load generator's HTTP client")
    parser.add_argument(
        "--trace", type=Path, help="write every request (CSV) here, and the machine's samples beside it"
    )
    parser.add_argument(
        "--settle", action="store_true", help="vacuum, analyse and checkpoint the loaded database before the load"
    )
    args = parser.parse_args()
    # A terminated run still stops its server and drops its PostgreSQL database (the finally blocks run).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    os.environ.setdefault("XINYONG_TODAY", TODAY)
    os.environ.setdefault("XINYONG_LOG_LEVEL", "WARNING")
    with tempfile.TemporaryDirectory(prefix="xinyong-soak-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        os.environ["XINYONG_DATA_DIR"] = str(workdir / "data")
        with bench_database(args.engine, workdir) as url:
            t0 = time.perf_counter()
            world = prepare(url, subjects=args.subjects, records=args.records, workdir=workdir)
            print(f"prepared {args.subjects:,} subjects + {args.records:,} history records in "
                  f"{time.perf_counter() - t0:.0f} s; load average {os.getloadavg()}", flush=True)  # fmt: skip
            settled = None
            if args.settle:
                t0 = time.perf_counter()
                settled = settle(url)
                print(f"settled: {settled} in {time.perf_counter() - t0:.0f} s", flush=True)
            result = soak(
                world,
                duration=args.duration,
                workers=args.workers,
                rate=args.rate,
                seed=args.seed,
                lock=args.lock,
                client=args.client,
                trace=args.trace,
            )
        result["command"] = " ".join(sys.argv)
        result["settled"] = settled
    print(table(result))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str))
    sys.exit(0 if result["ok"] else 1)


if __name__ == "__main__":
    main()
