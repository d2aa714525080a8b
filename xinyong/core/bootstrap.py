"""Create or migrate a database and load the built-in catalogs: what `xinyong db upgrade` does."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from xinyong.catalog import service as catalog
from xinyong.core.database import session_scope
from xinyong.core.migrate import upgrade


def upgrade_database(engine: Engine) -> dict[str, int]:
    upgrade(engine)
    with session_scope(engine, write=True) as session:
        resources = catalog.load_builtin(session=session)
    return {"resources": resources}
