"""信用主体: legal persons, individual businesses and natural persons, with their codes and names over time."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from xinyong.core.database import Base, BigId, UTCDateTime


class SubjectKind(enum.StrEnum):
    LEGAL_PERSON = "legal_person"  # 法人及非法人组织
    INDIVIDUAL_BUSINESS = "individual_business"  # 个体工商户
    NATURAL_PERSON = "natural_person"  # 自然人


SUBJECT_KIND_LABELS = {
    SubjectKind.LEGAL_PERSON: "法人及非法人组织",
    SubjectKind.INDIVIDUAL_BUSINESS: "个体工商户",
    SubjectKind.NATURAL_PERSON: "自然人",
}


class SubjectStatus(enum.StrEnum):
    ACTIVE = "active"  # 存续
    CANCELLED = "cancelled"  # 注销
    REVOKED = "revoked"  # 吊销
    MERGED = "merged"  # merged into another subject (see merged_into_id)


class CodeType(enum.StrEnum):
    """Legacy identifiers that map to a subject (代码映射)."""

    GSZC = "gszc"  # 工商注册号
    ZZJG = "zzjg"  # 组织机构代码
    SWDJ = "swdj"  # 税务登记号
    SYDW = "sydw"  # 事业单位证书号
    SHZZ = "shzz"  # 社会组织登记证号


CODE_TYPE_LABELS = {
    CodeType.GSZC: "工商注册号",
    CodeType.ZZJG: "组织机构代码",
    CodeType.SWDJ: "税务登记号",
    CodeType.SYDW: "事业单位证书号",
    CodeType.SHZZ: "社会组织登记证号",
}


class Subject(Base):
    __tablename__ = "subject"
    __table_args__ = ({"comment": "信用主体"},)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(
        sa.String(24), comment="主体类别: legal_person / individual_business / natural_person"
    )
    uscc: Mapped[str | None] = mapped_column(sa.String(18), unique=True, comment="统一社会信用代码（自然人为空）")
    name: Mapped[str] = mapped_column(sa.String(200), comment="当前名称")
    region: Mapped[str | None] = mapped_column(sa.String(6), index=True, comment="行政区划代码")
    status: Mapped[str] = mapped_column(sa.String(16), default=SubjectStatus.ACTIVE, comment="存续状态")
    legal_rep: Mapped[str | None] = mapped_column(sa.String(100), comment="法定代表人/负责人")
    id_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True, comment="自然人身份证号的密钥散列")
    id_cipher: Mapped[bytes | None] = mapped_column(sa.LargeBinary, comment="自然人身份证号（AES-GCM 加密）")
    id_masked: Mapped[str | None] = mapped_column(sa.String(32), comment="自然人身份证号（脱敏）")
    established_on: Mapped[dt.date | None] = mapped_column(sa.Date, comment="成立日期")
    name_conflict: Mapped[bool] = mapped_column(sa.Boolean, default=False, comment="同一代码收到不同名称，待核")
    merged_into_id: Mapped[int | None] = mapped_column(sa.ForeignKey("subject.id"), comment="合并入的主体")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, comment="建档时间")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, comment="最后更新时间")

    names: Mapped[list[SubjectName]] = relationship(back_populates="subject", order_by="SubjectName.id")
    codes: Mapped[list[SubjectCode]] = relationship(back_populates="subject")


class SubjectName(Base):
    __tablename__ = "subject_name"
    __table_args__ = ({"comment": "主体名称历史（含曾用名）"},)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subject_id: Mapped[int] = mapped_column(sa.ForeignKey("subject.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200), index=True, comment="名称")
    first_seen: Mapped[dt.datetime] = mapped_column(UTCDateTime, comment="首次收到")
    last_seen: Mapped[dt.datetime] = mapped_column(UTCDateTime, comment="最近收到")
    source: Mapped[str | None] = mapped_column(sa.String(64), comment="来源（单位代码或批次）")
    is_current: Mapped[bool] = mapped_column(sa.Boolean, default=True, comment="是否为当前名称")
    # Copies of the subject's kind, region and merge, kept by the database (triggers of migration 0016), so name
    # search decides who the public may find from the name rows alone, without reading each candidate's subject.
    kind: Mapped[str | None] = mapped_column(
        sa.String(24),
        server_default=sa.FetchedValue(),
        server_onupdate=sa.FetchedValue(),
        comment="主体类型（同 subject）",
    )
    region: Mapped[str | None] = mapped_column(
        sa.String(6),
        server_default=sa.FetchedValue(),
        server_onupdate=sa.FetchedValue(),
        comment="主体所属地区（同 subject）",
    )
    merged: Mapped[bool] = mapped_column(
        sa.Boolean, server_default=sa.false(), server_onupdate=sa.FetchedValue(), comment="主体已被合并（同 subject）"
    )

    subject: Mapped[Subject] = relationship(back_populates="names")


class SubjectCode(Base):
    __tablename__ = "subject_code"
    __table_args__ = (
        sa.UniqueConstraint("code_type", "code"),
        {"comment": "代码映射：旧代码 → 主体"},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subject_id: Mapped[int] = mapped_column(sa.ForeignKey("subject.id", ondelete="CASCADE"), index=True)
    code_type: Mapped[str] = mapped_column(sa.String(8), comment="gszc/zzjg/swdj/sydw/shzz")
    code: Mapped[str] = mapped_column(sa.String(32), comment="规范化后的代码")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    subject: Mapped[Subject] = relationship(back_populates="codes")
