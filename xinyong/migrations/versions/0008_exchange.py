"""Exchange: change feed, subscribers and webhook deliveries, pushes, external units, authorisations.

Revision ID: 0008_exchange
Revises: 0003_lists_checks
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008_exchange"
down_revision: str | Sequence[str] | None = "0003_lists_checks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = "0002_portal"


def upgrade() -> None:
    op.create_table(
        "change_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, comment="发生时间"),
        sa.Column(
            "kind", sa.String(length=40), nullable=False, comment="事件类型，如 record.created / list_entry.removed"
        ),
        sa.Column(
            "entity", sa.String(length=24), nullable=False, comment="对象类型：record / list_entry / objection …"
        ),
        sa.Column("entity_id", sa.BigInteger(), nullable=False, comment="对象编号"),
        sa.Column("subject_id", sa.BigInteger(), nullable=True, comment="信用主体"),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
            comment="事件附加信息（不含个人证件号码）",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_event")),
        comment="变更事件（变更订阅的游标即本表主键，单调递增）",
    )
    with op.batch_alter_table("change_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_change_event_subject_id"), ["subject_id"], unique=False)

    op.create_table(
        "exchange_push",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("target", sa.String(length=64), nullable=False, comment="上级平台名称"),
        sa.Column("after_cursor", sa.BigInteger(), nullable=False, comment="起点游标（不含）"),
        sa.Column("through_cursor", sa.BigInteger(), nullable=False, comment="终点游标（含）"),
        sa.Column("state", sa.String(length=12), nullable=False, comment="running / succeeded / failed"),
        sa.Column(
            "files",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
            comment="生成的文件",
        ),
        sa.Column(
            "counts",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
            comment="各资源新增/更新/撤回行数",
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_push")),
        comment="向上级平台报送的记录（增量起点为上次成功报送的游标）",
    )
    with op.batch_alter_table("exchange_push", schema=None) as batch_op:
        batch_op.create_index("ix_exchange_push_target", ["target", "state"], unique=False)

    op.create_table(
        "exchange_external_unit",
        sa.Column("unit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("origin", sa.String(length=64), nullable=False, comment="上级平台名称"),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["source_unit.id"],
            name=op.f("fk_exchange_external_unit_unit_id_source_unit"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("unit_id", name=op.f("pk_exchange_external_unit")),
        comment="由上级平台数据自动登记的外部单位",
    )
    op.create_table(
        "exchange_subscriber",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False, comment="名称"),
        sa.Column("kind", sa.String(length=16), nullable=False, comment="public / department / agency"),
        sa.Column(
            "unit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True, comment="部门订阅方所属单位"
        ),
        sa.Column("uscc", sa.String(length=18), nullable=True, comment="订阅方统一社会信用代码"),
        sa.Column("key_prefix", sa.String(length=16), nullable=False, comment="订阅密钥前缀"),
        sa.Column("key_hash", sa.String(length=64), nullable=False, comment="订阅密钥 SHA-256"),
        sa.Column("webhook_url", sa.String(length=500), nullable=True, comment="推送地址（HTTPS 或本机回环）"),
        sa.Column("secret_cipher", sa.LargeBinary(), nullable=True, comment="推送签名密钥（加密保存）"),
        sa.Column("webhook_after", sa.BigInteger(), nullable=False, comment="已确认送达的事件游标"),
        sa.Column("attempts", sa.Integer(), nullable=False, comment="当前事件已失败次数"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True, comment="下次重试时间"),
        sa.Column("lease_token", sa.String(length=32), nullable=True, comment="投递租约（防止并发重复投递）"),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True, comment="租约到期"),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["source_unit.id"], name=op.f("fk_exchange_subscriber_unit_id_source_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_subscriber")),
        sa.UniqueConstraint("key_prefix", name=op.f("uq_exchange_subscriber_key_prefix")),
        comment="变更订阅方（有自己的密钥；部门可绑定单位）",
    )
    op.create_table(
        "exchange_authorisation",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "subject_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False, comment="授权的信用主体"
        ),
        sa.Column(
            "subscriber_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
            comment="被授权的机构（信用服务机构、银行）",
        ),
        sa.Column(
            "scope",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
            comment="可查询的信息资源代码（空 = 全部）",
        ),
        sa.Column("purpose", sa.String(length=200), nullable=False, comment="查询用途"),
        sa.Column("valid_from", sa.Date(), nullable=False, comment="授权起始日"),
        sa.Column("valid_to", sa.Date(), nullable=False, comment="授权截止日"),
        sa.Column(
            "method",
            sa.String(length=12),
            nullable=False,
            comment="online（主体在线授权）/ paper（书面授权由信用办录入）",
        ),
        sa.Column("evidence", sa.String(length=200), nullable=True, comment="书面授权书编号等"),
        sa.Column("granted_by", sa.String(length=64), nullable=False, comment="录入者"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subject.id"], name=op.f("fk_exchange_authorisation_subject_id_subject")
        ),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["exchange_subscriber.id"],
            name=op.f("fk_exchange_authorisation_subscriber_id_exchange_subscriber"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_authorisation")),
        comment="信用主体对授权查询的授权（范围、用途、期限，可撤销）",
    )
    with op.batch_alter_table("exchange_authorisation", schema=None) as batch_op:
        batch_op.create_index("ix_exchange_authorisation_lookup", ["subject_id", "subscriber_id"], unique=False)

    op.create_table(
        "webhook_delivery",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("subscriber_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False, comment="事件编号（即幂等键）"),
        sa.Column("attempt", sa.Integer(), nullable=False, comment="第几次尝试"),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True, comment="HTTP 状态码"),
        sa.Column("error", sa.String(length=500), nullable=True, comment="失败原因"),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["exchange_subscriber.id"],
            name=op.f("fk_webhook_delivery_subscriber_id_exchange_subscriber"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_delivery")),
        comment="推送投递日志（每次尝试一行）",
    )
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.create_index("ix_webhook_delivery_subscriber", ["subscriber_id", "event_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_delivery_subscriber")

    op.drop_table("webhook_delivery")
    with op.batch_alter_table("exchange_authorisation", schema=None) as batch_op:
        batch_op.drop_index("ix_exchange_authorisation_lookup")

    op.drop_table("exchange_authorisation")
    op.drop_table("exchange_subscriber")
    op.drop_table("exchange_external_unit")
    with op.batch_alter_table("exchange_push", schema=None) as batch_op:
        batch_op.drop_index("ix_exchange_push_target")

    op.drop_table("exchange_push")
    with op.batch_alter_table("change_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_change_event_subject_id"))

    op.drop_table("change_event")
