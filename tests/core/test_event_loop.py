"""Nothing waits on a web worker's event loop: it serves every request of the worker.

The suite's guard (``tests/conftest.py``) fails any test during which a statement was sent from the loop's thread;
the first test shows it catching one. The others hold a request where it waits longest (a batch check looking up
its rows; a pushed batch's upload waiting for the disk) and send a check to the same app meanwhile: it must be
answered while the first is still held. Were the held work on the event loop (or holding SQLite's write lock), the
check could not be answered until the first was released, and the hold gives up (and the test fails) after ``HOLD``
seconds.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests import factories
from tests.conftest import _ON_EVENT_LOOP, Database
from tests.ingest.fixtures import PENALTY, UNIT_USCC, penalty_rows
from xinyong.accounts import service as accounts
from xinyong.accounts.models import Role
from xinyong.app import create_app
from xinyong.audit.service import Actor
from xinyong.catalog import service as catalog
from xinyong.checks import service as checks
from xinyong.core.database import session_scope
from xinyong.core.settings import reset_settings

HOLD = 20.0  # seconds: only a failing run waits this long


class Hold:
    """Wraps ``work`` so that its first call waits until released (or ``HOLD`` seconds pass)."""

    def __init__(self, work: Callable[..., Any]) -> None:
        self.work = work
        self.entered = threading.Event()
        self.released = threading.Event()
        self.gave_up = False
        self._first = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._first:
            self._first = False
            self.entered.set()
            self.gave_up = not self.released.wait(HOLD)
        return self.work(*args, **kwargs)


def _while_held(
    client: TestClient, hold: Hold, held: Callable[[], Any], meanwhile: Callable[[], Any]
) -> tuple[Any, Any]:
    """Send ``held`` from a thread; once it is inside ``hold``, send ``meanwhile``; then release it."""
    result: dict[str, Any] = {}
    sender = threading.Thread(target=lambda: result.setdefault("held", held()))
    sender.start()
    try:
        assert hold.entered.wait(HOLD), "the held request never reached the held work"
        answer = meanwhile()
        assert not hold.gave_up, "the other request was answered only after the held work gave up waiting"
    finally:
        hold.released.set()
        sender.join(HOLD)
    return result["held"], answer


@pytest.fixture
def keys(fresh_db: Database) -> dict[str, str]:
    with session_scope(fresh_db.engine, write=True) as session:
        unit = catalog.register_unit(
            session=session, uscc=UNIT_USCC, name="淄博市生态环境局", region="370300", resources=[PENALTY]
        )
        company = factories.subject(session)
        return {
            "checker": accounts.create_api_key(session=session, actor=Actor.cli(), role=Role.CHECKER).key,
            "unit": accounts.create_api_key(session=session, actor=Actor.cli(), role=Role.SOURCE_UNIT, unit=unit).key,
            "code": company.uscc or "",
        }


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_the_guard_catches_a_statement_on_the_event_loop(engine: sa.Engine) -> None:
    app = FastAPI()

    @app.get("/blocking")
    async def blocking() -> int:  # the mistake the guard is for: a statement in an async endpoint's own code
        with engine.connect() as connection:
            return int(connection.execute(sa.text("select 1")).scalar_one())

    @app.get("/in-thread")
    def in_thread() -> int:
        with engine.connect() as connection:
            return int(connection.execute(sa.text("select 2")).scalar_one())

    with TestClient(app) as client:
        assert client.get("/in-thread").json() == 2
        assert _ON_EVENT_LOOP == []
        assert client.get("/blocking").json() == 1
    caught = list(_ON_EVENT_LOOP)
    _ON_EVENT_LOOP.clear()  # caught on purpose: this test must not fail for it
    # On SQLite the driver's BEGIN comes first; every one of them names the endpoint that sent it.
    assert any(found.startswith("select 1") for found in caught)
    assert not any("select 2" in found for found in caught)
    assert all("in blocking" in found for found in caught)


def test_a_check_is_answered_while_a_batch_check_is_being_looked_up(
    fresh_db: Database, keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Held while answering its first row. The check must get both the event loop and, on SQLite, the write lock:
    # the batch reads without it and writes each chunk of its checks in a short transaction of its own.
    hold = Hold(checks.answer_check)
    monkeypatch.setattr(checks, "answer_check", hold)
    csv = "统一社会信用代码,名称\n" + f"{keys['code']},\n" * 3
    with TestClient(create_app(fresh_db.engine)) as client:
        batch, check = _while_held(
            client,
            hold,
            lambda: client.post(
                "/api/v1/checks/batches",
                data={"matter": "政府采购"},
                files={"file": ("供应商.csv", csv.encode())},
                headers=_bearer(keys["checker"]),
            ),
            lambda: client.post(
                "/api/v1/checks", json={"code": keys["code"], "matter": "政府采购"}, headers=_bearer(keys["checker"])
            ),
        )
    assert check.status_code == 200, check.text
    assert batch.status_code == 201, batch.text
    assert [row["status"] for row in batch.json()["rows"]] == ["checked"] * 3


def test_a_check_is_answered_while_a_pushed_batch_waits_for_the_disk(
    fresh_db: Database, keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    hold = Hold(os.fsync)  # the upload's fsync, the first of the request: its file is saved before it is collected
    monkeypatch.setattr(os, "fsync", hold)
    monkeypatch.setenv("XINYONG_INGEST_PROCESSES", "0")  # collected in this process, where the hold is
    reset_settings()
    with TestClient(create_app(fresh_db.engine)) as client:
        batch, check = _while_held(
            client,
            hold,
            lambda: client.post(f"/api/v1/batches/{PENALTY}", json=penalty_rows(3), headers=_bearer(keys["unit"])),
            lambda: client.post(
                "/api/v1/checks", json={"code": keys["code"], "matter": "政府采购"}, headers=_bearer(keys["checker"])
            ),
        )
    assert check.status_code == 200, check.text
    assert batch.status_code == 201, batch.text
    assert batch.json()["accepted"] == 3
