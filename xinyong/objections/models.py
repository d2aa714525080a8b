"""异议: a subject disputes one record; the credit office routes it to the source unit, which verifies it."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.core.database import Base, BigId, JsonType, UTCDateTime


class ObjectionStatus(enum.StrEnum):
    SUBMITTED = "submitted"  # 已提交
    ACCEPTED = "accepted"  # 已受理
    REFUSED = "refused"  # 不予受理
    FORWARDED = "forwarded"  # 已转信息提供单位核实
    CORRECTED = "corrected"  # 核实：已更正
    DELETED = "deleted"  # 核实：已删除
    UPHELD = "upheld"  # 核实：维持原信息
    ANSWERED = "answered"  # 已答复（办结）


OBJECTION_STATUS_LABELS = {
    ObjectionStatus.SUBMITTED: "已提交，待受理",
    ObjectionStatus.ACCEPTED: "已受理",
    ObjectionStatus.REFUSED: "不予受理",
    ObjectionStatus.FORWARDED: "已转信息提供单位核实",
    ObjectionStatus.CORRECTED: "核实完毕：信息已更正",
    ObjectionStatus.DELETED: "核实完毕：信息已删除",
    ObjectionStatus.UPHELD: "核实完毕：维持原信息",
    ObjectionStatus.ANSWERED: "已答复，办结",
}
VERIFIED = (ObjectionStatus.CORRECTED, ObjectionStatus.DELETED, ObjectionStatus.UPHELD)
CLOSED = (ObjectionStatus.REFUSED, ObjectionStatus.ANSWERED)


class Objection(Base):
    __tablename__ = "objection"
    __table_args__ = (
        sa.Index("ix_objection_status", "status"),
        sa.Index("ix_objection_unit_status", "source_unit_id", "status"),
        {"comment": "异议申请"},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    no: Mapped[str] = mapped_column(sa.String(24), unique=True, comment="异议编号")
    record_id: Mapped[int] = mapped_column(sa.ForeignKey("record.id"), index=True, comment="异议的信用信息记录")
    subject_id: Mapped[int] = mapped_column(sa.ForeignKey("subject.id"), index=True, comment="申请主体")
    source_unit_id: Mapped[int] = mapped_column(sa.ForeignKey("source_unit.id"), comment="记录的信息提供单位")
    applicant: Mapped[str] = mapped_column(sa.String(64), comment="提交者（账号）")
    request: Mapped[str] = mapped_column(sa.String(12), comment="请求：correct 更正 / delete 删除")
    reasons: Mapped[str] = mapped_column(sa.Text, comment="异议理由")
    requested_changes: Mapped[dict[str, Any]] = mapped_column(JsonType, comment="申请更正的字段及正确值")
    status: Mapped[str] = mapped_column(sa.String(12), comment="状态")
    refusal_reason: Mapped[str | None] = mapped_column(sa.Text, comment="不予受理理由")
    verification_note: Mapped[str | None] = mapped_column(sa.Text, comment="信息提供单位核实意见")
    applied_changes: Mapped[dict[str, Any]] = mapped_column(JsonType, comment="实际更正的内容")
    answer: Mapped[str | None] = mapped_column(sa.Text, comment="答复内容")
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    forwarded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    verified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, comment="不予受理或答复时间")
    accept_due: Mapped[dt.date] = mapped_column(sa.Date, comment="受理期限（工作日）")
    verify_due: Mapped[dt.date | None] = mapped_column(sa.Date, comment="核实期限（转办后）")
    answer_due: Mapped[dt.date | None] = mapped_column(sa.Date, comment="答复期限（受理后）")
    deadline_provisional: Mapped[bool] = mapped_column(sa.Boolean, default=False, comment="期限按未公布节假日推算")
    overdue_alerted: Mapped[str | None] = mapped_column(sa.String(16), comment="已发出超期提醒的阶段")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
