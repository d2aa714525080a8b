"""Lists and checks: list types, entries and their events; matters, measures, checks and feedback.

Revision ID: 0003_lists_checks
Revises: 0001_foundation
Create Date: 2026-11-21 23:27:16.565131
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003_lists_checks"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "list_type",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False, comment="名单类型代码"),
        sa.Column("name", sa.String(length=100), nullable=False, comment="名单名称"),
        sa.Column("kind", sa.String(length=24), nullable=False, comment="serious_dishonesty / watch / red"),
        sa.Column("reward_or_punishment", sa.String(length=12), nullable=False, comment="reward / punishment"),
        sa.Column("public", sa.Boolean(), nullable=False, comment="是否社会公开"),
        sa.Column("authority", sa.String(length=200), nullable=False, comment="认定部门"),
        sa.Column("criteria", sa.Text(), nullable=False, comment="认定标准"),
        sa.Column("duration_years", sa.Integer(), nullable=True, comment="默认有效期（年），空 = 至移出决定"),
        sa.Column("duration_confirmed", sa.Boolean(), nullable=False, comment="期限是否经核实"),
        sa.Column("duration_text", sa.String(length=300), nullable=False, comment="期限说明"),
        sa.Column(
            "exit_conditions",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
            comment="移出条件（含提前移出）",
        ),
        sa.Column("early_removal_months", sa.Integer(), nullable=True, comment="可申请提前移出的最短列入月数"),
        sa.Column("representation_days", sa.Integer(), nullable=False, comment="陈述申辩期（工作日）"),
        sa.Column(
            "basis",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
            comment="认定依据（每项含 confirmed）",
        ),
        sa.Column("basis_note", sa.String(length=300), nullable=True, comment="依据说明（如待信用办填写）"),
        sa.Column(
            "feeds",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
            comment="由哪些归集资源/名单名称生成条目",
        ),
        sa.Column(
            "associated",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=True,
            comment="关联人员约束规则（规则规定时）",
        ),
        sa.Column("version", sa.Integer(), nullable=False, comment="版本"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_list_type")),
        sa.UniqueConstraint("code", name=op.f("uq_list_type_code")),
        comment="名单类型（含认定依据、期限、移出条件）",
    )
    op.create_table(
        "matter",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False, comment="事项代码"),
        sa.Column("name", sa.String(length=100), nullable=False, comment="事项名称"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_matter")),
        sa.UniqueConstraint("code", name=op.f("uq_matter_code")),
        comment="行政管理事项（核查发生的业务）",
    )
    op.create_table(
        "measure",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False, comment="措施编号"),
        sa.Column("name", sa.String(length=300), nullable=False, comment="措施名称"),
        sa.Column("kind", sa.String(length=12), nullable=False, comment="reward 激励 / punishment 惩戒"),
        sa.Column("department", sa.String(length=200), nullable=False, comment="实施部门"),
        sa.Column("list_category", sa.String(length=2), nullable=True, comment="基础清单分类 A/B/C（待核实）"),
        sa.Column("duration", sa.String(length=100), nullable=True, comment="期限"),
        sa.Column(
            "basis",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
            comment="法律依据（每项含 confirmed）",
        ),
        sa.Column("local_policy", sa.Boolean(), nullable=False, comment="地方政策（依据待信用办确认）"),
        sa.Column(
            "list_types",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
            comment="触发此措施的名单类型",
        ),
        sa.Column(
            "matters",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
            comment="适用的事项",
        ),
        sa.Column(
            "subject_kinds",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
            comment="限于这些主体类别（空 = 不限）",
        ),
        sa.Column("associated_only", sa.Boolean(), nullable=False, comment="只适用于关联人员"),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measure")),
        sa.UniqueConstraint("code", name=op.f("uq_measure_code")),
        comment="奖惩措施清单：核查只能返回此表中的措施",
    )
    op.create_table(
        "credit_check",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("check_no", sa.String(length=32), nullable=False, comment="核查编号"),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, comment="核查时间"),
        sa.Column("actor", sa.String(length=64), nullable=False, comment="核查人（账号或 api:前缀）"),
        sa.Column("actor_role", sa.String(length=16), nullable=True),
        sa.Column(
            "unit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True, comment="核查人所属单位"
        ),
        sa.Column("matter", sa.String(length=64), nullable=False, comment="事项代码"),
        sa.Column(
            "query",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
            comment="查询条件（证件号只存脱敏值）",
        ),
        sa.Column(
            "subject_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True, comment="核查主体"
        ),
        sa.Column(
            "result",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
            comment="结果快照",
        ),
        sa.Column("batch_no", sa.String(length=32), nullable=True, comment="批量核查批次号"),
        sa.Column("row_no", sa.Integer(), nullable=True, comment="批量核查中的行号"),
        sa.ForeignKeyConstraint(["subject_id"], ["subject.id"], name=op.f("fk_credit_check_subject_id_subject")),
        sa.ForeignKeyConstraint(["unit_id"], ["source_unit.id"], name=op.f("fk_credit_check_unit_id_source_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_check")),
        sa.UniqueConstraint("check_no", name=op.f("uq_credit_check_check_no")),
        comment="信用核查（每次核查及其结果快照）",
    )
    with op.batch_alter_table("credit_check", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_credit_check_batch_no"), ["batch_no"], unique=False)
        batch_op.create_index(batch_op.f("ix_credit_check_subject_id"), ["subject_id"], unique=False)

    op.create_table(
        "check_feedback",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("check_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("measure_code", sa.String(length=16), nullable=False, comment="措施编号"),
        sa.Column("measure_kind", sa.String(length=12), nullable=False, comment="reward / punishment"),
        sa.Column("applied", sa.Boolean(), nullable=False, comment="是否实施"),
        sa.Column("reason", sa.Text(), nullable=True, comment="理由"),
        sa.Column("department", sa.String(length=200), nullable=False, comment="实施部门（反馈单位）"),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["check_id"], ["credit_check.id"], name=op.f("fk_check_feedback_check_id_credit_check"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_feedback")),
        comment="核查反馈：措施是否实施及理由",
    )
    with op.batch_alter_table("check_feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_check_feedback_check_id"), ["check_id"], unique=False)

    op.create_table(
        "list_entry",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "list_type_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False, comment="名单类型"
        ),
        sa.Column(
            "subject_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False, comment="信用主体"
        ),
        sa.Column("status", sa.String(length=12), nullable=False, comment="proposed/notice/listed/removed/withdrawn"),
        sa.Column("reason", sa.Text(), nullable=False, comment="列入事由（失信事实）"),
        sa.Column("doc_no", sa.String(length=200), nullable=True, comment="认定文书号"),
        sa.Column("authority", sa.String(length=200), nullable=True, comment="认定机关"),
        sa.Column("notice_on", sa.Date(), nullable=True, comment="告知日期"),
        sa.Column("representation_deadline", sa.Date(), nullable=True, comment="陈述申辩截止日"),
        sa.Column(
            "deadline_provisional", sa.Boolean(), nullable=False, comment="截止日按未公布节假日的年份推算（暂定）"
        ),
        sa.Column("listed_on", sa.Date(), nullable=True, comment="列入日期"),
        sa.Column("expires_on", sa.Date(), nullable=True, comment="有效期至（期满自动失效，读取时判断）"),
        sa.Column("removed_on", sa.Date(), nullable=True, comment="移出日期"),
        sa.Column("removal_reason", sa.String(length=12), nullable=True, comment="expiry/repair/early/revoked"),
        sa.Column("origin", sa.String(length=64), nullable=False, comment="local / collection / 上级平台名"),
        sa.Column(
            "record_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
            comment="由归集记录生成时的记录（幂等键）",
        ),
        sa.Column("legal_rep_name", sa.String(length=100), nullable=True, comment="列入时的法定代表人/负责人"),
        sa.Column("legal_rep_id_hash", sa.String(length=64), nullable=True, comment="法定代表人身份证号的密钥散列"),
        sa.Column("created_by", sa.String(length=64), nullable=False, comment="创建者"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["list_type_id"], ["list_type.id"], name=op.f("fk_list_entry_list_type_id_list_type")),
        sa.ForeignKeyConstraint(["record_id"], ["record.id"], name=op.f("fk_list_entry_record_id_record")),
        sa.ForeignKeyConstraint(["subject_id"], ["subject.id"], name=op.f("fk_list_entry_subject_id_subject")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_list_entry")),
        sa.UniqueConstraint("record_id", name=op.f("uq_list_entry_record_id")),
        comment="名单条目",
    )
    with op.batch_alter_table("list_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_list_entry_legal_rep_id_hash"), ["legal_rep_id_hash"], unique=False)
        batch_op.create_index(batch_op.f("ix_list_entry_list_type_id"), ["list_type_id"], unique=False)
        batch_op.create_index("ix_list_entry_subject_status", ["subject_id", "status"], unique=False)

    op.create_table(
        "list_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "step", sa.String(length=16), nullable=False, comment="proposed/notice/listed/removed/withdrawn/collected"
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, comment="时间"),
        sa.Column("actor", sa.String(length=64), nullable=False, comment="操作者"),
        sa.Column("actor_role", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=True, comment="说明"),
        sa.Column("detail", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["list_entry.id"], name=op.f("fk_list_event_entry_id_list_entry"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_list_event")),
        comment="名单条目的每一步（谁、何时）",
    )
    with op.batch_alter_table("list_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_list_event_entry_id"), ["entry_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("list_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_list_event_entry_id"))

    op.drop_table("list_event")
    with op.batch_alter_table("list_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_list_entry_subject_status")
        batch_op.drop_index(batch_op.f("ix_list_entry_list_type_id"))
        batch_op.drop_index(batch_op.f("ix_list_entry_legal_rep_id_hash"))

    op.drop_table("list_entry")
    with op.batch_alter_table("check_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_check_feedback_check_id"))

    op.drop_table("check_feedback")
    with op.batch_alter_table("credit_check", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_check_subject_id"))
        batch_op.drop_index(batch_op.f("ix_credit_check_batch_no"))

    op.drop_table("credit_check")
    op.drop_table("measure")
    op.drop_table("matter")
    op.drop_table("list_type")
