"""归集批次 and the rows they quarantined."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.core.database import Base, BigId, JsonType, UTCDateTime


class BatchState(enum.StrEnum):
    RUNNING = "running"  # started or interrupted: the next run of the same file resumes it
    COMPLETED = "completed"
    FAILED = "failed"  # the file itself could not be read (bad format); nothing to resume


class Batch(Base):
    __tablename__ = "batch"
    __table_args__ = (
        sa.Index("ix_batch_resume", "resource_id", "source_unit_id", "file_sha256", "state"),
        {"comment": "归集批次"},
    )

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True, comment="批次号")
    resource_id: Mapped[int] = mapped_column(sa.ForeignKey("resource.id"), comment="信息资源")
    source_unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("source_unit.id"), comment="报送单位")
    submitted_by: Mapped[str] = mapped_column(sa.String(64), comment="报送者（账号或 cli）")
    channel: Mapped[str] = mapped_column(sa.String(16), comment="渠道：cli / api / upstream")
    filename: Mapped[str] = mapped_column(sa.String(400), comment="文件名")
    file_sha256: Mapped[str] = mapped_column(sa.String(64), comment="文件散列（用于断点续传与重复识别）")
    file_format: Mapped[str] = mapped_column(sa.String(8), comment="csv/xlsx/xls/json/jsonl")
    encoding: Mapped[str | None] = mapped_column(sa.String(16), comment="文本编码")
    state: Mapped[str] = mapped_column(sa.String(12), comment="状态")
    rows_done: Mapped[int] = mapped_column(sa.Integer, default=0, comment="已提交处理的数据行数（断点）")
    received: Mapped[int] = mapped_column(sa.Integer, default=0)
    accepted: Mapped[int] = mapped_column(sa.Integer, default=0)
    duplicates: Mapped[int] = mapped_column(sa.Integer, default=0)
    rejected: Mapped[int] = mapped_column(sa.Integer, default=0)
    linked: Mapped[int] = mapped_column(sa.Integer, default=0)
    subjects_created: Mapped[int] = mapped_column(sa.Integer, default=0)
    error: Mapped[str | None] = mapped_column(sa.Text, comment="整批失败原因")
    region: Mapped[str | None] = mapped_column(sa.String(6), index=True)
    origin: Mapped[str] = mapped_column(sa.String(32), default="local", comment="数据来源平台")
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class QuarantinedRow(Base):
    __tablename__ = "quarantined_row"
    __table_args__ = (
        sa.UniqueConstraint("batch_id", "row_no"),
        {"comment": "被拒收的数据行"},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    batch_id: Mapped[str] = mapped_column(sa.ForeignKey("batch.id", ondelete="CASCADE"))
    row_no: Mapped[int] = mapped_column(sa.Integer, comment="文件中的行号（含表头，与表格软件一致）")
    raw_cipher: Mapped[bytes] = mapped_column(sa.LargeBinary, comment="原始行（加密，可能含个人信息）")
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, comment="拒收原因：[{field, message}]")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
