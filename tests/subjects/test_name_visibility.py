"""The copies of a subject's kind, region and merge on its name rows (migration 0016), which name search reads instead
of each candidate's subject: kept by the database however a name or a subject is written, filled in for existing
data by the migration, and what search decides from."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import command
from sqlalchemy.orm import Session

from tests import factories
from tests.conftest import Database
from xinyong.audit.service import Actor
from xinyong.console import service as console
from xinyong.core import clock
from xinyong.core.migrate import alembic_config
from xinyong.ingest.types import SubjectRef
from xinyong.subjects import search
from xinyong.subjects.models import Subject, SubjectKind, SubjectName
from xinyong.subjects.service import link_subjects

OFFICE = Actor(name="信用办", role="credit_office")


def _copies(session: Session, subject_id: int) -> set[tuple[str, str | None, str | None, bool]]:
    rows = session.execute(
        sa.select(SubjectName.name, SubjectName.kind, SubjectName.region, SubjectName.merged).where(
            SubjectName.subject_id == subject_id
        )
    )
    return {(name, kind, region, merged) for name, kind, region, merged in rows}


def test_a_name_written_without_them_takes_its_subjects_values(session: Session) -> None:
    person = factories.subject(session, kind=SubjectKind.NATURAL_PERSON, name="王五", region="370303")
    company = factories.subject(session, name="淄博可见性测试有限公司", region="370305")
    now = clock.now()
    session.add(
        SubjectName(subject_id=company.id, name="淄博旧名测试厂", first_seen=now, last_seen=now, is_current=False)
    )
    session.flush()
    assert _copies(session, person.id) == {("王五", "natural_person", "370303", False)}
    assert _copies(session, company.id) == {
        ("淄博可见性测试有限公司", "legal_person", "370305", False),
        ("淄博旧名测试厂", "legal_person", "370305", False),
    }


def test_names_written_by_collection_carry_the_copies(session: Session) -> None:
    code = factories.uscc(9101, "370302")
    refs = [SubjectRef(kind="legal_person", name="淄博归集名称有限公司", uscc=code, legacy_codes={})]
    outcome = link_subjects(session=session, refs=refs, fallback_regions=["370300"], sources=["unit"], now=clock.now())
    subject_id = outcome.subject_ids[0]
    assert subject_id is not None
    assert _copies(session, subject_id) == {("淄博归集名称有限公司", "legal_person", "370302", False)}


def test_a_subjects_change_and_a_moved_name_are_copied(session: Session) -> None:
    a = factories.subject(session, name="淄博甲方测试有限公司", region="370302")
    b = factories.subject(session, name="淄博乙方测试有限公司", region="370303")
    a.region = "370304"
    session.flush()
    assert _copies(session, a.id) == {("淄博甲方测试有限公司", "legal_person", "370304", False)}
    a.merged_into_id = b.id
    session.flush()
    assert _copies(session, a.id) == {("淄博甲方测试有限公司", "legal_person", "370304", True)}
    a.merged_into_id = None
    session.flush()
    assert _copies(session, a.id) == {("淄博甲方测试有限公司", "legal_person", "370304", False)}
    # A name moved to another subject (as a merge moves them) takes that subject's values.
    session.execute(sa.update(SubjectName).where(SubjectName.subject_id == a.id).values(subject_id=b.id))
    assert ("淄博甲方测试有限公司", "legal_person", "370303", False) in _copies(session, b.id)


def test_search_decides_from_the_copies(session: Session) -> None:
    shown = factories.subject(session, name="淄博星辰可见测试有限公司")
    hidden = factories.subject(session, name="淄博星辰合并测试有限公司")
    person = factories.subject(session, kind=SubjectKind.NATURAL_PERSON, name="星辰测试")
    hidden.merged_into_id = shown.id
    session.flush()
    found = {hit.subject.id for hit in search.search(session=session, q="星辰").items}
    assert shown.id in found
    assert hidden.id not in found  # merged: its name rows say so
    assert person.id not in found  # a natural person without a published record
    hidden.merged_into_id = None
    session.flush()
    assert hidden.id in {hit.subject.id for hit in search.search(session=session, q="星辰").items}


def test_a_subject_found_by_a_former_name_is_ranked_and_shown_by_its_current_name(session: Session) -> None:
    renamed = factories.subject(session, name="淄博新名字测试有限公司")
    console.rename(
        session=session, actor=OFFICE, subject_id=renamed.id, name="淄博更新名字有限公司", reason="营业执照变更"
    )
    hits = search.search(session=session, q="新名字测试").items
    assert [(h.subject.id, h.subject.name, h.former_name) for h in hits] == [
        (renamed.id, "淄博更新名字有限公司", "淄博新名字测试有限公司")
    ]
    assert _copies(session, renamed.id) == {
        ("淄博新名字测试有限公司", "legal_person", "370302", False),
        ("淄博更新名字有限公司", "legal_person", "370302", False),
    }


def test_the_migration_fills_the_copies_of_existing_names(fresh_db: Database) -> None:
    engine = fresh_db.engine
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0015_audit_head_trigger")
    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    with engine.begin() as conn:
        ids = []
        for kind, name, region in (
            ("legal_person", "淄博迁移前有限公司", "370302"),
            ("natural_person", "赵六", "370303"),
        ):
            ids.append(
                conn.execute(
                    sa.insert(Subject.__table__).returning(Subject.__table__.c.id),
                    {"kind": kind, "name": name, "region": region, "status": "active", "name_conflict": False,
                     "created_at": now, "updated_at": now},
                ).scalar_one()
            )  # fmt: skip
        conn.execute(sa.update(Subject.__table__).where(Subject.__table__.c.id == ids[1]).values(merged_into_id=ids[0]))
        conn.execute(
            sa.text(
                "INSERT INTO subject_name (subject_id, name, first_seen, last_seen, is_current) "
                "SELECT id, name, created_at, created_at, :t FROM subject"
            ),
            {"t": True},
        )
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    with Session(engine) as session:
        assert _copies(session, ids[0]) == {("淄博迁移前有限公司", "legal_person", "370302", False)}
        assert _copies(session, ids[1]) == {("赵六", "natural_person", "370303", True)}
