"""Accounts and API keys. Keys are random 256-bit strings, so a plain SHA-256 of them is a safe stored form."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from sqlalchemy.orm import Session

from xinyong.accounts.models import Account, ApiKey, Role
from xinyong.audit import service as audit
from xinyong.audit.service import Actor
from xinyong.catalog.models import SourceUnit
from xinyong.core import clock
from xinyong.core.errors import InvalidInput, Unauthenticated

KEY_PREFIX = "xy_"
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except VerificationError:
        return False


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise InvalidInput(f"未知角色：{value}（可选：{'、'.join(r.value for r in Role)}）") from None


def create_account(
    *,
    session: Session,
    username: str,
    role: Role,
    display_name: str | None = None,
    password: str | None = None,
    unit: SourceUnit | None = None,
    subject_id: int | None = None,
    region: str | None = None,
) -> Account:
    if role is Role.SOURCE_UNIT and unit is None:
        raise InvalidInput("信息提供单位账号必须指定所属单位")
    account = Account(
        username=username,
        display_name=display_name or username,
        role=role.value,
        unit_id=unit.id if unit else None,
        subject_id=subject_id,
        region=region if region is not None else (unit.region if unit else None),
        password_hash=hash_password(password) if password else None,
        created_at=clock.now(),
    )
    session.add(account)
    session.flush()
    return account


@dataclass(frozen=True)
class IssuedKey:
    key: str
    api_key: ApiKey


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(
    *, session: Session, actor: Actor, role: Role, unit: SourceUnit | None = None, label: str | None = None
) -> IssuedKey:
    """Issue a key for a unit (or for the platform when ``unit`` is None); only its hash is stored."""
    if role is Role.SOURCE_UNIT and unit is None:
        raise InvalidInput("信息提供单位角色的密钥必须指定 --unit")
    prefix = secrets.token_hex(6)
    key = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    username = f"api-{prefix}"
    account = create_account(session=session, username=username, role=role, unit=unit, display_name=label)
    api_key = ApiKey(
        prefix=prefix,
        key_hash=_digest(key),
        account_id=account.id,
        role=role.value,
        unit_id=unit.id if unit else None,
        region=unit.region if unit else None,
        label=label,
        created_at=clock.now(),
    )
    session.add(api_key)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="apikey.create",
        target_type="api_key",
        target_id=prefix,
        detail={"role": role.value, "unit": unit.uscc if unit else None},
    )
    return IssuedKey(key=key, api_key=api_key)


# A key's stored facts, by its prefix: read on every keyed request, so in SQLAlchemy Core and built once. Loading the
# ``ApiKey`` entity (the ORM's identity map and instance state) cost each lookup about 0.1 ms more CPU, 501–512 µs
# against 362–424 with the session's opening and closing (docs/benchmarks.md, "Soak", session 16).
_api_key = ApiKey.__table__
_KEY_BY_PREFIX = sa.select(
    _api_key.c.key_hash,
    _api_key.c.revoked_at,
    _api_key.c.role,
    _api_key.c.account_id,
    _api_key.c.unit_id,
    _api_key.c.region,
).where(_api_key.c.prefix == sa.bindparam("prefix"))


def authenticate_key(*, session: Session, key: str) -> Actor:
    """The actor an API key acts as; refuses a malformed, unknown, wrong or revoked key."""
    parts = key.split("_", 2)
    if len(parts) != 3 or f"{parts[0]}_" != KEY_PREFIX:
        raise Unauthenticated("API 密钥格式错误")
    found = session.execute(_KEY_BY_PREFIX, {"prefix": parts[1]}).first()
    if found is None or not hmac.compare_digest(found.key_hash, _digest(key)):
        raise Unauthenticated("API 密钥无效")
    if found.revoked_at is not None:
        raise Unauthenticated("API 密钥已被吊销")
    return Actor(
        name=f"api:{parts[1]}",
        role=found.role,
        account_id=found.account_id,
        unit_id=found.unit_id,
        region=found.region,
    )


def revoke_api_key(*, session: Session, actor: Actor, prefix: str) -> ApiKey:
    api_key = session.scalar(sa.select(ApiKey).where(ApiKey.prefix == prefix))
    if api_key is None:
        raise InvalidInput(f"没有前缀为 {prefix} 的密钥")
    api_key.revoked_at = clock.now()
    audit.record(session=session, actor=actor, action="apikey.revoke", target_type="api_key", target_id=prefix)
    session.flush()
    return api_key
