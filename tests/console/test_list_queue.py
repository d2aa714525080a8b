"""The credit office's list queue: entries awaiting notice or listing, their deadlines, and the lifecycle actions."""

from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests import factories
from tests.conftest import Database
from xinyong.accounts import service as accounts
from xinyong.accounts.models import Role
from xinyong.accounts.web import COOKIE, session_token
from xinyong.app import create_app
from xinyong.audit.models import AuditEvent
from xinyong.audit.service import Actor
from xinyong.core.database import session_scope
from xinyong.lists import service as lists
from xinyong.lists.models import ListEntry

OFFICE = Actor(name="seed", role="credit_office")


def _client(db: Database, token: str | None) -> TestClient:
    client = TestClient(create_app(db.engine))
    if token:
        client.cookies.set(COOKIE, token)
    return client


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found, "the page carries a CSRF token"
    return found.group(1)


def test_the_queue_shows_deadlines_and_takes_the_lifecycle_steps(fresh_db: Database) -> None:
    with session_scope(fresh_db.engine, write=True) as session:
        officer = accounts.create_account(session=session, username="xyb", role=Role.CREDIT_OFFICE, password="x" * 12)
        clerk = accounts.create_account(session=session, username="clerk", role=Role.CHECKER, password="x" * 12)
        tokens = {"officer": session_token(officer), "clerk": session_token(clerk)}
        firms = [factories.subject(session, name=f"淄博名单测试{n}有限公司") for n in range(3)]
        ids = [
            lists.propose(
                session=session, actor=OFFICE, list_type_code="wage_arrears", subject_id=f.id, reason="拖欠工资"
            ).id
            for f in firms
        ]
        # The second was notified two weeks ago: its 5 working days have run out, so it is due to be listed.
        lists.send_notice(session=session, actor=OFFICE, entry_id=ids[1], on=dt.date(2026, 6, 1))
        fresh, due, third = ids

    assert _client(fresh_db, None).get("/console/list-queue", follow_redirects=False).status_code == 303
    assert _client(fresh_db, tokens["clerk"]).get("/console/list-queue").status_code == 403

    client = _client(fresh_db, tokens["officer"])
    assert 'href="/console/list-queue"' in client.get("/console").text  # the section is in the console menu
    page = client.get("/console/list-queue")
    assert page.status_code == 200
    assert "淄博名单测试0有限公司" in page.text and "拖欠农民工工资失信联合惩戒对象名单" in page.text
    due_row = page.text.split(f'id="entry-{due}"')[1].split("</tr>")[0]
    assert "2026-06-08" in due_row and "已届满，可列入" in due_row
    csrf = _csrf(page.text)

    refused = client.post(f"/console/list-queue/{fresh}/notice", data={"csrf": "forged"})
    assert refused.status_code == 403
    noticed = client.post(f"/console/list-queue/{fresh}/notice", data={"csrf": csrf})
    assert noticed.status_code == 200 and "陈述申辩期至 2026-06-23" in noticed.text  # 5 working days; 19 June is 端午节
    fresh_row = noticed.text.split(f'id="entry-{fresh}"')[1].split("</tr>")[0]
    assert "还剩 8 天" in fresh_row and "已告知" in fresh_row

    early = client.post(f"/console/list-queue/{fresh}/listing", data={"csrf": csrf})
    assert "期满后方可列入" in early.text  # the service's rule, shown as a message
    listed = client.post(f"/console/list-queue/{due}/listing", data={"csrf": csrf})
    assert f"条目 {due} 已列入" in listed.text and f'id="entry-{due}"' not in listed.text

    no_reason = client.post(f"/console/list-queue/{third}/withdrawal", data={"csrf": csrf, "note": " "})
    assert "须写明理由" in no_reason.text
    withdrawn = client.post(
        f"/console/list-queue/{third}/withdrawal", data={"csrf": csrf, "note": "陈述申辩理由成立，已结清工资"}
    )
    assert f"条目 {third} 不予列入" in withdrawn.text
    assert (
        _client(fresh_db, tokens["clerk"]).post(f"/console/list-queue/{fresh}/listing", data={"csrf": csrf}).status_code
        == 403
    )

    with session_scope(fresh_db.engine) as session:
        states = dict(session.execute(sa.select(ListEntry.id, ListEntry.status)).all())
        assert states == {fresh: "notice", due: "listed", third: "withdrawn"}
        actions = session.execute(
            sa.select(AuditEvent.action, AuditEvent.actor).where(AuditEvent.actor == "xyb").order_by(AuditEvent.id)
        ).all()
    steps = [a for a, _ in actions if a.startswith("list.")]
    assert steps.count("list.queue_view") >= 1
    assert [s for s in steps if s != "list.queue_view"] == ["list.notice", "list.listed", "list.withdrawn"]
