"""The HTTP API: POST /api/v1/checks with an API key, list management restricted to the credit office."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests import factories
from tests.conftest import Database
from xinyong.accounts import service as accounts
from xinyong.accounts.models import Role
from xinyong.app import create_app
from xinyong.audit import service as audit
from xinyong.audit.service import Actor
from xinyong.core.database import session_scope


def test_check_api_and_roles(fresh_db: Database) -> None:
    with session_scope(fresh_db.engine, write=True) as session:
        checker = accounts.create_api_key(session=session, actor=Actor.cli(), role=Role.CHECKER).key
        office = accounts.create_api_key(session=session, actor=Actor.cli(), role=Role.CREDIT_OFFICE).key
        unit_key = accounts.create_api_key(
            session=session, actor=Actor.cli(), role=Role.SOURCE_UNIT, unit=factories.unit(session)
        ).key
        company = factories.subject(session)
        code, subject_id = company.uscc, company.id
    client = TestClient(create_app(fresh_db.engine))
    as_checker = {"Authorization": f"Bearer {checker}"}
    as_office = {"Authorization": f"Bearer {office}"}

    assert client.post("/api/v1/checks", json={"code": code, "matter": "bidding"}).status_code == 401
    denied = client.post(
        "/api/v1/checks", json={"code": code, "matter": "bidding"}, headers={"Authorization": f"Bearer {unit_key}"}
    )
    assert denied.status_code == 403

    # A checker can neither list nor remove.
    body = {"list_type": "government_procurement", "code": code, "reason": "提供虚假材料谋取中标"}
    refused = client.post("/api/v1/lists/entries", json=body, headers=as_checker)
    assert refused.status_code == 403 and "无权" in refused.json()["message"]
    entry = client.post("/api/v1/lists/entries", json=body, headers=as_office)
    assert entry.status_code == 201, entry.text
    entry_id = entry.json()["entry_id"]
    notice = client.post(f"/api/v1/lists/entries/{entry_id}/notice", json={"on": "2026-06-01"}, headers=as_office)
    assert notice.json()["representation_deadline"] == "2026-06-08"
    listed = client.post(f"/api/v1/lists/entries/{entry_id}/listing", json={}, headers=as_office)
    assert listed.status_code == 200 and listed.json()["state"] == "active"

    check = client.post("/api/v1/checks", json={"code": code, "matter": "政府采购"}, headers=as_checker)
    assert check.status_code == 200, check.text
    result = check.json()
    assert result["check_id"].startswith("HC20260615")
    assert result["subject"]["id"] == subject_id and result["grade"] is None
    assert [m["code"] for m in result["measures"]] == ["M01", "M02"]
    assert result["measures"][0]["basis"][0]["citation"] == "《中华人民共和国政府采购法》（2014修正）第七十七条"

    assert (
        client.post(
            f"/api/v1/lists/entries/{entry_id}/removal", json={"reason": "revoked"}, headers=as_checker
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/api/v1/lists/entries/{entry_id}/removal",
            json={"reason": "revoked", "note": "复议撤销"},
            headers=as_office,
        ).json()["status"]
        == "removed"
    )
    after = client.post("/api/v1/checks", json={"code": code, "matter": "政府采购"}, headers=as_checker).json()
    assert after["measures"] == []

    feedback = client.post(
        f"/api/v1/checks/{result['check_id']}/feedback",
        json={"items": [{"measure_code": "M01", "applied": True}], "department": "淄博市财政局"},
        headers=as_checker,
    )
    assert feedback.status_code == 201, feedback.text
    stats = client.get("/api/v1/checks/statistics?format=csv", headers=as_office)
    assert stats.status_code == 200 and "淄博市财政局,2026-06,1,1,0,0" in stats.content.decode("utf-8-sig")
    stored = client.get(f"/api/v1/checks/{result['check_id']}", headers=as_checker).json()
    assert stored["measures"] == result["measures"] and stored["feedback"][0]["applied"] is True

    ambiguous = client.post("/api/v1/checks", json={"name": "淄博", "matter": "bidding"}, headers=as_checker)
    assert ambiguous.status_code == 409 and ambiguous.json()["detail"]["candidates"][0]["subject_id"] == subject_id
    types = client.get("/api/v1/list-types", headers=as_checker).json()["items"]
    local = {t["code"]: t for t in types}["integrity_model"]
    assert local["accepts_entries"] is False and "信用办填写" in local["basis_note"]


def test_a_keyed_request_looks_its_key_up_once(fresh_db: Database) -> None:
    """The access matrix authenticates the key and the route's actor reuses it: one ``api_key`` lookup per request
    (there were two identical ones), and a revoked key is still refused on the next request."""
    with session_scope(fresh_db.engine, write=True) as session:
        issued = accounts.create_api_key(session=session, actor=Actor.cli(), role=Role.CHECKER)
        code = factories.subject(session).uscc
    client = TestClient(create_app(fresh_db.engine))
    headers = {"Authorization": f"Bearer {issued.key}"}
    lookups: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if "FROM api_key" in statement:
            lookups.append(statement)

    sa.event.listen(fresh_db.engine, "before_cursor_execute", count)
    try:
        answer = client.post("/api/v1/checks", json={"code": code, "matter": "bidding"}, headers=headers)
    finally:
        sa.event.remove(fresh_db.engine, "before_cursor_execute", count)
    assert answer.status_code == 200, answer.text
    assert answer.json()["subject"]["code"] == code
    assert len(lookups) == 1, lookups

    with session_scope(fresh_db.engine, write=True) as session:
        accounts.revoke_api_key(session=session, actor=Actor.cli(), prefix=issued.api_key.prefix)
    refused = client.post("/api/v1/checks", json={"code": code, "matter": "bidding"}, headers=headers)
    assert refused.status_code == 401 and "吊销" in refused.json()["message"]


def test_a_check_takes_the_sqlite_write_lock_only_to_store_itself(fresh_db: Database) -> None:
    """SQLite has one write lock for every writer: a check reads its key, subject, lists and records in a read
    transaction and takes the lock only for its own two rows and the audit chain, so checks and collection do not
    queue behind each other's reads (docs/benchmarks.md, "Soak"). On PostgreSQL a check stays one transaction."""
    with session_scope(fresh_db.engine, write=True) as session:
        key = accounts.create_api_key(session=session, actor=Actor.cli(), role=Role.CHECKER).key
        code = factories.subject(session).uscc
    client = TestClient(create_app(fresh_db.engine))
    begun: list[bool] = []
    under_lock: list[str] = []

    def begin(conn: sa.Connection) -> None:
        conn.info["writing"] = bool(conn.get_execution_options().get("sqlite_write"))
        begun.append(conn.info["writing"])

    def statement(conn: sa.Connection, _cursor: object, sql: str, *_args: object) -> None:
        if conn.info.get("writing"):
            under_lock.append(" ".join(sql.split()[:4]))

    def end(conn: sa.Connection) -> None:
        conn.info["writing"] = False

    listeners: list[tuple[str, Callable[..., None]]] = [
        ("begin", begin),
        ("before_cursor_execute", statement),
        ("commit", end),
        ("rollback", end),
    ]
    for name, fn in listeners:
        sa.event.listen(fresh_db.engine, name, fn)
    try:
        answer = client.post("/api/v1/checks", json={"code": code, "matter": "bidding"}, headers=_bearer(key))
    finally:
        for name, fn in listeners:
            sa.event.remove(fresh_db.engine, name, fn)
    assert answer.status_code == 200, answer.text
    if fresh_db.kind == "sqlite":
        assert begun == [False, True]  # the request's read transaction, then the short write
        assert under_lock, "the check was not stored in a write transaction"
        reads = [s for s in under_lock if s.startswith("SELECT") and "audit_chain_head" not in s]
        assert not reads, f"read under the write lock: {reads}"
    else:
        assert begun == [False]  # one transaction (no SQLite write flag on PostgreSQL)
    with session_scope(fresh_db.engine) as session:
        stored = session.scalar(
            sa.text("SELECT count(*) FROM credit_check WHERE check_no = :no"), {"no": answer.json()["check_id"]}
        )
        assert stored == 1
        assert audit.verify(session=session).ok


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
