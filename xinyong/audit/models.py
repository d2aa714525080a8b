"""Append-only audit log (the migration installs triggers that refuse UPDATE and DELETE)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.core.database import Base, BigId, JsonType, UTCDateTime


class AuditEvent(Base):
    __tablename__ = "audit_event"
    __table_args__ = (
        sa.Index("ix_audit_event_target", "target_type", "target_id"),
        {"comment": "审计日志（只追加）"},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, comment="时间")
    actor: Mapped[str] = mapped_column(sa.String(64), comment="操作者（账号名、api:前缀 或 cli）")
    actor_role: Mapped[str | None] = mapped_column(sa.String(16))
    action: Mapped[str] = mapped_column(sa.String(64), comment="动作，如 ingest.batch、subject.view_private")
    target_type: Mapped[str | None] = mapped_column(sa.String(32))
    target_id: Mapped[str | None] = mapped_column(sa.String(64))
    subject_id: Mapped[int | None] = mapped_column(BigId, index=True, comment="涉及的主体")
    purpose: Mapped[str | None] = mapped_column(sa.String(200), comment="用途（查询非公开信息时）")
    detail: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    prev_hash: Mapped[str | None] = mapped_column(sa.String(64), comment="上一条的散列")
    hash: Mapped[str | None] = mapped_column(sa.String(64), comment="本条散列（含上一条）")
    chain: Mapped[int | None] = mapped_column(sa.SmallInteger, comment="所属散列链（并行的几条链之一；空即链 1）")


class AuditChainHead(Base):
    """The last link of one chain; a writer locks one head, so concurrent transactions spread over the chains."""

    __tablename__ = "audit_chain_head"
    __table_args__ = ({"comment": "审计散列链的链头（每条链一行；写审计时锁住一行，并发的写入分走不同的链）"},)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    last_id: Mapped[int] = mapped_column(BigId)
    last_hash: Mapped[str] = mapped_column(sa.String(64))
