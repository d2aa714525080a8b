"""Shared tables of the subjects' rights: registrations, attachments, the step log, notices and the outbox."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.core.database import Base, BigId, JsonType, UTCDateTime


class Registration(Base):
    __tablename__ = "registration"
    __table_args__ = ({"comment": "信用主体账号注册（身份核验）"},)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(32), unique=True, comment="注册流水号（确认页面使用）")
    subject_id: Mapped[int] = mapped_column(sa.ForeignKey("subject.id"), index=True, comment="申请绑定的信用主体")
    username: Mapped[str] = mapped_column(sa.String(64), comment="申请的登录名")
    display_name: Mapped[str] = mapped_column(sa.String(100), comment="显示名")
    password_hash: Mapped[str] = mapped_column(sa.String(200), comment="argon2 散列")
    email: Mapped[str | None] = mapped_column(sa.String(200), comment="通知邮箱")
    phone: Mapped[str | None] = mapped_column(sa.String(20), comment="联系电话")
    verifier: Mapped[str] = mapped_column(sa.String(64), comment="身份核验方式")
    challenge_hash: Mapped[str | None] = mapped_column(sa.String(64), comment="一次性验证码的散列")
    verifier_state: Mapped[dict[str, Any]] = mapped_column(JsonType, comment="核验方式自己的状态（如外部流水号）")
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0, comment="验证失败次数")
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, comment="验证码过期时间")
    account_id: Mapped[int | None] = mapped_column(sa.ForeignKey("account.id"), comment="核验通过后创建的账号")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, comment="核验通过时间")


class Attachment(Base):
    __tablename__ = "rights_attachment"
    __table_args__ = (
        sa.Index("ix_rights_attachment_owner", "owner_type", "owner_id"),
        {"comment": "异议、修复申请等的附件（文件存放在 data_dir/attachments）"},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    owner_type: Mapped[str] = mapped_column(sa.String(16), comment="objection / repair / declaration")
    owner_id: Mapped[int] = mapped_column(BigId, comment="所属申请编号")
    item: Mapped[str | None] = mapped_column(sa.String(32), comment="对应的修复条件项（如 obligations）")
    filename: Mapped[str] = mapped_column(sa.String(200), comment="原文件名")
    content_type: Mapped[str] = mapped_column(sa.String(100), comment="文件类型")
    size: Mapped[int] = mapped_column(sa.Integer, comment="字节数")
    sha256: Mapped[str] = mapped_column(sa.String(64), comment="内容散列")
    path: Mapped[str] = mapped_column(sa.String(300), comment="相对 data_dir 的存放路径")
    uploaded_by: Mapped[str] = mapped_column(sa.String(64), comment="上传者")
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class RightsEvent(Base):
    __tablename__ = "rights_event"
    __table_args__ = (
        sa.Index("ix_rights_event_item", "item_type", "item_id"),
        {"comment": "异议与修复申请的每一步（谁、何时、说明）"},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    item_type: Mapped[str] = mapped_column(sa.String(16), comment="objection / repair")
    item_id: Mapped[int] = mapped_column(BigId)
    step: Mapped[str] = mapped_column(sa.String(16), comment="到达的状态")
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(sa.String(64))
    actor_role: Mapped[str | None] = mapped_column(sa.String(16))
    note: Mapped[str | None] = mapped_column(sa.Text)


class DishonestyNotice(Base):
    __tablename__ = "dishonesty_notice"
    __table_args__ = ({"comment": "失信告知（两书同达）：每条失信记录或名单条目只告知一次"},)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subject_id: Mapped[int] = mapped_column(sa.ForeignKey("subject.id"), index=True)
    record_id: Mapped[int | None] = mapped_column(sa.ForeignKey("record.id"), unique=True, comment="失信记录")
    list_entry_id: Mapped[int | None] = mapped_column(sa.ForeignKey("list_entry.id"), unique=True, comment="名单条目")
    title: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text, comment="告知书正文")
    facts: Mapped[dict[str, Any]] = mapped_column(JsonType, comment="告知的事实：记录、单位、公示期限、可修复日期")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class OutboxMessage(Base):
    __tablename__ = "outbox_message"
    __table_args__ = (
        sa.Index("ix_outbox_message_pending", "sent_at", "id"),
        {"comment": "待发送的通知（发件箱）"},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(120), unique=True, comment="去重键：同一事件只产生一条消息")
    kind: Mapped[str] = mapped_column(
        sa.String(16), comment="accepted/refused/forwarded/answered/overdue/repaired/notice/…"
    )
    subject_id: Mapped[int | None] = mapped_column(sa.ForeignKey("subject.id"), index=True, comment="收件主体")
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("source_unit.id"), comment="收件单位")
    to_office: Mapped[bool] = mapped_column(sa.Boolean, default=False, comment="发给信用办")
    title: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    ref_type: Mapped[str | None] = mapped_column(sa.String(16))
    ref_id: Mapped[int | None] = mapped_column(BigId)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, comment="发送完成时间")
    sent_via: Mapped[str | None] = mapped_column(sa.String(16), comment="log / smtp")
    sent_to: Mapped[str | None] = mapped_column(sa.String(300))
    last_error: Mapped[str | None] = mapped_column(sa.Text)
