"""name_visibility: each name row carries what decides whether the public may find its subject

Revision ID: 0016_name_visibility
Revises: 0015_audit_head_trigger

Why (docs/benchmarks.md, "Growth", session 10): name search gathers up to 200 candidate names, then needed each
candidate's subject row for its kind, region and merge (who the public may find) — one more index probe and one more
heap page per candidate. On a server whose cache does not hold the subject table, such as one just restarted, every
one of those is a read from disk, and that is why search slowed 2.9× from 1M to 50M records after a restart while
pages and checks stayed flat. ``subject_name`` now carries ``kind``, ``region`` and ``merged``, so the candidates
come from the name rows alone; only a subject found by a former name is read for its current name.

The copies are kept by the database, so no writer can forget them: a name row takes its subject's values when it is
inserted without them or moved to another subject (a merge), and a subject's change of kind, region or merge is
copied to its names. The bulk generator writes the values itself (its ``COPY`` runs without triggers).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_name_visibility"
down_revision: str | Sequence[str] | None = "0015_audit_head_trigger"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite: the subject's values for one name row (correlated subqueries; SQLite triggers cannot assign to NEW).
_SQLITE_COPY = (
    "UPDATE subject_name SET "
    "kind = (SELECT s.kind FROM subject s WHERE s.id = subject_name.subject_id), "
    "region = (SELECT s.region FROM subject s WHERE s.id = subject_name.subject_id), "
    "merged = (SELECT s.merged_into_id IS NOT NULL FROM subject s WHERE s.id = subject_name.subject_id)"
)
_SQLITE_TRIGGERS = (
    "CREATE TRIGGER subject_name_from_subject AFTER INSERT ON subject_name WHEN new.kind IS NULL BEGIN "
    + _SQLITE_COPY
    + " WHERE id = new.id; END",
    "CREATE TRIGGER subject_name_moved AFTER UPDATE OF subject_id ON subject_name "
    "WHEN old.subject_id IS NOT new.subject_id BEGIN " + _SQLITE_COPY + " WHERE id = new.id; END",
    "CREATE TRIGGER subject_to_names AFTER UPDATE OF kind, region, merged_into_id ON subject "
    "WHEN old.kind IS NOT new.kind OR old.region IS NOT new.region "
    "OR (old.merged_into_id IS NULL) <> (new.merged_into_id IS NULL) BEGIN "
    "UPDATE subject_name SET kind = new.kind, region = new.region, merged = new.merged_into_id IS NOT NULL "
    "WHERE subject_id = new.id; END",
)


def upgrade() -> None:
    op.add_column("subject_name", sa.Column("kind", sa.String(24), nullable=True, comment="主体类型（同 subject）"))
    op.add_column(
        "subject_name", sa.Column("region", sa.String(6), nullable=True, comment="主体所属地区（同 subject）")
    )
    op.add_column(
        "subject_name",
        sa.Column(
            "merged", sa.Boolean, nullable=False, server_default=sa.false(), comment="主体已被合并（同 subject）"
        ),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "UPDATE subject_name n SET kind = s.kind, region = s.region, merged = s.merged_into_id IS NOT NULL "
            "FROM subject s WHERE s.id = n.subject_id"
        )
        op.execute(
            """
            CREATE FUNCTION subject_name_from_subject() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                SELECT s.kind, s.region, s.merged_into_id IS NOT NULL INTO NEW.kind, NEW.region, NEW.merged
                FROM subject s WHERE s.id = NEW.subject_id;
                RETURN NEW;
            END $$;
            """
        )
        op.execute(
            "CREATE TRIGGER subject_name_from_subject BEFORE INSERT ON subject_name FOR EACH ROW "
            "WHEN (NEW.kind IS NULL) EXECUTE FUNCTION subject_name_from_subject()"
        )
        op.execute(
            "CREATE TRIGGER subject_name_moved BEFORE UPDATE OF subject_id ON subject_name FOR EACH ROW "
            "WHEN (OLD.subject_id IS DISTINCT FROM NEW.subject_id) EXECUTE FUNCTION subject_name_from_subject()"
        )
        op.execute(
            """
            CREATE FUNCTION subject_to_names() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE subject_name SET kind = NEW.kind, region = NEW.region, merged = NEW.merged_into_id IS NOT NULL
                WHERE subject_id = NEW.id;
                RETURN NULL;
            END $$;
            """
        )
        op.execute(
            "CREATE TRIGGER subject_to_names AFTER UPDATE OF kind, region, merged_into_id ON subject FOR EACH ROW "
            "WHEN (OLD.kind IS DISTINCT FROM NEW.kind OR OLD.region IS DISTINCT FROM NEW.region "
            "OR (OLD.merged_into_id IS NULL) <> (NEW.merged_into_id IS NULL)) EXECUTE FUNCTION subject_to_names()"
        )
        op.execute("ANALYZE subject_name")
    else:
        op.execute(_SQLITE_COPY)
        for trigger in _SQLITE_TRIGGERS:
            op.execute(trigger)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS subject_to_names ON subject")
        op.execute("DROP TRIGGER IF EXISTS subject_name_moved ON subject_name")
        op.execute("DROP TRIGGER IF EXISTS subject_name_from_subject ON subject_name")
        op.execute("DROP FUNCTION IF EXISTS subject_to_names()")
        op.execute("DROP FUNCTION IF EXISTS subject_name_from_subject()")
    else:
        op.execute("DROP TRIGGER IF EXISTS subject_to_names")
        op.execute("DROP TRIGGER IF EXISTS subject_name_moved")
        op.execute("DROP TRIGGER IF EXISTS subject_name_from_subject")
    # Plain DROP COLUMN (SQLite ≥ 3.35): a batch copy of the table would lose the FTS triggers of 0002 on it.
    op.execute("ALTER TABLE subject_name DROP COLUMN merged")
    op.execute("ALTER TABLE subject_name DROP COLUMN region")
    op.execute("ALTER TABLE subject_name DROP COLUMN kind")
