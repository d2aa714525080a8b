"""The console's own rows: the behaviour and application lists (三清单), catalog versions and the subject merge log."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.core.database import Base, BigId, JsonType, UTCDateTime


class BehaviourItem(Base):
    """行为清单: which behaviours count as (dis)honesty, in which resource they are recorded, how serious they are."""

    __tablename__ = "behaviour_item"
    __table_args__ = ({"comment": "三清单之行为清单（失信/守信行为）"},)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), comment="行为名称")
    direction: Mapped[str] = mapped_column(sa.String(12), comment="dishonest 失信 / honest 守信")
    resource_code: Mapped[str] = mapped_column(sa.String(64), comment="记录于哪个信息资源")
    severity: Mapped[str | None] = mapped_column(sa.String(8), comment="失信程度 minor/general/serious")
    legal_basis: Mapped[str] = mapped_column(sa.String(500), comment="认定依据")
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ApplicationItem(Base):
    """应用清单: a matter (行政管理事项) that must check some resources and may apply some measures.

    Stored as data now; the checks domain reads ``matter``, ``resource_codes`` and ``measure_codes``.
    """

    __tablename__ = "application_item"
    __table_args__ = ({"comment": "三清单之应用清单（事项 → 须核查的资源与措施）"},)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    matter: Mapped[str] = mapped_column(sa.String(200), unique=True, comment="行政管理事项")
    department: Mapped[str | None] = mapped_column(sa.String(200), comment="实施部门")
    resource_codes: Mapped[list[str]] = mapped_column(JsonType, comment="须核查的信息资源代码")
    measure_codes: Mapped[list[str]] = mapped_column(JsonType, comment="适用的奖惩措施代码")
    legal_basis: Mapped[str] = mapped_column(sa.String(500), comment="依据")
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class CatalogChange(Base):
    __tablename__ = "catalog_change"
    __table_args__ = ({"comment": "目录修订记录（每次修订一个新版本）"},)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    resource_id: Mapped[int] = mapped_column(sa.ForeignKey("resource.id"), index=True)
    version: Mapped[int] = mapped_column(sa.Integer, comment="修订后的版本号")
    before: Mapped[dict[str, Any]] = mapped_column(JsonType, comment="修订前的值（仅改动项）")
    after: Mapped[dict[str, Any]] = mapped_column(JsonType, comment="修订后的值（仅改动项）")
    changed_by: Mapped[str] = mapped_column(sa.String(64))
    reason: Mapped[str] = mapped_column(sa.String(500), comment="修订说明")
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class SubjectMerge(Base):
    """One merge of two subjects that are one; holds exactly what moved so the merge can be undone."""

    __tablename__ = "subject_merge"
    __table_args__ = ({"comment": "主体合并日志（可撤销）"},)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    survivor_id: Mapped[int] = mapped_column(sa.ForeignKey("subject.id"), index=True, comment="保留的主体")
    merged_id: Mapped[int] = mapped_column(sa.ForeignKey("subject.id"), index=True, comment="被合并的主体")
    merged_status: Mapped[str] = mapped_column(sa.String(16), comment="被合并主体合并前的状态")
    moved: Mapped[dict[str, Any]] = mapped_column(
        JsonType, comment="移动的行：{records: [...], codes: [...], names: [...], 其他模块: ...}"
    )
    reason: Mapped[str] = mapped_column(sa.String(500), comment="合并理由")
    merged_by: Mapped[str] = mapped_column(sa.String(64))
    merged_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    undone_by: Mapped[str | None] = mapped_column(sa.String(64))
    undone_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
