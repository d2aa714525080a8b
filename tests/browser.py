"""Shared pieces of the browser tests: a live server on a loopback port and Debian's headless Chromium.

Never a downloaded browser: Playwright drives /usr/bin/chromium. Without it the test is skipped locally and FAILS
under CI=true.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import uvicorn
from sqlalchemy.engine import Engine

from tests.conftest import IN_CI
from xinyong.app import create_app

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = Path(__file__).resolve().parents[1] / "var" / "screenshots"


def require_chromium() -> None:
    if not CHROMIUM.exists():
        if IN_CI:
            pytest.fail(f"CI requires Chromium at {CHROMIUM} (Debian package chromium)")
        pytest.skip(f"no Chromium at {CHROMIUM}")


def launch(playwright: Playwright) -> Browser:
    require_chromium()
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def live_server(engine: Engine, *, start_timeout: float = 60.0) -> Iterator[str]:
    """Serve the app on a free loopback port in a thread; yields the base URL."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(engine), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            server.should_exit = True
            raise RuntimeError(f"test server did not start on port {port}")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
