"""Collection from the API in processes of its own, beside the web workers.

``IngestProcesses`` sends the ``ingest_file`` call of ``POST /api/v1/batches/{resource}`` to a small pool of spawned
processes (``XINYONG_INGEST_PROCESSES`` per web worker; 0 keeps it in the worker's threads), and the request awaits
the summary. Two reasons: a batch that crashes its process or exhausts its memory no longer takes the web worker and
every request it holds down with it, and its parsing and validation (about a millisecond of CPU per row) no longer
compete for the web worker's interpreter with the searches and checks that worker serves. (The soak measured no
difference in the check's tail on a fast day: docs/benchmarks.md, "Soak", session 4.)

The processes start with the web worker (``XINYONG_INGEST_PRESTART``, ``prestart``): each imports the pipeline,
freezes its heap and opens a connection before the first batch, so no batch waits for a process to start.

They run at idle CPU priority (``XINYONG_INGEST_PRIORITY``, ``lower_priority``), so a web worker that wants a core
gets it before them: a batch is a program's upload, a check is a clerk at a counter. On two cores a batch's parsing
and validation competes with the searches, pages and checks being served; in the soak, checks that overlapped a batch
had 1.6–3 times the p99 of the others. Idle priority lowered the check's p99 in every short paired run (by 0.4–5.5 ms)
though not in a 10-minute pair, and the batches took no longer: the cores are idle most of the time, and that time is
enough for them (docs/benchmarks.md, "Soak", session 13).

Nothing about a batch changes: the upload is saved before it is sent here, the pipeline commits chunk by chunk in the
child exactly as it does in the CLI, and a re-send resumes or counts duplicates. If a child dies mid-batch, the request
gets a 503 saying to send the same file again, which resumes the batch, and the next batch gets a fresh process.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Literal

from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from xinyong.core.errors import XinyongError
from xinyong.core.logging import get_logger
from xinyong.ingest.types import BatchSummary

log = get_logger(__name__)

INTERRUPTED_MESSAGE = "数据处理进程意外退出：已入库的数据不会丢失，请重新提交同一文件，系统将从中断处续传"


class Interrupted(XinyongError):
    """The process collecting the batch died; the batch is resumable by sending the same file again."""

    status_code = 503
    code = "unavailable"


class IngestProcesses:
    """A pool of ``processes`` collection processes (none: run in the caller's thread pool), started by ``prestart``
    when the web worker starts, or else by the first batch."""

    def __init__(self, processes: int, *, freeze: bool = False, priority: Literal["idle", "normal"] = "normal") -> None:
        self.processes = processes
        self.freeze = freeze
        self.priority = priority
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    async def ingest(self, engine: Engine, **options: Any) -> BatchSummary:
        """``pipeline.ingest_file(engine=engine, **options)``, in a collection process when there is a pool."""
        if self.processes == 0:
            from xinyong.ingest.pipeline import ingest_file

            return await run_in_threadpool(lambda: ingest_file(engine=engine, **options))
        executor = self._started()
        try:
            return await asyncio.wrap_future(executor.submit(_collect, _url(engine), options))
        except BrokenProcessPool:
            # Every batch queued on this pool fails with it; each was saved first, so each resumes when re-sent.
            log.error("collection process died", file=str(options.get("path")))
            self._discard(executor)
            raise Interrupted(INTERRUPTED_MESSAGE, retry_after=1) from None

    async def prestart(self, engine: Engine) -> None:
        """Start the processes now, each with the pipeline imported and a connection open, rather than on the first
        batch. A process's start-up is about a second of CPU (imports, the first connection); on the first batch it
        delayed that batch by as much and competed for the cores with every request being served at that moment
        (docs/benchmarks.md, "Soak", session 12). Never fails the web worker's start: a database that is away is
        logged, and the first batch connects instead."""
        if self.processes == 0:
            return
        executor = self._started()
        url = _url(engine)
        try:
            # One task per process: each submit while the others are busy starting spawns the next process.
            problems = await asyncio.gather(
                *(asyncio.wrap_future(executor.submit(_warm, url)) for _ in range(self.processes))
            )
        except BrokenProcessPool:
            log.error("collection process died while starting")
            self._discard(executor)
            return
        for problem in filter(None, problems):
            log.warning("collection process started without a database connection", reason=problem)

    def shutdown(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def _started(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                # spawn, not fork: the web worker has threads and open connections a forked child must not share.
                self._executor = ProcessPoolExecutor(
                    max_workers=self.processes,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_start,
                    initargs=(self.freeze, self.priority),
                )
            return self._executor

    def _discard(self, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._executor is broken:
                self._executor = None
        broken.shutdown(wait=False, cancel_futures=True)


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def lower_priority() -> None:
    """Give this process only the CPU time nothing else wants: Linux's SCHED_IDLE policy, else nice 19 (the
    lowest ``nice`` gives). Any process may lower its own priority; only a privileged one may raise it again."""
    if hasattr(os, "SCHED_IDLE"):
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))  # this thread, the process's only one so far
    else:
        os.nice(19)


def _start(freeze: bool, priority: str) -> None:
    from xinyong.core.heap import freeze_heap
    from xinyong.core.logging import configure_logging
    from xinyong.ingest import pipeline  # noqa: F401  (imported once, here, rather than during the first batch)

    # Ctrl-C reaches the whole process group; the web server shuts the pool down itself, so the children let it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    configure_logging()
    if priority == "idle":
        try:
            lower_priority()
        except OSError as exc:  # a sandbox that forbids it: collect at normal priority rather than not at all
            log.warning("collection process kept normal priority", reason=str(exc))
    if freeze:
        freeze_heap()  # what the imports made lives as long as the process: no full collection walks it again


def _warm(url: str) -> str | None:
    """In a collection process just started: open this process's first connection for ``url``. Returns why the
    database could not be reached, if it could not."""
    from xinyong.core.database import get_engine, unavailable_reason

    try:
        with get_engine(url).connect():
            return None
    except Exception as exc:
        return unavailable_reason(exc) or type(exc).__name__


def _collect(url: str, options: dict[str, Any]) -> BatchSummary:
    """In the collection process: the pipeline on this process's engine for ``url``; errors made picklable."""
    from xinyong.core.database import get_engine, unavailable_reason
    from xinyong.ingest.pipeline import ingest_file

    try:
        return ingest_file(engine=get_engine(url), **options)
    except XinyongError:
        raise  # the message and detail cross the process boundary intact
    except Exception as exc:
        # A DBAPI exception does not survive pickling; what the web worker needs is the answer it would give had the
        # error happened in its own thread: 503 when the database is away (``unavailable_reason``), 500 otherwise.
        reason = unavailable_reason(exc)
        if reason is not None:
            log.error("database unavailable during collection", error=str(exc).splitlines()[0])
            raise Interrupted(reason, retry_after=5) from None
        log.exception("collection failed")
        raise RuntimeError(f"collection failed: {type(exc).__name__}") from None
