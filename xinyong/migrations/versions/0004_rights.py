"""Rights of the subjects: registrations, objections, repair applications, commitments, self-declarations,
attachments, the step log, notices of dishonesty records and the notification outbox.

Revision ID: 0004_rights
Revises: 0003_lists_checks (depends on 0002_portal)
Create Date: 2026-11-22 00:00:50.308958
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004_rights"
down_revision: str | Sequence[str] | None = "0003_lists_checks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = ("0002_portal",)


def upgrade() -> None:
    op.create_table(
        "rights_attachment",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("owner_type", sa.String(length=16), nullable=False, comment="objection / repair / declaration"),
        sa.Column(
            "owner_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False, comment="所属申请编号"
        ),
        sa.Column("item", sa.String(length=32), nullable=True, comment="对应的修复条件项（如 obligations）"),
        sa.Column("filename", sa.String(length=200), nullable=False, comment="原文件名"),
        sa.Column("content_type", sa.String(length=100), nullable=False, comment="文件类型"),
        sa.Column("size", sa.Integer(), nullable=False, comment="字节数"),
        sa.Column("sha256", sa.String(length=64), nullable=False, comment="内容散列"),
        sa.Column("path", sa.String(length=300), nullable=False, comment="相对 data_dir 的存放路径"),
        sa.Column("uploaded_by", sa.String(length=64), nullable=False, comment="上传者"),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rights_attachment")),
        comment="异议、修复申请等的附件（文件存放在 data_dir/attachments）",
    )
    op.create_index("ix_rights_attachment_owner", "rights_attachment", ["owner_type", "owner_id"], unique=False)

    op.create_table(
        "rights_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("item_type", sa.String(length=16), nullable=False, comment="objection / repair"),
        sa.Column("item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("step", sa.String(length=16), nullable=False, comment="到达的状态"),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("actor_role", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rights_event")),
        comment="异议与修复申请的每一步（谁、何时、说明）",
    )
    op.create_index("ix_rights_event_item", "rights_event", ["item_type", "item_id"], unique=False)

    op.create_table(
        "outbox_message",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False, comment="去重键：同一事件只产生一条消息"),
        sa.Column(
            "kind",
            sa.String(length=16),
            nullable=False,
            comment="accepted/refused/forwarded/answered/overdue/repaired/notice/…",
        ),
        sa.Column(
            "subject_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True, comment="收件主体"
        ),
        sa.Column("unit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True, comment="收件单位"),
        sa.Column("to_office", sa.Boolean(), nullable=False, comment="发给信用办"),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("ref_type", sa.String(length=16), nullable=True),
        sa.Column("ref_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True, comment="发送完成时间"),
        sa.Column("sent_via", sa.String(length=16), nullable=True, comment="log / smtp"),
        sa.Column("sent_to", sa.String(length=300), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["subject_id"], ["subject.id"], name=op.f("fk_outbox_message_subject_id_subject")),
        sa.ForeignKeyConstraint(["unit_id"], ["source_unit.id"], name=op.f("fk_outbox_message_unit_id_source_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_message")),
        sa.UniqueConstraint("key", name=op.f("uq_outbox_message_key")),
        comment="待发送的通知（发件箱）",
    )
    op.create_index("ix_outbox_message_pending", "outbox_message", ["sent_at", "id"], unique=False)
    op.create_index(op.f("ix_outbox_message_subject_id"), "outbox_message", ["subject_id"], unique=False)

    op.create_table(
        "self_declaration",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("subject_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False, comment="qualification/honour/contract/welfare"),
        sa.Column("title", sa.String(length=200), nullable=False, comment="名称（证书、荣誉、合同、活动）"),
        sa.Column("issuer", sa.String(length=200), nullable=True, comment="发证/授予机关或合同相对方"),
        sa.Column("content", sa.Text(), nullable=False, comment="说明"),
        sa.Column("occurred_on", sa.Date(), nullable=True, comment="取得/发生日期"),
        sa.Column("valid_to", sa.Date(), nullable=True, comment="有效期至"),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("declared_by", sa.String(length=64), nullable=False),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("verified_by", sa.String(length=100), nullable=True, comment="核实单位"),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verification_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["subject_id"], ["subject.id"], name=op.f("fk_self_declaration_subject_id_subject")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_self_declaration")),
        comment="自主申报信息",
    )
    op.create_index(op.f("ix_self_declaration_subject_id"), "self_declaration", ["subject_id"], unique=False)

    op.create_table(
        "commitment",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("no", sa.String(length=24), nullable=False, comment="承诺书编号"),
        sa.Column("subject_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("template", sa.String(length=64), nullable=False, comment="承诺书模板代码"),
        sa.Column("template_version", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=24), nullable=False, comment="承诺类型（六类之一）"),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False, comment="签署时的承诺书全文"),
        sa.Column(
            "values",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
            comment="模板字段的填写值",
        ),
        sa.Column("public", sa.Boolean(), nullable=False, comment="是否向社会公示"),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("signed_by", sa.String(length=64), nullable=False, comment="签署账号"),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True, comment="承诺有效期至"),
        sa.Column(
            "fulfilment_unit_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
            comment="记录履约的部门",
        ),
        sa.Column("fulfilment_note", sa.Text(), nullable=True),
        sa.Column("fulfilment_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "broken_record_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
            comment="违诺生成的失信记录",
        ),
        sa.ForeignKeyConstraint(
            ["broken_record_id"], ["record.id"], name=op.f("fk_commitment_broken_record_id_record")
        ),
        sa.ForeignKeyConstraint(
            ["fulfilment_unit_id"], ["source_unit.id"], name=op.f("fk_commitment_fulfilment_unit_id_source_unit")
        ),
        sa.ForeignKeyConstraint(["subject_id"], ["subject.id"], name=op.f("fk_commitment_subject_id_subject")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commitment")),
        sa.UniqueConstraint("no", name=op.f("uq_commitment_no")),
        comment="信用承诺",
    )
    op.create_index(op.f("ix_commitment_subject_id"), "commitment", ["subject_id"], unique=False)

    op.create_table(
        "objection",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("no", sa.String(length=24), nullable=False, comment="异议编号"),
        sa.Column(
            "record_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
            comment="异议的信用信息记录",
        ),
        sa.Column(
            "subject_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False, comment="申请主体"
        ),
        sa.Column(
            "source_unit_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
            comment="记录的信息提供单位",
        ),
        sa.Column("applicant", sa.String(length=64), nullable=False, comment="提交者（账号）"),
        sa.Column("request", sa.String(length=12), nullable=False, comment="请求：correct 更正 / delete 删除"),
        sa.Column("reasons", sa.Text(), nullable=False, comment="异议理由"),
        sa.Column(
            "requested_changes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
            comment="申请更正的字段及正确值",
        ),
        sa.Column("status", sa.String(length=12), nullable=False, comment="状态"),
        sa.Column("refusal_reason", sa.Text(), nullable=True, comment="不予受理理由"),
        sa.Column("verification_note", sa.Text(), nullable=True, comment="信息提供单位核实意见"),
        sa.Column(
            "applied_changes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
            comment="实际更正的内容",
        ),
        sa.Column("answer", sa.Text(), nullable=True, comment="答复内容"),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("forwarded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True, comment="不予受理或答复时间"),
        sa.Column("accept_due", sa.Date(), nullable=False, comment="受理期限（工作日）"),
        sa.Column("verify_due", sa.Date(), nullable=True, comment="核实期限（转办后）"),
        sa.Column("answer_due", sa.Date(), nullable=True, comment="答复期限（受理后）"),
        sa.Column("deadline_provisional", sa.Boolean(), nullable=False, comment="期限按未公布节假日推算"),
        sa.Column("overdue_alerted", sa.String(length=16), nullable=True, comment="已发出超期提醒的阶段"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["record_id"], ["record.id"], name=op.f("fk_objection_record_id_record")),
        sa.ForeignKeyConstraint(
            ["source_unit_id"], ["source_unit.id"], name=op.f("fk_objection_source_unit_id_source_unit")
        ),
        sa.ForeignKeyConstraint(["subject_id"], ["subject.id"], name=op.f("fk_objection_subject_id_subject")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_objection")),
        sa.UniqueConstraint("no", name=op.f("uq_objection_no")),
        comment="异议申请",
    )
    op.create_index(op.f("ix_objection_record_id"), "objection", ["record_id"], unique=False)
    op.create_index("ix_objection_status", "objection", ["status"], unique=False)
    op.create_index(op.f("ix_objection_subject_id"), "objection", ["subject_id"], unique=False)
    op.create_index("ix_objection_unit_status", "objection", ["source_unit_id", "status"], unique=False)

    op.create_table(
        "registration",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False, comment="注册流水号（确认页面使用）"),
        sa.Column(
            "subject_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
            comment="申请绑定的信用主体",
        ),
        sa.Column("username", sa.String(length=64), nullable=False, comment="申请的登录名"),
        sa.Column("display_name", sa.String(length=100), nullable=False, comment="显示名"),
        sa.Column("password_hash", sa.String(length=200), nullable=False, comment="argon2 散列"),
        sa.Column("email", sa.String(length=200), nullable=True, comment="通知邮箱"),
        sa.Column("phone", sa.String(length=20), nullable=True, comment="联系电话"),
        sa.Column("verifier", sa.String(length=64), nullable=False, comment="身份核验方式"),
        sa.Column("challenge_hash", sa.String(length=64), nullable=True, comment="一次性验证码的散列"),
        sa.Column(
            "verifier_state",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
            comment="核验方式自己的状态（如外部流水号）",
        ),
        sa.Column("attempts", sa.Integer(), nullable=False, comment="验证失败次数"),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False, comment="验证码过期时间"),
        sa.Column(
            "account_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
            comment="核验通过后创建的账号",
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True, comment="核验通过时间"),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], name=op.f("fk_registration_account_id_account")),
        sa.ForeignKeyConstraint(["subject_id"], ["subject.id"], name=op.f("fk_registration_subject_id_subject")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registration")),
        sa.UniqueConstraint("token", name=op.f("uq_registration_token")),
        comment="信用主体账号注册（身份核验）",
    )
    op.create_index(op.f("ix_registration_subject_id"), "registration", ["subject_id"], unique=False)

    op.create_table(
        "dishonesty_notice",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("subject_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("record_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True, comment="失信记录"),
        sa.Column(
            "list_entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True, comment="名单条目"
        ),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False, comment="告知书正文"),
        sa.Column(
            "facts",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
            comment="告知的事实：记录、单位、公示期限、可修复日期",
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["list_entry_id"], ["list_entry.id"], name=op.f("fk_dishonesty_notice_list_entry_id_list_entry")
        ),
        sa.ForeignKeyConstraint(["record_id"], ["record.id"], name=op.f("fk_dishonesty_notice_record_id_record")),
        sa.ForeignKeyConstraint(["subject_id"], ["subject.id"], name=op.f("fk_dishonesty_notice_subject_id_subject")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dishonesty_notice")),
        sa.UniqueConstraint("list_entry_id", name=op.f("uq_dishonesty_notice_list_entry_id")),
        sa.UniqueConstraint("record_id", name=op.f("uq_dishonesty_notice_record_id")),
        comment="失信告知（两书同达）：每条失信记录或名单条目只告知一次",
    )
    op.create_index(op.f("ix_dishonesty_notice_subject_id"), "dishonesty_notice", ["subject_id"], unique=False)

    op.create_table(
        "repair_application",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("no", sa.String(length=24), nullable=False, comment="申请编号"),
        sa.Column("target_type", sa.String(length=12), nullable=False, comment="record 失信记录 / list_entry 名单条目"),
        sa.Column("record_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("list_entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "subject_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False, comment="申请主体"
        ),
        sa.Column(
            "source_unit_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
            comment="征求意见的信息提供单位",
        ),
        sa.Column("applicant", sa.String(length=64), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False, comment="申请说明（整改情况）"),
        sa.Column(
            "checklist",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
            comment="修复条件清单及每项的证明",
        ),
        sa.Column(
            "commitment_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
            comment="信用修复承诺书",
        ),
        sa.Column("eligible_from", sa.Date(), nullable=False, comment="最短公示期届满、可申请修复之日"),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("unit_opinion", sa.String(length=8), nullable=True, comment="agree / disagree"),
        sa.Column("unit_note", sa.Text(), nullable=True, comment="信息提供单位意见说明"),
        sa.Column("decision_reason", sa.Text(), nullable=True, comment="不予受理或不予修复的理由；准予说明"),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("opinion_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accept_due", sa.Date(), nullable=False, comment="受理期限（工作日）"),
        sa.Column("decide_due", sa.Date(), nullable=True, comment="决定期限（受理后，工作日）"),
        sa.Column("deadline_provisional", sa.Boolean(), nullable=False),
        sa.Column("overdue_alerted", sa.String(length=16), nullable=True, comment="已发出超期提醒的阶段"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["commitment_id"], ["commitment.id"], name=op.f("fk_repair_application_commitment_id_commitment")
        ),
        sa.ForeignKeyConstraint(
            ["list_entry_id"], ["list_entry.id"], name=op.f("fk_repair_application_list_entry_id_list_entry")
        ),
        sa.ForeignKeyConstraint(["record_id"], ["record.id"], name=op.f("fk_repair_application_record_id_record")),
        sa.ForeignKeyConstraint(
            ["source_unit_id"], ["source_unit.id"], name=op.f("fk_repair_application_source_unit_id_source_unit")
        ),
        sa.ForeignKeyConstraint(["subject_id"], ["subject.id"], name=op.f("fk_repair_application_subject_id_subject")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repair_application")),
        sa.UniqueConstraint("no", name=op.f("uq_repair_application_no")),
        comment="信用修复申请",
    )
    op.create_index(op.f("ix_repair_application_list_entry_id"), "repair_application", ["list_entry_id"], unique=False)
    op.create_index(op.f("ix_repair_application_record_id"), "repair_application", ["record_id"], unique=False)
    op.create_index("ix_repair_application_status", "repair_application", ["status"], unique=False)
    op.create_index(op.f("ix_repair_application_subject_id"), "repair_application", ["subject_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_repair_application_subject_id"), table_name="repair_application")
    op.drop_index("ix_repair_application_status", table_name="repair_application")
    op.drop_index(op.f("ix_repair_application_record_id"), table_name="repair_application")
    op.drop_index(op.f("ix_repair_application_list_entry_id"), table_name="repair_application")
    op.drop_table("repair_application")
    op.drop_index(op.f("ix_dishonesty_notice_subject_id"), table_name="dishonesty_notice")
    op.drop_table("dishonesty_notice")
    op.drop_index(op.f("ix_registration_subject_id"), table_name="registration")
    op.drop_table("registration")
    op.drop_index("ix_objection_unit_status", table_name="objection")
    op.drop_index(op.f("ix_objection_subject_id"), table_name="objection")
    op.drop_index("ix_objection_status", table_name="objection")
    op.drop_index(op.f("ix_objection_record_id"), table_name="objection")
    op.drop_table("objection")
    op.drop_index(op.f("ix_commitment_subject_id"), table_name="commitment")
    op.drop_table("commitment")
    op.drop_index(op.f("ix_self_declaration_subject_id"), table_name="self_declaration")
    op.drop_table("self_declaration")
    op.drop_index(op.f("ix_outbox_message_subject_id"), table_name="outbox_message")
    op.drop_index("ix_outbox_message_pending", table_name="outbox_message")
    op.drop_table("outbox_message")
    op.drop_index("ix_rights_event_item", table_name="rights_event")
    op.drop_table("rights_event")
    op.drop_index("ix_rights_attachment_owner", table_name="rights_attachment")
    op.drop_table("rights_attachment")
