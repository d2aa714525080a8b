"""Console and monitoring: 三清单 (behaviour and application lists), catalog versions, subject merge log,
data-governance queue, scheduled job runs.

Revision ID: 0007_console
Revises: 0001_foundation
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007_console"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "behaviour_item",
        sa.Column("id", BigId, nullable=False),
        sa.Column("name", sa.String(200), nullable=False, comment="行为名称"),
        sa.Column("direction", sa.String(12), nullable=False, comment="dishonest 失信 / honest 守信"),
        sa.Column("resource_code", sa.String(64), nullable=False, comment="记录于哪个信息资源"),
        sa.Column("severity", sa.String(8), nullable=True, comment="失信程度 minor/general/serious"),
        sa.Column("legal_basis", sa.String(500), nullable=False, comment="认定依据"),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_behaviour_item")),
        comment="三清单之行为清单（失信/守信行为）",
    )
    op.create_table(
        "application_item",
        sa.Column("id", BigId, nullable=False),
        sa.Column("matter", sa.String(200), nullable=False, comment="行政管理事项"),
        sa.Column("department", sa.String(200), nullable=True, comment="实施部门"),
        sa.Column("resource_codes", Json, nullable=False, comment="须核查的信息资源代码"),
        sa.Column("measure_codes", Json, nullable=False, comment="适用的奖惩措施代码"),
        sa.Column("legal_basis", sa.String(500), nullable=False, comment="依据"),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_item")),
        sa.UniqueConstraint("matter", name=op.f("uq_application_item_matter")),
        comment="三清单之应用清单（事项 → 须核查的资源与措施）",
    )
    op.create_table(
        "catalog_change",
        sa.Column("id", BigId, nullable=False),
        sa.Column("resource_id", BigId, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False, comment="修订后的版本号"),
        sa.Column("before", Json, nullable=False, comment="修订前的值（仅改动项）"),
        sa.Column("after", Json, nullable=False, comment="修订后的值（仅改动项）"),
        sa.Column("changed_by", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False, comment="修订说明"),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["resource_id"], ["resource.id"], name=op.f("fk_catalog_change_resource_id_resource")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_change")),
        comment="目录修订记录（每次修订一个新版本）",
    )
    op.create_index(op.f("ix_catalog_change_resource_id"), "catalog_change", ["resource_id"])
    op.create_table(
        "subject_merge",
        sa.Column("id", BigId, nullable=False),
        sa.Column("survivor_id", BigId, nullable=False, comment="保留的主体"),
        sa.Column("merged_id", BigId, nullable=False, comment="被合并的主体"),
        sa.Column("merged_status", sa.String(16), nullable=False, comment="被合并主体合并前的状态"),
        sa.Column(
            "moved",
            Json,
            nullable=False,
            comment="移动的行：{records: [...], codes: [...], names: [...], 其他模块: ...}",
        ),
        sa.Column("reason", sa.String(500), nullable=False, comment="合并理由"),
        sa.Column("merged_by", sa.String(64), nullable=False),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("undone_by", sa.String(64), nullable=True),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["survivor_id"], ["subject.id"], name=op.f("fk_subject_merge_survivor_id_subject")),
        sa.ForeignKeyConstraint(["merged_id"], ["subject.id"], name=op.f("fk_subject_merge_merged_id_subject")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_merge")),
        comment="主体合并日志（可撤销）",
    )
    op.create_index(op.f("ix_subject_merge_survivor_id"), "subject_merge", ["survivor_id"])
    op.create_index(op.f("ix_subject_merge_merged_id"), "subject_merge", ["merged_id"])
    op.create_table(
        "governance_issue",
        sa.Column("id", BigId, nullable=False),
        sa.Column("kind", sa.String(24), nullable=False, comment="问题类型"),
        sa.Column("key", sa.String(200), nullable=False, comment="去重键：同一问题重复扫描不会重复入队"),
        sa.Column("title", sa.String(300), nullable=False, comment="问题摘要"),
        sa.Column("unit_id", BigId, nullable=True, comment="涉及的单位"),
        sa.Column("region", sa.String(6), nullable=True, comment="行政区划代码"),
        sa.Column("detail", Json, nullable=False, comment="明细（记录、主体、数量）"),
        sa.Column("status", sa.String(12), nullable=False, comment="状态"),
        sa.Column("note", sa.Text(), nullable=True, comment="处理说明"),
        sa.Column("resolved_by", sa.String(64), nullable=True, comment="处理人"),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True, comment="处理时间"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, comment="发现时间"),
        sa.ForeignKeyConstraint(["unit_id"], ["source_unit.id"], name=op.f("fk_governance_issue_unit_id_source_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_governance_issue")),
        sa.UniqueConstraint("key", name=op.f("uq_governance_issue_key")),
        comment="数据治理问题队列（疑似重复、报送量异常）",
    )
    op.create_index("ix_governance_issue_status", "governance_issue", ["status", "kind"])
    op.create_index(op.f("ix_governance_issue_region"), "governance_issue", ["region"])
    op.create_table(
        "job_run",
        sa.Column("id", BigId, nullable=False),
        sa.Column("job", sa.String(64), nullable=False, comment="任务名"),
        sa.Column("period", sa.String(32), nullable=False, comment="幂等键：任务所属周期，如 2026-06 或 2026-06-15"),
        sa.Column("state", sa.String(12), nullable=False, comment="running / done / failed"),
        sa.Column("attempts", sa.Integer(), nullable=False, comment="执行次数（失败后重试会增加）"),
        sa.Column("result", Json, nullable=False, comment="结果摘要"),
        sa.Column("error", sa.Text(), nullable=True, comment="失败原因"),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_run")),
        sa.UniqueConstraint("job", "period", name=op.f("uq_job_run_jobperiod")),
        comment="定时任务执行记录（任务+周期唯一，保证重复执行不重复做）",
    )


def downgrade() -> None:
    op.drop_table("job_run")
    op.drop_index(op.f("ix_governance_issue_region"), table_name="governance_issue")
    op.drop_index("ix_governance_issue_status", table_name="governance_issue")
    op.drop_table("governance_issue")
    op.drop_index(op.f("ix_subject_merge_merged_id"), table_name="subject_merge")
    op.drop_index(op.f("ix_subject_merge_survivor_id"), table_name="subject_merge")
    op.drop_table("subject_merge")
    op.drop_index(op.f("ix_catalog_change_resource_id"), table_name="catalog_change")
    op.drop_table("catalog_change")
    op.drop_table("application_item")
    op.drop_table("behaviour_item")
