"""Webhooks against a receiver on loopback that fails, times out and recovers: nothing lost, nothing applied twice."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import Database
from tests.exchange.conftest import ingest_rows, penalty, register_unit
from xinyong.audit.service import Actor
from xinyong.core import clock
from xinyong.core.database import session_scope
from xinyong.core.settings import reset_settings
from xinyong.disclosure import Viewer
from xinyong.exchange import feed, subscribers, webhooks
from xinyong.exchange.models import Subscriber, SubscriberKind, WebhookDelivery


class Receiver:
    """A subscriber's endpoint: verifies signatures, applies each idempotency key once, follows a script of failures."""

    def __init__(self, secret: str = "") -> None:
        self.secret = secret
        self.script: list[str] = []  # per request, in order: "fail", "timeout", "apply_then_fail"; then "ok"
        self.received: Counter[str] = Counter()
        self.applied: list[int] = []
        self.bad_signatures = 0
        self.lock = threading.Lock()

    def handle(self, handler: BaseHTTPRequestHandler) -> int:
        body = handler.rfile.read(int(handler.headers["Content-Length"]))
        timestamp = handler.headers["X-Xinyong-Timestamp"]
        expected = hmac.new(self.secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(handler.headers["X-Xinyong-Signature"], f"sha256={expected}"):
            self.bad_signatures += 1
            return 401
        key = handler.headers["Idempotency-Key"]
        with self.lock:
            mode = self.script.pop(0) if self.script else "ok"
            self.received[key] += 1
        if mode == "timeout":
            time.sleep(1.0)
            return 200  # too late: the platform gave up and will send it again
        if mode == "fail":
            return 500
        with self.lock:
            if int(key) not in self.applied:  # dedup by idempotency key
                assert json.loads(body)["cursor"] == int(key)
                self.applied.append(int(key))
        return 500 if mode == "apply_then_fail" else 204


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            status = state.handle(self)
            try:
                self.send_response(status)
                self.end_headers()
            except OSError:
                pass  # the platform already hung up (timeout)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def _short_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XINYONG_WEBHOOK_TIMEOUT_SECONDS", "0.3")
    reset_settings()


def subscribe(db: Database, receiver: Receiver, url: str) -> int:
    with session_scope(db.engine, write=True) as session:
        issued = subscribers.create_subscriber(
            session=session, actor=Actor.cli(), name="镜像站", kind=SubscriberKind.PUBLIC
        )
        receiver.secret = subscribers.set_webhook(
            session=session, actor=Actor.cli(), subscriber=issued.subscriber, url=url
        )
        return issued.subscriber.id


def expected_ids(db: Database) -> list[int]:
    with session_scope(db.engine) as session:
        return [i["cursor"] for i in feed.read_feed(session=session, viewer=Viewer.public(), limit=1000).items]


def state_of(db: Database, subscriber_id: int) -> Subscriber:
    with session_scope(db.engine) as session:
        return session.get_one(Subscriber, subscriber_id)


def test_fail_timeout_recover_nothing_lost_nothing_twice(
    fresh_db: Database, tmp_path: Path, receiver: tuple[Receiver, str]
) -> None:
    sink, url = receiver
    register_unit(fresh_db)
    # Public penalties, and a minor one the public subscriber must never receive.
    rows = [penalty(i) for i in range(4)] + [penalty(9, CF_CFLB="警告", CF_NR="警告", CF_NR_FK=None)]
    ingest_rows(fresh_db, tmp_path, "administrative_penalty", rows, "p")
    subscriber_id = subscribe(fresh_db, sink, url)
    wanted = expected_ids(fresh_db)
    assert len(wanted) == 4

    t0 = clock.now()
    sink.script = ["fail"]
    report = webhooks.deliver_webhooks(engine=fresh_db.engine, now=t0)
    assert (report.delivered, report.failed) == (0, 1)
    retry_at = state_of(fresh_db, subscriber_id).next_attempt_at
    assert retry_at == t0 + dt.timedelta(seconds=30)
    assert webhooks.deliver_webhooks(engine=fresh_db.engine, now=t0 + dt.timedelta(seconds=5)).subscribers == []

    sink.script = ["timeout"]
    report = webhooks.deliver_webhooks(engine=fresh_db.engine, now=t0 + dt.timedelta(seconds=31))
    assert report.failed == 1
    assert state_of(fresh_db, subscriber_id).next_attempt_at == t0 + dt.timedelta(seconds=31 + 60)  # doubled

    # The receiver applies the first event but answers 500: it is sent again and deduplicated.
    sink.script = ["apply_then_fail"]
    webhooks.deliver_webhooks(engine=fresh_db.engine, now=t0 + dt.timedelta(seconds=200))
    report = webhooks.deliver_webhooks(engine=fresh_db.engine, now=t0 + dt.timedelta(seconds=400))
    assert report.failed == 0
    assert sink.applied == wanted  # everything, in order, once
    assert sink.received[str(wanted[0])] == 4  # fail, timeout, apply-then-fail, ok
    assert sink.bad_signatures == 0
    final = state_of(fresh_db, subscriber_id)
    assert final.webhook_after == feed_end(fresh_db) and final.attempts == 0 and final.lease_token is None

    with session_scope(fresh_db.engine) as session:
        log = list(session.scalars(sa.select(WebhookDelivery).order_by(WebhookDelivery.id)))
    assert [d.ok for d in log] == [False, False, False] + [True] * 4
    assert log[0].status_code == 500 and log[1].status_code is None and "timeout" in (log[1].error or "").lower()
    assert [d.attempt for d in log[:3]] == [1, 2, 3]

    # Replay from the start: everything is received again, nothing applied twice.
    with session_scope(fresh_db.engine, write=True) as session:
        subscribers.replay(
            session=session, actor=Actor.cli(), subscriber=session.get_one(Subscriber, subscriber_id), after=0
        )
    assert webhooks.deliver_webhooks(engine=fresh_db.engine, now=t0 + dt.timedelta(seconds=500)).delivered == 4
    assert sink.applied == wanted
    assert all(sink.received[str(i)] >= 2 for i in wanted)


def feed_end(db: Database) -> int:
    with session_scope(db.engine) as session:
        return feed.latest_cursor(session=session)


def test_two_workers_at_once_deliver_each_event_once(
    fresh_db: Database, tmp_path: Path, receiver: tuple[Receiver, str]
) -> None:
    sink, url = receiver
    register_unit(fresh_db)
    ingest_rows(fresh_db, tmp_path, "administrative_penalty", [penalty(i) for i in range(6)], "p")
    subscribe(fresh_db, sink, url)
    reports: list[webhooks.DeliveryReport] = []
    workers = [
        threading.Thread(target=lambda: reports.append(webhooks.deliver_webhooks(engine=fresh_db.engine)))
        for _ in range(2)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert sum(r.delivered for r in reports) == 6
    assert set(sink.received.values()) == {1} and len(sink.received) == 6


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://8.8.8.8/hook", None),
        ("http://127.0.0.1:9/hook", None),
        ("https://[::1]/hook", None),
        ("http://8.8.8.8/hook", "HTTPS"),
        ("https://10.1.2.3/hook", "内网"),
        ("https://192.168.0.10/hook", "内网"),
        ("https://169.254.169.254/latest", "内网"),
        ("ftp://8.8.8.8/x", "https://"),
        ("not a url", "https://"),
    ],
)
def test_endpoint_rules(url: str, problem: str | None) -> None:
    found = subscribers.endpoint_problem(url)
    assert (found is None) if problem is None else (found is not None and problem in found), found


def test_loopback_refused_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XINYONG_ENV", "production")
    for name in ("SECRET_KEY", "HASH_KEY"):
        monkeypatch.setenv(f"XINYONG_{name}", "not-the-default-" + name)
    monkeypatch.setenv("XINYONG_PII_KEY", "cHJvZHVjdGlvbi1rZXktMzItYnl0ZXMtbG9uZyEhISE=")
    reset_settings()
    assert "回环" in (subscribers.endpoint_problem("http://127.0.0.1:8080/hook") or "")
