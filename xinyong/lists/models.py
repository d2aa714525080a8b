"""名单: list types (as data), entries with their lifecycle, and every step of that lifecycle."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from xinyong.core.database import Base, BigId, JsonType, UTCDateTime


class ListKind(enum.StrEnum):
    SERIOUS_DISHONESTY = "serious_dishonesty"  # 严重失信主体名单
    WATCH = "watch"  # 重点关注名单
    RED = "red"  # 守信激励对象名单（红名单）


LIST_KIND_LABELS = {
    ListKind.SERIOUS_DISHONESTY: "严重失信主体名单",
    ListKind.WATCH: "重点关注名单",
    ListKind.RED: "守信激励对象名单",
}


class EntryStatus(enum.StrEnum):
    PROPOSED = "proposed"  # 拟列入
    NOTICE = "notice"  # 已告知（陈述申辩期）
    LISTED = "listed"  # 已列入
    REMOVED = "removed"  # 已移出
    WITHDRAWN = "withdrawn"  # 撤回（陈述申辩成立，不予列入）


ENTRY_STATUS_LABELS = {
    EntryStatus.PROPOSED: "拟列入",
    EntryStatus.NOTICE: "已告知",
    EntryStatus.LISTED: "已列入",
    EntryStatus.REMOVED: "已移出",
    EntryStatus.WITHDRAWN: "不予列入",
}


class RemovalReason(enum.StrEnum):
    EXPIRY = "expiry"  # 期满
    REPAIR = "repair"  # 信用修复
    EARLY = "early"  # 提前移出
    REVOKED = "revoked"  # 认定依据被撤销


REMOVAL_REASON_LABELS = {
    RemovalReason.EXPIRY: "期满移出",
    RemovalReason.REPAIR: "信用修复",
    RemovalReason.EARLY: "提前移出",
    RemovalReason.REVOKED: "认定依据被撤销",
}


class ListType(Base):
    __tablename__ = "list_type"
    __table_args__ = ({"comment": "名单类型（含认定依据、期限、移出条件）"},)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(64), unique=True, comment="名单类型代码")
    name: Mapped[str] = mapped_column(sa.String(100), comment="名单名称")
    kind: Mapped[str] = mapped_column(sa.String(24), comment="serious_dishonesty / watch / red")
    reward_or_punishment: Mapped[str] = mapped_column(sa.String(12), comment="reward / punishment")
    public: Mapped[bool] = mapped_column(sa.Boolean, comment="是否社会公开")
    authority: Mapped[str] = mapped_column(sa.String(200), comment="认定部门")
    criteria: Mapped[str] = mapped_column(sa.Text, comment="认定标准")
    duration_years: Mapped[int | None] = mapped_column(sa.Integer, comment="默认有效期（年），空 = 至移出决定")
    duration_confirmed: Mapped[bool] = mapped_column(sa.Boolean, comment="期限是否经核实")
    duration_text: Mapped[str] = mapped_column(sa.String(300), comment="期限说明")
    exit_conditions: Mapped[list[str]] = mapped_column(JsonType, comment="移出条件（含提前移出）")
    early_removal_months: Mapped[int | None] = mapped_column(sa.Integer, comment="可申请提前移出的最短列入月数")
    representation_days: Mapped[int] = mapped_column(sa.Integer, comment="陈述申辩期（工作日）")
    basis: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, comment="认定依据（每项含 confirmed）")
    basis_note: Mapped[str | None] = mapped_column(sa.String(300), comment="依据说明（如待信用办填写）")
    feeds: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, comment="由哪些归集资源/名单名称生成条目")
    associated: Mapped[dict[str, Any] | None] = mapped_column(JsonType, comment="关联人员约束规则（规则规定时）")
    version: Mapped[int] = mapped_column(sa.Integer, default=1, comment="版本")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ListEntry(Base):
    __tablename__ = "list_entry"
    __table_args__ = (
        sa.Index("ix_list_entry_subject_status", "subject_id", "status"),
        {"comment": "名单条目"},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    list_type_id: Mapped[int] = mapped_column(sa.ForeignKey("list_type.id"), index=True, comment="名单类型")
    subject_id: Mapped[int] = mapped_column(sa.ForeignKey("subject.id"), comment="信用主体")
    status: Mapped[str] = mapped_column(sa.String(12), comment="proposed/notice/listed/removed/withdrawn")
    reason: Mapped[str] = mapped_column(sa.Text, comment="列入事由（失信事实）")
    doc_no: Mapped[str | None] = mapped_column(sa.String(200), comment="认定文书号")
    authority: Mapped[str | None] = mapped_column(sa.String(200), comment="认定机关")
    notice_on: Mapped[dt.date | None] = mapped_column(sa.Date, comment="告知日期")
    representation_deadline: Mapped[dt.date | None] = mapped_column(sa.Date, comment="陈述申辩截止日")
    deadline_provisional: Mapped[bool] = mapped_column(
        sa.Boolean, default=False, comment="截止日按未公布节假日的年份推算（暂定）"
    )
    listed_on: Mapped[dt.date | None] = mapped_column(sa.Date, comment="列入日期")
    expires_on: Mapped[dt.date | None] = mapped_column(sa.Date, comment="有效期至（期满自动失效，读取时判断）")
    removed_on: Mapped[dt.date | None] = mapped_column(sa.Date, comment="移出日期")
    removal_reason: Mapped[str | None] = mapped_column(sa.String(12), comment="expiry/repair/early/revoked")
    origin: Mapped[str] = mapped_column(sa.String(64), default="local", comment="local / collection / 上级平台名")
    record_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("record.id"), unique=True, comment="由归集记录生成时的记录（幂等键）"
    )
    legal_rep_name: Mapped[str | None] = mapped_column(sa.String(100), comment="列入时的法定代表人/负责人")
    legal_rep_id_hash: Mapped[str | None] = mapped_column(
        sa.String(64), index=True, comment="法定代表人身份证号的密钥散列"
    )
    created_by: Mapped[str] = mapped_column(sa.String(64), comment="创建者")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    list_type: Mapped[ListType] = relationship(lazy="joined")
    events: Mapped[list[ListEvent]] = relationship(back_populates="entry", order_by="ListEvent.id")


class ListEvent(Base):
    __tablename__ = "list_event"
    __table_args__ = ({"comment": "名单条目的每一步（谁、何时）"},)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("list_entry.id", ondelete="CASCADE"), index=True)
    step: Mapped[str] = mapped_column(sa.String(16), comment="proposed/notice/listed/removed/withdrawn/collected")
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, comment="时间")
    actor: Mapped[str] = mapped_column(sa.String(64), comment="操作者")
    actor_role: Mapped[str | None] = mapped_column(sa.String(16))
    note: Mapped[str | None] = mapped_column(sa.Text, comment="说明")
    detail: Mapped[dict[str, Any]] = mapped_column(JsonType)

    entry: Mapped[ListEntry] = relationship(back_populates="events")
