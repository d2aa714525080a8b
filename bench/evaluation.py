"""Benchmark: batch evaluation of N subjects with M records on SQLite and PostgreSQL.

    .venv/bin/python bench/evaluation.py --subjects 1000000 --records 10000000 --engine postgresql

Loader: synthetic rows are generated INSIDE the database (PostgreSQL ``generate_series``, SQLite a recursive CTE)
with ``INSERT … SELECT`` straight into ``subject`` and ``record`` — no Python per row, no ORM. Values are
deterministic functions of the row number (a multiplicative hash), so two runs load the same data. Codes are
synthetic (unique, not check-digit valid); every record is linked to a subject, 1 record in 10 is a licence, list
entries and red-list entries are sprinkled in, decision dates span five years, 2% of records are repaired or revoked.

Measured in the same run, on the same rows:
- ``reference``: one raw aggregate query (GROUP BY subject over all records, three CASE sums) — the floor for any
  evaluation that reads every record once;
- ``evaluate --all``: ``xinyong.evaluation.service.evaluate`` with the default public model (writes every result);
- ``evaluate --all`` again (nothing changed: no writes) and ``evaluate --changed`` after touching 1,000 records.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from xinyong.audit.service import Actor
from xinyong.core.bootstrap import upgrade_database
from xinyong.core.database import create_db_engine, session_scope
from xinyong.core.settings import reset_settings
from xinyong.evaluation import service

PG_ADMIN = os.environ.get("XINYONG_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
# Hash of the row number into [0, m): deterministic, portable (integer arithmetic only).
H = "((({i}) * 2654435761 + {salt}) % 4294967296) % {m}"


def h(i: str, salt: int, m: int) -> str:
    return H.format(i=i, salt=salt, m=m)


def fresh(kind: str, tmp: Path) -> str:
    if kind == "sqlite":
        path = tmp / "bench_evaluation.db"
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return f"sqlite:///{path}"
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text("DROP DATABASE IF EXISTS xinyong_bench_evaluation WITH (FORCE)"))
        conn.execute(
            sa.text(
                "CREATE DATABASE xinyong_bench_evaluation TEMPLATE template0 ENCODING 'UTF8' "
                "LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
            )
        )
    admin.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + "/xinyong_bench_evaluation"


def series(kind: str, n: int) -> str:
    """A FROM clause yielding i = 1..n."""
    if kind == "sqlite":
        return f"(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) SELECT i FROM s)"
    return f"(SELECT generate_series(1, {n}) AS i)"


def load(engine: sa.Engine, kind: str, subjects: int, records: int) -> float:
    started = time.perf_counter()
    date = (
        (lambda expr: f"date('2021-07-01', '+' || ({expr}) || ' days')")
        if kind == "sqlite"
        else (lambda expr: f"(DATE '2021-07-01' + ({expr})::int)")
    )
    now = "datetime('now')" if kind == "sqlite" else "now()"
    padded = "substr('00000000000000' || i, -14, 14)" if kind == "sqlite" else "lpad(i::text, 14, '0')"
    with engine.begin() as conn:
        rid = dict(conn.execute(sa.text("SELECT code, id FROM resource")).all())  # type: ignore[arg-type]
        conn.execute(
            sa.text(
                "INSERT INTO source_unit (uscc, name, region, active, created_at) "
                f"VALUES ('11370300004000010X', '基准测试单位', '370300', true, {now})"
            )
        )
        unit = conn.execute(sa.text("SELECT max(id) FROM source_unit")).scalar_one()
        conn.execute(
            sa.text(
                "INSERT INTO subject (id, kind, uscc, name, region, status, established_on, name_conflict, "
                "created_at, updated_at) "
                f"SELECT i, 'legal_person', '9137' || {padded}, '基准主体' || i, "
                f"'370302', 'active', {date(h('i', 7, 9000) + ' - 6000')}, false, {now}, {now} "
                f"FROM {series(kind, subjects)} AS s"
            )
        )
        # resource mix by a hash bucket 0..99
        bucket = h("i", 11, 100)
        resource = (
            f"CASE WHEN {bucket} < 60 THEN {rid['administrative_penalty']} "
            f"WHEN {bucket} < 85 THEN {rid['administrative_license']} "
            f"WHEN {bucket} < 90 THEN {rid['abnormal_operation']} "
            f"WHEN {bucket} < 92 THEN {rid['serious_dishonesty_list']} "
            f"WHEN {bucket} < 94 THEN {rid['dishonest_judgment_debtor']} "
            f"WHEN {bucket} < 98 THEN {rid['tax_credit_a']} "
            f"ELSE {rid['government_dishonesty']} END"
        )
        severity = f"CASE {h('i', 13, 3)} WHEN 0 THEN 'minor' WHEN 1 THEN 'general' ELSE 'serious' END"
        status = f"CASE WHEN {h('i', 17, 100)} = 0 THEN 'revoked' ELSE 'active' END"
        repaired = f"CASE WHEN {h('i', 19, 100)} = 0 THEN {now} ELSE NULL END"
        valid_to = f"CASE WHEN {h('i', 23, 2)} = 0 THEN NULL ELSE {date(h('i', 29, 2500))} END"
        conn.execute(
            sa.text(
                "INSERT INTO record (resource_id, subject_id, source_unit_id, doc_no, decision_date, valid_from, "
                "valid_to, severity, status, objection_open, repaired_at, region, subject_name, subject_kind, payload, "
                "content_hash, version, origin, received_at, updated_at) "
                f"SELECT {resource}, 1 + {h('i', 3, subjects)}, {unit}, 'B' || i, {date(h('i', 5, 1800))}, "
                f"{date(h('i', 31, 1800))}, {valid_to}, {severity}, {status}, false, {repaired}, '370300', '', "
                f"'legal_person', '{{}}', '', 1, 'bench', {now}, {now} FROM {series(kind, records)} AS s"
            )
        )
        if kind == "postgresql":
            conn.execute(
                sa.text("SELECT setval(pg_get_serial_sequence('subject', 'id'), (SELECT max(id) FROM subject))")
            )
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(sa.text("ANALYZE"))
    return time.perf_counter() - started


REFERENCE = (
    "SELECT count(*), sum(n) FROM (SELECT subject_id, count(*) AS n, "
    "sum(CASE WHEN severity = 'serious' THEN 1 ELSE 0 END) AS s, "
    "sum(CASE WHEN valid_to IS NULL THEN 1 ELSE 0 END) AS v "
    "FROM record WHERE status = 'active' AND repaired_at IS NULL GROUP BY subject_id) AS x"
)


def timed_evaluate(engine: sa.Engine, *, changed: bool, chunk: int | None) -> tuple[float, int, int]:
    started = time.perf_counter()
    with session_scope(engine, write=True) as session:
        run = service.evaluate(session=session, actor=Actor.cli(), changed_only=changed, chunk_size=chunk)
        counts = (run.subjects_evaluated, run.results_written)
    return time.perf_counter() - started, *counts


def bench(kind: str, subjects: int, records: int, chunk: int | None, tmp: Path) -> None:
    url = fresh(kind, tmp)
    os.environ["XINYONG_DATABASE_URL"] = url
    os.environ.setdefault("XINYONG_TODAY", "2026-06-15")
    reset_settings()
    engine = create_db_engine(url)
    if kind == "postgresql":
        # A hash aggregate over a million groups wants memory, and JIT-compiling the generated CASE expressions costs
        # more than it saves; both are session settings, not server changes.
        sa.event.listen(engine, "connect", lambda c, _r: c.execute("SET work_mem = '256MB'; SET jit = off"))
    upgrade_database(engine)
    loaded = load(engine, kind, subjects, records)
    print(f"[{kind}] loaded {subjects:,} subjects and {records:,} records in {loaded:.1f} s", flush=True)

    started = time.perf_counter()
    with engine.connect() as conn:
        groups, rows = conn.execute(sa.text(REFERENCE)).one()
    reference = time.perf_counter() - started
    print(f"[{kind}] reference aggregate: {reference:.1f} s ({groups:,} groups over {rows:,} records)", flush=True)

    seconds, evaluated, written = timed_evaluate(engine, changed=False, chunk=chunk)
    print(
        f"[{kind}] evaluate --all: {seconds:.1f} s, {evaluated:,} subjects, {written:,} results written, "
        f"{evaluated / seconds:,.0f} subjects/s ({seconds / reference:.1f}× the reference)",
        flush=True,
    )
    seconds, evaluated, written = timed_evaluate(engine, changed=False, chunk=chunk)
    print(f"[{kind}] evaluate --all again (nothing changed): {seconds:.1f} s, {written:,} results written", flush=True)
    with engine.begin() as conn:
        later = "datetime('now', '+1 minute')" if kind == "sqlite" else "now() + interval '1 minute'"
        conn.execute(sa.text(f"UPDATE record SET updated_at = {later}, status = 'revoked' WHERE id <= 1000"))
    seconds, evaluated, written = timed_evaluate(engine, changed=True, chunk=chunk)
    print(
        f"[{kind}] evaluate --changed after 1,000 records changed: {seconds:.1f} s, {evaluated:,} subjects, "
        f"{written:,} results written",
        flush=True,
    )
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--chunk", type=int, default=0, help="subject ids per statement (0 = one statement)")
    parser.add_argument("--tmp", type=Path, default=Path("/tmp"))
    args = parser.parse_args()
    os.environ.setdefault("XINYONG_ENV", "development")
    kinds = ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]
    for kind in kinds:
        bench(kind, args.subjects, args.records, args.chunk or None, args.tmp)


if __name__ == "__main__":
    main()
