"""Subscribers of the change feed: who they are, their keys, their webhook endpoint.

A subscriber has its own key (``xs_<prefix>_<secret>``, only the SHA-256 is stored), separate from the platform's API
keys, so that a public or agency subscriber gains no role anywhere else in the API. Its kind decides its viewer:
``public`` → what the public may see; ``department`` (bound to a source unit) → 政务共享 data; ``agency`` (信用服务机构,
bank) → what the public may see on the feed, and a subject's non-public data only through an authorisation
(``authorised.py``). A department may also read the feed with its ordinary API key (role ``checker`` / ``source_unit``).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.orm import Session

from xinyong.audit import service as audit
from xinyong.audit.service import Actor
from xinyong.catalog.models import SourceUnit
from xinyong.core import clock
from xinyong.core.crypto import encrypt
from xinyong.core.errors import InvalidInput, NotFound, Unauthenticated
from xinyong.core.settings import get_settings
from xinyong.disclosure import Viewer
from xinyong.exchange.models import Subscriber, SubscriberKind

KEY_PREFIX = "xs_"


@dataclass(frozen=True)
class IssuedSubscriber:
    key: str
    subscriber: Subscriber


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def parse_kind(value: str) -> SubscriberKind:
    try:
        return SubscriberKind(value)
    except ValueError:
        raise InvalidInput(f"未知订阅方类型：{value}（可选：public、department、agency）") from None


def create_subscriber(
    *,
    session: Session,
    actor: Actor,
    name: str,
    kind: SubscriberKind,
    unit: SourceUnit | None = None,
    uscc: str | None = None,
) -> IssuedSubscriber:
    if kind is SubscriberKind.DEPARTMENT and unit is None:
        raise InvalidInput("政务共享部门订阅方必须指定所属单位（--unit）")
    prefix = secrets.token_hex(6)
    key = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    subscriber = Subscriber(
        name=name,
        kind=kind.value,
        unit_id=unit.id if unit else None,
        uscc=uscc or (unit.uscc if unit else None),
        key_prefix=prefix,
        key_hash=_digest(key),
        webhook_after=0,
        attempts=0,
        active=True,
        created_at=clock.now(),
    )
    session.add(subscriber)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="exchange.subscriber.create",
        target_type="subscriber",
        target_id=subscriber.id,
        detail={"name": name, "kind": kind.value, "unit": unit.uscc if unit else None},
    )
    return IssuedSubscriber(key=key, subscriber=subscriber)


def is_subscriber_key(key: str) -> bool:
    return key.startswith(KEY_PREFIX)


def authenticate(*, session: Session, key: str) -> Subscriber:
    parts = key.split("_", 2)
    if len(parts) != 3 or f"{parts[0]}_" != KEY_PREFIX:
        raise Unauthenticated("订阅密钥格式错误")
    subscriber = session.scalar(sa.select(Subscriber).where(Subscriber.key_prefix == parts[1]))
    if subscriber is None or not hmac.compare_digest(subscriber.key_hash, _digest(key)):
        raise Unauthenticated("订阅密钥无效")
    if not subscriber.active:
        raise Unauthenticated("订阅已停用")
    return subscriber


def viewer_of(subscriber: Subscriber) -> Viewer:
    return Viewer.shared() if subscriber.kind == SubscriberKind.DEPARTMENT else Viewer.public()


def actor_of(subscriber: Subscriber) -> Actor:
    return Actor(name=f"sub:{subscriber.key_prefix}", role="subscriber", unit_id=subscriber.unit_id)


def get_subscriber(*, session: Session, subscriber_id: int) -> Subscriber:
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None:
        raise NotFound(f"订阅方 {subscriber_id} 不存在")
    return subscriber


# --- webhook endpoints ---------------------------------------------------------------------------------------------


def _loopback_allowed() -> bool:
    settings = get_settings()
    return settings.webhook_allow_loopback and settings.env != "production"


def _address_problem(address: str) -> str | None:
    ip = ipaddress.ip_address(address)
    if ip.is_loopback:
        return None if _loopback_allowed() else "不允许推送到本机回环地址（仅开发环境允许）"
    if ip.is_private or ip.is_link_local or ip.is_reserved or ip.is_multicast or ip.is_unspecified:
        return f"不允许推送到内网或保留地址 {address}"
    return None


def endpoint_problem(url: str, *, resolve: bool = True) -> str | None:
    """Why ``url`` may not receive webhooks, or None. HTTPS to a public address; plain HTTP only to loopback in
    development. Host names are resolved and every address checked (again at each delivery, against DNS tricks)."""
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a port that is not a number from 0 to 65535
    except ValueError:
        return "推送地址不是有效的网址（主机名或端口有误）"
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "推送地址必须是 https:// 开头的完整网址"
    if any(ch.isspace() or ord(ch) < 0x20 for ch in url):
        return "推送地址不能含有空白或控制字符"
    host = parts.hostname
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        if not resolve:
            addresses = []
        else:
            try:
                addresses = sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port or 443)})
            except (OSError, UnicodeError):  # UnicodeError: a name IDNA cannot encode (empty or overlong label)
                return f"无法解析推送地址的主机名 {host}"
    for address in addresses:
        if problem := _address_problem(address.split("%")[0]):
            return problem
    loopback = bool(addresses) and all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses)
    if parts.scheme == "http" and not loopback:
        return "推送地址必须使用 HTTPS（仅本机回环地址可用 HTTP）"
    return None


def set_webhook(*, session: Session, actor: Actor, subscriber: Subscriber, url: str, after: int | None = None) -> str:
    """Register (or replace) the subscriber's endpoint; returns the new signing secret (shown once)."""
    if problem := endpoint_problem(url):
        raise InvalidInput(f"推送地址不可用：{problem}")
    secret = secrets.token_urlsafe(32)
    subscriber.webhook_url = url
    subscriber.secret_cipher = encrypt(secret)
    subscriber.attempts = 0
    subscriber.next_attempt_at = None
    if after is not None:
        subscriber.webhook_after = after
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="exchange.webhook.set",
        target_type="subscriber",
        target_id=subscriber.id,
        detail={"url": url, "after": subscriber.webhook_after},
    )
    return secret


def replay(*, session: Session, actor: Actor, subscriber: Subscriber, after: int) -> None:
    """Deliver again everything after ``after`` (the subscriber deduplicates by the idempotency key)."""
    if after < 0:
        raise InvalidInput("游标不能为负数")
    subscriber.webhook_after = after
    subscriber.attempts = 0
    subscriber.next_attempt_at = None
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="exchange.webhook.replay",
        target_type="subscriber",
        target_id=subscriber.id,
        detail={"after": after},
    )
