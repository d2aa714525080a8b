"""Batch check (CSV in GBK, XLSX), feedback and the statistics of joint reward and punishment cases."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from openpyxl import Workbook, load_workbook
from sqlalchemy.orm import Session

from tests import factories
from tests.checks.conftest import CLERK, put_on_list
from xinyong.audit.service import Actor
from xinyong.checks import service as checks
from xinyong.checks.models import Check
from xinyong.checks.upload import read_upload, write_csv, write_xlsx
from xinyong.core.errors import InvalidInput


def _people(session: Session) -> tuple[str, str]:
    listed = factories.subject(session, name="淄博鑫源化工有限公司")
    put_on_list(session, listed, "government_procurement")
    factories.subject(session, name="淄博华信建材有限公司")
    factories.subject(session, name="淄博华信建材有限责任公司")
    clean = factories.subject(session, name="淄博清源环保科技有限公司")
    assert listed.uscc and clean.uscc
    return listed.uscc, clean.uscc


def test_batch_check_from_a_gbk_csv(session: Session) -> None:
    listed, clean = _people(session)
    text = (
        "序号,统一社会信用代码,名称\r\n"
        f"1,{listed},\r\n"
        f"2,{clean.lower()},淄博清源环保科技有限公司\r\n"
        "3,,淄博鑫源化工有限公司\r\n"
        "4,,淄博华信建材公司\r\n"
        "5,91370302MA0000000X,\r\n"
        "6,,完全不存在的名称甲乙丙\r\n"
    )
    rows = read_upload("供应商.csv", text.encode("gbk"))
    assert [r.row_no for r in rows] == [2, 3, 4, 5, 6, 7]
    batch_no, lines = checks.batch_check(session=session, actor=CLERK, matter="政府采购", rows=rows)
    status = {line["row_no"]: line["status"] for line in lines}
    assert status == {2: "checked", 3: "checked", 4: "checked", 5: "needs_confirmation", 6: "rejected", 7: "not_found"}
    by_row = {line["row_no"]: line for line in lines}
    assert by_row[2]["punishments"].startswith("M01 ")
    assert by_row[4]["score"] == 100.0 and by_row[4]["subject_code"] == listed
    assert by_row[3]["punishments"] == ""
    assert "淄博华信建材有限公司" in by_row[5]["note"] and len(by_row[5]["candidates"]) == 2
    assert "校验" in by_row[6]["note"]

    again = checks.batch_lines(session=session, batch_no=batch_no)
    assert [(line["row_no"], line["status"]) for line in again] == sorted(status.items())
    exported = write_csv(checks.BATCH_COLUMNS, again).decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(exported)))
    assert table[0][:4] == ["行号", "输入代码", "输入名称", "核查状态"]
    assert table[4][3] == "待人工确认"  # file row 5
    book = load_workbook(io.BytesIO(write_xlsx(checks.BATCH_COLUMNS, again, "批量核查")))
    assert book.active is not None and book.active.max_row == 7


def test_batch_check_from_xlsx_and_bad_files(session: Session) -> None:
    listed, _ = _people(session)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["企业名称", "统一社会信用代码"])
    sheet.append(["淄博鑫源化工有限公司", listed])
    out = io.BytesIO()
    book.save(out)
    rows = read_upload("list.xlsx", out.getvalue())
    _, lines = checks.batch_check(session=session, actor=CLERK, matter="government_procurement", rows=rows)
    assert lines[0]["lists"] == "政府采购严重违法失信行为记录名单"
    with pytest.raises(InvalidInput, match="第 1 行"):
        read_upload("x.csv", "甲,乙\n1,2\n".encode())
    with pytest.raises(InvalidInput, match="CSV 或 XLSX"):
        read_upload("x.pdf", b"%PDF")


def test_a_batch_check_stores_its_checks_a_chunk_at_a_time(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    listed, clean = _people(session)
    monkeypatch.setitem(checks.BATCH_CHUNK, session.get_bind().dialect.name, 2)
    text = "统一社会信用代码,名称\n" + f"{listed},\n{clean},\n,淄博华信建材公司\n91370302MA0000000X,\n{clean},\n"
    rows = read_upload("供应商.csv", text.encode())
    chunks: list[int] = []

    def stored() -> int:
        return session.scalar(sa.select(sa.func.count()).select_from(Check)) or 0

    @contextmanager
    def store() -> Iterator[Session]:  # each chunk's writes: none may come before it or outside it
        before = stored()
        yield session
        chunks.append(stored() - before)

    start = stored()
    batch_no, lines = checks.batch_check(session=session, actor=CLERK, matter="政府采购", rows=rows, store=store)
    assert chunks == [2, 2, 1] and stored() - start == 5
    assert [line["status"] for line in lines] == ["checked", "checked", "needs_confirmation", "rejected", "checked"]
    assert [line["row_no"] for line in checks.batch_lines(session=session, batch_no=batch_no)] == [2, 3, 4, 5, 6]


def test_feedback_and_case_statistics(session: Session) -> None:
    company = factories.subject(session)
    put_on_list(session, company, "wage_arrears")
    result = checks.run_check(
        session=session, actor=CLERK, request=checks.CheckRequest(matter="honours", code=company.uscc)
    ).result
    with pytest.raises(InvalidInput, match="须说明理由"):
        checks.record_feedback(
            session=session,
            actor=CLERK,
            check_no=result["check_id"],
            items=[checks.FeedbackItem(measure_code="M10", applied=False)],
        )
    with pytest.raises(InvalidInput, match="不在本次核查结果中"):
        checks.record_feedback(
            session=session,
            actor=CLERK,
            check_no=result["check_id"],
            items=[checks.FeedbackItem(measure_code="M01", applied=True)],
        )
    checks.record_feedback(
        session=session,
        actor=CLERK,
        check_no=result["check_id"],
        department="淄博市人力资源和社会保障局",
        items=[
            checks.FeedbackItem(measure_code="M10", applied=True),
            checks.FeedbackItem(measure_code="M20", applied=False, reason="本次评选不涉及该企业"),
        ],
    )
    other = checks.run_check(
        session=session,
        actor=Actor(name="clerk2", role="checker"),
        request=checks.CheckRequest(matter="government_procurement", code=company.uscc),
    ).result
    checks.record_feedback(
        session=session,
        actor=CLERK,
        check_no=other["check_id"],
        department="淄博市财政局",
        items=[checks.FeedbackItem(measure_code="M10", applied=False, reason="已履行完毕")],
    )
    stats = {(row["department"], row["month"]): row for row in checks.case_statistics(session=session)}
    assert stats[("淄博市人力资源和社会保障局", "2026-06")] | {} == {
        "department": "淄博市人力资源和社会保障局",
        "month": "2026-06",
        "cases": 1,
        "punishments_applied": 1,
        "rewards_applied": 0,
        "not_applied": 1,
    }
    assert stats[("淄博市财政局", "2026-06")]["cases"] == 0
