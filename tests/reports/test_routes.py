"""Issuing over HTTP (credit office key or account, a subject for itself on the portal) and the verification pages."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.reports.conftest import Company
from xinyong.accounts import service as accounts
from xinyong.accounts.models import Role
from xinyong.accounts.web import COOKIE, session_token
from xinyong.audit.service import Actor

BROWSER = {"Accept": "text/html,application/xhtml+xml"}


def test_credit_office_issues_with_a_key(client: TestClient, session: Session, company: Company) -> None:
    key = accounts.create_api_key(session=session, actor=Actor.cli(), role=Role.CREDIT_OFFICE).key
    answer = client.post(
        "/api/v1/reports", json={"code": company.code, "kind": "full", "format": "html"},
        headers={"Authorization": f"Bearer {key}"},
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    number = answer.headers["X-Report-No"]
    assert (
        "attachment" in answer.headers["Content-Disposition"] and answer.headers["Cache-Control"] == "private, no-store"
    )
    assert number in answer.text and "未按时公示年度报告" in answer.text  # full: the non-public warning is there
    verified = client.get(f"/api/v1/reports/verify/{number}").json()
    assert verified["valid"] is True and verified["issuer"] == "信用办依申请出具"


def test_issuing_needs_a_right(client: TestClient, session: Session, company: Company) -> None:
    assert client.post("/api/v1/reports", json={"code": company.code}).status_code == 401
    checker = accounts.create_api_key(session=session, actor=Actor.cli(), role=Role.CHECKER).key
    denied = client.post("/api/v1/reports", json={"code": company.code}, headers={"Authorization": f"Bearer {checker}"})
    assert denied.status_code == 403 and "信用办" in denied.json()["message"]
    office = accounts.create_api_key(session=session, actor=Actor.cli(), role=Role.CREDIT_OFFICE).key
    bad = client.post(
        "/api/v1/reports", json={"code": company.code, "kind": "x"}, headers={"Authorization": f"Bearer {office}"}
    )
    assert bad.status_code == 422 and "报告类型" in bad.json()["message"]


def test_subject_downloads_its_own_report_from_the_portal(
    client: TestClient, session: Session, company: Company
) -> None:
    assert client.get("/me/reports", headers=BROWSER, follow_redirects=False).headers["location"].startswith("/login")
    owner = accounts.create_account(
        session=session, username="owner", role=Role.SUBJECT, subject_id=company.subject.id, password="pw-123456"
    )
    client.cookies.set(COOKIE, session_token(owner))
    page = client.get("/me/reports", headers=BROWSER)
    assert page.status_code == 200 and "我的信用报告" in page.text and "尚未出具过报告" in page.text
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert csrf is not None
    refused = client.post("/me/reports", data={"csrf": "0" * 32, "kind": "public"}, headers=BROWSER)
    assert refused.status_code == 403
    pdf = client.post(
        "/me/reports", data={"csrf": csrf.group(1), "kind": "no_violation", "domain": ["market", "environment"]}
    )
    assert (
        pdf.status_code == 200 and pdf.content.startswith(b"%PDF") and pdf.headers["content-type"] == "application/pdf"
    )
    number = pdf.headers["X-Report-No"]
    listed = client.get("/me/reports", headers=BROWSER)
    assert number in listed.text and "无违法违规记录版" in listed.text
    bad = client.post("/me/reports", data={"csrf": csrf.group(1), "kind": "full", "period_from": "2026-13-01"},
                      headers=BROWSER)  # fmt: skip
    assert bad.status_code == 422 and "日期格式" in bad.text
    # The same account cannot ask the API for another subject's report.
    other = client.post("/api/v1/reports", json={"code": "91370302MA0000001X", "kind": "public"})
    assert other.status_code in (403, 404)


def test_verification_pages_and_unknown_numbers(client: TestClient, session: Session, company: Company) -> None:
    missing = client.get("/api/v1/reports/verify/XY-370300-20260615-999999")
    assert missing.status_code == 404 and missing.json()["valid"] is False and "不存在" in missing.json()["message"]
    page = client.get("/reports/verify/XY-370300-20260615-999999", headers=BROWSER)
    assert page.status_code == 404 and "不存在" in page.text
    start = client.get("/reports/verify", headers=BROWSER)
    assert start.status_code == 200 and "报告编号" in start.text
    office = accounts.create_api_key(session=session, actor=Actor.cli(), role=Role.CREDIT_OFFICE).key
    issued = client.post(
        "/api/v1/reports", json={"code": company.code, "format": "html"}, headers={"Authorization": f"Bearer {office}"}
    )
    number = issued.headers["X-Report-No"]
    redirect = client.get(f"/reports/verify?report_no={number}&code=abcd", follow_redirects=False)
    assert redirect.status_code == 303 and redirect.headers["location"] == f"/reports/verify/{number}?code=abcd"
    wrong = client.get(f"/api/v1/reports/verify/{number}?code=ABCD-EFGH").json()
    assert wrong["valid"] is False and wrong["code_valid"] is False and "验证码不正确" in wrong["message"]
    plain = client.get(f"/api/v1/reports/verify/{number}").json()
    assert plain["valid"] is True and plain["code_checked"] is False and plain["subject_name"] == "淄博示范化工有限公司"
    uploaded = client.post(f"/reports/verify/{number}", files={"file": ("r.html", issued.content)}, headers=BROWSER)
    assert uploaded.status_code == 200 and "完全一致" in uploaded.text
    changed = client.post(
        f"/reports/verify/{number}", files={"file": ("r.html", issued.content.replace(b"10", b"1O"))}, headers=BROWSER
    )
    assert "不一致" in changed.text
    empty = client.post(f"/api/v1/reports/verify/{number}", files={"file": ("r.pdf", b"")})
    assert empty.status_code == 422
