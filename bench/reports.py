"""Report benchmark: reports per second for a typical subject (~20 records) and the time for one with 1,000.

    .venv/bin/python bench/reports.py --engine sqlite --rounds 20
    .venv/bin/python bench/reports.py --engine postgresql --rounds 20

Builds a fresh database with the real migrations, writes the two subjects' records through the ORM (the test
factories: valid national-standard values), then issues reports through ``reports.service.issue`` exactly as the CLI
and the API do (content through the disclosure engine → Jinja HTML → WeasyPrint PDF → registry row → audit), and
times content, HTML and PDF separately for the reference.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("XINYONG_TODAY", "2026-06-15")

import sqlalchemy as sa  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from tests import factories  # noqa: E402
from xinyong.audit.service import Actor  # noqa: E402
from xinyong.core import clock  # noqa: E402
from xinyong.core.bootstrap import upgrade_database  # noqa: E402
from xinyong.core.database import create_db_engine  # noqa: E402
from xinyong.reports import render, service  # noqa: E402
from xinyong.reports.models import ReportKind  # noqa: E402

PG_ADMIN = os.environ.get("XINYONG_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
MIX = [  # (resource, share of a subject's records)
    ("administrative_license", 0.45),
    ("administrative_penalty", 0.40),
    ("abnormal_operation", 0.05),
    ("tax_credit_a", 0.05),
    ("serious_dishonesty_list", 0.05),
]


def _payload(resource: str, n: int) -> dict[str, str]:
    if resource == "administrative_license":
        return {
            "XK_XKWS": "行政许可决定书",
            "XK_NR": f"准予第{n}项经营许可",
            "XK_XKLB": "普通",
            "XK_XKJG": "淄博市行政审批服务局",
        }
    if resource == "administrative_penalty":
        return {
            "CF_WFXW": "违反安全生产管理规定", "CF_SY": f"第{n}次检查发现未按规定开展隐患排查治理", "CF_CFLB": "02",
            "CF_NR": "罚款人民币二万元", "CF_NR_FK": "2", "CF_CFJG": "淄博市应急管理局",
        }  # fmt: skip
    if resource == "abnormal_operation":
        return {"YC_LRYY": "未按规定报送年度报告", "YC_ZCJG": "淄博市市场监督管理局"}
    if resource == "tax_credit_a":
        return {"NS_PDND": "2025", "NS_PJJG": "国家税务总局淄博市税务局"}
    return {"SX_MDMC": "严重失信主体名单", "SX_LRSY": "拒不履行法定义务", "SX_RDJG": "淄博市应急管理局"}


def _subject_with(session: Session, records: int, name: str) -> str:
    unit = factories.unit(session)
    subject = factories.subject(session, name=name, established_on=dt.date(2008, 3, 1))
    today = clock.today()
    n = 0
    for resource, share in MIX:
        for _ in range(max(1, round(records * share))):
            n += 1
            decided = today - dt.timedelta(days=(n * 7) % 700 + 1)
            extra = {"valid_from": decided, "valid_to": decided + dt.timedelta(days=1800)}
            factories.record(
                session, subject_row=subject, unit_row=unit, resource=resource, decision_date=decided,
                severity=None if resource in ("administrative_license", "tax_credit_a") else "general",
                payload=_payload(resource, n), **(extra if resource == "administrative_license" else {}),
            )  # fmt: skip
    assert subject.uscc is not None
    return subject.uscc


CPU: list[float] = []  # process CPU seconds of each timed report (the machine's other load does not count)


def _timed(session: Session, code: str, kind: ReportKind, fmt: str) -> tuple[float, service.IssuedFile]:
    start, cpu = time.perf_counter(), time.process_time()
    issued = service.issue(session=session, code=code, kind=kind, actor=Actor.cli(), channel="cli", file_format=fmt)
    CPU.append(time.process_time() - cpu)
    return time.perf_counter() - start, issued


def _stages(session: Session, code: str, kind: ReportKind) -> dict[str, float]:
    """Content (database + disclosure engine), HTML (Jinja + QR) and PDF (WeasyPrint) timed apart, once."""
    subject = service.find_by_code(session=session, code=code)
    assert subject is not None
    t0 = time.perf_counter()
    content = service.build_content(
        session=session, subject=subject, kind=kind, report_no="XY-370300-20260615-000000",
        verification_code="ABCDEFGH", issued_at=clock.now(),
    )  # fmt: skip
    t1 = time.perf_counter()
    render.html(content)
    t2 = time.perf_counter()
    render.pdf(content)
    t3 = time.perf_counter()
    return {"content": t1 - t0, "html": t2 - t1, "pdf (incl. html)": t3 - t2}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--rounds", type=int, default=20, help="reports issued per measure (typical subject)")
    parser.add_argument("--typical", type=int, default=20, help="records of the typical subject")
    parser.add_argument("--large", type=int, default=1000, help="records of the large subject")
    args = parser.parse_args()

    pg_name = None
    if args.engine == "sqlite":
        url = f"sqlite:///{tempfile.mkdtemp(prefix='xy-bench-')}/bench.db"
    else:
        pg_name = f"xinyong_bench_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f"CREATE DATABASE \"{pg_name}\" TEMPLATE template0 ENCODING 'UTF8' "
                                 "LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"))  # fmt: skip
        url = PG_ADMIN.rsplit("/", 1)[0] + f"/{pg_name}"
    engine = create_db_engine(url)
    try:
        upgrade_database(engine)
        with Session(engine) as session:
            typical = _subject_with(session, args.typical, "淄博典型化工有限公司")
            large = _subject_with(session, args.large, "淄博大型集团有限公司")
            session.commit()
        print(f"engine {args.engine}; typical subject {args.typical} records, large subject {args.large} records")
        with Session(engine) as session:
            _timed(session, typical, ReportKind.PUBLIC, "pdf")  # warm-up: Pango, fonts, templates
            for kind in (ReportKind.PUBLIC, ReportKind.FULL):
                for fmt in ("pdf", "html"):
                    CPU.clear()
                    times = [_timed(session, typical, kind, fmt)[0] for _ in range(args.rounds)]
                    cpu = statistics.median(CPU)
                    _, sample = _timed(session, typical, kind, fmt)
                    print(
                        f"typical {kind.value:6} {fmt:4}: median {statistics.median(times) * 1000:7.1f} ms "
                        f"(CPU {cpu * 1000:6.1f} ms), "
                        f"p95 {sorted(times)[int(len(times) * 0.95) - 1] * 1000:7.1f} ms, "
                        f"{1 / statistics.mean(times):5.1f} reports/s, {len(sample.data) // 1024} KiB"
                    )
            stages = _stages(session, typical, ReportKind.FULL)
            print("typical full stages: " + ", ".join(f"{k} {v * 1000:.1f} ms" for k, v in stages.items()))
            for kind in (ReportKind.PUBLIC, ReportKind.FULL):
                took, issued = _timed(session, large, kind, "pdf")
                items = sum(issued.content.counts().values())
                print(
                    f"large {kind.value:6} pdf: {took:6.2f} s (CPU {CPU[-1]:6.2f} s), {items} items, "
                    f"{len(issued.data) // 1024} KiB"
                )
            stages = _stages(session, large, ReportKind.FULL)
            print("large full stages: " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in stages.items()))
            session.rollback()
    finally:
        engine.dispose()
        if pg_name:
            with sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT").connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
