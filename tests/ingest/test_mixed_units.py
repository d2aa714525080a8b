"""One upsert round for a chunk whose rows come from several units: each unit's records stay its own."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests.ingest.fixtures import company_uscc
from tests.ingest.test_storage_services import _link, _prepared, _ref
from xinyong.catalog import service as catalog
from xinyong.core import clock
from xinyong.exchange.models import ChangeEvent
from xinyong.records import service as records
from xinyong.records.models import Record, RecordVersion


def test_units_sharing_a_document_number_keep_separate_records(session: Session) -> None:
    first = catalog.register_unit(
        session=session,
        uscc=company_uscc(901),
        name="某市市场监督管理局",
        region="370300",
        resources=["administrative_penalty"],
    )
    second = catalog.register_unit(
        session=session,
        uscc=company_uscc(902),
        name="某区生态环境分局",
        region="370302",
        resources=["administrative_penalty"],
    )
    resource = catalog.get_resource(session=session, code="administrative_penalty")
    rows = [_prepared(i, _ref(i)) for i in range(3)]
    linked = _link(session, [r.subject for r in rows])

    def upsert(units: list[int], items: list[records.Incoming]) -> records.UpsertOutcome:
        return records.upsert_units_records(
            session=session,
            resource_id=resource.id,
            units=units,
            regions={first.id: first.region, second.id: second.region},
            batch_id="b-mixed",
            origin="local",
            items=items,
            now=clock.now(),
        )

    incoming = [records.Incoming(r, s) for r, s in zip(rows, linked.subject_ids, strict=True)]
    # The first unit sends rows 0 and 1, the second unit row 0's number (its own decision) and row 2, interleaved.
    done = upsert([second.id, first.id, second.id, first.id], [incoming[0], incoming[0], incoming[2], incoming[1]])
    assert (done.inserted, done.versioned, done.duplicates) == (4, 0, 0)
    assert done.results == ["inserted"] * 4
    stored = session.execute(
        sa.select(Record.source_unit_id, Record.doc_no, Record.region).where(Record.batch_id == "b-mixed")
    ).all()
    assert sorted(stored) == sorted(
        [
            (first.id, rows[0].doc_no, "370300"),
            (first.id, rows[1].doc_no, "370300"),
            (second.id, rows[0].doc_no, "370302"),
            (second.id, rows[2].doc_no, "370302"),
        ]
    )
    # One event per record, grouped by unit in the order the units first appear, each unit's in record order.
    event_units = session.execute(
        sa.select(Record.source_unit_id, Record.id)
        .join(ChangeEvent, ChangeEvent.entity_id == Record.id)
        .where(ChangeEvent.kind == "record.created", ChangeEvent.entity == "record")
        .order_by(ChangeEvent.id)
    ).all()
    assert [unit for unit, _ in event_units] == [second.id, second.id, first.id, first.id]
    assert [rid for _, rid in event_units[:2]] == sorted(rid for _, rid in event_units[:2])
    assert [rid for _, rid in event_units[2:]] == sorted(rid for _, rid in event_units[2:])

    # A resend: the second unit changed its record 0 (and sends it twice), the first unit's stays as it was.
    changed = records.Incoming(
        _prepared(0, _ref(0), payload={**rows[0].payload, "CF_NR_FK": "9"}), linked.subject_ids[0]
    )
    again = upsert([first.id, second.id, second.id], [incoming[0], changed, changed])
    assert (again.inserted, again.versioned, again.duplicates) == (0, 1, 2)
    assert again.results == ["duplicate", "versioned", "duplicate"]
    versions = dict(
        session.execute(sa.select(Record.source_unit_id, Record.version).where(Record.doc_no == rows[0].doc_no)).all()
    )
    assert versions == {first.id: 1, second.id: 2}
    kept = session.execute(sa.select(RecordVersion.version, RecordVersion.payload)).all()
    assert [(v, p["CF_NR_FK"]) for v, p in kept] == [(1, "2")]
