"""In headless Chromium: a subject files an objection and a repair application from the portal and sees their
status; a credit-office officer and the source unit handle them; the public page shows the outcome."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from tests import factories
from tests.browser import SHOTS, launch, live_server
from tests.conftest import Database
from xinyong.accounts import service as accounts
from xinyong.accounts.models import Role
from xinyong.core.database import session_scope


@pytest.fixture
def served(fresh_db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, dict[str, str]]]:
    monkeypatch.setenv("XINYONG_RATE_LIMIT_PER_MINUTE", "0")
    with session_scope(fresh_db.engine, write=True) as session:
        unit = factories.unit(session)
        company = factories.subject(session, name="淄博恒信化工有限公司")
        wrong = factories.record(session, subject_row=company, unit_row=unit, decision_date=dt.date(2026, 5, 20),
                                 payload={"CF_CFLB": "02", "CF_NR": "罚款人民币5万元"})  # fmt: skip
        old = factories.record(session, subject_row=company, unit_row=unit, decision_date=dt.date(2026, 1, 5),
                               payload={"CF_CFLB": "02", "CF_NR": "罚款人民币1万元",
                                        "CF_WFXW": "未按规定贮存危险废物"})  # fmt: skip
        accounts.create_account(session=session, username="hengxin", role=Role.SUBJECT, password="pw-12345678",
                                subject_id=company.id, display_name="淄博恒信化工有限公司")  # fmt: skip
        accounts.create_account(session=session, username="officer", role=Role.CREDIT_OFFICE, password="pw-12345678",
                                display_name="信用办 李")  # fmt: skip
        accounts.create_account(session=session, username="unit", role=Role.SOURCE_UNIT, password="pw-12345678",
                                unit=unit, display_name="生态环境局")  # fmt: skip
        docs = {"wrong": wrong.doc_no, "old": old.doc_no, "code": company.uscc or "", "wrong_id": str(wrong.id),
                "old_id": str(old.id)}  # fmt: skip
    with live_server(fresh_db.engine) as base:
        yield base, docs


def _login(page: object, base: str, username: str, next_path: str) -> None:
    page.goto(f"{base}/login?next={next_path}")  # type: ignore[attr-defined]
    page.fill("input[name=username]", username)  # type: ignore[attr-defined]
    page.fill("input[name=password]", "pw-12345678")  # type: ignore[attr-defined]
    page.click("form.stack button")  # type: ignore[attr-defined]


def test_objection_and_repair_from_the_portal(
    served: tuple[str, dict[str, str]], db: Database, tmp_path: object
) -> None:
    from playwright.sync_api import sync_playwright

    base, docs = served
    SHOTS.mkdir(parents=True, exist_ok=True)
    evidence = SHOTS.parent / "receipt.pdf"
    evidence.write_bytes(b"%PDF-1.4\n% receipt of payment\n")
    with sync_playwright() as p:
        browser = launch(p)
        try:
            subject = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            _login(subject, base, "hengxin", "/me")
            subject.wait_for_url("**/me")
            card = subject.locator("article.record", has_text=docs["wrong"])
            card.get_by_role("link", name="提出异议").click()
            subject.wait_for_url("**/me/objections/new*")
            subject.fill("textarea[name=reasons]", "处罚决定书载明罚款为2万元，平台记录为5万元")
            subject.fill("input[name=correct_value]", "罚款人民币2万元")
            subject.set_input_files("input[name=files]", str(evidence))
            subject.screenshot(path=str(SHOTS / f"rights-objection-form-{db.kind}.png"), full_page=True)
            subject.click("form.stack button")
            subject.wait_for_url("**/me/rights*")
            assert "已提交，待受理" in subject.content()
            assert "信用办应于 2026-06-16 前受理" in subject.content()

            subject.goto(base + "/me")
            subject.locator("article.record", has_text=docs["old"]).get_by_role("link", name="申请信用修复").click()
            subject.wait_for_url("**/me/repairs/new*")
            subject.fill("textarea[name=statement]", "罚款已缴清，危险废物已按规定贮存")
            subject.fill("input[name=evidence_obligations]", "2026-02-01 缴清罚款")
            subject.set_input_files("input[name=file_obligations]", str(evidence))
            subject.check("input[name=sign_commitment]")
            subject.screenshot(path=str(SHOTS / f"rights-repair-form-{db.kind}.png"), full_page=True)
            subject.click("form.stack button")
            subject.wait_for_url("**/me/rights*")
            assert subject.locator("tr.repair-row").count() == 1
            subject.screenshot(path=str(SHOTS / f"rights-my-applications-{db.kind}.png"), full_page=True)

            office = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            _login(office, base, "officer", "/office/rights")
            office.wait_for_url("**/office/rights")
            assert office.locator("tbody tr").count() == 2
            office.screenshot(path=str(SHOTS / f"rights-office-queue-{db.kind}.png"), full_page=True)
            office.get_by_role("row", name="异议").get_by_text("办理").click()
            office.click("#accept")
            office.click("#forward")
            assert "已转信息提供单位核实" in office.locator("#status").inner_text()

            unit = browser.new_context().new_page()
            objection_page = f"/office/objections/{office.url.rsplit('/', 1)[1]}"
            _login(unit, base, "unit", objection_page)
            unit.wait_for_url("**" + objection_page)
            unit.select_option("select[name=outcome]", "corrected")
            unit.fill("input[name=field]", "CF_NR")
            unit.fill("input[name=value]", "罚款人民币2万元")
            unit.fill("input[name=text]", "经核对原决定书，金额录入错误")
            unit.click("#verify")

            office.reload()
            office.fill("textarea[name=text]", "已更正为罚款人民币2万元")
            office.click("#answer")
            assert "已答复" in office.locator("#status").inner_text()
            office.screenshot(path=str(SHOTS / f"rights-office-objection-{db.kind}.png"), full_page=True)

            office.goto(base + "/office/rights")
            office.get_by_role("row", name="信用修复").get_by_text("办理").click()
            office.click("#accept")
            repair_url = office.url
            unit.goto(repair_url)
            unit.fill("input[name=text]", "已履行处罚决定，同意修复")
            unit.click("#opinion")
            office.reload()
            office.click("#approve")
            assert "准予信用修复" in office.locator("#status").inner_text()
            office.screenshot(path=str(SHOTS / f"rights-office-repair-{db.kind}.png"), full_page=True)

            subject.goto(base + "/me/rights")
            html = subject.content()
            assert "已答复，办结" in html and "准予信用修复" in html
            subject.screenshot(path=str(SHOTS / f"rights-my-applications-done-{db.kind}.png"), full_page=True)

            public = browser.new_page()
            public.goto(base + f"/subjects/{docs['code']}")
            html = public.content()
            assert "罚款人民币2万元" in html and "罚款人民币5万元" not in html
            assert docs["old"] not in html  # repaired: no longer published
        finally:
            browser.close()
