"""record_batch_partial: the index of a record's batch leaves out records that came without one

Revision ID: 0013_record_batch_partial
Revises: 0012_name_bigrams

Why (docs/benchmarks.md, "Growth"): records that were never collected through a batch — a baseline migrated from the
previous system, or `xinyong bulk` — have ``batch_id`` NULL. SQLite's ANALYZE counts NULL as one value, so with ten
million such records ``sqlite_stat1`` said every batch holds ten million rows, and the planner answered the
pipeline's per-chunk lookup "this batch's records written at this time" (list sync, change feed) by scanning the
resource's 1.7 million records instead: a 50,000-row file on top of 10 million records took minutes, not a minute.
Without the NULLs the index says what a batch really holds (and is smaller: nothing to store for the baseline). A
lookup by ``batch_id = …`` implies ``batch_id IS NOT NULL``, so both engines use the partial index for it.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0013_record_batch_partial"
down_revision: str | Sequence[str] | None = "0012_name_bigrams"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_record_batch_id", table_name="record")
    # No ANALYZE here (tens of seconds on a large table): until the next one, SQLite assumes a few rows per key for
    # an index without statistics, which is right for this one; the worker's PRAGMA optimize then records them.
    op.execute("CREATE INDEX ix_record_batch_id ON record (batch_id) WHERE batch_id IS NOT NULL")


def downgrade() -> None:
    op.drop_index("ix_record_batch_id", table_name="record")
    op.create_index("ix_record_batch_id", "record", ["batch_id"])
