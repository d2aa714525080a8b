"""Portal fixtures: the app served in-process on the test's rolled-back session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.conftest import Database
from xinyong.app import create_app
from xinyong.core.deps import get_session
from xinyong.core.settings import reset_settings
from xinyong.portal.publicity import forget_figures


@pytest.fixture
def client(session: Session, db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    # Fair use is tested on its own (test_rate_limit…); elsewhere it would only count the test's own requests.
    monkeypatch.setenv("XINYONG_RATE_LIMIT_PER_MINUTE", "0")
    reset_settings()
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
