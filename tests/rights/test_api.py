"""The rights workflows through HTTP: the effect of each outcome seen through the public subject API and the check
API; registration with the development verifier; who may call what (403)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests import factories
from tests.conftest import Database
from tests.rights.conftest import World
from xinyong.accounts import service as accounts
from xinyong.accounts.models import Account, Role
from xinyong.accounts.web import COOKIE, session_token
from xinyong.app import create_app
from xinyong.audit.service import Actor
from xinyong.core.deps import get_session
from xinyong.core.settings import reset_settings
from xinyong.lists import service as lists
from xinyong.portal.publicity import forget_figures
from xinyong.web import csrf


@pytest.fixture
def client(session: Session, db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("XINYONG_RATE_LIMIT_PER_MINUTE", "0")
    reset_settings()
    forget_figures()
    app = create_app(engine=db.engine)

    def _same_session() -> Iterator[Session]:
        yield session
        session.flush()

    app.dependency_overrides[get_session] = _same_session
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def _cookie(session: Session, username: str, role: Role, **kw: object) -> dict[str, str]:
    """Headers of a script using the session cookie: it sends the CSRF token in a header (xinyong/web/csrf.py)."""
    account = accounts.create_account(session=session, username=username, role=role, password="pw-12345678", **kw)  # type: ignore[arg-type]
    cookie = session_token(account)
    return {"Cookie": f"{COOKIE}={cookie}", "X-CSRF-Token": csrf.token_for(cookie)}


def _key(session: Session, role: Role, unit: object = None) -> dict[str, str]:
    issued = accounts.create_api_key(session=session, actor=Actor.cli(), role=role, unit=unit)  # type: ignore[arg-type]
    return {"Authorization": f"Bearer {issued.key}"}


def _records(client: TestClient, code: str) -> dict[str, dict[str, object]]:
    body = client.get(f"/api/v1/subjects/{code}").json()
    return {r["doc_no"]: r for s in body["sections"] for r in s["records"]}


def test_objection_by_http_marks_then_deletion_hides(client: TestClient, session: Session, world: World) -> None:
    me = _cookie(session, "hengxin", Role.SUBJECT, subject_id=world.company.id)
    office = _cookie(session, "office", Role.CREDIT_OFFICE)
    unit_key = _key(session, Role.SOURCE_UNIT, world.unit)
    other_unit_key = _key(session, Role.SOURCE_UNIT, world.other_unit)
    code, doc = world.company.uscc or "", world.penalty.doc_no

    r = client.post(
        "/api/v1/objections", json={"record_id": world.others_penalty.id, "reasons": "不是本企业的处罚"}, headers=me
    )
    assert r.status_code == 403, r.text
    r = client.post(
        "/api/v1/objections",
        json={"record_id": world.penalty.id, "reasons": "处罚已被复议撤销", "request": "delete"},
        headers=me,
    )
    assert r.status_code == 201, r.text
    oid = r.json()["id"]
    assert r.json()["deadline"]["due"] == "2026-06-16" and r.json()["deadline_provisional"] is False
    r = client.post(f"/api/v1/objections/{oid}/attachments", headers=me,
                    files={"file": ("复议决定书.pdf", b"%PDF-1.4 decision", "application/pdf")})  # fmt: skip
    assert r.status_code == 201, r.text
    r = client.post(
        f"/api/v1/objections/{oid}/attachments", headers=me, files={"file": ("x.exe", b"MZ", "application/x")}
    )
    assert r.status_code == 422 and "类型不允许" in r.json()["message"]

    assert client.post(f"/api/v1/objections/{oid}/accept", json={}, headers=me).status_code == 403
    assert client.post(f"/api/v1/objections/{oid}/accept", json={}, headers=office).status_code == 200
    assert _records(client, code)[doc]["objection_mark"] == "异议处理中"
    check_key = _key(session, Role.CHECKER)
    check = client.post("/api/v1/checks", json={"code": code, "matter": "政府采购"}, headers=check_key).json()
    assert [x["doc_no"] for x in check["objection_records"]] == [doc]

    client.post(f"/api/v1/objections/{oid}/forward", json={}, headers=office)
    r = client.post(f"/api/v1/objections/{oid}/verify", json={"outcome": "upheld", "note": "x"}, headers=other_unit_key)
    assert r.status_code == 403, r.text
    assert client.get(f"/api/v1/objections/{oid}", headers=other_unit_key).status_code == 403
    assert client.get("/api/v1/objections", headers=other_unit_key).json()["total"] == 0
    r = client.post(
        f"/api/v1/objections/{oid}/verify", json={"outcome": "deleted", "note": "已被复议撤销"}, headers=unit_key
    )
    assert r.status_code == 200 and r.json()["status"] == "deleted"
    assert doc not in _records(client, code)
    client.post(f"/api/v1/objections/{oid}/answer", json={"text": "经核实已删除"}, headers=office)
    mine = client.get(f"/api/v1/objections/{oid}", headers=me).json()
    assert mine["status"] == "answered" and [h["step"] for h in mine["history"]] == [
        "submitted", "accepted", "forwarded", "deleted", "answered"]  # fmt: skip
    due = client.get("/api/v1/rights/due", headers=office).json()
    assert all(i["id"] != oid for i in due["items"] if i["kind"] == "objection")


def test_repair_of_a_list_entry_stops_the_punishment_in_checks(
    client: TestClient, session: Session, world: World
) -> None:
    office_actor = Actor(name="office", role="credit_office")
    entry = lists.propose(session=session, actor=office_actor, list_type_code="government_procurement",
                          subject_id=world.company.id, reason="提供虚假材料谋取中标", doc_no="淄财采〔2025〕3号",
                          authority="淄博市财政局")  # fmt: skip
    lists.send_notice(session=session, actor=office_actor, entry_id=entry.id, on=dt.date(2025, 3, 3))
    lists.confirm_listing(session=session, actor=office_actor, entry_id=entry.id, listed_on=dt.date(2025, 4, 1),
                          expires_on=dt.date(2028, 3, 31))  # fmt: skip
    checker = _key(session, Role.CHECKER)
    code = world.company.uscc
    before = client.post("/api/v1/checks", json={"code": code, "matter": "政府采购"}, headers=checker).json()
    assert any(m["code"] == "M01" for m in before["measures"])

    me = _cookie(session, "hengxin2", Role.SUBJECT, subject_id=world.company.id)
    office = _cookie(session, "office2", Role.CREDIT_OFFICE)
    assert client.get(f"/api/v1/repairs/eligibility?list_entry_id={entry.id}", headers=me).json()["eligible"]
    body = {"list_entry_id": entry.id, "statement": "已整改并参加培训", "sign_commitment": True,
            "evidence": {"obligations": "已履行", "training": "已培训", "report": "整改报告见附件"}}  # fmt: skip
    r = client.post("/api/v1/repairs", json=body, headers=me)
    assert r.status_code == 201, r.text
    aid = r.json()["id"]
    assert r.json()["accept_due"] == "2026-06-17"
    assert client.post(f"/api/v1/repairs/{aid}/accept", headers=office).status_code == 200
    r = client.post(f"/api/v1/repairs/{aid}/approve", json={"note": "准予"}, headers=office)
    assert r.status_code == 200 and r.json()["status"] == "approved", r.text
    after = client.post("/api/v1/checks", json={"code": code, "matter": "政府采购"}, headers=checker).json()
    assert after["measures"] == [] and after["entries"] == []


def test_repair_of_a_penalty_hides_it_from_the_public(client: TestClient, session: Session, world: World) -> None:
    me = _cookie(session, "hengxin3", Role.SUBJECT, subject_id=world.company.id)
    office = _cookie(session, "office3", Role.CREDIT_OFFICE)
    unit_key = _key(session, Role.SOURCE_UNIT, world.unit)
    code, doc = world.company.uscc or "", world.penalty.doc_no
    assert doc in _records(client, code)
    r = client.post("/api/v1/repairs", headers=me, json={"record_id": world.penalty.id, "statement": "罚款已缴清",
                    "sign_commitment": True, "evidence": {"obligations": "缴款书编号 370300..."}})  # fmt: skip
    aid = r.json()["id"]
    client.post(f"/api/v1/repairs/{aid}/accept", headers=office)
    assert (
        client.post(f"/api/v1/repairs/{aid}/opinion", json={"agree": True, "note": "同意"}, headers=me).status_code
        == 403
    )
    assert (
        client.post(
            f"/api/v1/repairs/{aid}/opinion", json={"agree": True, "note": "同意"}, headers=unit_key
        ).status_code
        == 200
    )
    client.post(f"/api/v1/repairs/{aid}/approve", json={}, headers=office)
    assert doc not in _records(client, code)
    own = client.get("/api/v1/me", headers=me).json()
    mine = {r["doc_no"]: r for s in own["sections"] for r in s["records"]}
    assert mine[doc]["public"] is False and "信用修复" in mine[doc]["reason"]


def test_commitments_and_declarations_on_the_public_page(client: TestClient, session: Session, world: World) -> None:
    me = _cookie(session, "hengxin4", Role.SUBJECT, subject_id=world.company.id)
    unit_key = _key(session, Role.SOURCE_UNIT, world.unit)
    templates = client.get("/api/v1/commitment-templates").json()
    assert len(templates["types"]) == 6
    public = client.post(
        "/api/v1/commitments",
        headers=me,
        json={"template": "proactive_public", "values": {"scope": "守法经营、按时纳税"}},
    )
    assert public.status_code == 201, public.text
    private = client.post("/api/v1/commitments", headers=me, json={"template": "certification_notice",
                          "values": {"matter": "食品经营许可", "certificate": "场所证明"}})  # fmt: skip
    assert (
        client.post(
            "/api/v1/commitments", headers=me, json={"template": "approval_substitute", "values": {}}
        ).status_code
        == 422
    )
    honour = {
        "category": "honour",
        "title": "淄博市守合同重信用企业",
        "content": "2025年度",
        "issuer": "淄博市市场监督管理局",
    }
    declared = client.post("/api/v1/declarations", headers=me, json=honour).json()
    code = world.company.uscc
    extras = {x["key"]: x for x in client.get(f"/api/v1/subjects/{code}").json()["extra_sections"]}
    titles = [i["title"] for i in extras["commitments"]["items"]]
    assert any(public.json()["no"] in t for t in titles) and not any(private.json()["no"] in t for t in titles)
    assert extras["declarations"]["items"][0]["tags"] == ["自主申报（未核实）"]
    client.post(f"/api/v1/declarations/{declared['id']}/verify", headers=unit_key, json={"confirmed": True})
    extras = {x["key"]: x for x in client.get(f"/api/v1/subjects/{code}").json()["extra_sections"]}
    assert extras["declarations"]["items"][0]["tags"] == ["自主申报（已核实）"]

    assert client.post(f"/api/v1/commitments/{public.json()['id']}/fulfilment", headers=me,
                       json={"kept": False, "note": "x"}).status_code == 403  # fmt: skip
    r = client.post(f"/api/v1/commitments/{public.json()['id']}/fulfilment", headers=unit_key,
                    json={"kept": False, "note": "承诺按时纳税，2026年5月欠税未缴"})  # fmt: skip
    assert r.status_code == 200 and r.json()["broken_record_id"]
    records = _records(client, code or "")
    assert public.json()["no"] in records  # the broken commitment is a published dishonesty record
    notices = client.get("/api/v1/me/notices", headers=me).json()["notices"]
    assert any(public.json()["no"] in n["body"] for n in notices)


def test_register_with_the_development_verifier(client: TestClient, session: Session, world: World) -> None:
    html = {"Accept": "text/html"}
    bad = client.post("/register", headers=html, data={"code": world.company.uscc, "name": "别的公司",
                      "username": "newco", "password": "pw-12345678"})  # fmt: skip
    assert bad.status_code == 422 and "不符" in bad.text
    r = client.post("/register", headers=html, data={"code": world.company.uscc, "name": world.company.name,
                    "username": "newco", "password": "pw-12345678", "email": "a@example.com"})  # fmt: skip
    assert r.status_code == 200
    code = re.search(r'id="dev-code">(\d{6})<', r.text)
    token = re.search(r'name="token" value="([^"]+)"', r.text)
    assert code and token
    wrong = client.post(
        "/register/confirm",
        headers=html,
        data={"token": token.group(1), "answer": "000000" if code.group(1) != "000000" else "111111"},
    )
    assert wrong.status_code == 422
    ok = client.post(
        "/register/confirm",
        headers=html,
        data={"token": token.group(1), "answer": code.group(1)},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    login = client.post("/login", data={"username": "newco", "password": "pw-12345678"}, follow_redirects=False)
    assert login.status_code == 303 and login.headers["location"] == "/me"
    me = client.get("/me", headers=html)
    assert world.penalty.doc_no in me.text and "提出异议" in me.text and "申请信用修复" in me.text
    person = factories.subject(
        session, name="王五", kind=factories.SubjectKind.NATURAL_PERSON, id_number=factories.citizen_id(77)
    )
    # Signed in now, so the browser sends the session cookie: the form must carry the CSRF token.
    person_form = {"code": factories.citizen_id(77), "name": "王五", "username": "wangwu", "password": "pw-12345678"}
    assert client.post("/register", headers=html, data=person_form).status_code == 403
    form_token = re.search(r'name="csrf" value="([^"]+)"', client.get("/register", headers=html).text)
    assert form_token
    r = client.post("/register", headers=html, data=person_form | {"csrf": form_token.group(1)})
    assert r.status_code == 200 and person.id


def test_forms_and_cookie_posts_need_the_csrf_token(client: TestClient, session: Session, world: World) -> None:
    me = _cookie(session, "hengxin5", Role.SUBJECT, subject_id=world.company.id)
    office = _cookie(session, "office5", Role.CREDIT_OFFICE)
    body = {"record_id": world.penalty.id, "reasons": "处罚金额录入有误"}
    no_token = {k: v for k, v in me.items() if k != "X-CSRF-Token"}
    refused = client.post("/api/v1/objections", json=body, headers=no_token)
    assert refused.status_code == 403 and "CSRF" in refused.json()["message"]
    assert client.get("/api/v1/objections", headers=me).json()["total"] == 0
    wrong = client.post("/api/v1/objections", json=body, headers=no_token | {"X-CSRF-Token": "0" * 64})
    assert wrong.status_code == 403
    oid = client.post("/api/v1/objections", json=body, headers=me).json()["id"]

    # The office's handling page: its forms carry the token in the hidden field ``csrf``.
    office_cookie = {"Cookie": office["Cookie"]}
    page = client.get(f"/office/objections/{oid}", headers=office_cookie)
    assert page.status_code == 200
    tokens = set(re.findall(r'name="csrf" value="([^"]+)"', page.text))
    assert len(tokens) == 1
    step = f"/office/objections/{oid}/accept"
    assert client.post(step, headers=office_cookie, data={}, follow_redirects=False).status_code == 403
    assert client.post(step, headers=office_cookie, data={"csrf": "x"}, follow_redirects=False).status_code == 403
    assert client.get(f"/api/v1/objections/{oid}", headers=me).json()["status"] == "submitted"
    done = client.post(step, headers=office_cookie, data={"csrf": tokens.pop()}, follow_redirects=False)
    assert done.status_code == 303
    assert client.get(f"/api/v1/objections/{oid}", headers=me).json()["status"] == "accepted"


def test_who_may_ask_and_handle(client: TestClient, session: Session, world: World) -> None:
    me = _cookie(session, "hengxin6", Role.SUBJECT, subject_id=world.company.id)
    other = _cookie(session, "other6", Role.SUBJECT, subject_id=world.other.id)
    unit_key, other_unit_key = _key(session, Role.SOURCE_UNIT, world.unit), _key(session, Role.SOURCE_UNIT,
                                                                                 world.other_unit)  # fmt: skip
    checker = _key(session, Role.CHECKER)
    ask = f"/api/v1/repairs/eligibility?record_id={world.penalty.id}"
    # Whether a record can be repaired names it and tells whether it was deleted or repaired: not for everybody.
    assert client.get(ask, headers=me).status_code == 200
    assert client.get(ask, headers=unit_key).status_code == 200
    assert client.get(ask, headers=other).status_code == 403
    assert client.get(ask, headers=other_unit_key).status_code == 403
    assert client.get(ask, headers=checker).status_code == 403
    # A subject's own API key acts for its subject; a key of another subject is refused.
    own_key = _key(session, Role.SUBJECT)
    other_key = _key(session, Role.SUBJECT)
    for headers, subject in ((own_key, world.company), (other_key, world.other)):
        holder = accounts.authenticate_key(session=session, key=headers["Authorization"].split()[1])
        session.get(Account, holder.account_id).subject_id = subject.id  # type: ignore[union-attr]
    session.flush()
    body = {"record_id": world.penalty.id, "reasons": "处罚金额录入有误"}
    assert client.post("/api/v1/objections", json=body, headers=other_key).status_code == 403
    r = client.post("/api/v1/objections", json=body, headers=own_key)
    assert r.status_code == 201, r.text
    # The handling pages are for the office and the units; the subject follows its application under /me/rights.
    page = f"/office/objections/{r.json()['id']}"
    assert client.get(page, headers=me, follow_redirects=False).status_code == 403
    assert client.get("/me/rights", headers=me).status_code == 200
    assert client.get("/office/rights", headers=me, follow_redirects=False).status_code == 403


def test_a_malformed_record_number_in_the_repair_form_is_a_clear_error(
    client: TestClient, session: Session, world: World
) -> None:
    me = _cookie(session, "hengxin9", Role.SUBJECT, subject_id=world.company.id)
    answer = client.post("/me/repairs", headers=me, data={"record_id": "abc"}, follow_redirects=False)
    assert answer.status_code == 422
    assert "record_id" in answer.text and "应为记录编号" in answer.text
    assert "Traceback" not in answer.text
