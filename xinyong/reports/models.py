"""信用报告出具登记: every issued report, so anyone holding one can check that it is genuine."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.core.database import Base, BigId, JsonType, UTCDateTime


class ReportKind(enum.StrEnum):
    PUBLIC = "public"  # 公共信用信息报告（公开版）
    FULL = "full"  # 公共信用信息报告（主体自用完整版）
    NO_VIOLATION = "no_violation"  # 公共信用信息报告（无违法违规记录版）


REPORT_KIND_LABELS = {
    ReportKind.PUBLIC: "公共信用信息报告（公开版）",
    ReportKind.FULL: "公共信用信息报告（完整版·主体自用）",
    ReportKind.NO_VIOLATION: "公共信用信息报告（无违法违规记录版）",
}

REPORT_EDITIONS = {
    ReportKind.PUBLIC: "公开版",
    ReportKind.FULL: "完整版（信用主体自用）",
    ReportKind.NO_VIOLATION: "无违法违规记录版",
}


class IssuedReport(Base):
    __tablename__ = "credit_report"
    __table_args__ = (
        sa.Index("ix_credit_report_subject_issued", "subject_id", "issued_at"),
        {"comment": "信用报告出具登记（用于真伪核验）"},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    report_no: Mapped[str] = mapped_column(sa.String(40), unique=True, comment="报告编号，如 XY-370300-20260615-000123")
    kind: Mapped[str] = mapped_column(sa.String(16), comment="报告类型: public / full / no_violation")
    subject_id: Mapped[int] = mapped_column(sa.ForeignKey("subject.id"), comment="信用主体")
    subject_name: Mapped[str] = mapped_column(sa.String(200), comment="出具时的主体名称")
    subject_code: Mapped[str] = mapped_column(
        sa.String(32), comment="出具时的主体代码（统一社会信用代码；自然人为脱敏证件号码）"
    )
    subject_kind: Mapped[str] = mapped_column(sa.String(24), comment="主体类别")
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, comment="出具时间（即数据截止时间）")
    issuer: Mapped[str] = mapped_column(sa.String(64), comment="出具人（账号、密钥或 cli）")
    issuer_role: Mapped[str | None] = mapped_column(sa.String(16), comment="出具人角色")
    channel: Mapped[str] = mapped_column(sa.String(16), comment="出具渠道: portal / office / cli / batch")
    file_format: Mapped[str] = mapped_column(sa.String(8), comment="文件格式: pdf / html")
    file_sha256: Mapped[str] = mapped_column(sa.String(64), comment="所出具文件的 SHA-256")
    file_size: Mapped[int] = mapped_column(sa.Integer, comment="所出具文件的字节数")
    code_hash: Mapped[str] = mapped_column(sa.String(64), comment="验证码的密钥散列（验证码本身不保存）")
    period_from: Mapped[dt.date | None] = mapped_column(sa.Date, comment="报告期间起")
    period_to: Mapped[dt.date | None] = mapped_column(sa.Date, comment="报告期间止")
    options: Mapped[dict[str, object]] = mapped_column(JsonType, comment="出具参数（领域等）与各部分条数")
