"""Accounts, API keys and web sessions, on both engines."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests import factories
from xinyong.accounts import service as accounts
from xinyong.accounts import web
from xinyong.accounts.models import ApiKey, Role
from xinyong.audit.models import AuditEvent
from xinyong.audit.service import Actor
from xinyong.core.errors import InvalidInput, Unauthenticated


def test_api_key_is_stored_hashed_and_authenticates(session: Session) -> None:
    unit = factories.unit(session)
    issued = accounts.create_api_key(session=session, actor=Actor.cli(), role=Role.SOURCE_UNIT, unit=unit)
    stored = session.scalar(sa.select(ApiKey).where(ApiKey.prefix == issued.api_key.prefix))
    assert stored is not None and issued.key not in stored.key_hash
    actor = accounts.authenticate_key(session=session, key=issued.key)
    assert actor.name == f"api:{issued.api_key.prefix}" and actor.account_id == issued.api_key.account_id
    assert (actor.role, actor.unit_id, actor.region) == ("source_unit", unit.id, unit.region)
    created = sa.select(AuditEvent.action).where(AuditEvent.target_id == issued.api_key.prefix)
    assert session.scalar(created) == "apikey.create"


def test_wrong_or_revoked_keys_are_refused(session: Session) -> None:
    issued = accounts.create_api_key(session=session, actor=Actor.cli(), role=Role.CHECKER)
    with pytest.raises(Unauthenticated, match="无效"):
        accounts.authenticate_key(session=session, key=issued.key[:-1] + ("A" if issued.key[-1] != "A" else "B"))
    with pytest.raises(Unauthenticated, match="格式"):
        accounts.authenticate_key(session=session, key="not-a-key")
    accounts.revoke_api_key(session=session, actor=Actor.cli(), prefix=issued.api_key.prefix)
    with pytest.raises(Unauthenticated, match="吊销"):
        accounts.authenticate_key(session=session, key=issued.key)


def test_source_unit_key_needs_a_unit(session: Session) -> None:
    with pytest.raises(InvalidInput, match="--unit"):
        accounts.create_api_key(session=session, actor=Actor.cli(), role=Role.SOURCE_UNIT)
    with pytest.raises(InvalidInput, match="未知角色"):
        accounts.parse_role("superuser")


def test_sign_in_locks_after_repeated_failures(session: Session) -> None:
    accounts.create_account(session=session, username="officer", role=Role.CREDIT_OFFICE, password="正确的密码-1")
    assert web.sign_in(session=session, username="officer", password="正确的密码-1").username == "officer"
    for _ in range(web.MAX_FAILURES):
        with pytest.raises(Unauthenticated, match="用户名或密码错误"):
            web.sign_in(session=session, username="officer", password="wrong")
    with pytest.raises(Unauthenticated, match="锁定"):
        web.sign_in(session=session, username="officer", password="正确的密码-1")


def test_session_token_round_trip_tamper_and_expiry(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    account = accounts.create_account(session=session, username="clerk", role=Role.CHECKER, password="pw-123456")
    token = web.session_token(account)
    assert web.account_id_from_token(token) == account.id
    body, _, signature = token.partition(".")
    assert web.account_id_from_token(body + "." + "0" * len(signature)) is None
    expired = web.session_token(account, hours=-1)
    assert web.account_id_from_token(expired) is None
    assert dt.timedelta(hours=web.SESSION_HOURS).total_seconds() > 0
