"""record_objection_partial: an index of the records with an objection open, by subject

Revision ID: 0017_record_objection_partial
Revises: 0016_name_visibility

Why (docs/benchmarks.md, "Growth", session 10): every check lists the subject's records whose objection is being
handled (异议处理中). The only index it could use was ``(subject_id, resource_id)``, so it read every record of the
subject from the table to test ``objection_open``: about ten random reads per check on average, several hundred for
a subject with many records. Once the records outgrow memory (50M records, 62 GB) those reads go to disk, and a
check's p95 grew 2.2× from 1M to 50M while its lookups did not. Open objections are few, so an index of only those
rows is tiny and answers "none" for almost every subject without reading a record. The predicate is the one the
check writes (``objection_open IS true``, as SQLAlchemy renders ``.is_(True)`` on each engine), so both planners can
prove the query implies it.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0017_record_objection_partial"
down_revision: str | Sequence[str] | None = "0016_name_visibility"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX ix_record_objection_open ON record (subject_id) WHERE objection_open IS true")
    else:
        op.execute("CREATE INDEX ix_record_objection_open ON record (subject_id) WHERE objection_open IS 1")


def downgrade() -> None:
    op.drop_index("ix_record_objection_open", table_name="record")
