"""A started web worker freezes its heap (``xinyong.core.heap.freeze_heap``), so full collections no longer walk it.

Why: a full collection walked the ~240,000 objects of a started worker while holding the interpreter lock, 45 ms on
an idle machine and up to 200 ms under the soak, stalling every request of that worker.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Database
from xinyong.app import create_app
from xinyong.core.settings import reset_settings


@pytest.fixture
def unfrozen() -> Iterator[None]:
    assert gc.get_freeze_count() == 0
    yield
    gc.unfreeze()  # back in the generations, so the test process's garbage is collected again


def _started(db: Database, monkeypatch: pytest.MonkeyPatch, setting: str) -> int:
    monkeypatch.setenv("XINYONG_GC_FREEZE", setting)
    reset_settings()
    with TestClient(create_app(db.engine)) as client:
        assert client.get("/rules").status_code == 200
        return gc.get_freeze_count()


def test_a_started_worker_freezes_what_it_holds(
    fresh_db: Database, monkeypatch: pytest.MonkeyPatch, unfrozen: None
) -> None:
    assert _started(fresh_db, monkeypatch, "1") > 50_000  # the app's modules, routes and mappings, not a handful


def test_the_freeze_can_be_switched_off(fresh_db: Database, monkeypatch: pytest.MonkeyPatch, unfrozen: None) -> None:
    assert _started(fresh_db, monkeypatch, "0") == 0
