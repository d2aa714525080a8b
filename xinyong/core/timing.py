"""Where a request's time went, for ``Server-Timing`` (``xinyong/web/timing.py``): its database statements, its
commit, and on SQLite its wait for the write lock.

A tally exists only while the ServerTiming middleware (``XINYONG_SERVER_TIMING``) serves a request, so everything here
is a no-op otherwise. The tally is a dict in a context variable: FastAPI runs sync endpoints and dependencies in
worker threads with a copy of the request's context, which holds the same dict, so what they add is seen by the
middleware when the response starts. ``bench/soak.py`` reads the parts to say what the slowest checks waited for.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

# The parts, in the order the header lists them after ``app``.
PARTS = ("db", "commit", "lock")

_tally: ContextVar[dict[str, float] | None] = ContextVar("xinyong_timing", default=None)


def open_tally() -> tuple[dict[str, float], Token[dict[str, float] | None]]:
    tally = dict.fromkeys(PARTS, 0.0)
    return tally, _tally.set(tally)


def close_tally(token: Token[dict[str, float] | None]) -> None:
    _tally.reset(token)


def active() -> bool:
    return _tally.get() is not None


@contextmanager
def timed(part: str) -> Iterator[None]:
    """Add the block's wall time (seconds) to ``part`` of the current request's tally, if there is one."""
    tally = _tally.get()
    if tally is None:
        yield
        return
    started = time.perf_counter()
    try:
        yield
    finally:
        tally[part] += time.perf_counter() - started


def instrument(engine: sa.Engine) -> None:
    """Count every statement ``engine`` runs into ``db`` (idempotent)."""
    if not event.contains(engine, "before_cursor_execute", _statement_started):
        event.listen(engine, "before_cursor_execute", _statement_started)
        event.listen(engine, "after_cursor_execute", _statement_done)


def _statement_started(conn: sa.Connection, *_: Any) -> None:
    if _tally.get() is not None:
        conn.info["xinyong.statement_started"] = time.perf_counter()


def _statement_done(conn: sa.Connection, *_: Any) -> None:
    tally, started = _tally.get(), conn.info.pop("xinyong.statement_started", None)
    if tally is not None and started is not None:
        tally["db"] += time.perf_counter() - started
