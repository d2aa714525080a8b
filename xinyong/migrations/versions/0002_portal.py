"""Portal: articles, and the name search indexes (SQLite FTS5 trigram kept in step by triggers; PostgreSQL pg_trgm).

Revision ID: 0002_portal
Revises: 0001_foundation
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_portal"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "article",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False, comment="栏目: news / policy / honest / dishonest"),
        sa.Column("title", sa.String(length=200), nullable=False, comment="标题"),
        sa.Column("body", sa.Text(), nullable=False, comment="正文（纯文本，空行分段）"),
        sa.Column("source", sa.String(length=200), nullable=True, comment="来源"),
        sa.Column("published", sa.Boolean(), nullable=False, comment="是否发布"),
        sa.Column("published_on", sa.Date(), nullable=False, comment="发布日期"),
        sa.Column("author", sa.String(length=64), nullable=False, comment="编辑（账号名）"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article")),
        comment="门户文章（信用动态、政策法规、诚信典型、失信案例）",
    )
    op.create_index("ix_article_category_published", "article", ["category", "published_on"])
    # Legacy codes are looked up without knowing their type (a user pastes "a code").
    op.create_index("ix_subject_code_code", "subject_code", ["code"])
    # The latest 双公示 of a department.
    op.create_index("ix_record_unit_decision", "record", ["source_unit_id", "decision_date"])
    if op.get_bind().dialect.name == "postgresql":
        # Needs a UTF-8 LC_CTYPE, or pg_trgm extracts no trigrams from Chinese and silently matches nothing.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX ix_subject_name_trgm ON subject_name USING gin (name gin_trgm_ops)")
    else:
        # External-content FTS5 over subject_name, trigram tokenizer (substring search for ≥ 3 characters).
        # Triggers keep it in step with every write, including the pipeline's bulk inserts.
        op.execute(
            "CREATE VIRTUAL TABLE subject_name_fts USING fts5("
            "name, content='subject_name', content_rowid='id', tokenize='trigram')"
        )
        op.execute(
            "CREATE TRIGGER subject_name_fts_ai AFTER INSERT ON subject_name BEGIN "
            "INSERT INTO subject_name_fts(rowid, name) VALUES (new.id, new.name); END"
        )
        op.execute(
            "CREATE TRIGGER subject_name_fts_ad AFTER DELETE ON subject_name BEGIN "
            "INSERT INTO subject_name_fts(subject_name_fts, rowid, name) VALUES ('delete', old.id, old.name); END"
        )
        op.execute(
            "CREATE TRIGGER subject_name_fts_au AFTER UPDATE OF name ON subject_name BEGIN "
            "INSERT INTO subject_name_fts(subject_name_fts, rowid, name) VALUES ('delete', old.id, old.name); "
            "INSERT INTO subject_name_fts(rowid, name) VALUES (new.id, new.name); END"
        )
        op.execute("INSERT INTO subject_name_fts(subject_name_fts) VALUES ('rebuild')")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_subject_name_trgm")
    else:
        for suffix in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS subject_name_fts_{suffix}")
        op.execute("DROP TABLE IF EXISTS subject_name_fts")
    op.drop_index("ix_record_unit_decision", table_name="record")
    op.drop_index("ix_subject_code_code", table_name="subject_code")
    op.drop_index("ix_article_category_published", table_name="article")
    op.drop_table("article")
