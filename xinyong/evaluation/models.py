"""公共信用综合评价与分级分类监管: published models, runs, results, industry rosters, employment, inspections."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.core.database import Base, BigId, JsonType, UTCDateTime


class EvaluationModel(Base):
    __tablename__ = "evaluation_model"
    __table_args__ = (
        sa.UniqueConstraint("code", "version"),
        {"comment": "评价模型（按版本保存，发布后不可修改）"},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(64), comment="模型代码，如 public、property_management")
    version: Mapped[int] = mapped_column(sa.Integer, comment="版本号（同一代码内递增）")
    name: Mapped[str] = mapped_column(sa.String(200), comment="模型名称")
    kind: Mapped[str] = mapped_column(sa.String(16), comment="score（综合评分）/ points（累计记分）")
    definition: Mapped[dict[str, Any]] = mapped_column(JsonType, comment="模型定义（发布时的完整内容）")
    published_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, comment="发布时间")
    published_by: Mapped[str] = mapped_column(sa.String(64), comment="发布者")


class EvaluationRun(Base):
    __tablename__ = "evaluation_run"
    __table_args__ = ({"comment": "批量评价运行"},)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    model_id: Mapped[int] = mapped_column(sa.ForeignKey("evaluation_model.id"), index=True)
    mode: Mapped[str] = mapped_column(sa.String(8), comment="all（全量）/ changed（增量）")
    as_of: Mapped[dt.date] = mapped_column(sa.Date, comment="评价基准日")
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    record_watermark: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime, comment="本次运行看到的记录最后变更时间（下次增量评价从此之后开始）"
    )
    subject_watermark: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, comment="主体最后变更时间")
    relation_watermark: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, comment="任职与行业名录最后变更")
    subjects_evaluated: Mapped[int] = mapped_column(sa.Integer, default=0, comment="评价的主体数")
    results_written: Mapped[int] = mapped_column(sa.Integer, default=0, comment="分数或等级变化而新增的结果数")
    actor: Mapped[str] = mapped_column(sa.String(64), comment="由谁运行")


class EvaluationResult(Base):
    """History of scores: a row is written only when a subject's score, grade or model version changes."""

    __tablename__ = "evaluation_result"
    __table_args__ = (
        sa.Index("ix_evaluation_result_subject", "subject_id", "model_id"),
        {"comment": "评价结果历史（分数、等级或模型版本变化时新增）"},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[int] = mapped_column(BigId, index=True, comment="评价运行")
    model_id: Mapped[int] = mapped_column(BigId, comment="评价模型（含版本）")
    subject_id: Mapped[int] = mapped_column(BigId, comment="主体")
    score: Mapped[int] = mapped_column(sa.Integer, comment="分数（points 模型为累计记分）")
    grade: Mapped[str] = mapped_column(sa.String(4), comment="信用等级")
    evaluated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, comment="评价时间")


class EvaluationScope(Base):
    """The subjects an incremental run re-evaluates, materialised once so every statement of the run joins them."""

    __tablename__ = "evaluation_scope"
    __table_args__ = ({"comment": "增量评价的主体范围（运行结束即清空）"},)

    run_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    subject_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)


class EvaluationCurrent(Base):
    """The latest result per model code and subject: what ``grade_for`` and the check read."""

    __tablename__ = "evaluation_current"
    __table_args__ = ({"comment": "当前评价结果（每个模型代码、每个主体一行）"},)

    model_code: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    subject_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    model_id: Mapped[int] = mapped_column(BigId, comment="评价模型（含版本）")
    result_id: Mapped[int] = mapped_column(BigId, comment="对应的结果历史行")
    score: Mapped[int] = mapped_column(sa.Integer)
    grade: Mapped[str] = mapped_column(sa.String(4))
    evaluated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class IndustryMember(Base):
    __tablename__ = "industry_member"
    __table_args__ = (
        sa.UniqueConstraint("industry", "subject_id"),
        sa.Index("ix_industry_member_subject", "subject_id"),
        {"comment": "行业主体名录（如 物业服务企业），供行业评价模型与双随机抽查按行业筛选"},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    industry: Mapped[str] = mapped_column(sa.String(64), comment="行业代码，如 property_management")
    subject_id: Mapped[int] = mapped_column(sa.ForeignKey("subject.id", ondelete="CASCADE"))
    since: Mapped[dt.date | None] = mapped_column(sa.Date, comment="纳入名录日期")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Employment(Base):
    __tablename__ = "employment"
    __table_args__ = (
        sa.Index("ix_employment_person", "person_id"),
        sa.Index("ix_employment_firm", "firm_id"),
        {"comment": "从业人员任职关系（如 物业项目经理 → 物业服务企业）"},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("subject.id", ondelete="CASCADE"), comment="从业人员主体")
    firm_id: Mapped[int] = mapped_column(sa.ForeignKey("subject.id", ondelete="CASCADE"), comment="任职企业主体")
    role: Mapped[str] = mapped_column(sa.String(32), comment="岗位，如 project_manager（项目经理）")
    start_on: Mapped[dt.date] = mapped_column(sa.Date, comment="任职起始日")
    end_on: Mapped[dt.date | None] = mapped_column(sa.Date, comment="任职终止日（空 = 在职）")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Inspector(Base):
    __tablename__ = "inspector"
    __table_args__ = ({"comment": "执法检查人员名录（双随机抽查的人员库）"},)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True, comment="执法证号")
    name: Mapped[str] = mapped_column(sa.String(100), comment="姓名")
    department: Mapped[str] = mapped_column(sa.String(200), comment="所属部门")
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class InspectorConflict(Base):
    __tablename__ = "inspector_conflict"
    __table_args__ = ({"comment": "检查人员回避关系（与主体存在利害关系时不得派往该主体）"},)

    inspector_id: Mapped[int] = mapped_column(sa.ForeignKey("inspector.id", ondelete="CASCADE"), primary_key=True)
    subject_id: Mapped[int] = mapped_column(sa.ForeignKey("subject.id", ondelete="CASCADE"), primary_key=True)
    reason: Mapped[str | None] = mapped_column(sa.String(200), comment="回避事由")


class InspectionCampaign(Base):
    __tablename__ = "inspection_campaign"
    __table_args__ = ({"comment": "双随机抽查任务（含随机种子与抽取时的名录快照，可复现）"},)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(64), unique=True, comment="任务编号")
    name: Mapped[str] = mapped_column(sa.String(200), comment="任务名称")
    model_code: Mapped[str] = mapped_column(sa.String(64), comment="按哪个评价模型的等级分层")
    seed: Mapped[str] = mapped_column(sa.String(64), comment="随机种子（公开，可据此复现抽取）")
    ratios: Mapped[dict[str, Any]] = mapped_column(JsonType, comment="各等级抽查比例")
    scope: Mapped[dict[str, Any]] = mapped_column(JsonType, comment="抽查范围（行业、区域或指定主体）")
    population: Mapped[dict[str, Any]] = mapped_column(
        JsonType, comment="抽取时的主体名录快照（按等级的主体 id 列表）与检查人员名录"
    )
    population_digest: Mapped[str] = mapped_column(sa.String(64), comment="名录快照的 SHA-256")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(sa.String(64))
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, comment="公示时间（空 = 未公示）")


class InspectionDraw(Base):
    __tablename__ = "inspection_draw"
    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "position"),
        {"comment": "双随机抽取结果：抽中的主体与派出的检查人员"},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("inspection_campaign.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(sa.Integer, comment="抽取顺序")
    subject_id: Mapped[int] = mapped_column(sa.ForeignKey("subject.id"))
    grade: Mapped[str] = mapped_column(sa.String(8), comment="抽取时的等级（未评价为 -）")
    inspector_ids: Mapped[list[int]] = mapped_column(JsonType, comment="派出的检查人员 id（两人）")
