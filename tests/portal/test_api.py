"""The public API: the disclosure matrix through HTTP for every viewer, search, caching, errors, fair use."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests import factories
from tests.disclosure.cases import CASES
from tests.portal.conftest import BROWSER
from xinyong.accounts import service as accounts
from xinyong.accounts.models import Role
from xinyong.accounts.web import COOKIE, session_token
from xinyong.audit.models import AuditEvent
from xinyong.audit.service import Actor
from xinyong.core.settings import reset_settings
from xinyong.subjects.models import SubjectKind


def _doc_nos(body: dict) -> set[str]:
    return {r["doc_no"] for s in body["sections"] for r in s["records"]}


def test_disclosure_matrix_through_http(client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    unit = factories.unit(session)
    shared_key = accounts.create_api_key(session=session, actor=Actor.cli(), role=Role.CHECKER).key
    office_key = accounts.create_api_key(session=session, actor=Actor.cli(), role=Role.CREDIT_OFFICE).key
    for case in CASES:
        subject = factories.subject(session, kind=SubjectKind(case.kind))
        values = dict(case.record)
        rec = factories.record(session, subject_row=subject, resource=case.resource, unit_row=unit, **values)
        if "severity" in values:  # the factory drops a licence's severity; keep what the case says
            rec.severity = values["severity"]
        owner = accounts.create_account(
            session=session, username=f"owner-{case.id}", role=Role.SUBJECT, subject_id=subject.id
        )
        session.flush()
        code = subject.uscc or f"P{subject.id}"
        monkeypatch.setenv("XINYONG_TODAY", case.today.isoformat())
        reset_settings()
        client.cookies.clear()

        public = client.get(f"/api/v1/subjects/{code}")
        if case.kind == "natural_person" and not case.public:
            assert public.status_code == 404, case.id  # a person without a published record is not exposed
        else:
            assert public.status_code == 200, (case.id, public.text)
            assert (rec.doc_no in _doc_nos(public.json())) is case.public, case.id
            if case.public and case.objection:
                assert "异议处理中" in public.text, case.id

        shared = client.get(f"/api/v1/subjects/{code}", headers={"Authorization": f"Bearer {shared_key}"})
        assert shared.status_code == 200 and (rec.doc_no in _doc_nos(shared.json())) is case.shared, case.id

        office = client.get(f"/api/v1/subjects/{code}", headers={"Authorization": f"Bearer {office_key}"})
        assert office.status_code == 200 and rec.doc_no in _doc_nos(office.json()), case.id

        client.cookies.set(COOKIE, session_token(owner))
        own = client.get("/api/v1/me")
        assert own.status_code == 200, (case.id, own.text)
        mine = [r for s in own.json()["sections"] for r in s["records"] if r["doc_no"] == rec.doc_no]
        assert len(mine) == 1 and mine[0]["public"] is case.public, case.id
        assert mine[0]["reason"] and (not case.reason or case.reason in mine[0]["reason"]), case.id
    reads = session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "subject.view_private"))
    assert reads and reads >= sum(1 for c in CASES if not c.public)


def test_search_by_name_former_name_short_query_and_code(client: TestClient, session: Session) -> None:
    target = factories.subject(session, name="淄博齐鲁石化设备有限公司")
    factories.subject(session, name="青岛海岸石化贸易有限公司")
    renamed = factories.subject(session, name="山东新名称科技有限公司")
    from xinyong.core import clock
    from xinyong.subjects.models import SubjectName

    now = clock.now()
    session.add(
        SubjectName(subject_id=renamed.id, name="淄博旧称电子厂", first_seen=now, last_seen=now, is_current=False)
    )
    person = factories.subject(session, name="王小明", kind=SubjectKind.NATURAL_PERSON)
    factories.record(session, subject_row=person)  # a penalty of a person: never makes the person findable
    session.flush()

    body = client.get("/api/v1/subjects", params={"q": "石化"}).json()
    assert {i["name"] for i in body["items"]} == {"淄博齐鲁石化设备有限公司", "青岛海岸石化贸易有限公司"}
    assert body["total"] == 2
    assert client.get("/api/v1/subjects", params={"q": "齐"}).json()["items"][0]["name"] == target.name
    former = client.get("/api/v1/subjects", params={"q": "旧称电子"}).json()
    assert former["items"][0]["code"] == renamed.uscc and former["items"][0]["former_name"] == "淄博旧称电子厂"
    assert client.get("/api/v1/subjects", params={"q": "王小明"}).json()["total"] == 0
    assert client.get(f"/api/v1/subjects/P{person.id}").status_code == 404

    spaced = " ".join(target.uscc[i : i + 4] for i in range(0, 18, 4)).lower()
    fullwidth = spaced.translate({cp: cp + 0xFEE0 for cp in range(0x21, 0x7F)})
    for query in (target.uscc, spaced, fullwidth):
        first = client.get("/api/v1/subjects", params={"q": query}).json()["items"][0]
        assert first["code"] == target.uscc and first["exact_code"], query
    assert client.get(f"/api/v1/subjects/{spaced}").json()["name"] == target.name


def test_search_pagination_is_stable_and_complete(client: TestClient, session: Session) -> None:
    names = {factories.subject(session, name=f"淄博分页测试第{i}号有限公司").name for i in range(25)}
    seen: list[str] = []
    for page in (1, 2, 3):
        body = client.get("/api/v1/subjects", params={"q": "分页测试", "page": page, "page_size": 10}).json()
        assert body["total"] == 25
        seen += [i["name"] for i in body["items"]]
    assert len(seen) == 25 and set(seen) == names


def test_broad_search_stops_at_the_cap_with_the_best_matches_first(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XINYONG_SEARCH_MAX_RESULTS", "10")
    reset_settings()
    for i in range(30):
        factories.subject(session, name=f"淄博宽泛测试第{i}号有限公司")
    # Written last, so a scan in table order would meet them after the cap: the prefix stage must find them.
    exact = factories.subject(session, name="宽泛测试")
    prefixed = factories.subject(session, name="宽泛测试机械厂")
    session.flush()
    for query in ("宽泛测试", "宽泛"):
        body = client.get("/api/v1/subjects", params={"q": query}).json()
        assert body["total_capped"] and body["total"] == 10, query
        names = [i["name"] for i in body["items"]]
        assert len(names) == 10 and all(query in n for n in names), query
        assert names[:2] == [exact.name, prefixed.name], query
    narrow = client.get("/api/v1/subjects", params={"q": "第7号"}).json()
    assert not narrow["total_capped"] and [i["name"] for i in narrow["items"]] == ["淄博宽泛测试第7号有限公司"]


def test_a_query_of_short_terms_stops_at_the_short_cap(client: TestClient, session: Session) -> None:
    from xinyong.subjects.search import SHORT_QUERY_CAP

    for i in range(SHORT_QUERY_CAP + 5):
        factories.subject(session, name=f"淄博短查{i}号商店")
    session.flush()
    short = client.get("/api/v1/subjects", params={"q": "短查"}).json()
    assert short["total_capped"] and short["total"] == SHORT_QUERY_CAP
    longer = client.get("/api/v1/subjects", params={"q": "短查10"}).json()  # 3+ characters: the usual cap
    assert not longer["total_capped"] and longer["total"] == 6  # 短查10号, 短查100号 … 短查104号


def test_search_terms_with_quotes_and_wildcards_match_literally(client: TestClient, session: Session) -> None:
    target = factories.subject(session, name="淄博纯度100%_测试'商店")
    factories.subject(session, name="淄博纯度100X1测试商店")
    session.flush()
    for query in ("100%_测试'", "度100%_", "%_", "'商"):
        names = [i["name"] for i in client.get("/api/v1/subjects", params={"q": query}).json()["items"]]
        assert names == [target.name], query


def test_a_rare_pair_is_found_through_an_index(session: Session) -> None:
    """Two characters have no trigram: PostgreSQL reads the bigram index (0012_name_bigrams) instead of scanning every
    name for a rare pair; SQLite tests them with ``instr`` (its FTS5 table holds trigrams only)."""
    from xinyong.subjects import search

    for i in range(400):
        factories.subject(session, name=f"淄博常见{i}号有限公司")
    rare = factories.subject(session, name="淄博罕见鑫垚有限公司")
    session.flush()
    engine = session.get_bind()
    postgres = engine.dialect.name == "postgresql"
    if postgres:
        session.execute(sa.text("ANALYZE subject_name"))  # sees this transaction's rows
    statements: list[tuple[str, object]] = []

    def capture(conn: object, cursor: object, statement: str, parameters: object, *_: object) -> None:
        statements.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", capture)
    try:
        result = search.search(session=session, q="鑫垚")
    finally:
        sa.event.remove(engine, "before_cursor_execute", capture)
    assert [hit.subject.id for hit in result.items] == [rare.id]
    candidates = next((st, p) for st, p in statements if "subject_name" in st)
    if postgres:
        assert "xinyong_name_bigrams" in candidates[0]
        plan = "\n".join(
            row[0] for row in session.connection().exec_driver_sql("EXPLAIN " + candidates[0], candidates[1]).all()
        )
        assert "ix_subject_name_bigrams" in plan, plan
    else:
        assert "instr" in candidates[0] and "xinyong_name_bigrams" not in candidates[0]


def test_search_highlights_matches_in_html(client: TestClient, session: Session) -> None:
    factories.subject(session, name="淄博高亮测试有限公司")
    page = client.get("/search", params={"q": "高亮"}, headers=BROWSER)
    assert "<mark>高亮</mark>" in page.text


def test_unknown_code_is_404_json_for_api_and_html_for_browsers(client: TestClient) -> None:
    api = client.get("/api/v1/subjects/91370302MA00000000")
    assert api.status_code == 404 and api.json()["error"] == "not_found" and "未找到" in api.json()["message"]
    page = client.get("/subjects/91370302MA00000000", headers=BROWSER)
    assert page.status_code == 404 and "text/html" in page.headers["content-type"] and "未找到" in page.text
    missing = client.get("/no/such/page", headers=BROWSER)
    assert missing.status_code == 404 and "页面不存在" in missing.text and "Traceback" not in missing.text
    assert client.get("/api/v1/no-such").json()["error"] == "not_found"


def test_etag_and_304(client: TestClient, session: Session) -> None:
    subject = factories.subject(session)
    factories.record(session, subject_row=subject)
    first = client.get(f"/api/v1/subjects/{subject.uscc}")
    etag = first.headers["etag"]
    again = client.get(f"/api/v1/subjects/{subject.uscc}", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    factories.record(session, subject_row=subject)
    changed = client.get(f"/api/v1/subjects/{subject.uscc}", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag


def test_publicity_filters(client: TestClient, session: Session) -> None:
    import datetime as dt

    subject = factories.subject(session)
    other_unit = factories.unit(
        session, uscc_code=factories.uscc(region="370300"), name="淄博市市场监督管理局", short_name="淄市监"
    )
    fine = factories.record(session, subject_row=subject, decision_date=dt.date(2026, 5, 1), payload={"CF_CFLB": "02"})
    warn = factories.record(
        session, subject_row=subject, unit_row=other_unit, decision_date=dt.date(2026, 6, 1), payload={"CF_CFLB": "01"}
    )
    docs = lambda **p: [i["doc_no"] for i in client.get("/api/v1/publicity/penalties", params=p).json()["items"]]  # noqa: E731
    assert docs() == [warn.doc_no, fine.doc_no]
    assert docs(category="02") == [fine.doc_no]
    assert docs(unit=other_unit.uscc) == [warn.doc_no]
    assert docs(date_from="2026-05-15") == [warn.doc_no]
    assert docs(date_to="2026-05-15") == [fine.doc_no]
    bad = client.get("/api/v1/publicity/penalties", params={"date_from": "2026/13/01"})
    assert bad.status_code == 422 and "日期格式" in bad.json()["message"]
    assert client.get("/api/v1/publicity/nothing").status_code == 422


def test_rate_limit_answers_429_in_chinese(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XINYONG_RATE_LIMIT_PER_MINUTE", "6")
    monkeypatch.setenv("XINYONG_RATE_LIMIT_BURST", "3")
    reset_settings()
    client.app.state.rate_limiter = None  # type: ignore[attr-defined]
    codes = [client.get("/api/v1/subjects", params={"q": "淄博"}).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = client.get("/api/v1/subjects", params={"q": "淄博"})
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert "查询过于频繁" in limited.json()["message"]
    page = client.get("/search", params={"q": "淄博"}, headers=BROWSER)
    assert page.status_code == 429 and "查询过于频繁" in page.text and page.headers["retry-after"]


def test_openapi_documents_the_public_endpoints(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/api/v1/subjects", "/api/v1/subjects/{code}", "/api/v1/publicity/{kind}", "/api/v1/me"):
        assert path in paths, path
    assert "SubjectProfileRead" in str(paths["/api/v1/subjects/{code}"])


CITIZEN_ID = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")


def test_no_response_contains_a_full_citizen_id(client: TestClient, session: Session) -> None:
    from xinyong.subjects.codes import id_number_error

    number = factories.citizen_id(4711)
    debtor = factories.subject(session, name="李四", kind=SubjectKind.NATURAL_PERSON, id_number=number)
    factories.record(
        session,
        subject_row=debtor,
        resource="dishonest_judgment_debtor",
        severity="serious",
        payload={"BZX_SXQX": f"被执行人 {number} 有履行能力而拒不履行", "BZX_ZXFY": "淄博市中级人民法院"},
    )
    company = factories.subject(session, name="淄博证件测试有限公司")
    factories.record(session, subject_row=company, payload={"CF_NR": f"法定代表人身份证 {number}", "CF_CFLB": "02"})
    urls = [
        "/",
        "/search?q=李四",
        "/search?q=证件测试",
        f"/subjects/P{debtor.id}",
        f"/subjects/{company.uscc}",
        "/publicity/penalties",
        "/api/v1/subjects?q=李四",
        f"/api/v1/subjects/P{debtor.id}",
        f"/api/v1/subjects/{company.uscc}",
        "/api/v1/publicity/penalties",
    ]
    bodies = {url: client.get(url, headers=BROWSER if not url.startswith("/api") else {}).text for url in urls}
    assert "李四" in bodies[f"/api/v1/subjects/P{debtor.id}"]  # 失信被执行人 are published, masked
    for url, text in bodies.items():
        for found in CITIZEN_ID.findall(text):
            assert id_number_error(found.upper()) is not None, (url, found)
        assert number not in text, url
