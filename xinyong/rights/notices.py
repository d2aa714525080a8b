"""失信告知 (两书同达): when a dishonesty record or a list entry about a subject is recorded, the subject is told what
was recorded, by whom, how long it will be published and how to object or apply for repair.

``notify_where`` is called by the collection pipeline for each chunk in the chunk's own transaction, and
``notify_records`` by the commitments service for a broken commitment; ``notify_list_entries`` for entries a credit
office lists by hand; ``send_pending`` sweeps anything not yet told (records that were linked to a subject only later,
entries listed before this existed). One notice per record or entry (unique keys), so every call is idempotent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from xinyong.catalog.models import Resource, SourceUnit
from xinyong.core import clock
from xinyong.core.settings import get_settings
from xinyong.disclosure import Viewer, decide, get_rules
from xinyong.lists.models import EntryStatus, ListEntry, ListType
from xinyong.records.models import SEVERITY_LABELS, Record, RecordStatus, Severity
from xinyong.rights.models import DishonestyNotice, OutboxMessage
from xinyong.subjects.service import insert_ignoring_conflicts

NOTICE_NATURES = ("penalty", "dishonesty", "list_entry")
_IN = 2000


_FACT_COLUMNS = (
    "id", "resource_id", "subject_id", "doc_no", "decision_date", "valid_from", "valid_to", "publish_until",
    "severity", "status", "objection_open", "repaired_at", "subject_name", "subject_kind",
)  # fmt: skip


@dataclass(frozen=True)
class _Facts:
    """What the disclosure engine and the notice need of a record."""

    id: int
    resource_id: int
    subject_id: int
    doc_no: str
    decision_date: Any
    valid_from: Any
    valid_to: Any
    publish_until: Any
    severity: str | None
    status: str
    objection_open: bool
    repaired_at: Any
    subject_name: str
    subject_kind: str
    payload: dict[str, Any] = field(default_factory=dict)  # only licences read it; notices are never about licences


@dataclass
class NoticeSummary:
    records: int = 0
    entries: int = 0


def _how_to(eligible: Any) -> str:
    s = get_settings()
    repair = (
        f"自 {eligible} 起（最短公示期届满），可在“我的信用”申请信用修复，"
        f"信用办在 {s.repair_accept_days} 个工作日内受理、"
        f"受理后 {s.repair_decide_days} 个工作日内作出决定。"
        if eligible
        else "符合条件的，可按规定申请信用修复。"
    )
    return (
        f"如认为该信息有误，可登录{s.site_name}“我的信用”对该条信息提出异议（附理由和证明材料），信用办在"
        f" {s.objection_accept_days} 个工作日内受理，受理后 {s.objection_answer_days} 个工作日内答复。{repair}"
    )


def _record_notice(record: Record, resource: Resource, unit_name: str, today: Any) -> dict[str, Any]:
    decision = decide(record, resource, Viewer.public(), today=today, rules=get_rules())
    severity = (
        SEVERITY_LABELS.get(Severity(record.severity)) if record.severity in Severity._value2member_map_ else None  # type: ignore[arg-type]
    )
    if decision.public:
        period = f"依规向社会公示，公示期 {decision.published_from} 至 {decision.published_until or '长期'}"
    else:
        period = f"不向社会公示（{decision.reason}）"
    title = f"失信信息告知：{resource.name} {record.doc_no}"
    body = (
        f"{record.subject_name}：\n{unit_name}于 {record.decision_date or '—'} 作出的{resource.name}"
        f"（文书号 {record.doc_no}{f'，失信程度：{severity}' if severity else ''}）已归集至{get_settings().site_name}"
        f"公共信用信息平台。\n{period}。\n{_how_to(decision.repair_eligible_from)}"
    )
    facts = {
        "resource": resource.code,
        "resource_name": resource.name,
        "doc_no": record.doc_no,
        "source_unit": unit_name,
        "decision_date": record.decision_date.isoformat() if record.decision_date else None,
        "severity": record.severity,
        "public": decision.public,
        "published_from": decision.published_from.isoformat() if decision.published_from else None,
        "published_until": decision.published_until.isoformat() if decision.published_until else None,
        "reason": decision.reason,
        "repair_eligible_from": (decision.repair_eligible_from.isoformat() if decision.repair_eligible_from else None),
    }
    return {"title": title, "body": body, "facts": facts}


def _write(session: Session, notices: list[dict[str, Any]], key_of: str) -> None:
    if not notices:
        return
    now = clock.now()
    session.execute(
        insert_ignoring_conflicts(session, cast(sa.Table, DishonestyNotice.__table__)),
        [n | {"created_at": now} for n in notices],
    )
    session.execute(
        insert_ignoring_conflicts(session, cast(sa.Table, OutboxMessage.__table__)),
        [
            {
                "key": f"notice:{key_of}:{n[f'{key_of}_id']}",
                "kind": "notice",
                "subject_id": n["subject_id"],
                "unit_id": None,
                "to_office": False,
                "title": n["title"][:200],
                "body": n["body"],
                "ref_type": key_of,
                "ref_id": n[f"{key_of}_id"],
                "created_at": now,
                "attempts": 0,
            }
            for n in notices
        ],
    )


def notify_records(*, session: Session, record_ids: Sequence[int]) -> int:
    """Notices for those of ``record_ids`` that are active dishonesty records linked to a subject and not yet told."""
    return sum(
        notify_where(session=session, which=Record.id.in_(list(record_ids[start : start + _IN])))
        for start in range(0, len(record_ids), _IN)
    )


def notify_where(*, session: Session, which: sa.ColumnElement[bool]) -> int:
    """Notices for the records ``which`` selects that are active dishonesty records linked to a subject and not yet
    told; returns how many were written. The collection pipeline selects a chunk's records by their batch and time
    (``ingest.pipeline.of_chunk``)."""
    return notify_facts(session=session, query=untold_facts(which))


def notify_facts(*, session: Session, query: sa.Select[Any], params: Mapping[str, Any] | None = None) -> int:
    """``notify_where`` for a query ``untold_facts`` built, with its bound ``params``: the collection pipeline builds
    its chunk's once."""
    today = clock.today()
    resources: dict[int, Resource] = {}
    rows = session.execute(query, params).all()
    notices = []
    for *values, unit_name in rows:
        facts = _Facts(**dict(zip(_FACT_COLUMNS, values, strict=True)))
        resource = resources.get(facts.resource_id) or session.get(Resource, facts.resource_id)
        assert resource is not None
        resources[facts.resource_id] = resource
        notices.append(
            {"subject_id": facts.subject_id, "record_id": facts.id, "list_entry_id": None}
            | _record_notice(facts, resource, unit_name, today)  # type: ignore[arg-type]
        )
    _write(session, notices, "record")
    return len(notices)


def untold_facts(which: sa.ColumnElement[bool]) -> sa.Select[Any]:
    """The facts and source unit of the records ``which`` selects that are owed a notice and have none yet."""
    # Columns only (no payload, no per-row resource): the resource's field list is a large JSON document that would
    # otherwise be decoded once per record, and the notice needs neither.
    return (
        sa.select(*[Record.__table__.c[c] for c in _FACT_COLUMNS], SourceUnit.name)
        .join(Resource, Resource.id == Record.resource_id)
        .join(SourceUnit, SourceUnit.id == Record.source_unit_id)
        .outerjoin(DishonestyNotice, DishonestyNotice.record_id == Record.id)
        .where(
            which,
            Record.subject_id.is_not(None),
            Record.status == RecordStatus.ACTIVE,
            Resource.nature.in_(NOTICE_NATURES),
            DishonestyNotice.id.is_(None),  # not yet told
        )
        .order_by(Record.id)
    )


def notify_list_entries(*, session: Session, entry_ids: Sequence[int]) -> int:
    """Notices for entries (告知 or 列入) created by hand; entries from collected records are told via the record."""
    rows = session.execute(
        sa.select(ListEntry, ListType)
        .join(ListType, ListType.id == ListEntry.list_type_id)
        .outerjoin(DishonestyNotice, DishonestyNotice.list_entry_id == ListEntry.id)
        .where(
            ListEntry.id.in_(list(entry_ids)),
            ListEntry.record_id.is_(None),
            ListEntry.status.in_([EntryStatus.NOTICE, EntryStatus.LISTED]),
            ListType.reward_or_punishment == "punishment",
            DishonestyNotice.id.is_(None),
        )
    ).all()
    notices = []
    for entry, list_type in rows:
        until = entry.expires_on.isoformat() if entry.expires_on else "移出决定作出之日"
        deadline = entry.representation_deadline
        representation = f"陈述申辩截止：{deadline.isoformat()}。" if deadline else ""
        body = (
            f"{entry.authority or list_type.authority}拟将（或已将）您列入“{list_type.name}”。\n事由：{entry.reason}\n"
            f"{representation}"
            f"{'依规向社会公开' if list_type.public else '不向社会公开'}，有效期至 {until}。\n"
            f"移出条件：{'；'.join(list_type.exit_conditions or []) or '见名单规定'}。\n{_how_to(None)}"
        )
        notices.append(
            {
                "subject_id": entry.subject_id,
                "record_id": None,
                "list_entry_id": entry.id,
                "title": f"失信告知：{list_type.name}",
                "body": body,
                "facts": {
                    "list_type": list_type.code,
                    "status": entry.status,
                    "expires_on": entry.expires_on and entry.expires_on.isoformat(),
                },
            }
        )
    _write(session, notices, "list_entry")
    return len(notices)


def send_pending(*, session: Session, limit: int = 10_000) -> NoticeSummary:
    """Tell every subject not yet told (records linked later, entries listed by hand). Idempotent."""
    record_ids = list(session.scalars(untold_facts(sa.true()).with_only_columns(Record.id).limit(limit)))
    entry_ids = list(
        session.scalars(
            sa.select(ListEntry.id).where(ListEntry.record_id.is_(None)).order_by(ListEntry.id).limit(limit)
        )
    )
    return NoticeSummary(
        records=notify_records(session=session, record_ids=record_ids),
        entries=notify_list_entries(session=session, entry_ids=entry_ids),
    )


def notices_of(*, session: Session, subject_id: int) -> list[DishonestyNotice]:
    return list(
        session.scalars(
            sa.select(DishonestyNotice)
            .where(DishonestyNotice.subject_id == subject_id)
            .order_by(DishonestyNotice.id.desc())
            .limit(100)
        )
    )
