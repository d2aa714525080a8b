"""audit_stripes: the audit log is eight hash chains side by side instead of one

Revision ID: 0014_audit_stripes
Revises: 0013_record_batch_partial

Why (docs/benchmarks.md, "Soak"): with one chain every writer of an audit entry locked the one head row until its
transaction committed, so two checks arriving together queued on each other's commit flush and the check's tail
under mixed load was a queue of fsyncs. With several chains a writer takes the first head nobody holds (SKIP
LOCKED), concurrent commits share one WAL flush, and each chain still shows any edit, deletion or reordering of its
own entries. Entries written before this migration (``chain`` NULL) belong to chain 1, whose head is the old row.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_audit_stripes"
down_revision: str | Sequence[str] | None = "0013_record_batch_partial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out rather than imported: a migration states the schema of its own time.
STRIPES = 8
GENESIS = "0" * 64
HEAD_COMMENT = "审计散列链的链头（每条链一行；写审计时锁住一行，并发的写入分走不同的链）"


def upgrade() -> None:
    op.add_column(
        "audit_event",
        sa.Column("chain", sa.SmallInteger(), nullable=True, comment="所属散列链（并行的几条链之一；空即链 1）"),
    )
    heads = sa.table("audit_chain_head", sa.column("id"), sa.column("last_id"), sa.column("last_hash"))
    present = set(op.get_bind().scalars(sa.select(heads.c.id)))
    op.bulk_insert(
        heads, [{"id": i, "last_id": 0, "last_hash": GENESIS} for i in range(1, STRIPES + 1) if i not in present]
    )
    if op.get_bind().dialect.name == "postgresql":  # SQLite keeps no comments
        op.create_table_comment("audit_chain_head", HEAD_COMMENT)


def downgrade() -> None:
    # Folding chains back into one would mean re-hashing entries, which erases the evidence; only a database whose
    # entries all stayed on chain 1 can go back.
    bind = op.get_bind()
    if bind.scalar(sa.text("SELECT count(*) FROM audit_event WHERE chain > 1")):
        raise RuntimeError("审计记录已分布在多条散列链上，不能降级：合并需要重算散列，会抹掉防篡改的证据")
    op.execute("DELETE FROM audit_chain_head WHERE id > 1")
    # A plain ALTER TABLE on both engines: batch mode would recreate the table on SQLite and lose its triggers.
    op.drop_column("audit_event", "chain")
    if bind.dialect.name == "postgresql":
        op.create_table_comment("audit_chain_head", "审计链的链头（一行；写审计时加锁，使链在并发下不分叉）")
