"""Subject merge and its exact undo, code mapping and renaming, on both engines."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests import factories
from xinyong.accounts.models import Account, Role
from xinyong.accounts.service import create_account
from xinyong.audit.models import AuditEvent
from xinyong.audit.service import Actor
from xinyong.checks import service as checks
from xinyong.checks.models import Check
from xinyong.commitments import service as commitments
from xinyong.commitments.models import Commitment
from xinyong.console import service
from xinyong.core import clock
from xinyong.core.errors import Conflict, Forbidden, InvalidInput
from xinyong.declarations import service as declarations
from xinyong.declarations.models import SelfDeclaration
from xinyong.evaluation import service as evaluation
from xinyong.evaluation.models import EvaluationCurrent, EvaluationResult
from xinyong.exchange import authorised, subscribers
from xinyong.exchange.models import Authorisation, SubscriberKind
from xinyong.lists import service as lists
from xinyong.lists.models import ListEntry
from xinyong.objections import service as objections
from xinyong.objections.models import Objection
from xinyong.records.models import Record
from xinyong.repair import service as repairs
from xinyong.repair.models import RepairApplication
from xinyong.rights import notices
from xinyong.rights.models import DishonestyNotice, OutboxMessage, Registration
from xinyong.subjects.models import Subject, SubjectCode, SubjectName, SubjectStatus

OFFICER = Actor(name="officer", role="credit_office")


RIGHTS_ROWS = {
    "objections": Objection,
    "repair_applications": RepairApplication,
    "commitments": Commitment,
    "self_declarations": SelfDeclaration,
    "dishonesty_notices": DishonestyNotice,
    "outbox_messages": OutboxMessage,
    "registrations": Registration,
    "subject_accounts": Account,
    "exchange_authorisations": Authorisation,
}


def _rights_rows(session: Session, subject: Subject) -> None:
    """Everything the rights and exchange domains keep for a subject: an objection and a repair application (with
    their messages and the repair's commitment), a commitment, a declaration, a notice, the subject's account and
    registration, an authorisation."""
    unit = factories.unit(session)
    me = Actor(name="own-user", role="subject", subject_id=subject.id)
    disputed, repaired = (
        factories.record(session, subject_row=subject, unit_row=unit, decision_date=dt.date(2026, 1, 5))
        for _ in range(2)
    )
    objections.submit(session=session, actor=me, record_id=disputed.id, reasons="金额与决定书不符", request="correct")
    repairs.submit(
        session=session, actor=me, statement="已缴清罚款并完成整改", record_id=repaired.id,
        evidence={"obligations": "罚款已缴清"}, sign_commitment=True,
    )  # fmt: skip
    template = commitments.templates()[0]
    values = {f["code"]: "按期办理" for f in template["fields"]}
    commitments.sign(session=session, actor=me, subject_id=subject.id, template_code=template["code"], values=values)
    declarations.declare(
        session=session,
        actor=me,
        subject_id=subject.id,
        category="honour",
        title="守合同重信用企业",
        content="2025年度",
    )
    notices.notify_records(session=session, record_ids=[disputed.id])
    account = create_account(session=session, username="own-user", role=Role.SUBJECT, subject_id=subject.id)
    session.add(
        Registration(
            token="t" * 32, subject_id=subject.id, username="own-user", display_name="本企业", password_hash="x",
            verifier="development", verifier_state={}, attempts=0, expires_at=clock.now(),
            account_id=account.id, created_at=clock.now(),
        )
    )  # fmt: skip
    bank = subscribers.create_subscriber(session=session, actor=OFFICER, name="某银行", kind=SubscriberKind.AGENCY)
    authorised.grant(
        session=session, actor=me, subject_id=subject.id, subscriber_id=bank.subscriber.id, purpose="贷款审批",
        valid_to=dt.date(2026, 12, 31),
    )  # fmt: skip
    session.flush()


def _snapshot(session: Session) -> dict[str, object]:
    session.expire_all()
    return {
        "records": sorted(session.execute(sa.select(Record.id, Record.subject_id)).all()),
        "codes": sorted(session.execute(sa.select(SubjectCode.id, SubjectCode.subject_id)).all()),
        "names": sorted(
            session.execute(sa.select(SubjectName.id, SubjectName.subject_id, SubjectName.is_current)).all()
        ),
        "subjects": sorted(session.execute(sa.select(Subject.id, Subject.status, Subject.merged_into_id)).all()),
        "entries": sorted(session.execute(sa.select(ListEntry.id, ListEntry.subject_id)).all()),
        "checks": sorted(session.execute(sa.select(Check.id, Check.subject_id)).all()),
        "results": sorted(session.execute(sa.select(EvaluationResult.id, EvaluationResult.subject_id)).all()),
        **{
            key: sorted(session.execute(sa.select(model.id, model.subject_id)).all())  # type: ignore[attr-defined]
            for key, model in RIGHTS_ROWS.items()
        },
        "current": sorted(
            session.execute(
                sa.select(EvaluationCurrent.model_code, EvaluationCurrent.subject_id, EvaluationCurrent.result_id)
            ).all()
        ),
    }


def test_merge_moves_everything_to_the_survivor_and_undo_restores_it_exactly(session: Session) -> None:
    survivor = factories.subject(session, name="淄博齐鲁化工有限公司")
    other = factories.subject(session, name="淄博齐鲁化工有限责任公司")
    other.status = SubjectStatus.CANCELLED
    session.flush()
    bystander = factories.subject(session)
    for s in (survivor, other, other, bystander):
        factories.record(session, subject_row=s)
    service.add_code(session=session, actor=OFFICER, subject_id=other.id, code_type="gszc", code="370300 2000 12345")
    # Rows of the other domains that point at the subject: a list entry, a check, evaluation results.
    entry = lists.propose(
        session=session, actor=OFFICER, list_type_code="abnormal_operation", subject_id=other.id, reason="未按时年报"
    )
    lists.confirm_listing(session=session, actor=OFFICER, entry_id=entry.id, listed_on=dt.date(2026, 3, 1))
    check = checks.run_check(
        session=session,
        actor=Actor(name="clerk", role="checker"),
        request=checks.CheckRequest(matter="bidding", subject_id=other.id),
    ).check
    evaluation.evaluate(session=session, actor=OFFICER)
    _rights_rows(session, other)
    before = _snapshot(session)
    for key in RIGHTS_ROWS:
        assert {s for _, s in before[key]} - {None} == {other.id}, key  # office messages have no subject
    assert (entry.id, other.id) in before["entries"] and (check.id, other.id) in before["checks"]
    assert {s for _, s in before["results"]} >= {survivor.id, other.id}

    log = service.merge_subjects(
        session=session, actor=OFFICER, survivor_id=survivor.id, merged_id=other.id, reason="同一企业，登记机关证明"
    )
    assert len(log.moved["records"]) == 4 and len(log.moved["codes"]) == 1 and len(log.moved["names"]) == 1
    merged = session.get(Subject, other.id)
    assert merged is not None and (merged.status, merged.merged_into_id) == ("merged", survivor.id)
    assert session.scalar(sa.select(sa.func.count()).where(Record.subject_id == survivor.id)) == 5
    assert session.scalar(sa.select(sa.func.count()).where(Record.subject_id == other.id)) == 0
    assert session.scalar(sa.select(SubjectCode.subject_id).where(SubjectCode.code == "370300200012345")) == survivor.id
    current = session.scalars(
        sa.select(SubjectName.name).where(SubjectName.subject_id == survivor.id, SubjectName.is_current.is_(True))
    ).all()
    assert current == ["淄博齐鲁化工有限公司"]  # the merged name is kept as a former name only
    moved = _snapshot(session)
    assert (entry.id, survivor.id) in moved["entries"] and (check.id, survivor.id) in moved["checks"]
    assert other.id not in {s for _, s in moved["results"]}
    for key in RIGHTS_ROWS:
        assert {s for _, s in moved[key]} - {None} == {survivor.id}, key
        assert len(log.moved[key]) == len([s for _, s in before[key] if s is not None]) > 0, key
    # The survivor keeps its own current grade (one per model); the merged subject's stays with it, and the survivor
    # is re-scored, with the moved entry, by the next incremental run.
    assert ("public", survivor.id) in {(m, s) for m, s, _ in moved["current"]}
    assert [e.id for e in lists.active_entries(session=session, subject_id=survivor.id)] == [entry.id]

    with pytest.raises(Conflict, match="已被合并"):
        service.merge_subjects(session=session, actor=OFFICER, survivor_id=other.id, merged_id=bystander.id, reason="x")

    service.undo_merge(session=session, actor=OFFICER, merge_id=log.id)
    assert _snapshot(session) == before
    with pytest.raises(Conflict, match="已撤销"):
        service.undo_merge(session=session, actor=OFFICER, merge_id=log.id)
    actions = session.scalars(sa.select(AuditEvent.action).where(AuditEvent.target_type == "subject_merge")).all()
    assert actions == ["subject.merge", "subject.merge_undo"]


def test_a_later_merge_must_be_undone_first(session: Session) -> None:
    a, b, c = (factories.subject(session) for _ in range(3))
    first = service.merge_subjects(session=session, actor=OFFICER, survivor_id=a.id, merged_id=b.id, reason="同一")
    second = service.merge_subjects(session=session, actor=OFFICER, survivor_id=a.id, merged_id=c.id, reason="同一")
    with pytest.raises(Conflict, match=f"#{second.id}"):
        service.undo_merge(session=session, actor=OFFICER, merge_id=first.id)
    service.undo_merge(session=session, actor=OFFICER, merge_id=second.id)
    service.undo_merge(session=session, actor=OFFICER, merge_id=first.id)
    assert session.get(Subject, b.id).status == "active"  # type: ignore[union-attr]


def test_merge_refuses_nonsense(session: Session) -> None:
    a = factories.subject(session)
    person = factories.subject(session, kind=factories.SubjectKind.NATURAL_PERSON)
    with pytest.raises(InvalidInput, match="自身"):
        service.merge_subjects(session=session, actor=OFFICER, survivor_id=a.id, merged_id=a.id, reason="x")
    with pytest.raises(InvalidInput, match="类别不同"):
        service.merge_subjects(session=session, actor=OFFICER, survivor_id=a.id, merged_id=person.id, reason="x")
    with pytest.raises(InvalidInput, match="合并理由"):
        service.merge_subjects(session=session, actor=OFFICER, survivor_id=a.id, merged_id=person.id, reason=" ")
    district = Actor(name="d", role="credit_office", region="370303")
    with pytest.raises(Forbidden):
        service.get_subject(session=session, actor=district, subject_id=a.id)


def test_rename_keeps_the_former_name_and_codes_are_unique(session: Session) -> None:
    a = factories.subject(session, name="淄博甲有限公司")
    service.rename(session=session, actor=OFFICER, subject_id=a.id, name="淄博乙有限公司", reason="2026-05-01 变更登记")
    names = session.execute(
        sa.select(SubjectName.name, SubjectName.is_current)
        .where(SubjectName.subject_id == a.id)
        .order_by(SubjectName.id)
    ).all()
    assert [tuple(n) for n in names] == [("淄博甲有限公司", False), ("淄博乙有限公司", True)]
    b = factories.subject(session)
    service.add_code(session=session, actor=OFFICER, subject_id=a.id, code_type="zzjg", code="12345678-9")
    with pytest.raises(Conflict, match=f"#{a.id}"):
        service.add_code(session=session, actor=OFFICER, subject_id=b.id, code_type="zzjg", code="12345678-9")


def test_after_a_merge_the_next_incremental_run_scores_the_survivor_with_what_moved(session: Session) -> None:
    survivor, other = factories.subject(session), factories.subject(session)
    entry = lists.propose(
        session=session, actor=OFFICER, list_type_code="abnormal_operation", subject_id=other.id, reason="未按时年报"
    )
    lists.confirm_listing(session=session, actor=OFFICER, entry_id=entry.id, listed_on=dt.date(2026, 3, 1))
    evaluation.evaluate(session=session, actor=OFFICER)
    assert evaluation.grade_for(session=session, subject_id=survivor.id)["score"] == 650  # type: ignore[index]
    service.merge_subjects(session=session, actor=OFFICER, survivor_id=survivor.id, merged_id=other.id, reason="同一")
    rerun = evaluation.evaluate(session=session, actor=OFFICER, changed_only=True)
    assert rerun.mode == "changed"
    assert evaluation.grade_for(session=session, subject_id=survivor.id)["score"] == 550  # type: ignore[index]
