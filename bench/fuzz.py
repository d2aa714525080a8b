"""Long schemathesis run over the whole API: many examples per operation, every role the matrix allows, both engines.

    python bench/fuzz.py                         # 50 examples per operation, mode and role; SQLite and PostgreSQL
    python bench/fuzz.py --examples 200 --engines sqlite --only /api/v1/checks

Prints, per engine, the number of operations and requests, the status codes seen and every distinct failure (a 5xx, a
response that breaks its documented schema, a wrong content type) with a curl line to reproduce it. Exits 1 when any
check failed. The short version of the same run is in the suite (tests/security/test_schemathesis.py).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa
from schemathesis.generation import GenerationMode

PG_ADMIN = os.environ.get("XINYONG_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _database(kind: str, workdir: Path) -> tuple[str, str | None]:
    """(url, PostgreSQL database name to drop afterwards)."""
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'fuzz.db'}", None
    name = f"bench_fuzz_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        # the name is generated above from hex digits; identifiers cannot be bound parameters
        conn.execute(sa.text(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8' "
                             "LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"))  # fmt: skip
    admin.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", name


def _drop(name: str) -> None:
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def run_engine(kind: str, args: argparse.Namespace) -> int:
    from tests.security import fuzzing
    from xinyong.app import create_app
    from xinyong.core.bootstrap import upgrade_database
    from xinyong.core.database import create_db_engine, dispose_engines

    with tempfile.TemporaryDirectory(prefix="xinyong-fuzz-") as tmp:
        workdir = Path(tmp)
        os.environ["XINYONG_DATA_DIR"] = str(workdir / "data")
        url, pg_name = _database(kind, workdir)
        try:
            engine = create_db_engine(url)
            upgrade_database(engine)
            world = fuzzing.build_world(engine)
            app = create_app(engine)
            fuzzing.seed_records(app, world)
            modes = [GenerationMode(m) for m in args.modes.split(",")]
            report = fuzzing.run(app, world, max_examples=args.examples, modes=modes, all_roles=not args.one_role,
                                 seed=args.seed, only=args.only)  # fmt: skip
            print(f"## {kind}: {report.summary()}", flush=True)
            engine.dispose()
            dispose_engines()
            return len(report.failures)
        finally:
            if pg_name:
                _drop(pg_name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=50, help="examples per operation, mode and role")
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--modes", default="positive,negative")
    parser.add_argument("--only", default=None, help='only operations whose "METHOD /path" contains this')
    parser.add_argument("--one-role", action="store_true", help="one credential per operation, not every role")
    parser.add_argument("--seed", type=int, default=None, help="derandomise (same cases every run)")
    args = parser.parse_args()
    os.environ.setdefault("XINYONG_ENV", "test")
    os.environ["XINYONG_RATE_LIMIT_PER_MINUTE"] = "0"
    from xinyong import hooks

    hooks.install()
    failures = sum(run_engine(kind.strip(), args) for kind in args.engines.split(",") if kind.strip())
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
