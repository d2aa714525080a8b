"""name_bigrams: on PostgreSQL, an index of the two-character pieces of every name, for searches of two characters

Revision ID: 0012_name_bigrams
Revises: 0011_change_event_monthly

Why (docs/portal.md, "Name search"): people search a company by two characters ("鑫凯", "临淄") as often as by more.
pg_trgm cannot narrow a pattern shorter than three characters, so such a query scanned ``subject_name`` until it had
enough matches: instant for a common pair, but a rare pair read the whole table (p95 160 ms at 1M subjects, growing
with the table). The extension made for this (pg_bigm) is not part of PostgreSQL's contrib, so the index is built from
what is: an immutable function giving a name's distinct bigrams and a GIN index on it. A query states
``xinyong_name_bigrams(name) @> ARRAY['临淄']`` with the pair written into the statement, so the planner sees how
common the pair is (ANALYZE keeps the index expression's element statistics) and still chooses the scan that stops
early for a pair in most names. SQLite keeps its FTS5 trigram table (see ``subjects/search.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0012_name_bigrams"
down_revision: str | Sequence[str] | None = "0011_change_event_monthly"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE FUNCTION xinyong_name_bigrams(name text) RETURNS text[] LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS "
        "$$ SELECT coalesce(array_agg(DISTINCT substr(name, i, 2)), '{}') "
        "FROM generate_series(1, char_length(name) - 1) AS i $$"
    )
    op.execute("COMMENT ON FUNCTION xinyong_name_bigrams(text) IS '名称中所有相邻两字（用于两字名称检索的索引）'")
    op.execute("CREATE INDEX ix_subject_name_bigrams ON subject_name USING gin (xinyong_name_bigrams(name))")
    op.execute("ANALYZE subject_name")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_subject_name_bigrams")
    op.execute("DROP FUNCTION IF EXISTS xinyong_name_bigrams(text)")
