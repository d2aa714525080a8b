"""Each kind of report rendered to PDF, read back like a bank would: text, fonts, pages, QR code, verification."""

from __future__ import annotations

import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.reports.conftest import Company, need_tool, pdf_pages, pdf_text, qr_of_first_page
from xinyong.audit.service import Actor
from xinyong.reports import service

EXPECTED = {
    # kind: (text that must be in the report, text that must not)
    "public": (
        [
            "公开版",
            "行政许可信息",
            "准予核发排污许可证",
            "超标排放大气污染物",
            "罚款人民币十万元",
            "纳税信用A级纳税人名单",
            "经营异常名录信息",
            "通过登记的住所无法联系",
            "信用承诺",
            "信用评价",
            "严重失信主体名单信息",
            "未发现列入严重失信主体名单的记录",
            "司法判决信息",
            "信息来源",
            "淄博市生态环境局",
            "数据截止时间",
            "报告说明",
        ],
        ["未按时公示年度报告", "已撤销的处罚事项", "不公开：", "轻微失信信息"],
    ),
    "full": (
        [
            "完整版",
            "未按时公示年度报告",
            "不公开",
            "轻微失信信息，依规不予公示",
            "已撤销的处罚事项",
            "该信息已被撤销",
            "超标排放大气污染物",
            "公开",
        ],
        [],
    ),
    "no_violation": (
        [
            "无违法违规记录版",
            "市场监管",
            "生态环境",
            "税务",
            "未按时公示年度报告",
            "超标排放大气污染物",
            "尚未归集税务领域信息提供单位的数据",
            "报告期间",
        ],
        ["已撤销的处罚事项", "准予核发排污许可证"],
    ),
}


@pytest.mark.parametrize("kind", ["public", "full", "no_violation"])
def test_report_pdf_reads_back_and_its_qr_code_verifies(
    kind: str, company: Company, session: Session, client: TestClient, tmp_path: Path
) -> None:
    domains = ["market", "environment", "tax"] if kind == "no_violation" else None
    issued = service.issue(
        session=session, code=company.code, kind=kind, actor=Actor.cli(), channel="cli", domains=domains
    )
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(issued.data)
    number = issued.report.report_no
    assert number.startswith("XY-370300-20260615-")

    text = pdf_text(pdf)
    present, absent = EXPECTED[kind]
    for needle in [
        "公共信用信息报告",
        "淄博示范化工有限公司",
        company.code,
        issued.content.verification_code,
        *present,
    ]:
        assert needle in text, needle
    for needle in absent:
        assert needle not in text, needle

    pages = pdf_pages(pdf)
    assert pages >= 2
    for page in range(1, pages + 1):  # header with the number and the page footer on every page
        page_text = pdf_text(pdf, page)
        assert f"报告编号：{number}" in page_text
        assert f"第{page}页/共{pages}页" in page_text.replace(" ", "")

    fonts = subprocess.run([need_tool("pdffonts"), str(pdf)], check=True, capture_output=True, text=True).stdout
    cjk = [line for line in fonts.splitlines() if "Noto-Sans-CJK" in line]
    assert cjk and all(" yes yes yes " in f" {' '.join(line.split()[-5:-2])} " for line in cjk), fonts  # emb sub uni
    size = subprocess.run([need_tool("pdfinfo"), str(pdf)], check=True, capture_output=True, text=True).stdout
    assert "595.28 x 841.89 pts (A4)" in size or "(A4)" in size

    url = qr_of_first_page(pdf, tmp_path)
    assert url == issued.content.verify_url
    parts = urlsplit(url)
    assert parts.path == f"/reports/verify/{number}"
    api = client.get(f"/api/v1/reports/verify/{number}?{parts.query}")
    assert api.status_code == 200
    body = api.json()
    assert body["valid"] is True and body["code_valid"] is True
    assert body["subject_name"] == "淄博示范化工有限公司" and body["kind"] == kind
    assert body["issued_on"] == "2026-06-15"
    page = client.get(f"{parts.path}?{parts.query}", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "验证码正确，报告由本平台出具" in page.text

    genuine = client.post(f"/api/v1/reports/verify/{number}", files={"file": ("r.pdf", issued.data, "application/pdf")})
    assert genuine.json()["valid"] is True and genuine.json()["file_matches"] is True

    # Edited copies: one byte changed inside the file, and an incremental update appended (what PDF editors do).
    middle = len(issued.data) // 2
    flipped = issued.data[:middle] + bytes([issued.data[middle] ^ 0x01]) + issued.data[middle + 1 :]
    appended = issued.data + b"\n% edited\n"
    for edited in (flipped, appended):
        tampered = client.post(f"/api/v1/reports/verify/{number}", files={"file": ("r.pdf", edited, "application/pdf")})
        assert tampered.status_code == 200
        assert tampered.json()["valid"] is False and tampered.json()["file_matches"] is False
        assert "不一致" in tampered.json()["message"]
