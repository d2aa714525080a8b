"""Each indicator of the default public model on hand-built subjects, batch (SQL) and explanation agreeing."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from tests import factories
from tests.evaluation.helpers import ago, batch, line
from xinyong.audit.service import Actor
from xinyong.core import clock
from xinyong.records.models import Record

START = 650  # the default model's base score


def test_a_subject_without_records_gets_the_base_score_plus_its_years(session: Session) -> None:
    young = factories.subject(session, established_on=None)
    old = factories.subject(session, established_on=ago(months=12 * 6 + 1))
    ancient = factories.subject(session, established_on=dt.date(1990, 1, 1))
    assert batch(session, young.id)["score"] == START
    assert batch(session, old.id)["score"] == START + 60
    assert batch(session, ancient.id)["score"] == START + 100  # capped at 10 years
    assert line(session, old.id, "years_in_operation").count == 6


def test_years_count_only_full_years(session: Session) -> None:
    almost = factories.subject(session, established_on=ago(months=24, days=-1))
    exactly = factories.subject(session, established_on=ago(months=24))
    assert batch(session, almost.id)["score"] == START + 10
    assert batch(session, exactly.id)["score"] == START + 20


def test_penalties_are_deducted_by_severity_within_their_windows(session: Session) -> None:
    firm = factories.subject(session)
    minor = factories.record(session, subject_row=firm, severity="minor", decision_date=ago(months=11))
    factories.record(session, subject_row=firm, severity="minor", decision_date=ago(months=12))  # window ended
    general = factories.record(session, subject_row=firm, severity="general", decision_date=ago(months=35))
    factories.record(session, subject_row=firm, severity="general", decision_date=ago(months=36))  # window ended
    serious = factories.record(session, subject_row=firm, severity="serious", decision_date=ago(days=3))
    grade = batch(session, firm.id)
    assert grade["score"] == START - 10 - 40 - 100
    assert grade["grade"] == "C"
    assert [e.record_id for e in line(session, firm.id, "penalty_minor").evidence] == [minor.id]
    assert [e.doc_no for e in line(session, firm.id, "penalty_general").evidence] == [general.doc_no]
    assert line(session, firm.id, "penalty_serious").points == -100
    assert line(session, firm.id, "penalty_serious").evidence[0].decision_date == serious.decision_date


def test_an_indicator_and_a_dimension_are_capped(session: Session) -> None:
    firm = factories.subject(session)
    for _ in range(6):
        factories.record(session, subject_row=firm, severity="general")
    assert line(session, firm.id, "penalty_general").points == -200  # 6 × −40 capped at 200
    for _ in range(4):
        factories.record(session, subject_row=firm, severity="serious")
    grade = batch(session, firm.id)
    # −200 general and −300 serious exceed the 行政管理 weight (30% of 1000)
    assert grade["score"] == START - 300


def test_revoked_or_deleted_records_do_not_count(session: Session) -> None:
    firm = factories.subject(session)
    factories.record(session, subject_row=firm, severity="serious", status="revoked")
    factories.record(session, subject_row=firm, severity="serious", status="deleted")
    assert batch(session, firm.id)["score"] == START


def test_a_repair_removes_the_deduction_at_once(session: Session) -> None:
    firm = factories.subject(session)
    penalty = factories.record(session, subject_row=firm, severity="general")
    assert batch(session, firm.id)["score"] == START - 40
    penalty.repaired_at = clock.now()
    penalty.updated_at = clock.now() + dt.timedelta(seconds=1)
    session.flush()
    assert batch(session, firm.id)["score"] == START
    assert line(session, firm.id, "penalty_general").evidence == []


def test_list_entries_count_while_valid(session: Session) -> None:
    firm = factories.subject(session)
    factories.record(session, subject_row=firm, resource="abnormal_operation", valid_to=ago(days=1))  # removed
    assert batch(session, firm.id)["score"] == START
    factories.record(session, subject_row=firm, resource="abnormal_operation")  # not removed
    factories.record(session, subject_row=firm, resource="abnormal_operation")  # counted once
    assert batch(session, firm.id)["score"] == START - 100
    assert line(session, firm.id, "abnormal_operation").count == 2


def test_valid_licences_add_points_up_to_their_cap(session: Session) -> None:
    firm = factories.subject(session)
    for _ in range(3):
        factories.record(
            session,
            subject_row=firm,
            resource="administrative_license",
            valid_from=ago(months=6),
            valid_to=dt.date(2099, 12, 31),
        )
    factories.record(
        session, subject_row=firm, resource="administrative_license", valid_from=ago(months=30), valid_to=ago(days=1)
    )  # expired
    factories.record(
        session, subject_row=firm, resource="administrative_license", valid_from=clock.today() + dt.timedelta(days=10)
    )  # not yet valid
    assert batch(session, firm.id)["score"] == START + 15
    for _ in range(5):
        factories.record(session, subject_row=firm, resource="administrative_license")
    assert batch(session, firm.id)["score"] == START + 30


def test_red_list_membership_adds_points(session: Session) -> None:
    firm = factories.subject(session)
    factories.record(session, subject_row=firm, resource="tax_credit_a", severity=None, valid_to=ago(months=-6))
    grade = batch(session, firm.id)
    assert grade["score"] == START + 100


def test_government_dishonesty_is_deducted(session: Session) -> None:
    firm = factories.subject(session)
    factories.record(session, subject_row=firm, resource="government_dishonesty")
    assert batch(session, firm.id)["score"] == START - 50


def test_kept_and_broken_commitments_count_from_the_commitments_tables(session: Session) -> None:
    from xinyong.commitments import service as commitments
    from xinyong.records import service as records

    firm = factories.subject(session, established_on=None)
    bystander = factories.subject(session, established_on=None)
    unit = factories.unit(session)
    me = Actor(name="own-user", role="subject", subject_id=firm.id)
    department = Actor(name="unit", role="source_unit", unit_id=unit.id)

    def sign() -> int:
        return commitments.sign(session=session, actor=me, subject_id=firm.id, template_code="proactive_public",
                                values={"scope": "依法诚信经营"}).id  # fmt: skip

    kept = [sign() for _ in range(7)]
    broken = [sign() for _ in range(2)]
    sign()  # signed, nothing recorded yet: counts neither way
    for cid in kept:
        commitments.record_fulfilment(session=session, actor=department, commitment_id=cid, kept=True, note="按期履约")
    for cid in broken:
        commitments.record_fulfilment(session=session, actor=department, commitment_id=cid, kept=False, note="未履约")

    kept_line, broken_line = line(session, firm.id, "commitments_kept"), line(session, firm.id, "commitments_broken")
    assert (kept_line.count, kept_line.points) == (7, 50)  # 10 each, capped at 50
    assert (broken_line.count, broken_line.points) == (2, -100)
    assert sorted(e.entry_id for e in broken_line.evidence) == sorted(broken) and kept_line.note is None
    assert batch(session, firm.id)["score"] == START + 50 - 100  # batch and explain agree (checked in batch)
    assert batch(session, bystander.id)["score"] == START

    # The record written for a broken commitment is repaired: that commitment no longer counts.
    from xinyong.commitments.models import Commitment

    row = session.get(Commitment, broken[0])
    assert row is not None and row.broken_record_id is not None
    record = session.get(Record, row.broken_record_id)
    assert record is not None
    records.mark_repaired(session=session, record=record, by="officer")
    assert line(session, firm.id, "commitments_broken").count == 1
    assert batch(session, firm.id)["score"] == START + 50 - 50


def test_serious_dishonesty_list_forces_grade_d(session: Session) -> None:
    firm = factories.subject(session, established_on=dt.date(2000, 1, 1))
    factories.record(session, subject_row=firm, resource="tax_credit_a", severity=None)
    before = batch(session, firm.id)
    assert (before["score"], before["grade"]) == (START + 200, "A")
    factories.record(session, subject_row=firm, resource="serious_dishonesty_list", severity="serious")
    after = batch(session, firm.id)
    # 550 alone would be C; the override makes it D
    assert (after["score"], after["grade"]) == (START + 200 - 300, "D")
    from xinyong.evaluation import service

    assert service.explain(session=session, subject_id=firm.id).overrides


def test_judgment_debtor_forces_grade_d(session: Session) -> None:
    firm = factories.subject(session, established_on=dt.date(2000, 1, 1))
    factories.record(session, subject_row=firm, resource="dishonest_judgment_debtor", severity="serious")
    factories.record(session, subject_row=firm, resource="tax_credit_a", severity=None)
    grade = batch(session, firm.id)
    assert grade["grade"] == "D"
    assert grade["score"] == START + 100 + 100 - 300


def test_natural_persons_are_outside_the_public_model(session: Session) -> None:
    from xinyong.evaluation import service
    from xinyong.subjects.models import SubjectKind

    person = factories.subject(session, kind=SubjectKind.NATURAL_PERSON)
    from tests.evaluation.helpers import run

    run(session)
    assert service.grade_for(session=session, subject_id=person.id) is None
    assert service.explain(session=session, subject_id=person.id).applicable is False
