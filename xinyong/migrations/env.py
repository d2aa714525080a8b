"""Alembic environment: the URL comes from settings (or from the caller's connection)."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

import xinyong.models  # noqa: F401  (registers every table on Base.metadata)
from xinyong.core.database import Base, create_db_engine

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = create_db_engine(context.config.get_main_option("sqlalchemy.url") or None)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()
