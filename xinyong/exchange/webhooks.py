"""Webhook delivery: each feed item a subscriber may see, POSTed to its endpoint in cursor order, signed, retried.

Guarantees. *At least once*: the subscriber's cursor (``webhook_after``) moves past an event only after its endpoint
answered 2xx, in the same transaction as the delivery log row; a crash between the POST and that commit sends the
event again, with the same idempotency key (the event id), which the receiver uses to drop the repeat. *In order*:
a failure stops that subscriber's deliveries until the retry, so a later event never overtakes an earlier one.
*Backoff*: the n-th consecutive failure waits ``webhook_backoff_seconds × 2^(n-1)``, at most
``webhook_backoff_max_seconds``; there is no last attempt — events are never dropped, the log shows the failures.
*Concurrency*: ``deliver_webhooks`` may run in several workers at once; a worker first claims a subscriber with a
conditional UPDATE (a lease with a random token and an expiry), commits, and every later write checks the token, so
two workers never deliver for the same subscriber at the same time, and a crashed worker's lease simply expires.

Signature: ``X-Xinyong-Signature: sha256=<hex>`` is HMAC-SHA256, under the subscriber's secret, of
``<X-Xinyong-Timestamp>.<body>`` (the Unix time in seconds, a dot, the raw body bytes); see docs/exchange.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any, cast

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from xinyong.core import clock
from xinyong.core.crypto import decrypt
from xinyong.core.database import session_scope
from xinyong.core.logging import get_logger
from xinyong.core.settings import get_settings
from xinyong.exchange import feed, subscribers
from xinyong.exchange.models import Subscriber, WebhookDelivery

log = get_logger(__name__)

_subscriber = cast(sa.Table, Subscriber.__table__)
USER_AGENT = "xinyong-webhook/1"


@dataclass
class DeliveryReport:
    delivered: int = 0
    failed: int = 0
    subscribers: list[int] = field(default_factory=list)  # the subscribers this call worked for


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def backoff(attempts: int) -> dt.timedelta:
    settings = get_settings()
    seconds = min(settings.webhook_backoff_seconds * (2 ** max(attempts - 1, 0)), settings.webhook_backoff_max_seconds)
    return dt.timedelta(seconds=seconds)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect could point anywhere (an internal address): a webhook goes only to the registered endpoint.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str | None]:
    """(status, error): status None when no answer came (refused, timed out)."""
    if problem := subscribers.endpoint_problem(url):
        return None, problem
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=get_settings().webhook_timeout_seconds) as response:
            return int(response.status), None
    except urllib.error.HTTPError as exc:
        return int(exc.code), f"HTTP {exc.code}"
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return None, f"{type(reason).__name__}: {reason}"[:500]


def _claim(engine: Engine, subscriber_id: int, now: dt.datetime) -> str | None:
    token = secrets.token_hex(16)
    lease = dt.timedelta(seconds=get_settings().webhook_lease_seconds)
    with session_scope(engine, write=True) as session:
        result = session.execute(
            sa.update(_subscriber)
            .where(
                _subscriber.c.id == subscriber_id,
                sa.or_(_subscriber.c.lease_until.is_(None), _subscriber.c.lease_until < now),
                sa.or_(_subscriber.c.next_attempt_at.is_(None), _subscriber.c.next_attempt_at <= now),
            )
            .values(lease_token=token, lease_until=now + lease)
        )
        claimed = cast(sa.CursorResult[Any], result).rowcount == 1
    return token if claimed else None


def _candidates(engine: Engine, now: dt.datetime) -> list[int]:
    with session_scope(engine) as session:
        latest = feed.latest_cursor(session=session)
        return list(
            session.scalars(
                sa.select(Subscriber.id)
                .where(
                    Subscriber.active.is_(True),
                    Subscriber.webhook_url.is_not(None),
                    Subscriber.webhook_after < latest,
                    sa.or_(Subscriber.next_attempt_at.is_(None), Subscriber.next_attempt_at <= now),
                    sa.or_(Subscriber.lease_until.is_(None), Subscriber.lease_until < now),
                )
                .order_by(Subscriber.id)
            )
        )


def _record(
    engine: Engine,
    *,
    subscriber_id: int,
    token: str,
    event_id: int,
    attempt: int,
    ok: bool,
    status: int | None,
    error: str | None,
    duration_ms: int,
    now: dt.datetime,
    cursor: int | None,
) -> bool:
    """Log one attempt and move the cursor (success) or schedule the retry (failure), if we still hold the lease."""
    with session_scope(engine, write=True) as session:
        values: dict[str, Any]
        if ok:
            values = {"webhook_after": cursor, "attempts": 0, "next_attempt_at": None}
        else:
            values = {"attempts": attempt, "next_attempt_at": now + backoff(attempt)}
        result = session.execute(
            sa.update(_subscriber)
            .where(_subscriber.c.id == subscriber_id, _subscriber.c.lease_token == token)
            .values(**values)
        )
        if cast(sa.CursorResult[Any], result).rowcount != 1:
            return False  # the lease expired and another worker took over: its writes win
        if event_id:
            session.add(
                WebhookDelivery(
                    subscriber_id=subscriber_id,
                    event_id=event_id,
                    attempt=attempt,
                    at=now,
                    ok=ok,
                    status_code=status,
                    error=error,
                    duration_ms=duration_ms,
                )
            )
    return True


def _release(engine: Engine, subscriber_id: int, token: str) -> None:
    with session_scope(engine, write=True) as session:
        session.execute(
            sa.update(_subscriber)
            .where(_subscriber.c.id == subscriber_id, _subscriber.c.lease_token == token)
            .values(lease_token=None, lease_until=None)
        )


def _deliver_one(engine: Engine, subscriber_id: int, token: str, now: dt.datetime, batch: int) -> tuple[int, int, bool]:
    """One page of the feed: (delivered, failed, whether another page may follow)."""
    with session_scope(engine) as session:
        subscriber = session.get_one(Subscriber, subscriber_id)
        url, after, attempts = subscriber.webhook_url, subscriber.webhook_after, subscriber.attempts
        secret = decrypt(subscriber.secret_cipher) if subscriber.secret_cipher else ""
        page = feed.read_feed(session=session, viewer=subscribers.viewer_of(subscriber), after=after, limit=batch)
    assert url is not None
    delivered = 0
    for item in page.items:
        body = orjson.dumps(item)
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Idempotency-Key": str(item["cursor"]),
            "X-Xinyong-Event": item["kind"],
            "X-Xinyong-Timestamp": str(timestamp),
            "X-Xinyong-Signature": signature(secret, timestamp, body),
        }
        started = time.monotonic()
        status, error = _post(url, body, headers)
        elapsed = int((time.monotonic() - started) * 1000)
        ok = status is not None and 200 <= status < 300
        attempt = 1 if ok else attempts + 1
        held = _record(
            engine,
            subscriber_id=subscriber_id,
            token=token,
            event_id=item["cursor"],
            attempt=attempts + 1,
            ok=ok,
            status=status,
            error=error,
            duration_ms=elapsed,
            now=now,
            cursor=item["cursor"],
        )
        if not held:
            return delivered, 0, False
        if not ok:
            log.warning(
                "webhook failed", subscriber=subscriber_id, event_id=item["cursor"], attempt=attempt, error=error
            )
            return delivered, 1, False
        delivered += 1
        attempts = 0
    if page.next_after > after:
        # Events the subscriber may not see: skipped over, nothing to deliver.
        _record(
            engine,
            subscriber_id=subscriber_id,
            token=token,
            event_id=0,
            attempt=0,
            ok=True,
            status=None,
            error=None,
            duration_ms=0,
            now=now,
            cursor=page.next_after,
        )
    return delivered, 0, page.has_more


def deliver_webhooks(*, engine: Engine, now: dt.datetime | None = None, batch: int = 100) -> DeliveryReport:
    """One round for every subscriber due (the worker calls it in a loop); safe to run concurrently."""
    now = now or clock.now()
    report = DeliveryReport()
    for subscriber_id in _candidates(engine, now):
        token = _claim(engine, subscriber_id, now)
        if token is None:
            continue  # another worker has it, or it is waiting for its retry
        report.subscribers.append(subscriber_id)
        try:
            while True:
                delivered, failed, more = _deliver_one(engine, subscriber_id, token, now, batch)
                report.delivered += delivered
                report.failed += failed
                if failed or not more:
                    break
        finally:
            _release(engine, subscriber_id, token)
    return report


def deliveries(*, engine: Engine, subscriber_id: int, limit: int = 100) -> list[WebhookDelivery]:
    with session_scope(engine) as session:
        return list(
            session.scalars(
                sa.select(WebhookDelivery)
                .where(WebhookDelivery.subscriber_id == subscriber_id)
                .order_by(WebhookDelivery.id.desc())
                .limit(limit)
            )
        )
