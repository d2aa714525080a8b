"""A small world for the security tests: two units, two subjects, an account and an API key for every role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests import factories
from tests.conftest import Database
from tests.ingest.fixtures import PENALTY, valid_penalty_row
from xinyong.accounts import service as accounts
from xinyong.accounts.models import Account, Role
from xinyong.accounts.web import session_token
from xinyong.app import create_app
from xinyong.audit.service import Actor
from xinyong.core.settings import reset_settings
from xinyong.subjects.codes import make_uscc
from xinyong.web import csrf

UNIT_B_USCC = make_uscc("1", "1", "370300", "00400777")


@dataclass
class World:
    client: TestClient
    keys: dict[str, str] = field(default_factory=dict)  # role → API key (source_unit: unit A; subject: subject A)
    cookies: dict[str, str] = field(default_factory=dict)  # role → session cookie value
    code_a: str = ""
    code_b: str = ""
    subject_b_cookie: str = ""
    unit_b_key: str = ""
    batch_a: str = ""
    batch_b: str = ""

    def key_headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"} if role in self.keys else {}

    def cookie_headers(self, cookie: str | None) -> dict[str, str]:
        if not cookie:
            return {}
        return {"Cookie": f"xy_session={cookie}", "X-CSRF-Token": csrf.token_for(cookie)}


def _people(session: Session, world: World) -> None:
    unit_a = factories.unit(session)
    unit_b = factories.unit(session, uscc_code=UNIT_B_USCC, name="淄博市市场监督管理局", short_name="淄市监")
    subject_a = factories.subject(session, name="甲公司")
    subject_b = factories.subject(session, name="乙公司")
    world.code_a, world.code_b = str(subject_a.uscc), str(subject_b.uscc)
    cli = Actor.cli()
    for role in Role:
        unit = unit_a if role is Role.SOURCE_UNIT else None
        account = accounts.create_account(
            session=session, username=f"web-{role.value}", role=role, unit=unit, password="pw-123456",
            subject_id=subject_a.id if role is Role.SUBJECT else None,
        )  # fmt: skip
        world.cookies[role.value] = session_token(account)
        issued = accounts.create_api_key(session=session, actor=cli, role=role, unit=unit)
        if role is Role.SUBJECT:
            session.get(Account, issued.api_key.account_id).subject_id = subject_a.id  # type: ignore[union-attr]
        world.keys[role.value] = issued.key
    other = accounts.create_account(
        session=session, username="web-subject-b", role=Role.SUBJECT, password="pw-123456", subject_id=subject_b.id
    )
    world.subject_b_cookie = session_token(other)
    world.unit_b_key = accounts.create_api_key(session=session, actor=cli, role=Role.SOURCE_UNIT, unit=unit_b).key


@pytest.fixture
def world(fresh_db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.setenv("XINYONG_RATE_LIMIT_PER_MINUTE", "0")
    reset_settings()
    client = TestClient(create_app(fresh_db.engine), raise_server_exceptions=False)
    made = World(client=client)
    with Session(fresh_db.engine) as session:
        _people(session, made)
        session.commit()
    for attr, key, uscc in (("batch_a", made.keys["source_unit"], factories.UNIT_USCC), ("batch_b", made.unit_b_key,
                                                                                         UNIT_B_USCC)):  # fmt: skip
        rows = [valid_penalty_row(i, CF_SJLYDM=uscc) for i in range(3)] + [valid_penalty_row(9, CF_XDR_SHXYM="bad")]
        response = client.post(f"/api/v1/batches/{PENALTY}", json=rows, headers={"Authorization": f"Bearer {key}"})
        assert response.status_code in (200, 201), response.text
        setattr(made, attr, response.json()["batch_id"])
    with client:
        yield made
