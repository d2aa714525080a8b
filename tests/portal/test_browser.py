"""The portal in headless Chromium: search → subject page, what is and is not shown, the phone layout."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from tests import factories
from tests.browser import SHOTS, launch, live_server
from tests.conftest import Database
from xinyong.core.database import session_scope
from xinyong.subjects.models import SubjectKind


@pytest.fixture
def served(fresh_db: Database) -> Iterator[tuple[str, dict[str, str]]]:
    with session_scope(fresh_db.engine, write=True) as session:
        unit = factories.unit(session)
        company = factories.subject(session, name="淄博齐鲁精细化工有限公司", legal_rep="赵六")
        today = dt.date(2026, 6, 15)
        published = factories.record(
            session, subject_row=company, unit_row=unit, decision_date=today - dt.timedelta(days=40),
            payload={"CF_CFLB": "02", "CF_NR": "罚款人民币5万元", "CF_WFXW": "超标排放大气污染物"},
        )  # fmt: skip
        expired = factories.record(
            session, subject_row=company, unit_row=unit, decision_date=dt.date(2024, 1, 10),
            payload={"CF_CFLB": "01", "CF_NR": "警告"},
        )  # fmt: skip
        under_objection = factories.record(
            session, subject_row=company, unit_row=unit, decision_date=today - dt.timedelta(days=10),
            objection_open=True,
            payload={"CF_CFLB": "02", "CF_NR": "罚款人民币2000元，当事人对处罚金额提出异议并已申请复核"},
        )  # fmt: skip
        person = factories.subject(session, name="孙七", kind=SubjectKind.NATURAL_PERSON)
        persons = factories.record(session, subject_row=person, unit_row=unit, payload={"CF_NR": "罚款200元"})
        docs = {
            "published": published.doc_no,
            "expired": expired.doc_no,
            "objection": under_objection.doc_no,
            "person": persons.doc_no,
            "code": company.uscc or "",
        }
    with live_server(fresh_db.engine) as base:
        yield base, docs


def test_search_to_subject_page_on_desktop_and_phone(served: tuple[str, dict[str, str]], db: Database) -> None:
    from playwright.sync_api import sync_playwright

    base, docs = served
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = launch(p)
        try:
            for name, viewport in (
                ("desktop", {"width": 1280, "height": 900}),
                ("phone", {"width": 375, "height": 740}),
            ):
                page = browser.new_page(viewport=viewport, java_script_enabled=False)
                page.goto(base + "/")
                page.fill("input[name=q]", "齐鲁精细")
                page.click("form.search button")
                page.wait_for_url("**/search?q=*")
                assert page.locator("mark").first.inner_text() == "齐鲁精细"
                assert "孙七" not in page.content()
                page.screenshot(path=str(SHOTS / f"search-{name}-{db.kind}.png"), full_page=True)
                page.click("a.name")
                page.wait_for_url(f"**/subjects/{docs['code']}")
                html = page.content()
                assert docs["published"] in html
                assert docs["expired"] not in html
                assert docs["person"] not in html
                card = page.locator("article.record", has_text=docs["objection"])
                assert card.locator(".tag.mark").inner_text() == "异议处理中"
                width = page.evaluate("document.documentElement.scrollWidth")
                assert width <= viewport["width"], f"{name}: page is {width}px wide"
                page.screenshot(path=str(SHOTS / f"subject-{name}-{db.kind}.png"), full_page=True)
                page.goto(base + "/publicity/penalties")
                assert docs["person"] not in page.content()
                width = page.evaluate("document.documentElement.scrollWidth")
                assert width <= viewport["width"], f"{name}: 双公示 page is {width}px wide"
                if name == "phone":
                    page.screenshot(path=str(SHOTS / f"publicity-{name}-{db.kind}.png"), full_page=True)
                    page.goto(base + "/")
                    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
                    page.screenshot(path=str(SHOTS / f"home-{name}-{db.kind}.png"), full_page=True)
                page.close()
        finally:
            browser.close()
