"""Sign-in, the subject's own page, the article editor and the article CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests import factories
from tests.conftest import Database
from tests.portal.conftest import BROWSER
from xinyong.accounts import service as accounts
from xinyong.accounts.models import Role

REPO = Path(__file__).resolve().parents[2]


def test_subject_signs_in_and_sees_non_public_items_with_reasons(client: TestClient, session: Session) -> None:
    subject = factories.subject(session, name="淄博本人查看有限公司")
    minor = factories.record(session, subject_row=subject, severity="minor")
    accounts.create_account(
        session=session, username="self", role=Role.SUBJECT, password="correct horse", subject_id=subject.id
    )
    assert client.get("/me", headers=BROWSER, follow_redirects=False).status_code == 303
    wrong = client.post("/login", data={"username": "self", "password": "nope"}, headers=BROWSER)
    assert wrong.status_code == 401 and "用户名或密码错误" in wrong.text
    ok = client.post("/login", data={"username": "self", "password": "correct horse"}, follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == "/me"
    page = client.get("/me", headers=BROWSER)
    assert minor.doc_no in page.text and "轻微失信信息，依规不予公示" in page.text and "不公示" in page.text
    # The subject's own matters are one click away, and each link leads to a page that answers for this subject.
    for href in ("/me/rights", "/me/reports", "/me/authorisations"):
        assert f'href="{href}"' in page.text, href
        assert client.get(href, headers=BROWSER, follow_redirects=False).status_code == 200, href
    public = client.get(f"/subjects/{subject.uscc}", headers=BROWSER)
    assert minor.doc_no not in public.text and 'href="/me/reports"' not in public.text
    client.get("/logout")
    assert client.get("/me", headers=BROWSER, follow_redirects=False).status_code == 303


def test_credit_office_edits_articles_on_the_website(client: TestClient, session: Session) -> None:
    accounts.create_account(session=session, username="office", role=Role.CREDIT_OFFICE, password="s3cret-pass")
    client.post("/login", data={"username": "office", "password": "s3cret-pass"})
    form = client.get("/admin/articles/new", headers=BROWSER)
    csrf = form.text.split('name="csrf" value="')[1].split('"')[0]
    forged = client.post(
        "/admin/articles/new",
        data={"category": "news", "title": "伪造", "body": "x", "csrf": "0" * 32, "published": "1"},
        headers=BROWSER,
    )
    assert forged.status_code == 403
    empty = client.post(
        "/admin/articles/new", data={"category": "news", "title": " ", "body": "正文", "csrf": csrf}, headers=BROWSER
    )
    assert empty.status_code == 422 and "标题：必填" in empty.text
    saved = client.post(
        "/admin/articles/new",
        data={
            "category": "policy",
            "title": "信用修复办法解读",
            "body": "第一段。\n\n第二段。",
            "csrf": csrf,
            "published": "1",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    listing = client.get("/articles/policy", headers=BROWSER)
    assert "信用修复办法解读" in listing.text
    client.get("/logout")
    assert client.get("/admin/articles/new", headers=BROWSER, follow_redirects=False).status_code == 303


def test_subject_account_cannot_edit(client: TestClient, session: Session) -> None:
    subject = factories.subject(session)
    accounts.create_account(
        session=session, username="s2", role=Role.SUBJECT, password="pw-pw-pw", subject_id=subject.id
    )
    client.post("/login", data={"username": "s2", "password": "pw-pw-pw"})
    assert client.get("/admin/articles/new", headers=BROWSER).status_code == 403


def test_article_and_account_commands(fresh_db: Database, tmp_path: Path) -> None:
    env = {**os.environ, "XINYONG_DATABASE_URL": fresh_db.url, "PYTHONPATH": str(REPO)}
    body = tmp_path / "body.txt"
    body.write_text("信用动态正文。", encoding="utf-8")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "xinyong", *args], env=env, capture_output=True, text=True)

    added = run(
        "article", "add", "--category", "信用动态", "--title", "全市信用建设推进会召开", "--body-file", str(body)
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip().splitlines()[-1].isdigit()
    assert "全市信用建设推进会召开" in run("article", "list").stdout
    bad = run("article", "add", "--category", "杂谈", "--title", "x", "--body-file", str(body))
    assert bad.returncode == 2 and "未知的栏目" in bad.stderr
    no_subject = run("account", "create", "--username", "a", "--role", "subject", "--password", "pw123456")
    assert no_subject.returncode == 2 and "--subject" in no_subject.stderr
