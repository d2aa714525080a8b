"""信用修复: after the minimum publication period, a subject applies to end the publication of a dishonesty record or
to leave a list; the credit office decides with the source unit's opinion."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.core.database import Base, BigId, JsonType, UTCDateTime


class RepairStatus(enum.StrEnum):
    SUBMITTED = "submitted"  # 已提交
    ACCEPTED = "accepted"  # 已受理，征求信息提供单位意见
    DECLINED = "declined"  # 不予受理（材料不全、未满最短公示期…）
    OPINION = "opinion"  # 信息提供单位已出具意见
    APPROVED = "approved"  # 准予修复
    REFUSED = "refused"  # 不予修复


REPAIR_STATUS_LABELS = {
    RepairStatus.SUBMITTED: "已提交，待受理",
    RepairStatus.ACCEPTED: "已受理，征求信息提供单位意见",
    RepairStatus.DECLINED: "不予受理",
    RepairStatus.OPINION: "信息提供单位已出具意见，待决定",
    RepairStatus.APPROVED: "准予信用修复",
    RepairStatus.REFUSED: "不予信用修复",
}
OPEN_REPAIR = (RepairStatus.SUBMITTED, RepairStatus.ACCEPTED, RepairStatus.OPINION)


class RepairApplication(Base):
    __tablename__ = "repair_application"
    __table_args__ = (
        sa.Index("ix_repair_application_status", "status"),
        {"comment": "信用修复申请"},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    no: Mapped[str] = mapped_column(sa.String(24), unique=True, comment="申请编号")
    target_type: Mapped[str] = mapped_column(sa.String(12), comment="record 失信记录 / list_entry 名单条目")
    record_id: Mapped[int | None] = mapped_column(sa.ForeignKey("record.id"), index=True)
    list_entry_id: Mapped[int | None] = mapped_column(sa.ForeignKey("list_entry.id"), index=True)
    subject_id: Mapped[int] = mapped_column(sa.ForeignKey("subject.id"), index=True, comment="申请主体")
    source_unit_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("source_unit.id"), comment="征求意见的信息提供单位"
    )
    applicant: Mapped[str] = mapped_column(sa.String(64))
    statement: Mapped[str] = mapped_column(sa.Text, comment="申请说明（整改情况）")
    checklist: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, comment="修复条件清单及每项的证明")
    commitment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("commitment.id"), comment="信用修复承诺书")
    eligible_from: Mapped[dt.date] = mapped_column(sa.Date, comment="最短公示期届满、可申请修复之日")
    status: Mapped[str] = mapped_column(sa.String(12))
    unit_opinion: Mapped[str | None] = mapped_column(sa.String(8), comment="agree / disagree")
    unit_note: Mapped[str | None] = mapped_column(sa.Text, comment="信息提供单位意见说明")
    decision_reason: Mapped[str | None] = mapped_column(sa.Text, comment="不予受理或不予修复的理由；准予说明")
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    opinion_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    accept_due: Mapped[dt.date] = mapped_column(sa.Date, comment="受理期限（工作日）")
    decide_due: Mapped[dt.date | None] = mapped_column(sa.Date, comment="决定期限（受理后，工作日）")
    deadline_provisional: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    overdue_alerted: Mapped[str | None] = mapped_column(sa.String(16), comment="已发出超期提醒的阶段")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
