"""The console's main paths and the dashboard in headless Chromium, against a served app on both engines."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import factories
from tests.browser import launch, live_server
from tests.conftest import Database
from tests.monitoring.helpers import batch, received
from xinyong.accounts import service as accounts
from xinyong.accounts.models import Role
from xinyong.accounts.web import COOKIE, session_token
from xinyong.core.database import session_scope
from xinyong.subjects.codes import make_uscc

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("XINYONG_SCREENSHOTS", "/tmp/xinyong-console-shots"))


@pytest.fixture
def served(fresh_db: Database) -> Iterator[tuple[str, str, dict[str, int]]]:
    with session_scope(fresh_db.engine, write=True) as session:
        env = factories.unit(session)
        market = factories.unit(
            session,
            uscc_code=make_uscc("1", "1", "370300", "00400003"),
            name="淄博市市场监督管理局",
            short_name="淄市监",
        )
        a = factories.subject(session, name="淄博齐鲁阀门有限公司", legal_rep="钱七")
        b = factories.subject(session, name="淄博齐鲁阀门有限公司 ", legal_rep="钱七")
        for unit, decided, got in [
            (env, "2026-04-28", "2026-05-08"),  # 劳动节 May 1–5 not counted, 调休 Apr 26 / May 9 → on time
            (env, "2026-05-06", "2026-05-20"),  # 11 working days → late
            (market, "2026-05-11", "2026-05-12"),
            (market, "2026-06-01", "2026-06-03"),
        ]:
            row = factories.record(session, subject_row=b, unit_row=unit, decision_date=dt.date.fromisoformat(decided))
            received(session, row, got)
        batch(
            session,
            unit=env,
            started="2026-05-08",
            accepted=2,
            linked=2,
            rejected_reasons=[
                [{"field": "CF_XDR_SHXYM", "message": "第 2 行 CF_XDR_SHXYM：统一社会信用代码校验位错误"}],
                [{"field": "CF_JDRQ", "message": "第 3 行 CF_JDRQ：日期无法识别"}],
            ],
        )
        batch(session, unit=market, started="2026-05-12", accepted=2, linked=1)
        officer = accounts.create_account(
            session=session, username="officer", role=Role.CREDIT_OFFICE, password="pw-123456", display_name="王科长"
        )
        token = session_token(officer)
        ids = {"a": a.id, "b": b.id}
    with live_server(fresh_db.engine) as base:
        yield base, token, ids


def test_console_and_dashboard_in_chromium(served: tuple[str, str, dict[str, int]], db: Database) -> None:
    from playwright.sync_api import sync_playwright

    base, token, ids = served
    shots = SHOTS / db.kind
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)
    with sync_playwright() as p:
        browser = launch(p)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        page = context.new_page()
        page.goto(f"{base}/console")
        assert "/login?next=" in page.url  # not signed in: sent to the portal's sign-in page

        context.add_cookies([{"name": COOKIE, "value": token, "url": base}])
        page.goto(f"{base}/console/dashboard?months=3")
        assert page.locator("h2", has_text="双公示按时公示率（按部门）").count() == 1
        dept = page.locator("#publicity_by_department")
        assert "50.0%" in dept.inner_text() or "50.0%" in dept.inner_html()
        assert page.locator("section.chart-card svg").count() >= 6
        assert "淄环罚" in page.locator("#publicity_by_department details").inner_text()
        page.screenshot(path=str(shots / "dashboard.png"), full_page=True)
        response = page.request.get(f"{base}/console/dashboard/link_rate.csv?months=3")
        assert response.ok and "关联入库率" in response.body().decode("utf-8-sig")
        pdf = page.request.get(f"{base}/console/dashboard/summary.pdf?month=2026-05")
        assert pdf.ok and pdf.body()[:4] == b"%PDF"

        page.goto(f"{base}/console/catalog/administrative_penalty")
        page.fill("#update_days", "5")
        page.fill("#reason", "按市信用办通知缩短更新周期")
        page.click("text=保存为新版本")
        assert "已保存为第 2 版" in page.inner_text(".flash-ok")
        page.screenshot(path=str(shots / "catalog.png"), full_page=True)

        page.goto(f"{base}/console/subjects/{ids['a']}")
        page.fill("#other", str(ids["b"]))
        page.fill("#merge_reason", "同一企业，名称末尾多一空格")
        page.click("button:has-text('并入本主体')")
        page.screenshot(path=str(shots / "subject-merged.png"), full_page=True)
        assert "已将" in page.inner_text(".flash-ok") and "信用记录 4 条" in page.inner_text("main")
        page.screenshot(path=str(shots / "subject-merged.png"), full_page=True)
        page.click("button:has-text('撤销合并')")
        assert "已撤销合并" in page.inner_text(".flash-ok") and "信用记录 0 条" in page.inner_text("main")

        page.goto(f"{base}/console/batches")
        page.click("a[href$='20260508']")
        page.click("button:has-text('查看原始行') >> nth=0")
        assert "查询用途" in page.inner_text(".flash-error") or "用途" in page.inner_text(".flash-error")
        page.fill("input[name=purpose] >> nth=0", "核对拒收原因")
        page.click("button:has-text('查看原始行') >> nth=0")
        assert "第2行的企业" in page.inner_text("main")
        page.screenshot(path=str(shots / "batch.png"), full_page=True)

        page.goto(f"{base}/console/governance")
        page.click("button:has-text('立即扫描重复')")
        assert "新发现 1 个问题" in page.inner_text(".flash-ok")
        page.fill("input[name=note]", "核实为同一企业，已合并")
        page.click("button[value=resolved]")
        assert "已处理" in page.inner_text(".flash-ok")
        page.screenshot(path=str(shots / "governance.png"), full_page=True)
        browser.close()
