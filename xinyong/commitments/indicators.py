"""The evaluation's ``commitments_kept`` / ``commitments_broken`` indicator sources: fulfilled and broken
commitments, selected in SQL so the batch and ``explain`` count the very same rows.

A broken commitment stops counting once the dishonesty record written for it is repaired, revoked or deleted (as a
repaired record stops being deducted). Registered with ``evaluation.sources.register`` when ``xinyong.hooks.install``
imports ``xinyong.rights.hooks``.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from xinyong.commitments.models import Commitment, CommitmentStatus
from xinyong.evaluation import sources
from xinyong.evaluation.sources import Context, RecordRows
from xinyong.evaluation.spec import Indicator
from xinyong.records.models import Record, RecordStatus


class CommitmentSource:
    """Commitments of one status (kept / broken) as ``items``: (subject_id, item_id, label, day, record_id, doc_no)."""

    def __init__(self, status: CommitmentStatus) -> None:
        self.status = status

    def record_condition(self, ind: Indicator, rows: RecordRows, ctx: Context) -> ColumnElement[bool] | None:
        return None

    def subject_count(self, ind: Indicator, subject: sa.Table, ctx: Context) -> ColumnElement[int] | None:
        return None

    def items(self, ind: Indicator, ctx: Context) -> sa.Select[Any] | None:
        query = sa.select(
            Commitment.subject_id.label("subject_id"),
            Commitment.id.label("item_id"),
            Commitment.title.label("label"),
            sa.func.date(Commitment.fulfilment_at).label("day"),
            Commitment.broken_record_id.label("record_id"),
            Commitment.no.label("doc_no"),
        ).where(Commitment.status == self.status.value)
        if self.status is CommitmentStatus.BROKEN:
            in_force = sa.exists().where(
                Record.id == Commitment.broken_record_id,
                Record.subject_id == Commitment.subject_id,  # the record's partition (and shard) only
                Record.status == RecordStatus.ACTIVE.value,
                Record.repaired_at.is_(None),
            )
            query = query.where(sa.or_(Commitment.broken_record_id.is_(None), in_force))
        return query


def register() -> None:
    sources.register("commitments_kept", CommitmentSource(CommitmentStatus.KEPT))
    sources.register("commitments_broken", CommitmentSource(CommitmentStatus.BROKEN))
