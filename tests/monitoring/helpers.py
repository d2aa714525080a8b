"""Hand-built batches and rejected rows for monitoring tests (the collection pipeline is another domain's)."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from sqlalchemy.orm import Session

from xinyong.catalog import service as catalog
from xinyong.catalog.models import SourceUnit
from xinyong.core import crypto
from xinyong.core.clock import CHINA
from xinyong.ingest.models import Batch, BatchState, QuarantinedRow
from xinyong.records.models import Record

_seq = itertools.count(1)


def at(day: str, hour: int = 10, minute: int = 0) -> dt.datetime:
    """A moment in China time on the given ISO date."""
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour, minute), CHINA)


def received(session: Session, record: Record, day: str, hour: int = 10, minute: int = 0) -> Record:
    record.received_at = at(day, hour, minute)
    session.flush()
    return record


def batch(
    session: Session,
    *,
    unit: SourceUnit | None,
    started: str,
    resource: str = "administrative_penalty",
    accepted: int = 0,
    linked: int = 0,
    state: str = BatchState.COMPLETED,
    rejected_reasons: list[list[dict[str, Any]]] | None = None,
) -> Batch:
    n = next(_seq)
    rejected_reasons = rejected_reasons or []
    row = Batch(
        id=f"B{n:08d}{started.replace('-', '')}",
        resource_id=catalog.get_resource(session=session, code=resource).id,
        source_unit_id=unit.id if unit else None,
        submitted_by="cli",
        channel="cli",
        filename=f"file{n}.csv",
        file_sha256=f"{n:064d}",
        file_format="csv",
        state=state,
        received=accepted + len(rejected_reasons),
        accepted=accepted,
        linked=linked,
        rejected=len(rejected_reasons),
        region=unit.region if unit else None,
        started_at=at(started),
        finished_at=at(started, 11) if state == BatchState.COMPLETED else None,
    )
    session.add(row)
    session.flush()
    for i, reasons in enumerate(rejected_reasons, start=2):
        session.add(
            QuarantinedRow(
                batch_id=row.id,
                row_no=i,
                raw_cipher=crypto.encrypt(f'{{"CF_XDR_MC": "第{i}行的企业"}}'),
                reasons=reasons,
                created_at=at(started, 11),
            )
        )
    session.flush()
    return row
