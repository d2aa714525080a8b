"""Factories for hand-built test data, inserted through the ORM (for tests that are not about collection itself).

Each factory flushes and returns the row; values are valid by the national standards unless overridden.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from xinyong.catalog import service as catalog
from xinyong.catalog.models import SourceUnit
from xinyong.core import clock, crypto
from xinyong.records.models import Record, RecordStatus
from xinyong.subjects.codes import id_check_char, make_uscc, mask_id_number
from xinyong.subjects.models import Subject, SubjectKind, SubjectName

_seq = itertools.count(1)
UNIT_USCC = make_uscc("1", "1", "370300", "00400001")


def uscc(n: int | None = None, region: str = "370302") -> str:
    n = next(_seq) if n is None else n
    return make_uscc("9", "1", region, f"MA{n:06d}")


def citizen_id(n: int | None = None, born: str = "19800101", region: str = "370302") -> str:
    n = next(_seq) if n is None else n
    first17 = f"{region}{born}{n % 1000:03d}"
    return first17 + id_check_char(first17)


def unit(
    session: Session,
    *,
    uscc_code: str = UNIT_USCC,
    name: str = "淄博市生态环境局",
    region: str = "370300",
    resources: list[str] | None = None,
    short_name: str = "淄环",
) -> SourceUnit:
    return catalog.register_unit(
        session=session,
        uscc=uscc_code,
        name=name,
        region=region,
        short_name=short_name,
        resources=resources or [r for r in catalog.builtin_specs()],
    )


def subject(
    session: Session,
    *,
    name: str | None = None,
    kind: SubjectKind = SubjectKind.LEGAL_PERSON,
    code: str | None = None,
    id_number: str | None = None,
    region: str = "370302",
    legal_rep: str | None = "张三",
    established_on: dt.date | None = None,
) -> Subject:
    now = clock.now()
    n = next(_seq)
    row = Subject(
        kind=kind.value,
        name=name or f"淄博测试{n}号有限公司",
        region=region,
        legal_rep=legal_rep,
        established_on=established_on,
        created_at=now,
        updated_at=now,
    )
    if kind is SubjectKind.NATURAL_PERSON:
        number = id_number or citizen_id(n)
        row.id_hash = crypto.keyed_hash(number)
        row.id_cipher = crypto.encrypt(number)
        row.id_masked = mask_id_number(number)
        row.legal_rep = None
    else:
        row.uscc = code or uscc(n, region)
    session.add(row)
    session.flush()
    session.add(SubjectName(subject_id=row.id, name=row.name, first_seen=now, last_seen=now, is_current=True))
    session.flush()
    return row


def record(
    session: Session,
    *,
    subject_row: Subject,
    resource: str = "administrative_penalty",
    unit_row: SourceUnit | None = None,
    doc_no: str | None = None,
    decision_date: dt.date | None = None,
    severity: str | None = "general",
    valid_from: dt.date | None = None,
    valid_to: dt.date | None = None,
    publish_until: dt.date | None = None,
    status: str = RecordStatus.ACTIVE,
    objection_open: bool = False,
    repaired_at: dt.datetime | None = None,
    payload: dict[str, Any] | None = None,
) -> Record:
    res = catalog.get_resource(session=session, code=resource)
    unit_row = unit_row or session.scalar(sa.select(SourceUnit).where(SourceUnit.uscc == UNIT_USCC)) or unit(session)
    n = next(_seq)
    decision = decision_date or clock.today() - dt.timedelta(days=30)
    if resource == "administrative_license" and severity == "general":
        severity = None
    row = Record(
        resource_id=res.id,
        subject_id=subject_row.id,
        source_unit_id=unit_row.id,
        doc_no=doc_no or f"{unit_row.short_name or '测'}罚〔{decision.year}〕{n}号",
        decision_date=decision,
        valid_from=valid_from,
        valid_to=valid_to,
        publish_until=publish_until,
        severity=severity,
        status=status,
        objection_open=objection_open,
        repaired_at=repaired_at,
        region=unit_row.region,
        subject_name=subject_row.name,
        subject_kind=subject_row.kind,
        payload=payload or {},
        content_hash=f"{n:064d}",
        version=1,
        received_at=clock.now(),
        updated_at=clock.now(),
    )
    session.add(row)
    session.flush()
    return row
