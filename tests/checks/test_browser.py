"""The clerk's service-hall page end to end in headless Chromium: sign in, check by name, print, give feedback."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests import factories
from tests.browser import launch, live_server, require_chromium
from tests.checks.conftest import put_on_list
from tests.conftest import Database
from xinyong.accounts import service as accounts
from xinyong.accounts.models import Role
from xinyong.accounts.web import COOKIE, session_token
from xinyong.core.database import session_scope


@pytest.mark.browser
def test_clerk_checks_a_supplier_and_prints_the_result(fresh_db: Database, tmp_path: Path) -> None:
    require_chromium()
    from playwright.sync_api import sync_playwright

    with session_scope(fresh_db.engine, write=True) as session:
        clerk = accounts.create_account(
            session=session, username="clerk01", role=Role.CHECKER, display_name="窗口一", password="pw-123456"
        )
        company = factories.subject(session, name="淄博鑫源化工有限公司")
        put_on_list(session, company, "wage_arrears")
        put_on_list(session, company, "government_procurement")
        token = session_token(clerk)

    with live_server(fresh_db.engine) as base, sync_playwright() as p:
        browser = launch(p)
        context = browser.new_context(locale="zh-CN", viewport={"width": 1100, "height": 900})
        page = context.new_page()
        page.goto(f"{base}/checks")
        assert "/login" in page.url  # not signed in: sent to sign in
        context.add_cookies([{"name": COOKIE, "value": token, "url": base}])
        page.goto(f"{base}/checks")
        page.fill("input[name=query]", "淄博鑫源化工有限公司")
        page.select_option("select[name=matter]", "government_procurement")
        page.click("button[type=submit]")
        page.wait_for_url("**/checks/result/*")
        check_no = page.inner_text("#check-no")
        assert check_no.startswith("HC20260615")
        assert page.inner_text("#subject-name") == "淄博鑫源化工有限公司"
        measures = page.inner_text("#measures")
        assert "禁止参加政府采购活动" in measures and "第七十七条" in measures
        assert "拖欠农民工工资失信联合惩戒" in measures
        assert "拖欠农民工工资失信联合惩戒对象名单" in page.inner_text("#entries")
        page.screenshot(path=str(tmp_path / "result.png"), full_page=True)
        page.emulate_media(media="print")
        assert not page.is_visible("form.feedback") and not page.is_visible(".site-header")
        page.screenshot(path=str(tmp_path / "print.png"), full_page=True)
        page.emulate_media(media="screen")
        page.select_option("select[name=applied_M02]", "no")
        page.fill("input[name=reason_M02]", "该供应商已退出本次采购")
        page.fill("input[name=department]", "淄博市财政局")
        page.click("form.feedback button[type=submit]")
        page.wait_for_selector("#feedback")
        assert "该供应商已退出本次采购" in page.inner_text("#feedback")
        browser.close()
    keep = os.environ.get("XINYONG_KEEP_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        for name in ("result.png", "print.png"):
            shutil.copy(tmp_path / name, Path(keep) / f"{fresh_db.kind}-{name}")
