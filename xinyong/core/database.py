"""Engine, sessions and the declarative base shared by every domain.

SQLite is the embedded default (one file, WAL, one writer); PostgreSQL is the production engine. The same models and
migrations serve both; engine-specific behaviour is confined to this module and to the migrations.
"""

from __future__ import annotations

import datetime as dt
import select
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from xinyong.core import timing
from xinyong.core.settings import get_settings

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# 64-bit keys on PostgreSQL; on SQLite only INTEGER PRIMARY KEY is the rowid alias that autoincrements.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JsonType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


class UTCDateTime(sa.types.TypeDecorator[dt.datetime]):
    """Aware datetimes in, aware UTC datetimes out, on both engines (SQLite keeps no zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING)


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def create_db_engine(url: str | None = None, **kwargs: Any) -> Engine:
    url = url or get_settings().database_url
    if is_sqlite(url):
        database = sa.engine.make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        busy = get_settings().sqlite_busy_timeout
        engine = sa.create_engine(url, connect_args={"timeout": busy}, **kwargs)
        _configure_sqlite(engine, busy_ms=int(busy * 1000))
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    # No JIT compilation. PostgreSQL compiles any plan estimated above 100,000 cost units, and a lookup by record id
    # has no partition key, so its estimate grows with the partitions and the rows: at 50M records a chunk's notice
    # query (2,000 ids) crossed it and spent 1.8 s compiling to run in 40 ms. Collection ran at 750 rows/s with JIT
    # and 1,741 without, on the same database in the same hour (docs/benchmarks.md, "Growth", session 7).
    kwargs["connect_args"] = {"options": "-c jit=off", **kwargs.get("connect_args", {})}
    engine = sa.create_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        event.listen(engine, "checkout", _still_connected)
    return engine


def _still_connected(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """The pool's test of a PostgreSQL connection before it is reused, without a round trip.

    A connection idle in the pool has nothing to read unless its server has gone: a restart or
    ``pg_terminate_backend`` sends a last error and closes the socket, and a dropped socket reads as closed. Raising
    ``DisconnectionError`` makes the pool discard the connection and hand out a fresh one (SQLAlchemy's documented
    pessimistic check), so no request gets a dead pooled connection (``tests/security/test_db_faults.py``).
    ``pool_pre_ping`` did the same with an empty query on every checkout: one round trip of a check's eleven, of a
    subject page's eight and of a code search's five (docs/benchmarks.md, "Soak", session 12). What neither sees is
    a server that vanished without closing (a cut cable): the request's first statement then fails with the clean
    503, as it would have in the ping.
    """
    poller = select.poll()  # not select.select, which cannot watch a descriptor above 1023
    poller.register(dbapi_connection.fileno(), select.POLLIN | select.POLLPRI)
    if poller.poll(0):
        raise sa.exc.DisconnectionError("PostgreSQL closed this pooled connection")


def _configure_sqlite(engine: Engine, *, busy_ms: int) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT and BEGIN IMMEDIATE; take control of BEGIN ourselves
    # (the recipe from SQLAlchemy's SQLite dialect documentation).
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        _set_busy_timeout(cursor, busy_ms)
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        # A writer takes the write lock up front, so two writers queue instead of failing with "database is locked"
        # when a reader tries to upgrade.
        if conn.get_execution_options().get("sqlite_write"):
            _begin_immediate(conn, busy_ms=busy_ms)
        else:
            conn.exec_driver_sql("BEGIN DEFERRED")


def _set_busy_timeout(cursor: sqlite3.Connection | sqlite3.Cursor, ms: int) -> None:
    cursor.execute(f"PRAGMA busy_timeout={int(ms):d}")  # a PRAGMA takes no bound parameter


# How often a writer asks again for SQLite's write lock while another holds it.
_WRITE_LOCK_POLL = 0.001


def _begin_immediate(conn: sa.Connection, *, busy_ms: int) -> None:
    """BEGIN IMMEDIATE, asking for the write lock every millisecond until ``busy_ms`` have passed.

    Not SQLite's own busy handler: it sleeps 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100 ms between attempts, so a
    check that finds a batch's chunk holding the lock for 10 ms waits up to 20 ms more after it is free; under a
    steady stream of batches that backoff was most of the check's tail (docs/benchmarks.md, "Soak"). The handler
    stays on for what else may meet a lock (a deferred reader's upgrade, a checkpoint)."""
    with timing.timed("lock"):
        raw = cast(sqlite3.Connection, conn.connection.driver_connection)
        _set_busy_timeout(raw, 0)
        try:
            deadline = time.monotonic() + busy_ms / 1000
            while True:
                try:
                    raw.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as exc:
                    if "database is locked" not in str(exc) or time.monotonic() >= deadline:
                        break
                time.sleep(_WRITE_LOCK_POLL)
            conn.exec_driver_sql("BEGIN IMMEDIATE")  # once more through SQLAlchemy: a failure is its error, as before
        finally:
            _set_busy_timeout(raw, busy_ms)


BUSY_MESSAGE = "系统繁忙，请稍后再试"
UNAVAILABLE_MESSAGE = "数据库暂时不可用，请稍后重试"


def unavailable_reason(exc: BaseException) -> str | None:
    """The Chinese message when ``exc`` means the database is not there right now (HTTP 503), else None.

    That is: the server cannot be reached or dropped the connection (restart, ``pg_terminate_backend``, network), or
    SQLite stayed locked by another writer beyond the busy timeout. A retry later may succeed; nothing is wrong with
    the request itself. Other database errors (a constraint, a bad statement) are bugs and stay 500.
    """
    if not isinstance(exc, sa.exc.DBAPIError):
        return None
    text = str(exc.orig).lower()
    if "database is locked" in text or "database table is locked" in text or "database is busy" in text:
        return BUSY_MESSAGE
    if exc.connection_invalidated or isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError):
        return UNAVAILABLE_MESSAGE
    return None


def describe_url(url: str) -> str:
    """The database a URL names, without its password, for messages."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.database or ":memory:"
    return f"{parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database or ''}"


_engines: dict[str, Engine] = {}


def get_engine(url: str | None = None) -> Engine:
    url = url or get_settings().database_url
    if url not in _engines:
        _engines[url] = create_db_engine(url)
    return _engines[url]


def dispose_engines() -> None:
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


def open_session(engine: Engine | None = None, *, write: bool = False, autocommit: bool = False) -> Session:
    """A session for one transaction (no I/O yet: the connection is taken by its first statement).

    ``autocommit`` (PostgreSQL): no transaction at all, every statement commits on its own; for an endpoint that
    reads and then writes in one statement (``xinyong/core/deps.py: read_first``)."""
    engine = engine or get_engine()
    bind: Engine | sa.Connection = engine
    if write and engine.dialect.name == "sqlite":
        bind = engine.execution_options(sqlite_write=True)
    elif autocommit:
        bind = engine.execution_options(isolation_level="AUTOCOMMIT")
    return Session(bind=bind, expire_on_commit=False, autoflush=False)


def commit(session: Session) -> None:
    """Commit ``session``'s transaction, timed for ``Server-Timing``."""
    if timing.active():  # the statements the flush sends are ``db``; the commit alone is ``commit``
        session.flush()
    with timing.timed("commit"):
        session.commit()


def end_session(session: Session, *, failed: bool) -> None:
    """Commit ``session`` (roll back if the commit fails), or roll it back when the work ``failed``; then close it."""
    with session:  # closes it, giving its connection back to the pool
        if failed:
            session.rollback()
            return
        try:
            commit(session)
        except BaseException:
            session.rollback()
            raise


@contextmanager
def session_scope(engine: Engine | None = None, *, write: bool = False) -> Iterator[Session]:
    """One transaction: commit on success, roll back on error. Services only flush."""
    session = open_session(engine, write=write)
    try:
        yield session
    except BaseException:
        end_session(session, failed=True)
        raise
    end_session(session, failed=False)


def refresh_versioned(row: Any, values: dict[str, Any], *, now: dt.datetime) -> bool:
    """Bring a built-in catalog row (resource, list type, measure …) up to the shipped ``values``.

    Only a real change writes: the row then gets the new values, the next version number and ``updated_at``, so a
    repeated ``xinyong db upgrade`` changes nothing. Returns whether the row changed.
    """
    if all(getattr(row, key) == value for key, value in values.items()):
        return False
    for key, value in values.items():
        setattr(row, key, value)
    row.version += 1
    row.updated_at = now
    return True


def analyze_stale(conn: sa.Connection, tables: Iterable[str], rows_written: int) -> list[str]:
    """ANALYZE (PostgreSQL) those of ``tables`` whose planner statistics a write of ``rows_written`` rows made stale.

    A table that grew from nothing in one bulk write (a load, an evaluation of every subject) still looks empty, or
    never analysed, to the planner until it is analysed, and autovacuum may be off or late: the next statement that
    joins it gets a plan for an empty table (an evaluation re-run took 3.6× as long, docs/benchmarks.md "Growth").
    Stale means never analysed, or holding fewer than ten times the rows written: on a large table the write is a
    rounding error to the statistics, and an ANALYZE of a 10-million-row partitioned ``record`` costs tens of seconds.
    Runs in the caller's transaction (ANALYZE may; VACUUM may not), which also lets it see the rows just written.
    Returns the tables analysed.
    """
    names = list(tables)
    if conn.dialect.name != "postgresql" or not names:
        return []
    query = sa.text("SELECT relname, reltuples FROM pg_class WHERE relname IN :names AND relkind IN ('r', 'p')")
    estimates = {
        str(name): float(tuples)
        for name, tuples in conn.execute(query.bindparams(sa.bindparam("names", expanding=True)), {"names": names})
    }
    # reltuples is -1 before the first ANALYZE (and 0 for a table that was empty then).
    stale = [t for t in names if t in estimates and estimates[t] < 10 * max(rows_written, 1)]
    if stale:
        conn.execute(sa.text("ANALYZE " + ", ".join(stale)))
    return stale
