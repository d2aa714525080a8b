"""信用承诺: templates (data), online signing by a subject, public display, fulfilment recorded by departments.

A broken commitment (违诺) becomes a record of the catalog resource ``broken_commitment`` (nature dishonesty),
written through the records service like any collected record, so publication, notices, checks and evaluation treat
it like every other dishonesty record.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from sqlalchemy.orm import Session

from xinyong.audit import service as audit
from xinyong.audit.service import Actor
from xinyong.catalog import service as catalog
from xinyong.catalog.models import SourceUnit
from xinyong.commitments.models import COMMITMENT_STATUS_LABELS, Commitment, CommitmentStatus
from xinyong.core import clock
from xinyong.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from xinyong.disclosure import Viewer, ViewerKind, add_months
from xinyong.ingest.types import PreparedRow, SubjectRef
from xinyong.records import service as records
from xinyong.records.models import Record, Severity
from xinyong.rights.access import is_office, require_subject
from xinyong.rights.steps import new_no
from xinyong.subjects.models import Subject, SubjectKind
from xinyong.subjects.search import subject_ref

DATA = Path(__file__).resolve().parent / "data" / "templates.yaml"
RESOURCE = "broken_commitment"


@lru_cache(maxsize=1)
def _data() -> dict[str, Any]:
    return dict(yaml.safe_load(DATA.read_text(encoding="utf-8")))


def type_labels() -> dict[str, str]:
    return dict(_data()["types"])


def templates() -> list[dict[str, Any]]:
    version = _data()["version"]
    labels = type_labels()
    return [t | {"version": version, "type_label": labels[t["type"]]} for t in _data()["templates"]]


def template(code: str) -> dict[str, Any]:
    for t in templates():
        if t["code"] == code:
            return t
    raise NotFound(f"承诺书模板 {code} 不存在（可选：{'、'.join(t['code'] for t in templates())}）")


def get(*, session: Session, commitment_id: int) -> Commitment:
    row = session.get(Commitment, commitment_id)
    if row is None:
        raise NotFound(f"信用承诺 {commitment_id} 不存在")
    return row


def render_text(tpl: dict[str, Any], subject: Subject, values: dict[str, str]) -> str:
    fill = {f["code"]: values.get(f["code"], "") or "约定期限" for f in tpl["fields"]}
    code = subject_ref(subject) if subject.uscc else (subject.id_masked or subject_ref(subject))
    return str(tpl["text"]).format(subject_name=subject.name, subject_code=code, **fill).strip()


def sign(*, session: Session, actor: Actor, subject_id: int, template_code: str, values: dict[str, Any]) -> Commitment:
    """Online signing by the subject itself; the full text as signed is kept with the commitment."""
    require_subject(actor, subject_id, "签署信用承诺")
    tpl = template(template_code)
    clean: dict[str, str] = {}
    for spec in tpl["fields"]:
        value = str(values.get(spec["code"], "") or "").strip()
        if spec.get("required") and not value:
            raise InvalidInput(f"{spec['name']}（{spec['code']}）：必填")
        if len(value) > 1000:
            raise InvalidInput(f"{spec['name']}：最长 1000 字")
        clean[spec["code"]] = value
    subject = session.get(Subject, subject_id)
    assert subject is not None
    now = clock.now()
    months = tpl.get("valid_months")
    row = Commitment(
        no=new_no("CN"),
        subject_id=subject_id,
        template=tpl["code"],
        template_version=int(tpl["version"]),
        type=tpl["type"],
        title=tpl["title"],
        text=render_text(tpl, subject, clean),
        values=clean,
        public=bool(tpl["public"]),
        status=CommitmentStatus.SIGNED,
        signed_by=actor.name[:64],
        signed_at=now,
        valid_to=add_months(clock.today(), int(months)) - dt.timedelta(days=1) if months else None,
    )
    session.add(row)
    session.flush()
    audit.record(
        session=session, actor=actor, action="commitment.sign", target_type="commitment", target_id=row.id,
        subject_id=subject_id, detail={"template": tpl["code"], "no": row.no},
    )  # fmt: skip
    return row


def listing(*, session: Session, actor: Actor, subject_id: int | None = None) -> list[Commitment]:
    query = sa.select(Commitment).order_by(Commitment.id.desc()).limit(500)
    if actor.role == "subject":
        query = query.where(Commitment.subject_id == (actor.subject_id or -1))
    elif actor.role not in ("source_unit", "checker") and not is_office(actor):
        raise Forbidden("无权查看信用承诺")
    if subject_id is not None:
        query = query.where(Commitment.subject_id == subject_id)
    return list(session.scalars(query))


def record_fulfilment(
    *,
    session: Session,
    actor: Actor,
    commitment_id: int,
    kept: bool,
    note: str,
    severity: str = Severity.GENERAL,
) -> Commitment:
    """履约 / 违诺, recorded by a department (a source unit account or key). A broken commitment is written as a
    ``broken_commitment`` record of that unit."""
    if actor.role != "source_unit" or actor.unit_id is None:
        raise Forbidden("履约情况须由信息提供单位（部门）记录")
    row = get(session=session, commitment_id=commitment_id)
    if row.status != CommitmentStatus.SIGNED:
        raise Conflict(f"承诺 {row.no} 已记录为「{COMMITMENT_STATUS_LABELS[CommitmentStatus(row.status)]}」")
    note = (note or "").strip()
    if not note:
        raise InvalidInput("说明：必填（履约情况或违诺事实）")
    if severity not in Severity._value2member_map_:
        raise InvalidInput("severity：应为 minor、general 或 serious")
    unit = session.get(SourceUnit, actor.unit_id)
    assert unit is not None
    row.status = CommitmentStatus.KEPT if kept else CommitmentStatus.BROKEN
    row.fulfilment_unit_id = unit.id
    row.fulfilment_note = note
    row.fulfilment_at = clock.now()
    subject = session.get(Subject, row.subject_id)
    if subject is not None:  # the commitment indicators changed: the next incremental evaluation re-scores it
        subject.updated_at = row.fulfilment_at
    if not kept:
        row.broken_record_id = _write_broken_record(session, row, unit, note, severity).id
    session.flush()
    audit.record(
        session=session, actor=actor, action="commitment.kept" if kept else "commitment.broken",
        target_type="commitment", target_id=row.id, subject_id=row.subject_id,
        detail={"note": note, "record_id": row.broken_record_id},
    )  # fmt: skip
    return row


def _write_broken_record(session: Session, row: Commitment, unit: SourceUnit, note: str, severity: str) -> Record:
    subject = session.get(Subject, row.subject_id)
    assert subject is not None
    resource = catalog.get_resource(session=session, code=RESOURCE)
    today, now = clock.today(), clock.now()
    payload: dict[str, Any] = {
        "CN_XDR_MC": subject.name,
        "CN_XDR_LB": {"legal_person": "法人及非法人组织", "individual_business": "个体工商户"}.get(
            subject.kind, "自然人"
        ),
        "CN_CNSBH": row.no,
        "CN_CNLX": type_labels().get(row.type, row.type),
        "CN_CNNR": row.title,
        "CN_WNSS": note,
        "CN_RDJG": unit.name,
        "CN_RDRQ": today.isoformat(),
        "CN_SXCD": {"minor": "轻微", "general": "一般", "serious": "严重"}[severity],
        "CN_SJLY": unit.name,
        "CN_SJLYDM": unit.uscc,
    }
    if subject.uscc:
        payload["CN_XDR_SHXYM"] = subject.uscc
    prepared = PreparedRow(
        row_no=1,
        subject=SubjectRef(kind=subject.kind or SubjectKind.LEGAL_PERSON.value, name=subject.name, uscc=subject.uscc),
        unit_code=unit.uscc,
        doc_no=row.no,
        decision_date=today,
        valid_from=None,
        valid_to=None,
        publish_until=None,
        severity=severity,
        status="active",
        payload=payload,
        pii={},
    )
    records.upsert_records(
        session=session, resource_id=resource.id, source_unit_id=unit.id, region=unit.region,
        batch_id=f"CN{row.id}"[:32], origin="local", items=[records.Incoming(prepared, subject.id)], now=now,
    )  # fmt: skip
    record = session.scalar(
        sa.select(Record).where(
            Record.resource_id == resource.id, Record.source_unit_id == unit.id, Record.doc_no == row.no
        )
    )
    assert record is not None
    from xinyong.rights import notices

    notices.notify_records(session=session, record_ids=[record.id])
    return record


def profile_section(*, session: Session, subject_id: int, viewer: Viewer) -> Any:
    """The 信用承诺 section of a subject page: public types for everyone, every type for the subject itself and
    the credit office."""
    from xinyong.subjects.profile import ExtraItem, ExtraSection

    query = sa.select(Commitment).where(Commitment.subject_id == subject_id).order_by(Commitment.signed_at.desc())
    own = viewer.kind in (ViewerKind.SUBJECT, ViewerKind.CREDIT_OFFICE)
    if not own:
        query = query.where(Commitment.public.is_(True))
    items = []
    labels = type_labels()
    for row in session.scalars(query.limit(100)):
        lines = [
            ("承诺类型", labels.get(row.type, row.type)),
            ("签署日期", f"{row.signed_at.astimezone(clock.CHINA):%Y-%m-%d}"),
        ]
        if row.valid_to:
            lines.append(("有效期至", row.valid_to.isoformat()))
        lines.append(("承诺内容", row.text))
        tags = [COMMITMENT_STATUS_LABELS[CommitmentStatus(row.status)]]
        if own and not row.public:
            tags.append("不公示")
        items.append(ExtraItem(title=f"{row.title}（{row.no}）", tags=tags, lines=lines))
    if not items:
        return None
    return ExtraSection(key="commitments", title="信用承诺", items=items)
