"""公共信用信息目录: resources (what may be collected, how it is disclosed) and the source units that provide them."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from xinyong.core.database import Base, BigId, JsonType, UTCDateTime


class DisclosureClass(enum.StrEnum):
    PUBLIC = "public"  # 社会公开
    AUTHORIZED = "authorized"  # 授权查询
    SHARED = "shared"  # 政务共享


class Resource(Base):
    __tablename__ = "resource"
    __table_args__ = ({"comment": "信息资源（目录条目）"},)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(64), unique=True, comment="资源代码，如 administrative_penalty")
    name: Mapped[str] = mapped_column(sa.String(100), comment="资源名称，如 行政处罚信息")
    category: Mapped[str] = mapped_column(sa.String(100), comment="目录类别")
    nature: Mapped[str] = mapped_column(
        sa.String(16), comment="信息性质: license / penalty / list_entry / dishonesty / honour / other"
    )
    disclosure_class: Mapped[str] = mapped_column(sa.String(16), comment="公开属性: public/authorized/shared")
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, comment="字段定义（代码、名称、类型、必填规则）")
    roles: Mapped[dict[str, str]] = mapped_column(JsonType, comment="字段角色：哪个字段是名称、代码、文号、日期…")
    severity_rules: Mapped[dict[str, Any]] = mapped_column(JsonType, comment="失信程度判定规则")
    update_frequency: Mapped[str] = mapped_column(sa.String(32), comment="更新频率，如 7个工作日内")
    update_days: Mapped[int | None] = mapped_column(sa.Integer, comment="更新频率折算为工作日")
    legal_basis: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, comment="法律依据")
    publish_natural_persons: Mapped[bool] = mapped_column(
        sa.Boolean, default=False, comment="是否依规公开自然人信息（默认否）"
    )
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    version: Mapped[int] = mapped_column(sa.Integer, default=1, comment="目录版本")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class SourceUnit(Base):
    __tablename__ = "source_unit"
    __table_args__ = ({"comment": "信息提供单位"},)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    uscc: Mapped[str] = mapped_column(sa.String(18), unique=True, comment="单位统一社会信用代码")
    name: Mapped[str] = mapped_column(sa.String(200), comment="单位名称")
    short_name: Mapped[str | None] = mapped_column(sa.String(50), comment="简称（文号前缀，如 淄环）")
    region: Mapped[str] = mapped_column(sa.String(6), index=True, comment="行政区划代码")
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    grants: Mapped[list[UnitResource]] = relationship(back_populates="unit", cascade="all, delete-orphan")


class UnitResource(Base):
    __tablename__ = "unit_resource"
    __table_args__ = ({"comment": "单位可报送的信息资源"},)

    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("source_unit.id", ondelete="CASCADE"), primary_key=True)
    resource_id: Mapped[int] = mapped_column(sa.ForeignKey("resource.id", ondelete="CASCADE"), primary_key=True)

    unit: Mapped[SourceUnit] = relationship(back_populates="grants")
    resource: Mapped[Resource] = relationship()
