"""Run the Alembic migrations that live inside the package."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from xinyong.core.errors import XinyongError

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision of every domain ('heads': domains may branch off the foundation)."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")


def code_heads() -> list[str]:
    """The revisions ``upgrade`` brings a database to: the heads of the migrations in the package."""
    return sorted(ScriptDirectory.from_config(alembic_config()).get_heads())


class SchemaOutdated(XinyongError):
    status_code = 503
    code = "schema_outdated"


def require_current(engine: Engine) -> None:
    """Refuse to serve or run jobs on a database whose schema is not the code's.

    The code relies on what its migrations put in the database, sometimes silently: since 0015 the database moves
    the audit chain's head, and code running on a 0014 schema would leave every head where it was and fork every
    chain, which ``audit verify`` then reports as tampering. So the web app and the worker check the revision when
    they start, and say what to run."""
    wanted = set(code_heads())
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table("alembic_version"):
            found: set[str] = set()
        else:
            found = set(conn.scalars(sa.text("SELECT version_num FROM alembic_version")))
    if found != wanted:
        have = "、".join(sorted(found)) or "空库"
        raise SchemaOutdated(
            f"数据库结构版本（{have}）与程序（{'、'.join(sorted(wanted))}）不一致：请先运行 xinyong db upgrade"
        )
