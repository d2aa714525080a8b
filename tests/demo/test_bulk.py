"""The bulk generator writes what the collection pipeline would store, readable by every service (both engines)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.conftest import Database
from xinyong.accounts import service as accounts
from xinyong.accounts.models import Role
from xinyong.app import create_app
from xinyong.audit.service import Actor
from xinyong.catalog.service import builtin_specs
from xinyong.core import clock
from xinyong.core.crypto import decrypt, keyed_hash
from xinyong.core.database import session_scope
from xinyong.core.errors import Conflict
from xinyong.core.settings import get_settings
from xinyong.demo import bulk
from xinyong.demo.generator import DemoData
from xinyong.evaluation import service as evaluation
from xinyong.ingest.types import PreparedRow, SubjectRef
from xinyong.lists import service as lists
from xinyong.records.service import content_hash
from xinyong.subjects.codes import id_number_error, mask_id_number, uscc_error

REPO = Path(__file__).resolve().parents[2]


def _indexes(engine: sa.Engine) -> set[str]:
    inspector = sa.inspect(engine)
    names = set()
    for table in bulk.TABLES:
        names |= {f"{table}.{i['name']}" for i in inspector.get_indexes(table)}
        names |= {f"{table}.{u['name']}" for u in inspector.get_unique_constraints(table)}
    return names


def _partition_indexes(engine: sa.Engine) -> dict[str, tuple[int, int]]:
    """Per loaded table: (its indexes and its partitions' indexes, how many of them are not valid)."""
    out = {}
    with engine.connect() as conn:
        for table in bulk.TABLES:
            total, invalid = conn.execute(
                sa.text(
                    "SELECT count(*), count(*) FILTER (WHERE NOT indisvalid) FROM pg_index WHERE indrelid = "
                    "CAST(:t AS regclass) OR indrelid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = "
                    "CAST(:t AS regclass))"
                ),
                {"t": table},
            ).one()
            out[table] = (int(total), int(invalid))
    return out


def test_bulk_load_stores_what_the_pipeline_would(fresh_db: Database) -> None:
    engine = fresh_db.engine
    region = get_settings().region
    before = _indexes(engine)
    partition_indexes_before = _partition_indexes(engine) if engine.dialect.name == "postgresql" else {}
    # Two processes: parallel COPY on PostgreSQL; on SQLite two row producers feeding the one writer.
    result = bulk.bulk_load(engine=engine, subjects=300, records=3000, seed=7, region=region, jobs=2, pool=80, block=50)

    assert _indexes(engine) == before  # every index and unique constraint dropped for the load is back
    if engine.dialect.name == "postgresql":
        # ... and really built: on a partitioned table each one is valid and present on every partition.
        assert _partition_indexes(engine) == partition_indexes_before
    data = DemoData(subjects=300, seed=7, region=region)
    with engine.connect() as conn:
        subjects = {row.id: row for row in conn.execute(sa.text("SELECT * FROM subject"))}
        records = conn.execute(sa.text("SELECT * FROM record ORDER BY id")).all()
        entries = conn.execute(sa.text("SELECT count(*) FROM list_entry")).scalar_one()
        names = conn.execute(sa.text("SELECT count(*) FROM subject_name WHERE is_current")).scalar_one()
        resources = {rid: code for rid, code in conn.execute(sa.text("SELECT id, code FROM resource"))}
    assert len(subjects) == 300 and names == 300
    assert len(records) == result.records and 1500 < result.records < 6000  # ≈ 10 per subject, skewed
    assert result.list_entries == entries > 0

    # Subjects are the generator's, with valid codes and the identifiers stored as the pipeline stores them.
    for index in (0, 1, 57, 299):
        profile, row = data.subject(index), subjects[index + 1]
        assert (row.name, row.kind, row.region) == (profile.name, profile.kind, profile.region)
    for row in subjects.values():
        if row.uscc is not None:
            assert uscc_error(row.uscc) is None
        if row.kind == "natural_person":
            number = decrypt(row.id_cipher)
            assert id_number_error(number, today=clock.today()) is None
            assert row.id_hash == keyed_hash(number) and row.id_masked == mask_id_number(number)
    assert len({r.uscc for r in subjects.values() if r.uscc}) == sum(1 for r in subjects.values() if r.uscc)

    # Each record: its subject's name, a unique document number, and the pipeline's content hash of what it holds.
    assert len({(r.resource_id, r.source_unit_id, r.doc_no) for r in records}) == len(records)
    with_pii = 0
    for record in records:
        subject = subjects[record.subject_id]
        assert record.subject_name == subject.name and record.subject_kind == subject.kind
        payload = record.payload if isinstance(record.payload, dict) else json.loads(record.payload)
        spec = builtin_specs()[resources[record.resource_id]]
        assert payload[spec.role("doc_no")] == record.doc_no
        assert payload[spec.role("subject_name")] == subject.name
        pii: dict[str, str] = {}
        if record.pii_cipher is not None:
            pii = json.loads(decrypt(record.pii_cipher))
            with_pii += 1
        as_prepared = PreparedRow(
            row_no=0,
            subject=SubjectRef(kind=subject.kind, name=subject.name, uscc=subject.uscc),
            unit_code=None,
            doc_no=record.doc_no,
            decision_date=record.decision_date,
            valid_from=record.valid_from,
            valid_to=record.valid_to,
            publish_until=record.publish_until,
            severity=record.severity,
            status=record.status,
            payload=payload,
            pii=pii,
        )
        assert content_hash(as_prepared) == record.content_hash
    assert with_pii > 0  # natural persons' records carry their encrypted ID number

    # List entries are exactly those the lists domain makes of these records: a sweep changes nothing.
    with session_scope(engine, write=True) as session:
        sweep = lists.sync_from_records(session=session, actor=Actor.cli())
    assert (sweep.created, sweep.updated, sweep.unchanged) == (0, 0, entries)

    # Readable by the services: evaluation of everyone, a subject page with its published records, a check.
    with session_scope(engine, write=True) as session:
        run = evaluation.evaluate(session=session, actor=Actor.cli())
        # The default public model evaluates organisations and individual businesses, not natural persons.
        assert run.subjects_evaluated == sum(1 for s in subjects.values() if s.kind != "natural_person")
        key = accounts.create_api_key(session=session, actor=Actor.cli(), role=Role.CHECKER, label="t").key
    busiest = max(
        (s for s in subjects.values() if s.uscc), key=lambda s: sum(1 for r in records if r.subject_id == s.id)
    )
    client = TestClient(create_app(engine))
    page = client.get(f"/api/v1/subjects/{busiest.uscc}")
    assert page.status_code == 200
    shown = [item for section in page.json()["sections"] for item in section.get("records", [])]
    assert shown and all(item["doc_no"].endswith("号") for item in shown)
    found = client.get("/api/v1/subjects", params={"q": busiest.name})
    assert busiest.uscc in [item["code"] for item in found.json()["items"]]
    check = client.post(
        "/api/v1/checks",
        json={"code": busiest.uscc, "matter": "government_procurement"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert check.status_code == 200, check.text
    assert check.json()["subject"]["id"] == busiest.id and check.json()["grade"] is not None

    with pytest.raises(Conflict):
        bulk.bulk_load(engine=engine, subjects=10, records=100, region=region)


def test_same_seed_same_rows(fresh_db: Database) -> None:
    """Deterministic from the seed: two producers make the same rows (ciphertexts aside: their nonces are random)."""
    engine = fresh_db.engine
    region = get_settings().region
    data = DemoData(subjects=40, seed=3, records_per_subject=5, region=region)
    units = {u.uscc: (n + 1, u.region) for n, u in enumerate(data.units)}
    resource_ids = {code: n + 1 for n, code in enumerate(builtin_specs())}
    now = clock.now()

    def rows() -> list[tuple[object, ...]]:
        pool = bulk.build_pool(data, 15, resource_ids, units, data.today, bulk.entry_maker(engine))
        made = []
        for subject in bulk.iter_subject_rows(data, pool, now):
            made.append(subject.subject[:7])
            made.extend(tuple(v for v in r if not isinstance(v, bytes)) for r in subject.records)
            made.extend(subject.entries)
        return made

    first, second = rows(), rows()
    assert first == second and len(first) > 40


def test_bulk_command(fresh_db: Database, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-m", "xinyong", "bulk", "--subjects", "40", "--records", "200", "--pool", "20",
         "--jobs", "2", "--database-url", fresh_db.url],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "已写入 40 个主体" in done.stdout
    with fresh_db.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM subject")).scalar_one() == 40
