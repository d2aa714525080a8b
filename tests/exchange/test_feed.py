"""The change feed: events in the same transaction, monotonic cursor, rendered per subscriber through the disclosure
engine, withdrawals when a record stops being visible, API keys, and a repair reaching a second instance."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.conftest import Database
from tests.exchange.conftest import ingest_rows, load_instance, penalty, register_unit
from tests.exchange.test_roundtrip import published, record_of
from tests.ingest.fixtures import UNIT_USCC, citizen_id, natural_person_penalty_row
from xinyong.accounts import service as accounts
from xinyong.accounts.models import Role
from xinyong.app import create_app
from xinyong.audit.service import Actor
from xinyong.catalog import service as catalog
from xinyong.core.database import session_scope
from xinyong.disclosure import Viewer
from xinyong.exchange import events, feed, national, subscribers
from xinyong.exchange.models import ChangeEvent, SubscriberKind
from xinyong.records import service as records
from xinyong.records.models import Record


def same_records(copy: Database, original: Database) -> bool:
    """The copy publishes what the original does; a department's feed carries only usable records, so a subject the
    copy never heard of must have nothing published in the original."""
    theirs, ours = published(copy), published(original)
    for key, shown in ours.items():
        if key not in theirs:
            assert shown is None or not any(s["records"] for s in shown["sections"]), key
            continue
        if theirs[key] != shown:
            return False
    return True


def all_items(db: Database, viewer: Viewer, after: int = 0, limit: int = 3) -> tuple[list[dict], int]:
    """Page through the whole feed with a small page size, as a subscriber would."""
    items: list[dict] = []
    with session_scope(db.engine) as session:
        while True:
            page = feed.read_feed(session=session, viewer=viewer, after=after, limit=limit)
            items += page.items
            assert page.next_after >= after
            after = page.next_after
            if not page.has_more:
                return items, after


def test_events_are_written_with_the_change_and_rolled_back_with_it(session: Session) -> None:
    before = session.scalar(sa.select(sa.func.count()).select_from(ChangeEvent))
    nested = session.begin_nested()
    first = events.emit(session=session, kind="objection.opened", entity="objection", entity_id=1, subject_id=None)
    second = events.emit(session=session, kind="objection.closed", entity="objection", entity_id=1, subject_id=None)
    assert second > first
    nested.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(ChangeEvent)) == before


def test_pipeline_emits_one_event_per_written_record(fresh_db: Database, tmp_path: Path) -> None:
    register_unit(fresh_db)
    rows = [penalty(i) for i in range(5)]
    ingest_rows(fresh_db, tmp_path, "administrative_penalty", rows, "a")
    ingest_rows(fresh_db, tmp_path, "administrative_penalty", rows, "again")  # duplicates: no events
    ingest_rows(fresh_db, tmp_path, "administrative_penalty", [penalty(0, CF_NR_FK="9")], "fix")
    with session_scope(fresh_db.engine) as session:
        kinds = list(session.scalars(sa.select(ChangeEvent.kind).order_by(ChangeEvent.id)))
    assert kinds == ["record.created"] * 5 + ["record.versioned"]


def test_public_subscriber_sees_only_public_records_and_withdrawals(fresh_db: Database, tmp_path: Path) -> None:
    load_instance(fresh_db, tmp_path)
    public_items, cursor = all_items(fresh_db, Viewer.public())
    docs = {i["record"]["doc_no"] for i in public_items if i["entity"] == "record"}
    assert penalty(0)["CF_WSH"] in docs
    assert penalty(6)["CF_WSH"] not in docs  # minor: never public, never shown
    assert penalty(8)["CF_WSH"] not in docs  # expired
    assert natural_person_penalty_row(20)["CF_WSH"] not in docs  # natural person
    assert all(i["operation"] == "upsert" for i in public_items)
    assert not any(citizen_id(20) in str(i) for i in public_items)

    shared_items, _ = all_items(fresh_db, Viewer.shared())
    person = next(
        i for i in shared_items if i.get("record", {}).get("doc_no") == natural_person_penalty_row(20)["CF_WSH"]
    )
    assert person["record"]["fields"]["CF_XDR_ZJHM"] == citizen_id(20)  # a department sees the identifier

    target = record_of(fresh_db, penalty(0)["CF_WSH"])
    with session_scope(fresh_db.engine, write=True) as session:
        records.mark_repaired(session=session, record=session.get(Record, target.id), by="test")
    later, _ = all_items(fresh_db, Viewer.public(), after=cursor)
    assert [(i["operation"], i["entity_id"], i["reason"]) for i in later] == [("withdraw", target.id, "repaired")]
    assert "doc_no" not in later[0]["record"]  # the public learns only the id it already holds


def test_list_entries_in_the_feed(fresh_db: Database, tmp_path: Path) -> None:
    load_instance(fresh_db, tmp_path)
    items, _ = all_items(fresh_db, Viewer.public(), limit=50)
    entries = [i for i in items if i["entity"] == "list_entry"]
    assert len(entries) == 2 and all(i["list_entry"]["state"] == "active" for i in entries)


def test_other_domains_events_follow_their_disclosure(session: Session) -> None:
    start = feed.latest_cursor(session=session)
    events.emit(session=session, kind="evaluation.graded", entity="evaluation", entity_id=7, subject_id=None,
                payload={"grade": "A", "disclosure": "shared"})  # fmt: skip
    events.emit(session=session, kind="objection.opened", entity="objection", entity_id=8, subject_id=None)
    seen = {
        kind: [i["kind"] for i in feed.read_feed(session=session, viewer=viewer, after=start).items]
        for kind, viewer in (
            ("public", Viewer.public()),
            ("shared", Viewer.shared()),
            ("office", Viewer.credit_office()),
        )
    }
    assert seen == {
        "public": [],
        "shared": ["evaluation.graded"],
        "office": ["evaluation.graded", "objection.opened"],
    }


def test_cursor_never_skips_under_concurrent_writers(fresh_db: Database) -> None:
    """Writers commit in any order; a reader polling all the while must end up with every event exactly once."""
    writers, per_writer = 4, 15
    seen: list[int] = []
    done = threading.Event()

    def write(n: int) -> None:
        for i in range(per_writer):
            with session_scope(fresh_db.engine, write=True) as session:
                events.emit(session=session, kind="test.tick", entity="test", entity_id=n * 100 + i, subject_id=None)

    def read() -> None:
        after = 0
        while True:
            finished = done.is_set()
            with session_scope(fresh_db.engine) as session:
                page = feed.read_feed(session=session, viewer=Viewer.credit_office(), after=after, limit=7)
            seen.extend(i["cursor"] for i in page.items)
            after = page.next_after
            if finished and not page.has_more:
                return

    reader = threading.Thread(target=read)
    reader.start()
    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    reader.join()
    assert len(seen) == writers * per_writer == len(set(seen))
    assert seen == sorted(seen)


def test_feed_api_keys_and_viewers(fresh_db: Database, tmp_path: Path) -> None:
    load_instance(fresh_db, tmp_path)
    with session_scope(fresh_db.engine, write=True) as session:
        unit = catalog.get_unit(session=session, uscc=UNIT_USCC)
        public_key = subscribers.create_subscriber(
            session=session, actor=Actor.cli(), name="信用中国镜像", kind=SubscriberKind.PUBLIC
        ).key
        dept_key = subscribers.create_subscriber(
            session=session, actor=Actor.cli(), name="市场监管局系统", kind=SubscriberKind.DEPARTMENT, unit=unit
        ).key
        checker_key = accounts.create_api_key(session=session, actor=Actor.cli(), role=Role.CHECKER, unit=unit).key
        subject_key = accounts.create_api_key(session=session, actor=Actor.cli(), role=Role.SUBJECT).key
    client = TestClient(create_app(fresh_db.engine))
    assert client.get("/api/v1/feed").status_code == 401
    assert client.get("/api/v1/feed", headers={"Authorization": "Bearer xs_nope_nope"}).status_code == 401
    assert client.get("/api/v1/feed", headers={"Authorization": f"Bearer {subject_key}"}).status_code == 403

    def fetch(key: str) -> dict:
        answer = client.get("/api/v1/feed?after=0&limit=1000", headers={"Authorization": f"Bearer {key}"})
        assert answer.status_code == 200, answer.text
        return answer.json()

    public, dept, checker = fetch(public_key), fetch(dept_key), fetch(checker_key)
    assert public["viewer"] == "public" and dept["viewer"] == checker["viewer"] == "shared"
    assert len(dept["items"]) > len(public["items"]) > 0
    assert dept["items"] == checker["items"]
    assert public["next_after"] == dept["next_after"] > 0

    # Department pull by subject: a shared view, refused to the public subscriber.
    code = penalty(6)["CF_XDR_SHXYM"]
    shared = client.get(f"/api/v1/shared/subjects/{code}", headers={"Authorization": f"Bearer {dept_key}"})
    assert shared.status_code == 200 and shared.json()["viewer"] == "shared"
    shown = [r["doc_no"] for s in shared.json()["sections"] for r in s["records"]]
    assert penalty(6)["CF_WSH"] in shown  # a minor penalty: not public, usable by departments
    refused = client.get(f"/api/v1/shared/subjects/{code}", headers={"Authorization": f"Bearer {public_key}"})
    assert refused.status_code == 403


def test_a_repair_and_a_correction_reach_a_second_instance_through_the_feed(
    fresh_db: Database, second_db: Database, tmp_path: Path
) -> None:
    load_instance(fresh_db, tmp_path)
    viewer = Viewer.shared()
    items, cursor = all_items(fresh_db, viewer, limit=100)
    assert national.apply_feed(engine=second_db.engine, items=items, origin="district") > 0
    assert same_records(second_db, fresh_db)

    ingest_rows(fresh_db, tmp_path, "administrative_penalty", [penalty(3, CF_NR_FK="7")], "fix")
    with session_scope(fresh_db.engine, write=True) as session:
        records.mark_repaired(
            session=session, record=session.get(Record, record_of(fresh_db, penalty(5)["CF_WSH"]).id), by="t"
        )
    assert not same_records(second_db, fresh_db)
    changes, _ = all_items(fresh_db, viewer, after=cursor)
    assert [i["operation"] for i in changes] == ["upsert", "withdraw"]
    national.apply_feed(engine=second_db.engine, items=changes, origin="district")
    assert same_records(second_db, fresh_db)
    assert record_of(second_db, penalty(3)["CF_WSH"]).payload["CF_NR_FK"] == "7"


@pytest.mark.parametrize("status", ["revoked", "deleted"])
def test_status_change_is_a_withdrawal_and_a_version(session: Session, status: str) -> None:
    from tests import factories
    from xinyong.records.models import RecordVersion

    row = factories.record(session, subject_row=factories.subject(session))
    start = feed.latest_cursor(session=session)
    records.change_status(session=session, record=row, status=status, by="test", reason="objection")
    page = feed.read_feed(session=session, viewer=Viewer.public(), after=start)
    assert [(i["operation"], i["reason"]) for i in page.items] == [("withdraw", status)]
    kept = session.scalars(sa.select(RecordVersion).where(RecordVersion.record_id == row.id)).one()
    assert (kept.status, kept.reason, row.version) == ("active", "objection", 2)
