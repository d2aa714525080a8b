"""Evaluation: published models, runs, result history and current results, industry rosters, employment,
inspectors and 双随机 inspection campaigns.

Revision ID: 0005_evaluation
Revises: 0001_foundation
Create Date: 2026-11-21 23:30:28.288127
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005_evaluation"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evaluation_current",
        sa.Column("model_code", sa.String(length=64), nullable=False),
        sa.Column(
            "subject_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False
        ),
        sa.Column(
            "model_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
            comment="评价模型（含版本）",
        ),
        sa.Column(
            "result_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
            comment="对应的结果历史行",
        ),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("grade", sa.String(length=4), nullable=False),
        sa.Column("evaluated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("model_code", "subject_id", name=op.f("pk_evaluation_current")),
        comment="当前评价结果（每个模型代码、每个主体一行）",
    )
    op.create_table(
        "evaluation_scope",
        sa.Column("run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False),
        sa.Column(
            "subject_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False
        ),
        sa.PrimaryKeyConstraint("run_id", "subject_id", name=op.f("pk_evaluation_scope")),
        comment="增量评价的主体范围（运行结束即清空）",
    )
    op.create_table(
        "evaluation_model",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False, comment="模型代码，如 public、property_management"),
        sa.Column("version", sa.Integer(), nullable=False, comment="版本号（同一代码内递增）"),
        sa.Column("name", sa.String(length=200), nullable=False, comment="模型名称"),
        sa.Column("kind", sa.String(length=16), nullable=False, comment="score（综合评分）/ points（累计记分）"),
        sa.Column(
            "definition",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
            comment="模型定义（发布时的完整内容）",
        ),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False, comment="发布时间"),
        sa.Column("published_by", sa.String(length=64), nullable=False, comment="发布者"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_model")),
        sa.UniqueConstraint("code", "version", name=op.f("uq_evaluation_model_code_version")),
        comment="评价模型（按版本保存，发布后不可修改）",
    )
    op.create_table(
        "evaluation_result",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False, comment="评价运行"),
        sa.Column(
            "model_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
            comment="评价模型（含版本）",
        ),
        sa.Column("subject_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False, comment="主体"),
        sa.Column("score", sa.Integer(), nullable=False, comment="分数（points 模型为累计记分）"),
        sa.Column("grade", sa.String(length=4), nullable=False, comment="信用等级"),
        sa.Column("evaluated_at", sa.DateTime(timezone=True), nullable=False, comment="评价时间"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_result")),
        comment="评价结果历史（分数、等级或模型版本变化时新增）",
    )
    with op.batch_alter_table("evaluation_result", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evaluation_result_run_id"), ["run_id"], unique=False)
        batch_op.create_index("ix_evaluation_result_subject", ["subject_id", "model_id"], unique=False)

    op.create_table(
        "inspection_campaign",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False, comment="任务编号"),
        sa.Column("name", sa.String(length=200), nullable=False, comment="任务名称"),
        sa.Column("model_code", sa.String(length=64), nullable=False, comment="按哪个评价模型的等级分层"),
        sa.Column("seed", sa.String(length=64), nullable=False, comment="随机种子（公开，可据此复现抽取）"),
        sa.Column(
            "ratios",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
            comment="各等级抽查比例",
        ),
        sa.Column(
            "scope",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
            comment="抽查范围（行业、区域或指定主体）",
        ),
        sa.Column(
            "population",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
            comment="抽取时的主体名录快照（按等级的主体 id 列表）与检查人员名录",
        ),
        sa.Column("population_digest", sa.String(length=64), nullable=False, comment="名录快照的 SHA-256"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True, comment="公示时间（空 = 未公示）"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_campaign")),
        sa.UniqueConstraint("code", name=op.f("uq_inspection_campaign_code")),
        comment="双随机抽查任务（含随机种子与抽取时的名录快照，可复现）",
    )
    op.create_table(
        "inspector",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False, comment="执法证号"),
        sa.Column("name", sa.String(length=100), nullable=False, comment="姓名"),
        sa.Column("department", sa.String(length=200), nullable=False, comment="所属部门"),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspector")),
        sa.UniqueConstraint("code", name=op.f("uq_inspector_code")),
        comment="执法检查人员名录（双随机抽查的人员库）",
    )
    op.create_table(
        "employment",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "person_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False, comment="从业人员主体"
        ),
        sa.Column(
            "firm_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False, comment="任职企业主体"
        ),
        sa.Column("role", sa.String(length=32), nullable=False, comment="岗位，如 project_manager（项目经理）"),
        sa.Column("start_on", sa.Date(), nullable=False, comment="任职起始日"),
        sa.Column("end_on", sa.Date(), nullable=True, comment="任职终止日（空 = 在职）"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["firm_id"], ["subject.id"], name=op.f("fk_employment_firm_id_subject"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["subject.id"], name=op.f("fk_employment_person_id_subject"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_employment")),
        comment="从业人员任职关系（如 物业项目经理 → 物业服务企业）",
    )
    with op.batch_alter_table("employment", schema=None) as batch_op:
        batch_op.create_index("ix_employment_firm", ["firm_id"], unique=False)
        batch_op.create_index("ix_employment_person", ["person_id"], unique=False)

    op.create_table(
        "evaluation_run",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("model_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False, comment="all（全量）/ changed（增量）"),
        sa.Column("as_of", sa.Date(), nullable=False, comment="评价基准日"),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "record_watermark",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="本次运行看到的记录最后变更时间（下次增量评价从此之后开始）",
        ),
        sa.Column("subject_watermark", sa.DateTime(timezone=True), nullable=True, comment="主体最后变更时间"),
        sa.Column("relation_watermark", sa.DateTime(timezone=True), nullable=True, comment="任职与行业名录最后变更"),
        sa.Column("subjects_evaluated", sa.Integer(), nullable=False, comment="评价的主体数"),
        sa.Column("results_written", sa.Integer(), nullable=False, comment="分数或等级变化而新增的结果数"),
        sa.Column("actor", sa.String(length=64), nullable=False, comment="由谁运行"),
        sa.ForeignKeyConstraint(
            ["model_id"], ["evaluation_model.id"], name=op.f("fk_evaluation_run_model_id_evaluation_model")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_run")),
        comment="批量评价运行",
    )
    with op.batch_alter_table("evaluation_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evaluation_run_model_id"), ["model_id"], unique=False)

    op.create_table(
        "industry_member",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("industry", sa.String(length=64), nullable=False, comment="行业代码，如 property_management"),
        sa.Column("subject_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("since", sa.Date(), nullable=True, comment="纳入名录日期"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subject.id"], name=op.f("fk_industry_member_subject_id_subject"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_industry_member")),
        sa.UniqueConstraint("industry", "subject_id", name=op.f("uq_industry_member_industry_subject_id")),
        comment="行业主体名录（如 物业服务企业），供行业评价模型与双随机抽查按行业筛选",
    )
    with op.batch_alter_table("industry_member", schema=None) as batch_op:
        batch_op.create_index("ix_industry_member_subject", ["subject_id"], unique=False)

    op.create_table(
        "inspection_draw",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("campaign_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False, comment="抽取顺序"),
        sa.Column("subject_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("grade", sa.String(length=8), nullable=False, comment="抽取时的等级（未评价为 -）"),
        sa.Column(
            "inspector_ids",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
            comment="派出的检查人员 id（两人）",
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["inspection_campaign.id"],
            name=op.f("fk_inspection_draw_campaign_id_inspection_campaign"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["subject_id"], ["subject.id"], name=op.f("fk_inspection_draw_subject_id_subject")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_draw")),
        sa.UniqueConstraint("campaign_id", "position", name=op.f("uq_inspection_draw_campaign_id_position")),
        comment="双随机抽取结果：抽中的主体与派出的检查人员",
    )
    op.create_table(
        "inspector_conflict",
        sa.Column("inspector_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("subject_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True, comment="回避事由"),
        sa.ForeignKeyConstraint(
            ["inspector_id"],
            ["inspector.id"],
            name=op.f("fk_inspector_conflict_inspector_id_inspector"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subject.id"], name=op.f("fk_inspector_conflict_subject_id_subject"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("inspector_id", "subject_id", name=op.f("pk_inspector_conflict")),
        comment="检查人员回避关系（与主体存在利害关系时不得派往该主体）",
    )


def downgrade() -> None:
    op.drop_table("inspector_conflict")
    op.drop_table("inspection_draw")
    with op.batch_alter_table("industry_member", schema=None) as batch_op:
        batch_op.drop_index("ix_industry_member_subject")

    op.drop_table("industry_member")
    with op.batch_alter_table("evaluation_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evaluation_run_model_id"))

    op.drop_table("evaluation_run")
    with op.batch_alter_table("employment", schema=None) as batch_op:
        batch_op.drop_index("ix_employment_person")
        batch_op.drop_index("ix_employment_firm")

    op.drop_table("employment")
    op.drop_table("inspector")
    op.drop_table("inspection_campaign")
    with op.batch_alter_table("evaluation_result", schema=None) as batch_op:
        batch_op.drop_index("ix_evaluation_result_subject")
        batch_op.drop_index(batch_op.f("ix_evaluation_result_run_id"))

    op.drop_table("evaluation_result")
    op.drop_table("evaluation_model")
    op.drop_table("evaluation_scope")
    op.drop_table("evaluation_current")
