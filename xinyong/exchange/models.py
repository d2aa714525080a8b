"""共享交换: the change feed, subscribers and their webhooks, pushes to upper platforms, external units, and the
subjects' authorisations for authorised queries (授权查询)."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.core.database import Base, BigId, JsonType, UTCDateTime


class ChangeEvent(Base):
    __tablename__ = "change_event"
    __table_args__ = ({"comment": "变更事件（变更订阅的游标即本表主键，单调递增）"},)

    # The cursor. Written in the same transaction as the change; on PostgreSQL under a transaction-scoped advisory
    # lock, so ids become visible in increasing order (see feed.py).
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, comment="发生时间")
    kind: Mapped[str] = mapped_column(sa.String(40), comment="事件类型，如 record.created / list_entry.removed")
    entity: Mapped[str] = mapped_column(sa.String(24), comment="对象类型：record / list_entry / objection …")
    entity_id: Mapped[int] = mapped_column(sa.BigInteger, comment="对象编号")
    subject_id: Mapped[int | None] = mapped_column(sa.BigInteger, index=True, comment="信用主体")
    payload: Mapped[dict[str, Any]] = mapped_column(JsonType, comment="事件附加信息（不含个人证件号码）")


class SubscriberKind(enum.StrEnum):
    PUBLIC = "public"  # 社会公众级订阅（只见社会公开信息）
    DEPARTMENT = "department"  # 有政务共享权限的部门系统
    AGENCY = "agency"  # 信用服务机构、金融机构（授权查询）


SUBSCRIBER_KIND_LABELS = {
    SubscriberKind.PUBLIC: "社会公开订阅",
    SubscriberKind.DEPARTMENT: "政务共享部门",
    SubscriberKind.AGENCY: "信用服务机构/金融机构",
}


class Subscriber(Base):
    __tablename__ = "exchange_subscriber"
    __table_args__ = ({"comment": "变更订阅方（有自己的密钥；部门可绑定单位）"},)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), comment="名称")
    kind: Mapped[str] = mapped_column(sa.String(16), comment="public / department / agency")
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("source_unit.id"), comment="部门订阅方所属单位")
    uscc: Mapped[str | None] = mapped_column(sa.String(18), comment="订阅方统一社会信用代码")
    key_prefix: Mapped[str] = mapped_column(sa.String(16), unique=True, comment="订阅密钥前缀")
    key_hash: Mapped[str] = mapped_column(sa.String(64), comment="订阅密钥 SHA-256")
    webhook_url: Mapped[str | None] = mapped_column(sa.String(500), comment="推送地址（HTTPS 或本机回环）")
    secret_cipher: Mapped[bytes | None] = mapped_column(sa.LargeBinary, comment="推送签名密钥（加密保存）")
    webhook_after: Mapped[int] = mapped_column(sa.BigInteger, default=0, comment="已确认送达的事件游标")
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0, comment="当前事件已失败次数")
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, comment="下次重试时间")
    lease_token: Mapped[str | None] = mapped_column(sa.String(32), comment="投递租约（防止并发重复投递）")
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, comment="租约到期")
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class WebhookDelivery(Base):
    __tablename__ = "webhook_delivery"
    __table_args__ = (
        sa.Index("ix_webhook_delivery_subscriber", "subscriber_id", "event_id"),
        {"comment": "推送投递日志（每次尝试一行）"},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(sa.ForeignKey("exchange_subscriber.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(sa.BigInteger, comment="事件编号（即幂等键）")
    attempt: Mapped[int] = mapped_column(sa.Integer, comment="第几次尝试")
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ok: Mapped[bool] = mapped_column(sa.Boolean)
    status_code: Mapped[int | None] = mapped_column(sa.Integer, comment="HTTP 状态码")
    error: Mapped[str | None] = mapped_column(sa.String(500), comment="失败原因")
    duration_ms: Mapped[int] = mapped_column(sa.Integer)


class PushLog(Base):
    __tablename__ = "exchange_push"
    __table_args__ = (
        sa.Index("ix_exchange_push_target", "target", "state"),
        {"comment": "向上级平台报送的记录（增量起点为上次成功报送的游标）"},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    target: Mapped[str] = mapped_column(sa.String(64), comment="上级平台名称")
    after_cursor: Mapped[int] = mapped_column(sa.BigInteger, comment="起点游标（不含）")
    through_cursor: Mapped[int] = mapped_column(sa.BigInteger, comment="终点游标（含）")
    state: Mapped[str] = mapped_column(sa.String(12), comment="running / succeeded / failed")
    files: Mapped[list[str]] = mapped_column(JsonType, comment="生成的文件")
    counts: Mapped[dict[str, Any]] = mapped_column(JsonType, comment="各资源新增/更新/撤回行数")
    error: Mapped[str | None] = mapped_column(sa.Text)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class ExternalUnit(Base):
    __tablename__ = "exchange_external_unit"
    __table_args__ = ({"comment": "由上级平台数据自动登记的外部单位"},)

    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("source_unit.id", ondelete="CASCADE"), primary_key=True)
    origin: Mapped[str] = mapped_column(sa.String(64), comment="上级平台名称")
    registered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Authorisation(Base):
    __tablename__ = "exchange_authorisation"
    __table_args__ = (
        sa.Index("ix_exchange_authorisation_lookup", "subject_id", "subscriber_id"),
        {"comment": "信用主体对授权查询的授权（范围、用途、期限，可撤销）"},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subject_id: Mapped[int] = mapped_column(sa.ForeignKey("subject.id"), comment="授权的信用主体")
    subscriber_id: Mapped[int] = mapped_column(
        sa.ForeignKey("exchange_subscriber.id"), comment="被授权的机构（信用服务机构、银行）"
    )
    scope: Mapped[list[str]] = mapped_column(JsonType, comment="可查询的信息资源代码（空 = 全部）")
    purpose: Mapped[str] = mapped_column(sa.String(200), comment="查询用途")
    valid_from: Mapped[dt.date] = mapped_column(sa.Date, comment="授权起始日")
    valid_to: Mapped[dt.date] = mapped_column(sa.Date, comment="授权截止日")
    method: Mapped[str] = mapped_column(sa.String(12), comment="online（主体在线授权）/ paper（书面授权由信用办录入）")
    evidence: Mapped[str | None] = mapped_column(sa.String(200), comment="书面授权书编号等")
    granted_by: Mapped[str] = mapped_column(sa.String(64), comment="录入者")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_by: Mapped[str | None] = mapped_column(sa.String(64))
