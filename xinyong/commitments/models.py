"""信用承诺: a subject signs a standard commitment; departments record whether it was kept."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.core.database import Base, BigId, JsonType, UTCDateTime


class CommitmentStatus(enum.StrEnum):
    SIGNED = "signed"  # 已签署（履行中）
    KEPT = "kept"  # 履约
    BROKEN = "broken"  # 违诺


COMMITMENT_STATUS_LABELS = {
    CommitmentStatus.SIGNED: "已签署",
    CommitmentStatus.KEPT: "已履约",
    CommitmentStatus.BROKEN: "违诺",
}


class Commitment(Base):
    __tablename__ = "commitment"
    __table_args__ = ({"comment": "信用承诺"},)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    no: Mapped[str] = mapped_column(sa.String(24), unique=True, comment="承诺书编号")
    subject_id: Mapped[int] = mapped_column(sa.ForeignKey("subject.id"), index=True)
    template: Mapped[str] = mapped_column(sa.String(64), comment="承诺书模板代码")
    template_version: Mapped[int] = mapped_column(sa.Integer)
    type: Mapped[str] = mapped_column(sa.String(24), comment="承诺类型（六类之一）")
    title: Mapped[str] = mapped_column(sa.String(200))
    text: Mapped[str] = mapped_column(sa.Text, comment="签署时的承诺书全文")
    values: Mapped[dict[str, Any]] = mapped_column(JsonType, comment="模板字段的填写值")
    public: Mapped[bool] = mapped_column(sa.Boolean, comment="是否向社会公示")
    status: Mapped[str] = mapped_column(sa.String(8))
    signed_by: Mapped[str] = mapped_column(sa.String(64), comment="签署账号")
    signed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    valid_to: Mapped[dt.date | None] = mapped_column(sa.Date, comment="承诺有效期至")
    fulfilment_unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("source_unit.id"), comment="记录履约的部门")
    fulfilment_note: Mapped[str | None] = mapped_column(sa.Text)
    fulfilment_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    broken_record_id: Mapped[int | None] = mapped_column(sa.ForeignKey("record.id"), comment="违诺生成的失信记录")
