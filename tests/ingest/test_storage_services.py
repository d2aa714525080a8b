"""Linking and upserting in bulk (subjects.service, records.service), on both engines, with PreparedRows built here."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests.conftest import Database
from tests.ingest.fixtures import REGION, UNIT_NAME, UNIT_USCC, citizen_id, company_uscc, registration_number
from xinyong.catalog import service as catalog
from xinyong.core import clock
from xinyong.core.crypto import decrypt, keyed_hash
from xinyong.core.database import session_scope
from xinyong.ingest.types import PreparedRow, SubjectRef
from xinyong.records import service as records
from xinyong.records.models import Record, RecordVersion
from xinyong.subjects import service as subjects
from xinyong.subjects.models import Subject, SubjectCode, SubjectName


def _ref(i: int, **changes: object) -> SubjectRef:
    ref = SubjectRef(kind="legal_person", name=f"淄博测试有限公司{i}", uscc=company_uscc(i), legal_rep="王伟")
    return dataclasses.replace(ref, **changes)  # type: ignore[arg-type]


def _link(session: Session, refs: list[SubjectRef]) -> subjects.LinkOutcome:
    return subjects.link_subjects(
        session=session,
        refs=refs,
        fallback_regions=["370300"] * len(refs),
        sources=[UNIT_USCC] * len(refs),
        now=clock.now(),
    )


def test_linking_creates_each_subject_once_and_finds_it_again(session: Session) -> None:
    refs = [_ref(1), _ref(2), _ref(1)]
    first = _link(session, refs)
    assert first.created == 2
    assert first.subject_ids[0] == first.subject_ids[2] != first.subject_ids[1]
    again = _link(session, [_ref(2), _ref(1)])
    assert again.created == 0
    assert again.subject_ids == [first.subject_ids[1], first.subject_ids[0]]
    subject = session.get_one(Subject, first.subject_ids[0])
    assert subject.region == REGION  # positions 3–8 of the USCC
    assert not subject.name_conflict
    assert [n.name for n in subject.names] == ["淄博测试有限公司1"]


def test_a_different_name_is_kept_as_history_and_flagged(session: Session) -> None:
    (subject_id,) = _link(session, [_ref(5)]).subject_ids
    outcome = _link(session, [_ref(5, name="淄博改名后有限公司5"), _ref(5, name="淄博改名后有限公司5")])
    assert outcome.subject_ids == [subject_id, subject_id]
    assert outcome.name_conflicts == 1
    subject = session.get_one(Subject, subject_id)
    session.refresh(subject)
    assert subject.name == "淄博测试有限公司5"  # the current name stays until someone checks
    assert subject.name_conflict
    names = session.execute(
        sa.select(SubjectName.name, SubjectName.is_current).where(SubjectName.subject_id == subject_id)
    ).all()
    assert sorted(names) == [("淄博改名后有限公司5", False), ("淄博测试有限公司5", True)]
    _link(session, [_ref(5, name="淄博改名后有限公司5")])
    assert session.scalar(sa.select(sa.func.count()).where(SubjectName.subject_id == subject_id)) == 2


def test_legacy_codes_map_to_the_subject(session: Session) -> None:
    gszc = registration_number(7)
    business = SubjectRef(kind="individual_business", name="张店区小吃店7", uscc=None, legacy_codes={"gszc": gszc})
    (first,) = _link(session, [business]).subject_ids
    (again,) = _link(session, [business]).subject_ids
    assert first == again
    # A company row carrying an old 组织机构代码 records it in the mapping.
    (company,) = _link(session, [_ref(8, legacy_codes={"zzjg": company_uscc(8)[8:17]})]).subject_ids
    mapped = session.scalar(sa.select(SubjectCode.subject_id).where(SubjectCode.code == company_uscc(8)[8:17]))
    assert mapped == company
    region = session.scalar(sa.select(Subject.region).where(Subject.id == first))
    assert region == "370300"  # no USCC: the unit's region


def test_natural_person_is_linked_by_keyed_hash_and_stored_encrypted(session: Session) -> None:
    number = citizen_id(3)
    person = SubjectRef(kind="natural_person", name="王芳", uscc=None, id_number=number)
    (first,) = _link(session, [person]).subject_ids
    (again,) = _link(session, [dataclasses.replace(person, name="王芳")]).subject_ids
    assert first == again
    row = session.execute(sa.select(Subject.__table__).where(Subject.id == first)).one()
    assert row.id_hash == keyed_hash(number)
    assert decrypt(row.id_cipher) == number
    assert row.id_masked == number[:4] + "*" * 10 + number[-4:]
    assert all(number not in str(value) for value in row)


def _prepared(i: int, subject: SubjectRef, **changes: object) -> PreparedRow:
    row = PreparedRow(
        row_no=i + 2,
        subject=subject,
        unit_code=UNIT_USCC,
        doc_no=f"淄环罚〔2025〕{i}号",
        decision_date=dt.date(2025, 3, 5),
        valid_from=None,
        valid_to=dt.date(2026, 3, 5),
        publish_until=None,
        severity="general",
        status="active",
        payload={"CF_XDR_MC": subject.name, "CF_NR": "罚款人民币贰万元整", "CF_NR_FK": "2"},
        pii={},
    )
    return dataclasses.replace(row, **changes)  # type: ignore[arg-type]


def _upsert(session: Session, unit_id: int, resource_id: int, rows: list[PreparedRow]) -> records.UpsertOutcome:
    linked = _link(session, [r.subject for r in rows])
    return records.upsert_records(
        session=session,
        resource_id=resource_id,
        source_unit_id=unit_id,
        region="370300",
        batch_id="b1",
        origin="local",
        items=[records.Incoming(r, s) for r, s in zip(rows, linked.subject_ids, strict=True)],
        now=clock.now(),
    )


def test_upsert_inserts_versions_and_skips_duplicates(session: Session) -> None:
    unit = catalog.register_unit(
        session=session, uscc=UNIT_USCC, name=UNIT_NAME, region="370300", resources=["administrative_penalty"]
    )
    resource = catalog.get_resource(session=session, code="administrative_penalty")
    rows = [_prepared(i, _ref(i)) for i in range(3)]
    first = _upsert(session, unit.id, resource.id, rows)
    assert (first.inserted, first.versioned, first.duplicates) == (3, 0, 0)
    changed = _prepared(1, _ref(1), payload={**rows[1].payload, "CF_NR_FK": "3"})
    # Same document number twice in one go: the identical one is a duplicate, the changed one a new version.
    second = _upsert(session, unit.id, resource.id, [rows[0], rows[1], changed, changed])
    assert (second.inserted, second.versioned, second.duplicates) == (0, 1, 3)
    record = session.execute(sa.select(Record).where(Record.doc_no == rows[1].doc_no)).scalar_one()
    assert record.version == 2
    assert record.payload["CF_NR_FK"] == "3"
    assert record.region == "370300"
    kept = session.execute(sa.select(RecordVersion).where(RecordVersion.record_id == record.id)).scalar_one()
    assert (kept.version, kept.reason, kept.replaced_by) == (1, "resend", "b1")
    assert kept.payload["CF_NR_FK"] == "2"
    assert session.scalar(sa.select(sa.func.count()).select_from(Record)) == 3


def test_pii_change_is_detected_without_storing_it_in_clear(session: Session) -> None:
    unit = catalog.register_unit(
        session=session, uscc=UNIT_USCC, name=UNIT_NAME, region="370300", resources=["administrative_penalty"]
    )
    resource = catalog.get_resource(session=session, code="administrative_penalty")
    number = citizen_id(9)
    row = _prepared(9, _ref(9), pii={"CF_FR_ZJHM": number})
    assert _upsert(session, unit.id, resource.id, [row]).inserted == 1
    other = dataclasses.replace(row, pii={"CF_FR_ZJHM": citizen_id(10)})
    assert _upsert(session, unit.id, resource.id, [other]).versioned == 1
    stored = session.execute(sa.select(Record.__table__).where(Record.doc_no == row.doc_no)).one()
    assert all(number not in str(value) and citizen_id(10) not in str(value) for value in stored)
    assert citizen_id(10) in decrypt(stored.pii_cipher)


def test_two_writers_creating_the_same_subjects_end_with_one_each(fresh_db: Database) -> None:
    refs = [_ref(i) for i in range(20)]
    results: dict[str, list[int | None]] = {}

    def second_writer() -> None:
        with session_scope(fresh_db.engine, write=True) as other:
            results["second"] = _link(other, refs).subject_ids

    with session_scope(fresh_db.engine, write=True) as first:
        results["first"] = _link(first, refs).subject_ids
        thread = threading.Thread(target=second_writer)
        thread.start()
        time.sleep(0.5)  # the second writer now waits on the first one's uncommitted rows (or lock)
    thread.join(timeout=60)
    assert results["first"] == results["second"]
    with session_scope(fresh_db.engine) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Subject)) == 20
        assert session.scalar(sa.select(sa.func.count()).select_from(SubjectName)) == 20
