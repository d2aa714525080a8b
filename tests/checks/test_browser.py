"""The clerk's service-hall page end to end in headless Chromium: sign in, check by name, print, give feedback."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn

from tests import factories
from tests.checks.conftest import put_on_list
from tests.conftest import IN_CI, Database
from xinyong.accounts import service as accounts
from xinyong.accounts.models import Role
from xinyong.accounts.web import COOKIE, session_token
from xinyong.app import create_app
from xinyong.core.database import session_scope

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.browser
def test_clerk_checks_a_supplier_and_prints_the_result(fresh_db: Database, tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists():
        if IN_CI:
            pytest.fail("CI requires Chromium at /usr/bin/chromium")
        pytest.skip("no Chromium")
    from playwright.sync_api import sync_playwright

    with session_scope(fresh_db.engine, write=True) as session:
        clerk = accounts.create_account(
            session=session, username="clerk01", role=Role.CHECKER, display_name="窗口一", password="pw-123456"
        )
        company = factories.subject(session, name="淄博鑫源化工有限公司")
        put_on_list(session, company, "wage_arrears")
        put_on_list(session, company, "government_procurement")
        token = session_token(clerk)

    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(fresh_db.engine), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
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
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    keep = os.environ.get("XINYONG_KEEP_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        for name in ("result.png", "print.png"):
            shutil.copy(tmp_path / name, Path(keep) / f"{fresh_db.kind}-{name}")
