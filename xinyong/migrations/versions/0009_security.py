"""security: the audit log's hash chain (prev_hash, hash) and its head row

Revision ID: 0009_security
Revises: 0005_evaluation, 0006_reports, 0007_console, 0008_exchange
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_security"
# Every head at the time of writing, so the graph merges into one.
down_revision: str | Sequence[str] | None = ("0004_rights", "0005_evaluation", "0006_reports", "0007_console", "0008_exchange")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = "0" * 64


def upgrade() -> None:
    op.add_column("audit_event", sa.Column("prev_hash", sa.String(64), nullable=True, comment="上一条的散列"))
    op.add_column("audit_event", sa.Column("hash", sa.String(64), nullable=True, comment="本条散列（含上一条）"))
    op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
        comment="审计链的链头（一行；写审计时加锁，使链在并发下不分叉）",
    )
    op.bulk_insert(
        sa.table("audit_chain_head", sa.column("id"), sa.column("last_id"), sa.column("last_hash")),
        [{"id": 1, "last_id": 0, "last_hash": GENESIS}],
    )


def downgrade() -> None:
    op.drop_table("audit_chain_head")
    with op.batch_alter_table("audit_event") as batch_op:
        batch_op.drop_column("hash")
        batch_op.drop_column("prev_hash")
