"""Batch history: who sent what, when, with which outcome — read by the CLI and the API."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from xinyong.accounts.models import Role
from xinyong.audit.service import Actor
from xinyong.catalog.models import Resource, SourceUnit
from xinyong.core.errors import Forbidden, NotFound
from xinyong.core.settings import get_settings
from xinyong.ingest import rejects
from xinyong.ingest.models import Batch, QuarantinedRow
from xinyong.ingest.types import Problem


@dataclass(frozen=True)
class BatchView:
    """A batch with the codes of its resource and unit."""

    batch: Batch
    resource: str
    unit_uscc: str | None
    unit_name: str | None


def _query() -> sa.Select[Batch, str, str | None, str | None]:
    return (
        sa.select(Batch, Resource.code, SourceUnit.uscc, SourceUnit.name)
        .join(Resource, Resource.id == Batch.resource_id)
        .outerjoin(SourceUnit, SourceUnit.id == Batch.source_unit_id)
    )


def _scoped(
    query: sa.Select[Batch, str, str | None, str | None], actor: Actor | None
) -> sa.Select[Batch, str, str | None, str | None]:
    """A unit sees its own batches; the credit office and admins all of them, within their region if they have one."""
    if actor is None:
        return query
    if actor.role == Role.SOURCE_UNIT.value:
        return query.where(Batch.source_unit_id == actor.unit_id)
    if actor.role in (Role.CREDIT_OFFICE.value, Role.ADMIN.value):
        return query.where(Batch.region.startswith(_region_prefix(actor.region))) if actor.region else query
    raise Forbidden(f"当前角色（{actor.role}）无权查看归集批次")


def _region_prefix(region: str) -> str:
    # 370300 (a city) covers 3703xx; 370303 (a district) only itself.
    return region[:4] if region.endswith("00") else region


def list_batches(
    *, session: Session, actor: Actor | None = None, limit: int = 20, offset: int = 0
) -> tuple[list[BatchView], int]:
    """The newest batches first, and how many there are in all (within what ``actor`` may see)."""
    query = _scoped(_query(), actor)
    total = session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    rows = session.execute(query.order_by(Batch.started_at.desc(), Batch.id.desc()).limit(limit).offset(offset))
    return [BatchView(*row) for row in rows], total


def get_batch(*, session: Session, batch_id: str, actor: Actor | None = None) -> BatchView:
    row = session.execute(_scoped(_query(), actor).where(Batch.id == batch_id)).first()
    if row is None:
        raise NotFound(f"归集批次不存在：{batch_id}")
    return BatchView(*row)


def rejects_file(*, session: Session, view: BatchView) -> Path | None:
    """The downloadable rejects file of a batch (under ``data_dir/rejects``), rebuilt from the quarantine if absent."""
    batch = view.batch
    if not batch.rejected:
        return None
    path = get_settings().data_dir / "rejects" / f"{batch.id}.rejects.{rejects.output_extension(batch.file_format)}"
    if path.exists():
        return path
    return rejects.write_rejects(
        session=session,
        batch_id=batch.id,
        file_format=batch.file_format,
        encoding=batch.encoding,
        headers=[],
        path=path,
    )


def rejected_rows(*, session: Session, batch_id: str, limit: int = 100) -> list[tuple[int, list[str]]]:
    """The first ``limit`` quarantined rows of a batch: (row number, rendered reasons)."""
    query = (
        sa.select(QuarantinedRow.row_no, QuarantinedRow.reasons)
        .where(QuarantinedRow.batch_id == batch_id)
        .order_by(QuarantinedRow.row_no)
        .limit(limit)
    )
    return [
        (row_no, [Problem(r["field"], r["message"]).render(row_no) for r in reasons])
        for row_no, reasons in session.execute(query)
    ]
