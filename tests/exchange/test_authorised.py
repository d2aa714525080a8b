"""授权查询: only under the subject's authorisation (scope, purpose, period, revocable); every read logged and listed
for the subject; the subject grants from its own view; the credit office records paper authorisations."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.conftest import Database
from tests.exchange.conftest import load_instance, penalty
from xinyong.accounts import service as accounts
from xinyong.accounts.models import Role
from xinyong.app import create_app
from xinyong.audit.service import Actor
from xinyong.core.database import session_scope
from xinyong.exchange import subscribers
from xinyong.exchange.models import SubscriberKind
from xinyong.subjects.search import find_by_code
from xinyong.web import csrf

REPO = Path(__file__).resolve().parents[2]


def _setup(db: Database, tmp_path: Path) -> tuple[TestClient, str, str, int, str]:
    load_instance(db, tmp_path)
    code = penalty(6)["CF_XDR_SHXYM"]  # has a minor penalty: not public
    with session_scope(db.engine, write=True) as session:
        subject = find_by_code(session=session, code=code)
        assert subject is not None
        accounts.create_account(session=session, username="company6", role=Role.SUBJECT, password="pw-123456",
                                subject_id=subject.id)  # fmt: skip
        bank = subscribers.create_subscriber(
            session=session, actor=Actor.cli(), name="齐鲁银行", kind=SubscriberKind.AGENCY, uscc="91370000163000000X"
        )
        office_key = accounts.create_api_key(session=session, actor=Actor.cli(), role=Role.CREDIT_OFFICE).key
    client = TestClient(create_app(db.engine))
    return client, code, bank.key, bank.subscriber.id, office_key


def test_authorised_read_lifecycle(fresh_db: Database, tmp_path: Path) -> None:
    client, code, bank_key, bank_id, _ = _setup(fresh_db, tmp_path)
    bank = {"Authorization": f"Bearer {bank_key}"}
    url = f"/api/v1/authorised/subjects/{code}"
    assert client.get(url, params={"purpose": "贷款审批"}, headers=bank).status_code == 403  # no authorisation yet

    owner = TestClient(create_app(fresh_db.engine))
    assert (
        owner.post("/login", data={"username": "company6", "password": "pw-123456"}, follow_redirects=False).status_code
        == 303
    )
    # A script using the session cookie sends the CSRF token in a header (xinyong/web/csrf.py).
    owner.headers["X-CSRF-Token"] = csrf.token_for(owner.cookies["xy_session"].strip('"'))
    granted = owner.post("/api/v1/me/authorisations", json={"agency_id": bank_id, "purpose": "贷款审批",
                                                             "valid_to": "2026-12-31"})  # fmt: skip
    assert granted.status_code == 201, granted.text
    assert granted.json()["state"] == "active"

    read = client.get(url, params={"purpose": "贷款审批"}, headers=bank)
    assert read.status_code == 200, read.text
    shown = [r["doc_no"] for s in read.json()["sections"] for r in s["records"]]
    assert penalty(6)["CF_WSH"] in shown  # the non-public record, under the authorisation
    public = client.get(f"/api/v1/subjects/{code}").json()
    assert penalty(6)["CF_WSH"] not in [r["doc_no"] for s in public["sections"] for r in s["records"]]

    assert client.get(url, params={"purpose": "营销"}, headers=bank).status_code == 403  # another purpose
    reads = owner.get("/api/v1/me/authorisations").json()["reads"]
    assert [(r["agency"], r["purpose"]) for r in reads] == [("齐鲁银行", "贷款审批")]
    page = owner.get("/me/authorisations")
    assert page.status_code == 200 and "齐鲁银行" in page.text and "贷款审批" in page.text

    # Revoked: no more reads.
    authorisation_id = granted.json()["id"]
    assert owner.delete(f"/api/v1/me/authorisations/{authorisation_id}").json()["state"] == "revoked"
    assert client.get(url, params={"purpose": "贷款审批"}, headers=bank).status_code == 403


def test_scope_period_and_who_may_grant(fresh_db: Database, tmp_path: Path) -> None:
    client, code, bank_key, bank_id, office_key = _setup(fresh_db, tmp_path)
    office = {"Authorization": f"Bearer {office_key}"}
    body = {"subject_code": code, "agency_id": bank_id, "purpose": "授信", "valid_to": "2026-12-31",
            "scope": ["administrative_license"], "evidence": "授权书〔2026〕12号"}  # fmt: skip
    created = client.post("/api/v1/authorisations", json=body, headers=office)
    assert created.status_code == 201 and created.json()["method"] == "paper"
    read = client.get(f"/api/v1/authorised/subjects/{code}", params={"purpose": "授信"},
                      headers={"Authorization": f"Bearer {bank_key}"})  # fmt: skip
    assert read.status_code == 200
    resources = {r["resource"] for s in read.json()["sections"] for r in s["records"]}
    assert resources <= {"administrative_license"}  # the penalty is outside the scope

    # The bank cannot record an authorisation for itself; an expired one does not work.
    assert (
        client.post("/api/v1/authorisations", json=body, headers={"Authorization": f"Bearer {bank_key}"}).status_code
        == 403
    )
    expired = body | {"purpose": "旧用途", "valid_from": "2025-01-01", "valid_to": "2025-12-31"}
    assert client.post("/api/v1/authorisations", json=expired, headers=office).status_code == 201
    old = client.get(f"/api/v1/authorised/subjects/{code}", params={"purpose": "旧用途"},
                     headers={"Authorization": f"Bearer {bank_key}"})  # fmt: skip
    assert old.status_code == 403


def test_cli_push_pull_and_subscriber(fresh_db: Database, second_db: Database, tmp_path: Path) -> None:
    load_instance(fresh_db, tmp_path)

    def run(db: Database, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "XINYONG_DATABASE_URL": db.url, "PYTHONPATH": str(REPO)}
        return subprocess.run([sys.executable, "-m", "xinyong", *args], env=env, capture_output=True, text=True,
                              timeout=120)  # fmt: skip

    pushed = run(fresh_db, "exchange", "push", "--out", str(tmp_path / "out"), "--target", "province", "--json")
    assert pushed.returncode == 0, pushed.stderr
    import json

    result = json.loads(pushed.stdout.strip().splitlines()[-1])
    penalties = next(f for f in result["files"] if "administrative_penalty" in f and f.endswith(".csv"))
    pulled = run(
        second_db,
        "exchange",
        "pull",
        penalties,
        "--resource",
        "administrative_penalty",
        "--origin",
        "province",
        "--json",
    )
    assert pulled.returncode == 0, pulled.stderr
    summary = json.loads(pulled.stdout.strip().splitlines()[-1])
    assert summary["rejected"] == 0 and summary["accepted"] == result["counts"]["administrative_penalty"]["upsert"]
    assert summary["external_units"] == 1

    added = run(fresh_db, "exchange", "subscriber", "add", "--name", "某征信公司", "--kind", "agency")
    assert added.returncode == 0 and added.stdout.strip().splitlines()[-1].startswith("xs_")
    bad = run(fresh_db, "exchange", "subscriber", "add", "--name", "x", "--kind", "nobody")
    assert bad.returncode != 0 and "未知订阅方类型" in bad.stderr
    with session_scope(second_db.engine) as session:
        origins = set(session.scalars(sa.text("select distinct origin from record")))
    assert origins == {"province"}
