"""Reports: the registry of issued credit reports (number, file hash, hashed verification code).

Revision ID: 0006_reports
Revises: 0002_portal
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006_reports"
down_revision: str | Sequence[str] | None = "0002_portal"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "credit_report",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("report_no", sa.String(length=40), nullable=False, comment="报告编号，如 XY-370300-20260615-000123"),
        sa.Column("kind", sa.String(length=16), nullable=False, comment="报告类型: public / full / no_violation"),
        sa.Column(
            "subject_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False, comment="信用主体"
        ),
        sa.Column("subject_name", sa.String(length=200), nullable=False, comment="出具时的主体名称"),
        sa.Column(
            "subject_code",
            sa.String(length=32),
            nullable=False,
            comment="出具时的主体代码（统一社会信用代码；自然人为脱敏证件号码）",
        ),
        sa.Column("subject_kind", sa.String(length=24), nullable=False, comment="主体类别"),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False, comment="出具时间（即数据截止时间）"),
        sa.Column("issuer", sa.String(length=64), nullable=False, comment="出具人（账号、密钥或 cli）"),
        sa.Column("issuer_role", sa.String(length=16), nullable=True, comment="出具人角色"),
        sa.Column("channel", sa.String(length=16), nullable=False, comment="出具渠道: portal / office / cli / batch"),
        sa.Column("file_format", sa.String(length=8), nullable=False, comment="文件格式: pdf / html"),
        sa.Column("file_sha256", sa.String(length=64), nullable=False, comment="所出具文件的 SHA-256"),
        sa.Column("file_size", sa.Integer(), nullable=False, comment="所出具文件的字节数"),
        sa.Column("code_hash", sa.String(length=64), nullable=False, comment="验证码的密钥散列（验证码本身不保存）"),
        sa.Column("period_from", sa.Date(), nullable=True, comment="报告期间起"),
        sa.Column("period_to", sa.Date(), nullable=True, comment="报告期间止"),
        sa.Column(
            "options",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
            comment="出具参数（领域等）与各部分条数",
        ),
        sa.ForeignKeyConstraint(["subject_id"], ["subject.id"], name=op.f("fk_credit_report_subject_id_subject")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_report")),
        sa.UniqueConstraint("report_no", name=op.f("uq_credit_report_report_no")),
        comment="信用报告出具登记（用于真伪核验）",
    )
    op.create_index("ix_credit_report_subject_issued", "credit_report", ["subject_id", "issued_at"])


def downgrade() -> None:
    op.drop_index("ix_credit_report_subject_issued", table_name="credit_report")
    op.drop_table("credit_report")
