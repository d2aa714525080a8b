"""audit_head_trigger: the database moves a chain's head when an entry is appended to it

Revision ID: 0015_audit_head_trigger
Revises: 0014_audit_stripes

Why (docs/benchmarks.md, "Soak", session 8): every audited write sent an UPDATE of its chain's head after the entry's
INSERT, a round trip of its own, and round trips are what the check's tail under mixed load is made of on
PostgreSQL. The trigger does the same update inside the INSERT. The writer still locks the head first (SELECT … FOR
UPDATE SKIP LOCKED) and hashes the new entry onto the head's last hash, so nothing about the chains changes.
Entries without a hash or a chain (written before migrations 0009 and 0014) move no head. Restores do not fire it:
pg_restore creates triggers after loading the data, and SQLite's restore copies pages.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0015_audit_head_trigger"
down_revision: str | Sequence[str] | None = "0014_audit_stripes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION audit_event_advance_head() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE audit_chain_head SET last_id = NEW.id, last_hash = NEW.hash WHERE id = NEW.chain;
                RETURN NULL;
            END $$;
            """
        )
        op.execute(
            "CREATE TRIGGER audit_event_advance_head AFTER INSERT ON audit_event FOR EACH ROW "
            "WHEN (NEW.hash IS NOT NULL AND NEW.chain IS NOT NULL) EXECUTE FUNCTION audit_event_advance_head()"
        )
    else:
        op.execute(
            "CREATE TRIGGER audit_event_advance_head AFTER INSERT ON audit_event "
            "WHEN NEW.hash IS NOT NULL AND NEW.chain IS NOT NULL BEGIN "
            "UPDATE audit_chain_head SET last_id = NEW.id, last_hash = NEW.hash WHERE id = NEW.chain; END"
        )


def downgrade() -> None:
    # The code of revision 0014 updates the head itself.
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_event_advance_head ON audit_event")
        op.execute("DROP FUNCTION IF EXISTS audit_event_advance_head()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_event_advance_head")
