"""The record tables' layout: hash-partitioned by subject on PostgreSQL (migration 0010), plain on SQLite.

What partitioning takes away has to be given back by the application, and these tests hold it to that: the natural
key (resource, unit, document number) stays unique across partitions (also between concurrent writers), a resend
that names another subject moves the one record, records cannot be deleted now that foreign keys no longer protect
their dependents, every record has a subject, and the migration converts existing data both ways.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from tests import factories
from tests.conftest import Database
from tests.ingest.fixtures import PENALTY, UNIT_NAME, UNIT_USCC, company_uscc, valid_penalty_row, write_csv
from xinyong.audit.service import Actor
from xinyong.catalog import service as catalog
from xinyong.catalog.models import Resource
from xinyong.core import clock
from xinyong.core.database import session_scope
from xinyong.core.migrate import alembic_config
from xinyong.ingest.pipeline import ingest_file
from xinyong.ingest.prepare import prepare_row
from xinyong.ingest.types import PreparedRow, RawRow
from xinyong.records import service as records
from xinyong.records.models import Record, RecordVersion
from xinyong.subjects.models import Subject

# The foreign keys that referenced record(id) before 0010 (see the migration).
REFERENCING = {
    "record_version": "record_id",
    "list_entry": "record_id",
    "commitment": "broken_record_id",
    "objection": "record_id",
    "dishonesty_notice": "record_id",
    "repair_application": "record_id",
}


def _partitioning(conn: sa.Connection, table: str) -> tuple[str, str, int] | None:
    """(strategy, key column, number of partitions) of a partitioned table, None for a plain one."""
    row = conn.execute(
        sa.text(
            "SELECT p.partstrat, a.attname, "
            "(SELECT count(*) FROM pg_inherits i WHERE i.inhparent = p.partrelid) "
            "FROM pg_partitioned_table p JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0] "
            "WHERE p.partrelid = CAST(:t AS regclass)"
        ),
        {"t": table},
    ).first()
    return (row[0], row[1], int(row[2])) if row else None


def _foreign_keys_to_record(conn: sa.Connection) -> set[str]:
    inspector = sa.inspect(conn)
    return {
        f"{table}.{fk['constrained_columns'][0]}"
        for table in REFERENCING
        for fk in inspector.get_foreign_keys(table)
        if fk["referred_table"] == "record"
    }


def test_layout_per_engine(session: Session, db: Database) -> None:
    conn = session.connection()
    if db.kind == "postgresql":
        assert _partitioning(conn, "record") == ("h", "subject_id", 16)
        assert _partitioning(conn, "record_version") == ("h", "record_id", 16)
        inspector = sa.inspect(conn)
        assert inspector.get_pk_constraint("record")["constrained_columns"] == ["id", "subject_id"]
        assert inspector.get_pk_constraint("record_version")["constrained_columns"] == ["id", "record_id"]
        assert {c["name"]: c["nullable"] for c in inspector.get_columns("record")}["subject_id"] is False
        assert _foreign_keys_to_record(conn) == set()
        indexes = {ix["name"] for ix in inspector.get_indexes("record")}
        assert {"ix_record_subject_resource", "ix_record_resource_decision"} <= indexes
    else:
        # SQLite keeps plain tables, their foreign keys, and a unique key on the natural key alone.
        assert _foreign_keys_to_record(conn) == {f"{t}.{c}" for t, c in REFERENCING.items()}
        uniques = {tuple(u["column_names"]) for u in sa.inspect(conn).get_unique_constraints("record")}
        assert ("resource_id", "source_unit_id", "doc_no") in uniques


def test_deleting_a_record_never_leaves_a_dangling_reference(session: Session, db: Database) -> None:
    """PostgreSQL has no foreign keys to the partitioned record table, so a trigger refuses any DELETE; SQLite keeps
    its foreign keys, so a DELETE takes the record's versions with it (ON DELETE CASCADE) and nothing dangles."""
    record = factories.record(session, subject_row=factories.subject(session))
    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    session.add(
        RecordVersion(
            record_id=record.id, version=1, subject_id=record.subject_id, status=record.status,
            subject_name=record.subject_name, payload=record.payload, content_hash=record.content_hash,
            replaced_at=now, replaced_by="test", reason="resend",
        )
    )  # fmt: skip
    session.flush()
    if db.kind == "postgresql":
        with pytest.raises(sa.exc.DBAPIError, match="信用信息记录不可删除"), session.begin_nested():
            session.execute(sa.delete(Record).where(Record.id == record.id))
        assert session.scalar(sa.select(sa.func.count()).select_from(Record).where(Record.id == record.id)) == 1
    else:
        session.execute(sa.delete(Record).where(Record.id == record.id))
        assert session.scalar(sa.select(sa.func.count()).select_from(Record).where(Record.id == record.id)) == 0
    versions = sa.select(sa.func.count()).select_from(RecordVersion).where(RecordVersion.record_id == record.id)
    assert session.scalar(versions) == (1 if db.kind == "postgresql" else 0)


# --- the natural key across partitions ------------------------------------------------------------------------------


def _register(engine: Engine) -> None:
    with session_scope(engine, write=True) as session:
        catalog.register_unit(session=session, uscc=UNIT_USCC, name=UNIT_NAME, region="370300", resources=[PENALTY])


def _ingest(db: Database, path: Path) -> None:
    summary = ingest_file(engine=db.engine, path=path, resource=PENALTY, unit_uscc=None, actor=Actor.cli())
    assert summary.rejected == 0, summary


def _partition_of(engine: Engine, record_id: int) -> str:
    with engine.connect() as conn:
        if engine.dialect.name != "postgresql":
            return "record"
        return str(conn.scalar(sa.text("SELECT tableoid::regclass::text FROM record WHERE id = :i"), {"i": record_id}))


def test_a_resend_naming_another_subject_moves_the_one_record(fresh_db: Database, tmp_path: Path) -> None:
    _register(fresh_db.engine)
    # Twenty companies, one penalty each: enough that two of them land in different partitions.
    _ingest(fresh_db, write_csv(tmp_path / "first.csv", [valid_penalty_row(i) for i in range(20)]))
    with fresh_db.engine.connect() as conn:
        by_doc = {
            doc: (rid, sid) for rid, sid, doc in conn.execute(sa.select(Record.id, Record.subject_id, Record.doc_no))
        }
    stored = [by_doc[valid_penalty_row(i)["CF_WSH"]] for i in range(20)]  # (record id, subject id) of row i
    first_id, first_subject = stored[0]
    doc_no = valid_penalty_row(0)["CF_WSH"]
    partitions = {rid: _partition_of(fresh_db.engine, rid) for rid, _ in stored}
    other = next(
        (i for i, (rid, _) in enumerate(stored) if partitions[rid] != partitions[first_id]),
        1,  # SQLite: one table, any other company will do
    )
    other_subject = stored[other][1]

    # Row 0's document again, now naming company `other` (the unit corrected the party of the decision).
    resent = valid_penalty_row(0, CF_XDR_SHXYM=company_uscc(other), CF_XDR_MC=valid_penalty_row(other)["CF_XDR_MC"])
    assert resent["CF_WSH"] == doc_no
    _ingest(fresh_db, write_csv(tmp_path / "resent.csv", [resent]))

    with fresh_db.engine.connect() as conn:
        rows = conn.execute(
            sa.select(Record.id, Record.subject_id, Record.version).where(Record.doc_no == doc_no)
        ).all()
        assert rows == [(first_id, other_subject, 2)]
        versions = conn.execute(
            sa.select(RecordVersion.subject_id, RecordVersion.version).where(RecordVersion.record_id == first_id)
        ).all()
        assert versions == [(first_subject, 1)]
        assert conn.scalar(sa.select(sa.func.count()).select_from(Record)) == 20
    if fresh_db.kind == "postgresql":
        assert _partition_of(fresh_db.engine, first_id) == partitions[stored[other][0]] != partitions[first_id]


def _prepared(i: int, **overrides: str | None) -> PreparedRow:
    fields = valid_penalty_row(i, **overrides)
    row = prepare_row(catalog.builtin_specs()[PENALTY], RawRow(2, dict(fields), dict(fields)), today=clock.today())
    assert isinstance(row, PreparedRow), row
    return row


def _wait_for_advisory_wait(engine: Engine, *, polls: int = 600) -> bool:
    """Whether another backend is seen waiting on an advisory lock (polled, never a fixed sleep that could race)."""
    probe = threading.Event()
    with engine.connect() as conn:
        for _ in range(polls):
            waiting = conn.scalar(sa.text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"))
            conn.commit()
            if waiting:
                return True
            probe.wait(0.05)
    return False


def test_concurrent_writers_of_one_number_store_one_record(fresh_db: Database) -> None:
    """Two chunks send the same document number for two different subjects at the same time. On PostgreSQL no unique
    index can see both (they would sit in different partitions): the (resource, unit) advisory lock makes the second
    writer wait, then find and version the first one's record. On SQLite the single writer does the same."""
    engine = fresh_db.engine
    _register(engine)
    with session_scope(engine, write=True) as session:
        unit = catalog.get_unit(session=session, uscc=UNIT_USCC)
        resource = catalog.get_resource(session=session, code=PENALTY)
        subjects = [factories.subject(session, code=company_uscc(n)) for n in (1, 2)]
        unit_id, resource_id, subject_ids = unit.id, resource.id, [s.id for s in subjects]
    first, second = _prepared(1), _prepared(1, CF_XDR_SHXYM=company_uscc(2), CF_XDR_MC="另一家有限公司")
    assert first.doc_no == second.doc_no

    def upsert(session: Session, row: PreparedRow, subject_id: int) -> records.UpsertOutcome:
        return records.upsert_records(
            session=session,
            resource_id=resource_id,
            source_unit_id=unit_id,
            region="370300",
            batch_id=f"B{subject_id}",
            origin="local",
            items=[records.Incoming(row, subject_id)],
            now=clock.now(),
        )

    outcomes: dict[str, records.UpsertOutcome] = {}
    errors: list[BaseException] = []

    def second_writer() -> None:
        try:
            with session_scope(engine, write=True) as session:
                outcomes["second"] = upsert(session, second, subject_ids[1])
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    with session_scope(engine, write=True) as session:
        outcomes["first"] = upsert(session, first, subject_ids[0])
        if fresh_db.kind == "postgresql":
            thread = threading.Thread(target=second_writer)
            thread.start()
            # The second writer must be blocked on the lock while the first has not committed.
            assert _wait_for_advisory_wait(engine)
    if fresh_db.kind == "postgresql":
        thread.join(timeout=60)
        assert not thread.is_alive()
    else:
        second_writer()  # SQLite: one writer at a time anyway
    assert not errors, errors
    assert (outcomes["first"].inserted, outcomes["second"].versioned) == (1, 1)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(Record.subject_id, Record.version).where(Record.doc_no == first.doc_no)).all()
    assert rows == [(subject_ids[1], 2)]


def test_a_row_naming_no_subject_is_rejected(fresh_db: Database, tmp_path: Path) -> None:
    """Only a catalog edited to make the USCC optional lets such a row through validation; it is refused with a
    reason rather than stored without a subject."""
    _register(fresh_db.engine)
    with session_scope(fresh_db.engine, write=True) as session:
        resource = session.scalars(sa.select(Resource).where(Resource.code == PENALTY)).one()
        fields = [dict(f) for f in resource.fields]
        for f in fields:
            if f["code"] == "CF_XDR_SHXYM":
                f["required_for"] = []
        resource.fields = fields
    rows = [valid_penalty_row(1, CF_XDR_SHXYM=None), valid_penalty_row(2)]
    summary = ingest_file(
        engine=fresh_db.engine,
        path=write_csv(tmp_path / "p.csv", rows),
        resource=PENALTY,
        unit_uscc=None,
        actor=Actor.cli(),
    )
    assert (summary.accepted, summary.rejected) == (1, 1)
    with fresh_db.engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(Record).where(Record.subject_id.is_(None))) == 0
        reasons = conn.scalar(sa.text("SELECT reasons FROM quarantined_row"))
    reasons = reasons if isinstance(reasons, list) else json.loads(reasons)
    assert reasons == [
        {"field": "CF_XDR_SHXYM", "message": "无法确定信用主体：统一社会信用代码、证件号码和其他登记代码均为空"}
    ]


# --- the migration, both ways ----------------------------------------------------------------------------------------


def _migrate(engine: Engine, verb: str, target: str) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, verb)(config, target)


def test_migration_converts_existing_data_both_ways(fresh_db: Database, tmp_path: Path) -> None:
    engine = fresh_db.engine
    _register(engine)
    _ingest(fresh_db, write_csv(tmp_path / "a.csv", [valid_penalty_row(i) for i in range(5)]))
    _ingest(fresh_db, write_csv(tmp_path / "b.csv", [valid_penalty_row(0, CF_NR="罚款人民币叁万元整", CF_NR_FK="3")]))

    def snapshot() -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
        with engine.connect() as conn:
            recs = conn.execute(
                sa.select(Record.id, Record.subject_id, Record.doc_no, Record.version).order_by(Record.id)
            ).all()
            vers = conn.execute(
                sa.select(RecordVersion.id, RecordVersion.record_id, RecordVersion.version).order_by(RecordVersion.id)
            ).all()
        return [tuple(r) for r in recs], [tuple(v) for v in vers]

    before = snapshot()
    assert len(before[0]) == 5 and len(before[1]) == 1
    _migrate(engine, "downgrade", "0009_security")
    with engine.connect() as conn:
        assert _foreign_keys_to_record(conn) == {f"{t}.{c}" for t, c in REFERENCING.items()}
        if fresh_db.kind == "postgresql":
            assert _partitioning(conn, "record") is None
    assert snapshot() == before

    # A record stored without a subject, as collection allowed before 0010.
    with engine.begin() as conn:
        template = conn.execute(sa.select(Record.__table__).where(Record.id == before[0][0][0])).mappings().one()
        orphan = dict(template) | {"subject_id": None, "doc_no": "无主体〔2025〕1号", "subject_name": "无代码的单位"}
        orphan.pop("id")
        orphan_id = conn.execute(sa.insert(Record.__table__).values(orphan).returning(Record.id)).scalar_one()

    _migrate(engine, "upgrade", "heads")
    after = snapshot()
    assert after[1] == before[1]
    assert [r for r in after[0] if r[0] != orphan_id] == before[0]
    with Session(engine) as session:
        moved = session.get_one(Record, orphan_id)
        if fresh_db.kind == "postgresql":
            assert _partitioning(session.connection(), "record") == ("h", "subject_id", 16)
            owner = session.get_one(Subject, moved.subject_id)
            assert (owner.name, owner.uscc) == ("无代码的单位", None)
        else:
            assert moved.subject_id is None  # SQLite keeps its table as it was
    # The id sequences still belong to the tables: new rows continue after the copied ones.
    _ingest(fresh_db, write_csv(tmp_path / "c.csv", [valid_penalty_row(9)]))
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.max(Record.id))) > orphan_id
