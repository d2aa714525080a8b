"""Create or migrate a database and load the built-in catalogs: what `xinyong db upgrade` does."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from xinyong.catalog import service as catalog
from xinyong.checks import service as checks
from xinyong.core.database import session_scope
from xinyong.core.migrate import upgrade
from xinyong.lists import service as lists


def upgrade_database(engine: Engine) -> dict[str, int]:
    upgrade(engine)
    with session_scope(engine, write=True) as session:
        resources = catalog.load_builtin(session=session)
        list_types = lists.load_builtin(session=session)
        measures = checks.load_builtin(session=session)
    return {"resources": resources, "list_types": list_types, "measures": measures}
