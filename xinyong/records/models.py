"""信用信息记录: the current state of each piece of credit information, and every earlier state."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.core.database import Base, BigId, JsonType, UTCDateTime


class Severity(enum.StrEnum):
    MINOR = "minor"  # 轻微
    GENERAL = "general"  # 一般
    SERIOUS = "serious"  # 严重


SEVERITY_LABELS = {Severity.MINOR: "轻微", Severity.GENERAL: "一般", Severity.SERIOUS: "严重"}
SEVERITY_BY_LABEL = {label: sev for sev, label in SEVERITY_LABELS.items()}


class RecordStatus(enum.StrEnum):
    ACTIVE = "active"  # 有效
    REVOKED = "revoked"  # 已撤销（决定被撤销）
    DELETED = "deleted"  # 已删除（异议核实后删除）


class Record(Base):
    __tablename__ = "record"
    __table_args__ = (
        sa.UniqueConstraint("resource_id", "source_unit_id", "doc_no"),
        sa.Index("ix_record_subject_resource", "subject_id", "resource_id"),
        sa.Index("ix_record_resource_decision", "resource_id", "decision_date"),
        # Partial (0013_record_batch_partial): records loaded without a batch (a migrated baseline) would otherwise
        # make SQLite's statistics say "one value, every row" and the chunk lookups by batch scan the table.
        sa.Index(
            "ix_record_batch_id",
            "batch_id",
            sqlite_where=sa.text("batch_id IS NOT NULL"),
            postgresql_where=sa.text("batch_id IS NOT NULL"),
        ),
        # Partial (0017_record_objection_partial): a check lists the subject's records with an objection open; few
        # are, so this index answers without reading the subject's records from the table.
        sa.Index(
            "ix_record_objection_open",
            "subject_id",
            sqlite_where=sa.text("objection_open IS 1"),
            postgresql_where=sa.text("objection_open IS true"),
        ),
        {"comment": "信用信息记录（当前版本）"},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    resource_id: Mapped[int] = mapped_column(sa.ForeignKey("resource.id"), comment="信息资源")
    subject_id: Mapped[int | None] = mapped_column(sa.ForeignKey("subject.id"), comment="关联主体")
    source_unit_id: Mapped[int] = mapped_column(sa.ForeignKey("source_unit.id"), comment="信息提供单位")
    doc_no: Mapped[str] = mapped_column(sa.String(200), comment="决定文书号（同一资源、同一单位内唯一）")
    decision_date: Mapped[dt.date | None] = mapped_column(sa.Date, comment="决定日期")
    valid_from: Mapped[dt.date | None] = mapped_column(sa.Date, comment="有效期自")
    valid_to: Mapped[dt.date | None] = mapped_column(sa.Date, comment="有效期至（2099-12-31 为长期）")
    publish_until: Mapped[dt.date | None] = mapped_column(sa.Date, comment="公示截止期（明确给出时）")
    severity: Mapped[str | None] = mapped_column(sa.String(8), comment="失信程度 minor/general/serious")
    status: Mapped[str] = mapped_column(sa.String(8), default=RecordStatus.ACTIVE, comment="记录状态")
    objection_open: Mapped[bool] = mapped_column(sa.Boolean, default=False, comment="异议处理中")
    repaired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, comment="信用修复完成时间")
    region: Mapped[str | None] = mapped_column(sa.String(6), index=True, comment="行政区划代码（报送单位所在）")
    subject_name: Mapped[str] = mapped_column(sa.String(200), comment="行政相对人名称（按报送）")
    subject_kind: Mapped[str] = mapped_column(sa.String(24), comment="行政相对人类别")
    payload: Mapped[dict[str, Any]] = mapped_column(JsonType, comment="规范化后的字段（身份证号等已脱敏）")
    pii_cipher: Mapped[bytes | None] = mapped_column(sa.LargeBinary, comment="记录中的个人证件号码（加密）")
    content_hash: Mapped[str] = mapped_column(sa.String(64), comment="内容散列，用于判断重复报送")
    version: Mapped[int] = mapped_column(sa.Integer, default=1, comment="版本号")
    batch_id: Mapped[str | None] = mapped_column(sa.String(32), comment="最近一次写入的批次")
    origin: Mapped[str] = mapped_column(sa.String(32), default="local", comment="来源：local 或上级平台名")
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, comment="首次接收时间")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, comment="最后变更时间")


class RecordVersion(Base):
    __tablename__ = "record_version"
    __table_args__ = (
        sa.UniqueConstraint("record_id", "version"),
        {"comment": "信用信息记录的历史版本"},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    record_id: Mapped[int] = mapped_column(sa.ForeignKey("record.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(sa.Integer, comment="被替换的版本号")
    subject_id: Mapped[int | None] = mapped_column(BigId)
    decision_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    valid_from: Mapped[dt.date | None] = mapped_column(sa.Date)
    valid_to: Mapped[dt.date | None] = mapped_column(sa.Date)
    publish_until: Mapped[dt.date | None] = mapped_column(sa.Date)
    severity: Mapped[str | None] = mapped_column(sa.String(8))
    status: Mapped[str] = mapped_column(sa.String(8))
    subject_name: Mapped[str] = mapped_column(sa.String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JsonType)
    pii_cipher: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    batch_id: Mapped[str | None] = mapped_column(sa.String(32))
    replaced_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, comment="被替换时间")
    replaced_by: Mapped[str] = mapped_column(sa.String(64), comment="由谁替换（批次、账号）")
    reason: Mapped[str] = mapped_column(sa.String(16), comment="原因：resend / objection / repair / correction")
