"""Accounts, roles and API keys."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.core.database import Base, BigId, UTCDateTime


class Role(enum.StrEnum):
    ADMIN = "admin"  # 平台管理员
    CREDIT_OFFICE = "credit_office"  # 信用办
    SOURCE_UNIT = "source_unit"  # 信息提供单位
    CHECKER = "checker"  # 核查用户
    SUBJECT = "subject"  # 信用主体


ROLE_LABELS = {
    Role.ADMIN: "平台管理员",
    Role.CREDIT_OFFICE: "信用办",
    Role.SOURCE_UNIT: "信息提供单位",
    Role.CHECKER: "核查用户",
    Role.SUBJECT: "信用主体",
}


class Account(Base):
    __tablename__ = "account"
    __table_args__ = ({"comment": "账号"},)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True, comment="登录名")
    display_name: Mapped[str] = mapped_column(sa.String(100), comment="显示名")
    role: Mapped[str] = mapped_column(sa.String(16), comment="角色")
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("source_unit.id"), comment="所属单位")
    subject_id: Mapped[int | None] = mapped_column(sa.ForeignKey("subject.id"), comment="本人/本企业主体")
    region: Mapped[str | None] = mapped_column(sa.String(6), comment="工作区域（空 = 全市）")
    password_hash: Mapped[str | None] = mapped_column(sa.String(200), comment="argon2 散列")
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(sa.Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ApiKey(Base):
    __tablename__ = "api_key"
    __table_args__ = ({"comment": "API 密钥（只存散列）"},)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    prefix: Mapped[str] = mapped_column(sa.String(16), unique=True, comment="密钥前缀（用于查找与展示）")
    key_hash: Mapped[str] = mapped_column(sa.String(64), comment="SHA-256（密钥为高熵随机串）")
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"), comment="所属账号")
    role: Mapped[str] = mapped_column(sa.String(16))
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("source_unit.id"))
    region: Mapped[str | None] = mapped_column(sa.String(6))
    label: Mapped[str | None] = mapped_column(sa.String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
