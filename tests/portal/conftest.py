"""Portal fixtures: the app served in-process on the test's rolled-back session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.conftest import Database
from xinyong.app import create_app
from xinyong.core.deps import get_session
from xinyong.portal.publicity import forget_figures


@pytest.fixture
def client(session: Session, db: Database) -> Iterator[TestClient]:
    forget_figures()
    app = create_app(engine=db.engine)

    def _same_session() -> Iterator[Session]:
        yield session
        session.flush()

    app.dependency_overrides[get_session] = _same_session
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client
    forget_figures()


BROWSER = {"Accept": "text/html,application/xhtml+xml"}
