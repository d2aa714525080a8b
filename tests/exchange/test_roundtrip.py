"""Round trip: push from one instance, pull into an empty second instance; the second publishes exactly what the first
does (same public profile for every subject), corrections and repairs included."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tests.conftest import Database
from tests.exchange.conftest import ingest_rows, load_instance, penalty
from xinyong.audit.service import Actor
from xinyong.core.database import session_scope
from xinyong.core.errors import NotFound
from xinyong.disclosure import Viewer
from xinyong.exchange import national
from xinyong.exchange.models import ExternalUnit, PushLog
from xinyong.records import service as records
from xinyong.records.models import Record
from xinyong.subjects import profile as profiles
from xinyong.subjects.models import Subject, SubjectCode
from xinyong.subjects.routes import profile_read


def identity(session: Any, subject: Subject) -> str:
    if subject.uscc:
        return subject.uscc
    if subject.id_hash:
        return f"id:{subject.id_hash}"
    codes = session.scalars(sa.select(SubjectCode.code).where(SubjectCode.subject_id == subject.id)).all()
    return "codes:" + ",".join(sorted(codes))


def published(db: Database) -> dict[str, Any]:
    """Every subject's public profile, without the instance's own ids."""
    shown: dict[str, Any] = {}
    with session_scope(db.engine) as session:
        for subject in session.scalars(sa.select(Subject).order_by(Subject.id)):
            key = identity(session, subject)
            try:
                found = profiles.profile(session=session, code=f"P{subject.id}" if not subject.uscc else subject.uscc,
                                         viewer=Viewer.public())  # fmt: skip
            except NotFound:
                shown[key] = None
                continue
            data = profile_read(found).model_dump(mode="json")
            data.pop("code")
            for section in data["sections"]:
                for record in section["records"]:
                    record.pop("id")
            shown[key] = data
    return shown


def record_of(db: Database, doc_no: str) -> Record:
    with session_scope(db.engine) as session:
        return session.scalars(sa.select(Record).where(Record.doc_no == doc_no)).one()


def pull_all(target: Database, files: list[str], origin: str = "province") -> list[national.PullResult]:
    results = []
    for name in files:
        path = Path(name)
        resource = next(r for r in ("administrative_penalty", "administrative_license", "serious_dishonesty_list")
                        if f"_{r}_" in path.name)  # fmt: skip
        results.append(national.pull(engine=target.engine, path=path, resource=resource, origin=origin))
    return results


def test_push_pull_publishes_the_same(fresh_db: Database, second_db: Database, tmp_path: Path) -> None:
    load_instance(fresh_db, tmp_path)
    # A correction (new version) and a repair before the first push.
    ingest_rows(fresh_db, tmp_path, "administrative_penalty", [penalty(1, CF_NR_FK="3.5")], "correction")
    repaired = record_of(fresh_db, penalty(2)["CF_WSH"])
    with session_scope(fresh_db.engine, write=True) as session:
        records.mark_repaired(session=session, record=session.get(Record, repaired.id), by="test")

    first = national.push(engine=fresh_db.engine, out=tmp_path / "out1")
    assert first.after == 0 and first.through > 0
    assert first.counts["administrative_penalty"] == {"upsert": 10, "withdraw": 1}
    csv_files = [f for f in first.files if f.endswith(".csv")]
    xlsx_files = [f for f in first.files if f.endswith(".xlsx")]
    assert len(csv_files) == len(xlsx_files) == 3
    raw = Path(csv_files[0]).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    header = next(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert header[0].endswith("_XDR_MC") and header[-3:] == ["CZLX", "CZYY", "BBH"]

    # Penalties and lists from CSV, licences from XLSX: both formats are read back.
    chosen = [f for f in csv_files if "license" not in f] + [f for f in xlsx_files if "license" in f]
    results = pull_all(second_db, chosen)
    assert sum(r.batch["rejected"] for r in results) == 0
    assert sum(r.withdrawn for r in results) == 1
    assert published(second_db) == published(fresh_db)
    assert any(v is not None for v in published(fresh_db).values())
    with session_scope(second_db.engine) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ExternalUnit)) == 1
        origins = set(session.scalars(sa.select(Record.origin)))
        assert origins == {"province"}
    second_copy = record_of(second_db, penalty(1)["CF_WSH"])
    assert second_copy.payload["CF_NR_FK"] == record_of(fresh_db, penalty(1)["CF_WSH"]).payload["CF_NR_FK"]

    # Incremental: nothing changed → an empty push; then a correction and a repair reach the second instance.
    empty = national.push(engine=fresh_db.engine, out=tmp_path / "out2")
    assert (empty.after, empty.files) == (first.through, [])
    ingest_rows(fresh_db, tmp_path, "administrative_penalty", [penalty(3, CF_NR="罚款人民币叁万元整",
                                                                                  CF_NR_FK="3")], "fix3")  # fmt: skip
    with session_scope(fresh_db.engine, write=True) as session:
        records.mark_repaired(
            session=session, record=session.get(Record, record_of(fresh_db, penalty(4)["CF_WSH"]).id), by="t"
        )
    third = national.push(engine=fresh_db.engine, out=tmp_path / "out3", formats=("csv",))
    assert third.counts == {"administrative_penalty": {"upsert": 1, "withdraw": 1}}
    pull_all(second_db, third.files)
    assert published(second_db) == published(fresh_db)
    with session_scope(fresh_db.engine) as session:
        states = [p.state for p in session.scalars(sa.select(PushLog).order_by(PushLog.id))]
    assert states == ["succeeded"] * 3


def test_pulled_records_are_not_pushed_back(fresh_db: Database, second_db: Database, tmp_path: Path) -> None:
    load_instance(fresh_db, tmp_path)
    first = national.push(engine=fresh_db.engine, out=tmp_path / "a", formats=("csv",))
    pull_all(second_db, first.files)
    back = national.push(engine=second_db.engine, out=tmp_path / "b", formats=("csv",))
    assert back.files == [] and back.through > 0


def test_pull_needs_an_origin(fresh_db: Database, tmp_path: Path) -> None:
    load_instance(fresh_db, tmp_path)
    pushed = national.push(engine=fresh_db.engine, out=tmp_path / "a", formats=("csv",))
    try:
        national.pull(engine=fresh_db.engine, path=Path(pushed.files[0]), resource="administrative_penalty",
                      origin="local", actor=Actor.cli())  # fmt: skip
    except Exception as exc:
        assert "上级平台" in str(exc)
    else:
        raise AssertionError("origin local accepted")
