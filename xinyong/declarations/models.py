"""自主申报: what a subject says about itself, labelled as self-declared until a department verifies it."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.core.database import Base, BigId, UTCDateTime


class DeclarationCategory(enum.StrEnum):
    QUALIFICATION = "qualification"  # 资质
    HONOUR = "honour"  # 荣誉
    CONTRACT = "contract"  # 合同履约
    WELFARE = "welfare"  # 公益活动


CATEGORY_LABELS = {
    DeclarationCategory.QUALIFICATION: "资质证书",
    DeclarationCategory.HONOUR: "荣誉表彰",
    DeclarationCategory.CONTRACT: "合同履约",
    DeclarationCategory.WELFARE: "公益活动",
}


class DeclarationStatus(enum.StrEnum):
    DECLARED = "declared"  # 自主申报（未核实）
    VERIFIED = "verified"  # 已核实
    REJECTED = "rejected"  # 核实不符（不再展示）


class SelfDeclaration(Base):
    __tablename__ = "self_declaration"
    __table_args__ = ({"comment": "自主申报信息"},)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subject_id: Mapped[int] = mapped_column(sa.ForeignKey("subject.id"), index=True)
    category: Mapped[str] = mapped_column(sa.String(16), comment="qualification/honour/contract/welfare")
    title: Mapped[str] = mapped_column(sa.String(200), comment="名称（证书、荣誉、合同、活动）")
    issuer: Mapped[str | None] = mapped_column(sa.String(200), comment="发证/授予机关或合同相对方")
    content: Mapped[str] = mapped_column(sa.Text, comment="说明")
    occurred_on: Mapped[dt.date | None] = mapped_column(sa.Date, comment="取得/发生日期")
    valid_to: Mapped[dt.date | None] = mapped_column(sa.Date, comment="有效期至")
    status: Mapped[str] = mapped_column(sa.String(10))
    declared_by: Mapped[str] = mapped_column(sa.String(64))
    declared_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    verified_by: Mapped[str | None] = mapped_column(sa.String(100), comment="核实单位")
    verified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    verification_note: Mapped[str | None] = mapped_column(sa.Text)
