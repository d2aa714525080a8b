"""信用核查: matters, the measure catalog, every check with a snapshot of its result, and the clerk's feedback."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.core.database import Base, BigId, JsonType, UTCDateTime


class Matter(Base):
    __tablename__ = "matter"
    __table_args__ = ({"comment": "行政管理事项（核查发生的业务）"},)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(64), unique=True, comment="事项代码")
    name: Mapped[str] = mapped_column(sa.String(100), comment="事项名称")


class Measure(Base):
    __tablename__ = "measure"
    __table_args__ = ({"comment": "奖惩措施清单：核查只能返回此表中的措施"},)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(16), unique=True, comment="措施编号")
    name: Mapped[str] = mapped_column(sa.String(300), comment="措施名称")
    kind: Mapped[str] = mapped_column(sa.String(12), comment="reward 激励 / punishment 惩戒")
    department: Mapped[str] = mapped_column(sa.String(200), comment="实施部门")
    list_category: Mapped[str | None] = mapped_column(sa.String(2), comment="基础清单分类 A/B/C（待核实）")
    duration: Mapped[str | None] = mapped_column(sa.String(100), comment="期限")
    basis: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, comment="法律依据（每项含 confirmed）")
    local_policy: Mapped[bool] = mapped_column(sa.Boolean, comment="地方政策（依据待信用办确认）")
    list_types: Mapped[list[str]] = mapped_column(JsonType, comment="触发此措施的名单类型")
    matters: Mapped[list[str]] = mapped_column(JsonType, comment="适用的事项")
    subject_kinds: Mapped[list[str]] = mapped_column(JsonType, comment="限于这些主体类别（空 = 不限）")
    associated_only: Mapped[bool] = mapped_column(sa.Boolean, comment="只适用于关联人员")
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    version: Mapped[int] = mapped_column(sa.Integer, default=1)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Check(Base):
    __tablename__ = "credit_check"
    __table_args__ = ({"comment": "信用核查（每次核查及其结果快照）"},)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    check_no: Mapped[str] = mapped_column(sa.String(32), unique=True, comment="核查编号")
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, comment="核查时间")
    actor: Mapped[str] = mapped_column(sa.String(64), comment="核查人（账号或 api:前缀）")
    actor_role: Mapped[str | None] = mapped_column(sa.String(16))
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("source_unit.id"), comment="核查人所属单位")
    matter: Mapped[str] = mapped_column(sa.String(64), comment="事项代码")
    query: Mapped[dict[str, Any]] = mapped_column(JsonType, comment="查询条件（证件号只存脱敏值）")
    subject_id: Mapped[int | None] = mapped_column(sa.ForeignKey("subject.id"), index=True, comment="核查主体")
    result: Mapped[dict[str, Any]] = mapped_column(JsonType, comment="结果快照")
    batch_no: Mapped[str | None] = mapped_column(sa.String(32), index=True, comment="批量核查批次号")
    row_no: Mapped[int | None] = mapped_column(sa.Integer, comment="批量核查中的行号")


class CheckFeedback(Base):
    __tablename__ = "check_feedback"
    __table_args__ = ({"comment": "核查反馈：措施是否实施及理由"},)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    check_id: Mapped[int] = mapped_column(sa.ForeignKey("credit_check.id", ondelete="CASCADE"), index=True)
    measure_code: Mapped[str] = mapped_column(sa.String(16), comment="措施编号")
    measure_kind: Mapped[str] = mapped_column(sa.String(12), comment="reward / punishment")
    applied: Mapped[bool] = mapped_column(sa.Boolean, comment="是否实施")
    reason: Mapped[str | None] = mapped_column(sa.Text, comment="理由")
    department: Mapped[str] = mapped_column(sa.String(200), comment="实施部门（反馈单位）")
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(sa.String(64))
