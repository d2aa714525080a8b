"""partitioning: on PostgreSQL, ``record`` hash-partitioned by subject, ``record_version`` by record

Revision ID: 0010_partitioning
Revises: 0009_security

Why the subject (docs/scaling.md has the measurements): every hot read of records is about one subject — the check
by code, the subject page and the subject's own view, the evaluation's per-subject aggregates, a list entry's
record — so ``subject_id = :id`` prunes to one partition and per-subject aggregates run partition-wise. It is also the
column a Citus cluster distributes ``record`` by, so the single-machine and the distributed layout are the same.
Sixteen partitions: at 100 million records each holds ~6 million rows (its indexes stay three levels deep, a VACUUM
or ANALYZE of one is minutes, not hours); a query that cannot prune (双公示 lists by resource and date, a resend's
lookup by document number) visits 16 small indexes instead of one large one; and a power of two can later be split
in place (remainder r of 16 becomes remainders r and r + 16 of 32) without rewriting the other partitions.

What partitioning costs, and how it is paid for:
- A unique key of a partitioned table must contain its partition key. ``record``'s primary key becomes
  (id, subject_id) and its natural key (resource, unit, document number) is unique together with subject_id. The
  natural key alone is kept unique by the one code path that inserts records (``records.service``), which on
  PostgreSQL serialises writers of the same (resource, unit) with a transaction-scoped advisory lock.
- ``record.subject_id`` becomes NOT NULL (a primary-key column). Collection rejects a row that names no subject
  (no USCC, ID number or registration code), so nothing writes NULL; records stored before without a subject each get
  a subject of their own here (name, kind and region as reported), which the console's merge can join to the right one.
- Foreign keys cannot reference a partitioned table without its partition key: those referencing ``record(id)``
  (record_version, list_entry, objection, dishonesty_notice, repair_application, commitment) are dropped on
  PostgreSQL. Records are never deleted (revoked and deleted are statuses; docs/rights.md), so the only way to leave
  a dangling reference is a DELETE on ``record``, which a trigger now refuses. SQLite keeps its plain tables and
  foreign keys.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_partitioning"
down_revision: str | Sequence[str] | None = "0009_security"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARTITIONS = 16

# (table, constraint, column) of every foreign key that references record(id).
REFERENCING = (
    ("record_version", "fk_record_version_record_id_record", "record_id"),
    ("list_entry", "fk_list_entry_record_id_record", "record_id"),
    ("commitment", "fk_commitment_broken_record_id_record", "broken_record_id"),
    ("objection", "fk_objection_record_id_record", "record_id"),
    ("dishonesty_notice", "fk_dishonesty_notice_record_id_record", "record_id"),
    ("repair_application", "fk_repair_application_record_id_record", "record_id"),
)

# record's own foreign keys (kept: a partitioned table may reference plain tables).
RECORD_FKS = (
    ("fk_record_resource_id_resource", "resource_id", "resource"),
    ("fk_record_source_unit_id_source_unit", "source_unit_id", "source_unit"),
    ("fk_record_subject_id_subject", "subject_id", "subject"),
)

# Secondary indexes, partitioned on PostgreSQL (each partition gets its own).
RECORD_INDEXES = (
    ("ix_record_batch_id", "batch_id"),
    ("ix_record_region", "region"),
    ("ix_record_resource_decision", "resource_id, decision_date"),
    ("ix_record_subject_resource", "subject_id, resource_id"),
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _give_orphans_a_subject()
    for table, name, _column in REFERENCING:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}")

    # record: new partitioned table, rows copied, the old one dropped, names swapped, constraints built after the copy.
    _partitioned_copy("record", "subject_id", "信用信息记录（当前版本；PostgreSQL 上按主体散列分区）")
    op.execute("ALTER TABLE record ALTER COLUMN subject_id SET NOT NULL")
    op.execute("ALTER TABLE record ADD CONSTRAINT pk_record PRIMARY KEY (id, subject_id)")
    # The natural key leads, so a resend's lookup by (resource, unit, document number) is an index probe per partition.
    op.execute(
        "ALTER TABLE record ADD CONSTRAINT uq_record_natural_key UNIQUE (resource_id, source_unit_id, doc_no, subject_id)"
    )
    for name, columns in RECORD_INDEXES:
        op.execute(f"CREATE INDEX {name} ON record ({columns})")
    for name, column, target in RECORD_FKS:
        op.execute(f"ALTER TABLE record ADD CONSTRAINT {name} FOREIGN KEY ({column}) REFERENCES {target} (id)")
    _refuse_delete()

    _partitioned_copy("record_version", "record_id", "信用信息记录的历史版本（PostgreSQL 上按记录散列分区）")
    op.execute("ALTER TABLE record_version ADD CONSTRAINT pk_record_version PRIMARY KEY (id, record_id)")
    # Also serves "the versions of one record" (the former ix_record_version_record_id is its prefix).
    op.execute(
        "ALTER TABLE record_version ADD CONSTRAINT uq_record_version_record_id_version UNIQUE (record_id, version)"
    )
    op.execute("ANALYZE record")
    op.execute("ANALYZE record_version")


def _give_orphans_a_subject() -> None:
    """Records stored without a subject (possible before collection refused such rows) get one each."""
    bind = op.get_bind()
    orphans = bind.execute(
        sa.text("SELECT id, subject_name, subject_kind, region FROM record WHERE subject_id IS NULL ORDER BY id")
    ).all()
    now = dt.datetime.now(dt.UTC)
    for record_id, name, kind, region in orphans:
        subject_id = bind.execute(
            sa.text(
                "INSERT INTO subject (kind, name, region, status, name_conflict, created_at, updated_at) "
                "VALUES (:kind, :name, :region, 'active', false, :now, :now) RETURNING id"
            ),
            {"kind": kind, "name": name, "region": region, "now": now},
        ).scalar_one()
        bind.execute(
            sa.text(
                "INSERT INTO subject_name (subject_id, name, first_seen, last_seen, source, is_current) "
                "VALUES (:s, :name, :now, :now, 'migration:0010', true)"
            ),
            {"s": subject_id, "name": name, "now": now},
        )
        bind.execute(sa.text("UPDATE record SET subject_id = :s WHERE id = :r"), {"s": subject_id, "r": record_id})


def _partitioned_copy(table: str, key: str, comment: str) -> None:
    """Replace ``table`` by a hash-partitioned table of the same columns, defaults and comments, holding its rows.

    Constraints and indexes are left to the caller (built once over the copied rows, faster than maintained per row).
    The id sequence is handed to the new table before the old one is dropped (dropping would drop the sequence).
    """
    new = f"{table}_partitioned"
    op.execute(
        f"CREATE TABLE {new} (LIKE {table} INCLUDING DEFAULTS INCLUDING COMMENTS INCLUDING STORAGE) "
        f"PARTITION BY HASH ({key})"
    )
    for remainder in range(PARTITIONS):
        op.execute(
            f"CREATE TABLE {table}_p{remainder:02d} PARTITION OF {new} "
            f"FOR VALUES WITH (MODULUS {PARTITIONS}, REMAINDER {remainder})"
        )
    op.execute(f"INSERT INTO {new} SELECT * FROM {table}")
    op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY {new}.id")
    op.execute(f"DROP TABLE {table}")
    op.execute(f"ALTER TABLE {new} RENAME TO {table}")
    op.execute(f"COMMENT ON TABLE {table} IS '{comment}'")


def _refuse_delete() -> None:
    # The foreign keys that would have stopped a DELETE from orphaning versions, objections, list entries … are gone;
    # records are never deleted by the application, so the database refuses it outright.
    op.execute(
        """
        CREATE FUNCTION record_no_delete() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION '信用信息记录不可删除（撤销、删除均为状态，记录归档保留）'; END $$;
        """
    )
    op.execute(
        "CREATE TRIGGER record_no_delete BEFORE DELETE ON record FOR EACH STATEMENT EXECUTE FUNCTION record_no_delete()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS record_no_delete ON record")
    op.execute("DROP FUNCTION IF EXISTS record_no_delete()")
    _plain_copy("record_version", "信用信息记录的历史版本")
    op.execute("ALTER TABLE record_version ADD CONSTRAINT pk_record_version PRIMARY KEY (id)")
    op.execute(
        "ALTER TABLE record_version ADD CONSTRAINT uq_record_version_record_id_version UNIQUE (record_id, version)"
    )
    op.execute("CREATE INDEX ix_record_version_record_id ON record_version (record_id)")

    _plain_copy("record", "信用信息记录（当前版本）")
    op.execute("ALTER TABLE record ALTER COLUMN subject_id DROP NOT NULL")
    op.execute("ALTER TABLE record ADD CONSTRAINT pk_record PRIMARY KEY (id)")
    op.execute(
        "ALTER TABLE record ADD CONSTRAINT uq_record_resource_id_source_unit_id_doc_no "
        "UNIQUE (resource_id, source_unit_id, doc_no)"
    )
    for name, columns in RECORD_INDEXES:
        op.execute(f"CREATE INDEX {name} ON record ({columns})")
    for name, column, target in RECORD_FKS:
        op.execute(f"ALTER TABLE record ADD CONSTRAINT {name} FOREIGN KEY ({column}) REFERENCES {target} (id)")
    for table, name, column in REFERENCING:
        cascade = " ON DELETE CASCADE" if table == "record_version" else ""
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({column}) REFERENCES record (id){cascade}")


def _plain_copy(table: str, comment: str) -> None:
    new = f"{table}_plain"
    op.execute(f"CREATE TABLE {new} (LIKE {table} INCLUDING DEFAULTS INCLUDING COMMENTS INCLUDING STORAGE)")
    op.execute(f"INSERT INTO {new} SELECT * FROM {table}")
    op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY {new}.id")
    op.execute(f"DROP TABLE {table}")  # its partitions go with it
    op.execute(f"ALTER TABLE {new} RENAME TO {table}")
    op.execute(f"COMMENT ON TABLE {table} IS '{comment}'")
