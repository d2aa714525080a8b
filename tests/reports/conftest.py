"""Report fixtures: a company with records of every kind, and the app served on the test's rolled-back session."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests import factories
from tests.conftest import IN_CI, Database
from xinyong.app import create_app
from xinyong.catalog.models import SourceUnit
from xinyong.core.deps import get_session
from xinyong.core.settings import reset_settings
from xinyong.records.models import Record
from xinyong.subjects.models import Subject

TODAY = dt.date(2026, 6, 15)


@pytest.fixture
def client(session: Session, db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("XINYONG_RATE_LIMIT_PER_MINUTE", "0")
    reset_settings()
    app = create_app(engine=db.engine)

    def _same_session() -> Iterator[Session]:
        yield session
        session.flush()

    app.dependency_overrides[get_session] = _same_session
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@dataclass
class Company:
    subject: Subject
    environment: SourceUnit
    market: SourceUnit
    fine: Record  # 一般 penalty, public
    warning: Record  # 轻微 penalty, not public
    licence: Record
    tax_a: Record
    abnormal: Record
    revoked: Record  # a penalty whose decision was revoked

    @property
    def code(self) -> str:
        assert self.subject.uscc is not None
        return self.subject.uscc


@pytest.fixture
def company(session: Session) -> Company:
    environment = factories.unit(session)
    market = factories.unit(
        session, uscc_code=factories.uscc(region="370300"), name="淄博市市场监督管理局", short_name="淄市监"
    )
    subject = factories.subject(session, name="淄博示范化工有限公司", established_on=dt.date(2010, 5, 1))
    fine = factories.record(
        session, subject_row=subject, unit_row=environment, decision_date=dt.date(2026, 4, 20),
        payload={"CF_WFXW": "超标排放大气污染物", "CF_SY": "在线监测显示二氧化硫排放浓度超标", "CF_CFLB": "02",
                 "CF_NR": "罚款人民币十万元", "CF_NR_FK": "10", "CF_CFJG": "淄博市生态环境局"},
    )  # fmt: skip
    warning = factories.record(
        session, subject_row=subject, unit_row=market, severity="minor", decision_date=dt.date(2026, 3, 2),
        payload={"CF_WFXW": "未按时公示年度报告", "CF_CFLB": "01", "CF_NR": "警告", "CF_CFJG": "淄博市市场监督管理局"},
    )  # fmt: skip
    licence = factories.record(
        session, subject_row=subject, unit_row=environment, resource="administrative_license",
        decision_date=dt.date(2025, 1, 1), valid_from=dt.date(2025, 1, 1), valid_to=dt.date(2030, 1, 1),
        payload={"XK_XKWS": "排污许可证", "XK_NR": "准予核发排污许可证", "XK_XKLB": "普通"},
    )  # fmt: skip
    tax_a = factories.record(
        session, subject_row=subject, unit_row=environment, resource="tax_credit_a", severity=None,
        decision_date=dt.date(2026, 4, 1), payload={"NS_PDND": "2025", "NS_PJJG": "国家税务总局淄博市税务局"},
    )  # fmt: skip
    abnormal = factories.record(
        session, subject_row=subject, unit_row=market, resource="abnormal_operation", decision_date=dt.date(2026, 1, 5),
        payload={"YC_LRYY": "通过登记的住所无法联系", "YC_ZCJG": "淄博市市场监督管理局"},
    )  # fmt: skip
    revoked = factories.record(
        session, subject_row=subject, unit_row=environment, decision_date=dt.date(2026, 2, 1), status="revoked",
        payload={"CF_WFXW": "已撤销的处罚事项", "CF_CFLB": "02", "CF_NR": "罚款", "CF_CFJG": "淄博市生态环境局"},
    )  # fmt: skip
    return Company(subject, environment, market, fine, warning, licence, tax_a, abnormal, revoked)


def need_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if IN_CI:
            pytest.fail(f"CI requires {name} (Debian package; ./dev setup installs it)")
        pytest.skip(f"{name} not installed")
    return path


def pdf_text(pdf: Path, page: int | None = None) -> str:
    args = [need_tool("pdftotext"), "-layout"]
    if page is not None:
        args += ["-f", str(page), "-l", str(page)]
    return subprocess.run([*args, str(pdf), "-"], check=True, capture_output=True, text=True).stdout


def pdf_pages(pdf: Path) -> int:
    info = subprocess.run([need_tool("pdfinfo"), str(pdf)], check=True, capture_output=True, text=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def qr_of_first_page(pdf: Path, workdir: Path) -> str:
    """Render page 1 with pdftoppm and decode its QR code with zbarimg."""
    prefix = workdir / "page"
    subprocess.run(
        [need_tool("pdftoppm"), "-png", "-r", "150", "-f", "1", "-l", "1", str(pdf), str(prefix)], check=True
    )
    png = next(workdir.glob("page*.png"))
    decoded = subprocess.run(
        [need_tool("zbarimg"), "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(png)],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    return decoded
