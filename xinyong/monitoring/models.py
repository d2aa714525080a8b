"""Monitoring's own rows: the data-governance queue and the scheduled job runs."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.core.database import Base, BigId, JsonType, UTCDateTime


class IssueKind(enum.StrEnum):
    DUPLICATE_DOC = "duplicate_doc"  # 同一文号不同写法
    DUPLICATE_SUBJECT = "duplicate_subject"  # 同一企业不同名称/代码
    VOLUME_ZERO = "volume_zero"  # 报送量降为零
    VOLUME_SPIKE = "volume_spike"  # 报送量激增


ISSUE_KIND_LABELS = {
    IssueKind.DUPLICATE_DOC: "疑似重复记录（文号写法不同）",
    IssueKind.DUPLICATE_SUBJECT: "疑似重复主体",
    IssueKind.VOLUME_ZERO: "报送量降为零",
    IssueKind.VOLUME_SPIKE: "报送量激增",
}


class IssueStatus(enum.StrEnum):
    OPEN = "open"  # 待处理
    RESOLVED = "resolved"  # 已处理
    DISMISSED = "dismissed"  # 已忽略（误报）


ISSUE_STATUS_LABELS = {IssueStatus.OPEN: "待处理", IssueStatus.RESOLVED: "已处理", IssueStatus.DISMISSED: "已忽略"}


class GovernanceIssue(Base):
    __tablename__ = "governance_issue"
    __table_args__ = (
        sa.Index("ix_governance_issue_status", "status", "kind"),
        {"comment": "数据治理问题队列（疑似重复、报送量异常）"},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(24), comment="问题类型")
    key: Mapped[str] = mapped_column(sa.String(200), unique=True, comment="去重键：同一问题重复扫描不会重复入队")
    title: Mapped[str] = mapped_column(sa.String(300), comment="问题摘要")
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("source_unit.id"), comment="涉及的单位")
    region: Mapped[str | None] = mapped_column(sa.String(6), index=True, comment="行政区划代码")
    detail: Mapped[dict[str, Any]] = mapped_column(JsonType, comment="明细（记录、主体、数量）")
    status: Mapped[str] = mapped_column(sa.String(12), default=IssueStatus.OPEN, comment="状态")
    note: Mapped[str | None] = mapped_column(sa.Text, comment="处理说明")
    resolved_by: Mapped[str | None] = mapped_column(sa.String(64), comment="处理人")
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, comment="处理时间")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, comment="发现时间")


class JobState(enum.StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class JobRun(Base):
    __tablename__ = "job_run"
    __table_args__ = (
        sa.UniqueConstraint("job", "period"),
        {"comment": "定时任务执行记录（任务+周期唯一，保证重复执行不重复做）"},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    job: Mapped[str] = mapped_column(sa.String(64), comment="任务名")
    period: Mapped[str] = mapped_column(sa.String(32), comment="幂等键：任务所属周期，如 2026-06 或 2026-06-15")
    state: Mapped[str] = mapped_column(sa.String(12), comment="running / done / failed")
    attempts: Mapped[int] = mapped_column(sa.Integer, default=1, comment="执行次数（失败后重试会增加）")
    result: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict, comment="结果摘要")
    error: Mapped[str | None] = mapped_column(sa.Text, comment="失败原因")
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
