"""The collection pipeline: one file in, records linked and stored, rejected rows quarantined, a batch summary out.

parse and prepare (``rows.py``, ``prepare.py``) → link (``subjects.service``) → upsert (``records.service``) →
quarantine → batch counters, chunk by chunk. Each chunk is ONE transaction holding its records, its quarantined rows
and the batch's progress (``rows_done``), so the database always says exactly how far the file got. A batch is
identified by (resource, unit, SHA-256 of the file): running the same file again while its batch is still "running"
(the process was killed) skips the ``rows_done`` rows already committed and carries on, which makes the end state
identical to one clean run whenever and however the first run died.

Test hook: ``XINYONG_FAULT=<stage>:<n>`` makes the process exit at once (``os._exit(137)``, as SIGKILL would) at
``stage`` of chunk number ``n`` (counted from 1 over the whole file), for the stages in ``FAULT_STAGES``, and while
writing the rejects file (see ``xinyong/ingest/faults.py``). It does nothing unless that variable is set.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from xinyong.audit import service as audit
from xinyong.audit.service import Actor
from xinyong.catalog import service as catalog
from xinyong.catalog.models import Resource, SourceUnit, UnitResource
from xinyong.catalog.spec import ResourceSpec
from xinyong.core import clock
from xinyong.core.crypto import encrypt
from xinyong.core.database import analyze_stale, session_scope
from xinyong.core.errors import Forbidden, InvalidInput, NotFound
from xinyong.core.logging import get_logger
from xinyong.core.settings import get_settings
from xinyong.ingest import rejects
from xinyong.ingest.faults import CHUNK_STAGES, Fault
from xinyong.ingest.models import Batch, BatchState, QuarantinedRow
from xinyong.ingest.prepare import prepare_row
from xinyong.ingest.rows import open_rows
from xinyong.ingest.types import BatchSummary, PreparedRow, Problem, RawRow
from xinyong.lists import service as lists
from xinyong.records import service as records
from xinyong.records.models import Record
from xinyong.rights import notices
from xinyong.subjects import service as subjects

log = get_logger(__name__)

FAULT_STAGES = CHUNK_STAGES
FORMATS = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xls": "xls", ".json": "json", ".jsonl": "jsonl"}
ERRORS_SHOWN = 100

_batch = cast(sa.Table, Batch.__table__)
_quarantine = cast(sa.Table, QuarantinedRow.__table__)

Progress = Callable[[int], None]


@dataclass(frozen=True)
class UnitInfo:
    id: int
    uscc: str
    name: str
    region: str


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def file_format(path: Path) -> str:
    found = FORMATS.get(path.suffix.lower())
    if found is None:
        raise InvalidInput(
            f"不支持的文件类型“{path.suffix or '（无扩展名）'}”：请提交 CSV、XLSX、XLS、JSON 或 JSONL 文件"
        )
    return found


def ingest_file(
    *,
    engine: Engine,
    path: Path | str,
    resource: str,
    unit_uscc: str | None,
    actor: Actor,
    channel: str = "cli",
    origin: str = "local",
    progress: Progress | None = None,
    chunk_size: int | None = None,
    rejects_dir: Path | None = None,
    filename: str | None = None,
) -> BatchSummary:
    """Collect one file of ``resource``; returns the summary of its batch (DESIGN §6).

    ``unit_uscc``: the unit sending the file (``--source-unit``, or the API key's unit); every row must then carry
    that unit's code. Without it each row's own unit code decides. The rejects file is written to ``rejects_dir``
    (default: next to the input, ``<name>.rejects.<ext>``). ``filename`` is the name recorded in the batch (default
    the file's own name; the API passes the name the unit uploaded).
    """
    path = Path(path)
    if not path.is_file():
        raise NotFound(f"文件不存在：{path}")
    fmt = file_format(path)
    size = chunk_size or get_settings().ingest_chunk_size
    sha256 = file_sha256(path)
    fault = Fault()

    with session_scope(engine, write=True) as session:
        resource_row = catalog.get_resource(session=session, code=resource)
        spec = catalog.spec_of(resource_row)
        unit = _sending_unit(session, resource_row, unit_uscc)
        granted = _granted_units(session, resource_row.id)
        batch, resumed = _open_batch(
            session,
            resource_row=resource_row,
            unit=unit,
            sha256=sha256,
            fmt=fmt,
            filename=filename or path.name,
            actor=actor,
            channel=channel,
            origin=origin,
        )
        batch_id, rows_done = batch.id, batch.rows_done
    log.info("ingest start", batch=batch_id, resource=resource, file=str(path), resumed=resumed, rows_done=rows_done)

    try:
        info, raw_rows = open_rows(path, spec)
        with session_scope(engine, write=True) as session:
            session.execute(
                sa.update(_batch).where(_batch.c.id == batch_id).values(file_format=info.format, encoding=info.encoding)
            )
        if progress is not None:
            progress(rows_done)
        rows_before = rows_done
        chunk_no = rows_done // size
        for chunk in _chunks(itertools.islice(raw_rows, rows_done, None), size):
            chunk_no += 1
            rows_done += _store_chunk(
                engine=engine,
                spec=spec,
                resource_id=resource_row.id,
                unit=unit,
                granted=granted,
                batch_id=batch_id,
                origin=origin,
                chunk=chunk,
                chunk_no=chunk_no,
                fault=fault,
            )
            if progress is not None:
                progress(rows_done)
            _refresh_statistics(engine, chunk_no - rows_before // size, rows_done - rows_before)
    except InvalidInput as exc:
        _fail(engine, batch_id, exc.message, actor)
        raise InvalidInput(exc.message, batch_id=batch_id) from None

    target = rejects_dir / f"{batch_id}.rejects.{rejects.output_extension(fmt)}" if rejects_dir else None
    with session_scope(engine) as session:
        written = rejects.write_rejects(
            session=session,
            batch_id=batch_id,
            file_format=info.format,
            encoding=info.encoding,
            headers=info.headers,
            path=target or rejects.path_next_to(path),
            fault=fault,
        )
    fault("after_rejects")
    with session_scope(engine, write=True) as session:
        batch = session.get_one(Batch, batch_id)
        batch.state = BatchState.COMPLETED.value
        batch.finished_at = clock.now()
        summary = summarise(session=session, batch=batch, resource=resource, resumed=resumed)
        summary.rejects_file = str(written) if written else None
        audit.record(
            session=session,
            actor=actor,
            action="ingest.batch",
            target_type="batch",
            target_id=batch_id,
            detail={
                "resource": resource,
                "unit": unit.uscc if unit else None,
                "file": batch.filename,
                "channel": channel,
                "state": batch.state,
                "resumed": resumed,
                **counts(batch),
            },
        )
    log.info("ingest done", batch=batch_id, **counts(batch))
    return summary


def counts(batch: Batch) -> dict[str, int]:
    return {
        "received": batch.received,
        "accepted": batch.accepted,
        "duplicates": batch.duplicates,
        "rejected": batch.rejected,
        "linked": batch.linked,
        "subjects_created": batch.subjects_created,
    }


def summarise(*, session: Session, batch: Batch, resource: str, resumed: bool = False) -> BatchSummary:
    reasons = session.execute(
        sa.select(_quarantine.c.row_no, _quarantine.c.reasons)
        .where(_quarantine.c.batch_id == batch.id)
        .order_by(_quarantine.c.row_no)
        .limit(ERRORS_SHOWN)
    )
    errors = [Problem(r["field"], r["message"]).render(row_no) for row_no, found in reasons for r in found]
    return BatchSummary(
        batch_id=batch.id,
        resource=resource,
        state=batch.state,
        received=batch.received,
        accepted=batch.accepted,
        duplicates=batch.duplicates,
        rejected=batch.rejected,
        linked=batch.linked,
        subjects_created=batch.subjects_created,
        resumed=resumed,
        errors=errors[:ERRORS_SHOWN],
    )


def _sending_unit(session: Session, resource_row: Resource, unit_uscc: str | None) -> UnitInfo | None:
    if not unit_uscc:
        return None
    unit = catalog.get_unit(session=session, uscc=unit_uscc)
    if not unit.active or not catalog.may_push(session=session, unit_id=unit.id, resource_id=resource_row.id):
        raise Forbidden(f"信息提供单位“{unit.name}”（{unit.uscc}）未获准报送“{resource_row.name}”")
    return UnitInfo(id=unit.id, uscc=unit.uscc, name=unit.name, region=unit.region)


def _granted_units(session: Session, resource_id: int) -> dict[str, UnitInfo]:
    query = (
        sa.select(SourceUnit.id, SourceUnit.uscc, SourceUnit.name, SourceUnit.region)
        .join(UnitResource, UnitResource.unit_id == SourceUnit.id)
        .where(UnitResource.resource_id == resource_id, SourceUnit.active.is_(True))
    )
    return {
        row.uscc: UnitInfo(id=row.id, uscc=row.uscc, name=row.name, region=row.region) for row in session.execute(query)
    }


def _open_batch(
    session: Session,
    *,
    resource_row: Resource,
    unit: UnitInfo | None,
    sha256: str,
    fmt: str,
    filename: str,
    actor: Actor,
    channel: str,
    origin: str,
) -> tuple[Batch, bool]:
    """The interrupted batch of this very file, to resume; or a new batch."""
    unit_clause = Batch.source_unit_id.is_(None) if unit is None else Batch.source_unit_id == unit.id
    running = session.scalar(
        sa.select(Batch)
        .where(
            Batch.resource_id == resource_row.id,
            unit_clause,
            Batch.file_sha256 == sha256,
            Batch.state == BatchState.RUNNING.value,
        )
        .order_by(Batch.started_at.desc())
        .limit(1)
    )
    if running is not None:
        return running, True
    now = clock.now()
    batch = Batch(
        id=f"{clock.today():%Y%m%d}{uuid.uuid4().hex[:12]}",
        resource_id=resource_row.id,
        source_unit_id=unit.id if unit else None,
        submitted_by=actor.name,
        channel=channel,
        filename=filename[:400],
        file_sha256=sha256,
        file_format=fmt,
        encoding=None,
        state=BatchState.RUNNING.value,
        rows_done=0,
        received=0,
        accepted=0,
        duplicates=0,
        rejected=0,
        linked=0,
        subjects_created=0,
        region=unit.region if unit else None,
        origin=origin,
        started_at=now,
    )
    session.add(batch)
    session.flush()
    return batch, False


def _fail(engine: Engine, batch_id: str, message: str, actor: Actor) -> None:
    with session_scope(engine, write=True) as session:
        batch = session.get_one(Batch, batch_id)
        batch.state = BatchState.FAILED.value
        batch.error = message
        batch.finished_at = clock.now()
        audit.record(
            session=session,
            actor=actor,
            action="ingest.batch",
            target_type="batch",
            target_id=batch_id,
            detail={"state": batch.state, "error": message, "file": batch.filename, **counts(batch)},
        )


def _chunks(rows: Iterable[RawRow], size: int) -> Iterator[list[RawRow]]:
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _unit_of(
    row: PreparedRow, spec: ResourceSpec, unit: UnitInfo | None, granted: dict[str, UnitInfo]
) -> UnitInfo | Problem:
    field = spec.role("unit_code") or ""
    if unit is not None:
        if row.unit_code and row.unit_code != unit.uscc:
            return Problem(field, f"数据来源单位代码 {row.unit_code} 与报送单位（{unit.name}，{unit.uscc}）不一致")
        return unit
    found = granted.get(row.unit_code or "")
    if found is None:
        return Problem(field, "信息提供单位未登记或未获准报送该资源")
    return found


def _linked(subject_id: int | None, row: PreparedRow) -> int:
    # link_subjects finds or creates a subject for every reference with an identity, and _names_no_subject has
    # refused the others: None here is a bug, not bad data.
    if subject_id is None:
        raise AssertionError(f"第 {row.row_no} 行未关联到信用主体")
    return subject_id


def _names_no_subject(row: PreparedRow, spec: ResourceSpec) -> Problem | None:
    """A row whose subject cannot be identified (no USCC, ID number or registration code) cannot be stored: every
    record belongs to a subject (on PostgreSQL it is the partition key). The national fields make one of them
    required for every kind of subject; only a catalog edited to relax that lets such a row through validation."""
    ref = row.subject
    if ref.uscc or ref.id_number or ref.legacy_codes:
        return None
    return Problem(spec.role("uscc") or "", "无法确定信用主体：统一社会信用代码、证件号码和其他登记代码均为空")


def _store_chunk(
    *,
    engine: Engine,
    spec: ResourceSpec,
    resource_id: int,
    unit: UnitInfo | None,
    granted: dict[str, UnitInfo],
    batch_id: str,
    origin: str,
    chunk: Sequence[RawRow],
    chunk_no: int,
    fault: Fault,
) -> int:
    today, now = clock.today(), clock.now()
    valid: list[tuple[PreparedRow, UnitInfo]] = []
    refused: list[tuple[RawRow, list[Problem]]] = []
    for raw in chunk:
        prepared = prepare_row(spec, raw, today=today)
        if isinstance(prepared, list):
            refused.append((raw, prepared))
            continue
        owner = _unit_of(prepared, spec, unit, granted)
        if isinstance(owner, Problem):
            refused.append((raw, [owner]))
        elif anonymous := _names_no_subject(prepared, spec):
            refused.append((raw, [anonymous]))
        else:
            valid.append((prepared, owner))
    fault("after_parse", chunk_no)

    with session_scope(engine, write=True) as session:
        linked = subjects.link_subjects(
            session=session,
            refs=[row.subject for row, _ in valid],
            fallback_regions=[owner.region for _, owner in valid],
            sources=[owner.uscc for _, owner in valid],
            now=now,
        )
        fault("after_link", chunk_no)

        # One round of upsert statements for the whole chunk, however many units its rows come from.
        outcome = records.upsert_units_records(
            session=session,
            resource_id=resource_id,
            units=[owner.id for _, owner in valid],
            regions={owner.id: owner.region for _, owner in valid},
            batch_id=batch_id,
            origin=origin,
            items=[
                records.Incoming(row, _linked(subject_id, row))
                for (row, _), subject_id in zip(valid, linked.subject_ids, strict=True)
            ],
            now=now,
        )
        accepted, duplicates = outcome.accepted, outcome.duplicates
        assert outcome.results is not None
        linked_rows = sum(
            1
            for result, subject_id in zip(outcome.results, linked.subject_ids, strict=True)
            if result != "duplicate" and subject_id is not None
        )
        if spec.nature == "list_entry" and accepted:
            _sync_list_entries(session=session, batch_id=batch_id, now=now)
        if spec.nature in notices.NOTICE_NATURES and accepted:
            _send_notices(session=session, batch_id=batch_id, now=now)
        fault("after_upsert", chunk_no)

        if refused:
            session.execute(
                sa.insert(_quarantine), [_quarantined(batch_id, raw, problems, now) for raw, problems in refused]
            )
        counts = {
            "rows_done": len(chunk),
            "received": len(chunk),
            "accepted": accepted,
            "duplicates": duplicates,
            "rejected": len(refused),
            "linked": linked_rows,
            "subjects_created": linked.created,
        }
        session.execute(_COUNT_CHUNK, {"b_id": batch_id} | {f"n_{name}": n for name, n in counts.items()})
        fault("before_commit", chunk_no)
    fault("after_commit", chunk_no)
    return len(chunk)


# A chunk's counts added to its batch's, built once (see ``subjects.service._ignoring_conflicts`` for why).
_COUNT_CHUNK = (
    sa.update(_batch)
    .where(_batch.c.id == sa.bindparam("b_id"))
    .values(
        {
            name: _batch.c[name] + sa.bindparam(f"n_{name}")
            for name in ("rows_done", "received", "accepted", "duplicates", "rejected", "linked", "subjects_created")
        }
    )
)


# Tables whose planner statistics go stale fastest during a bulk load.
_ANALYZED = ("subject", "subject_name", "subject_code", "record")


def _refresh_statistics(engine: Engine, chunks_this_run: int, rows_this_run: int) -> None:
    """Keep PostgreSQL's planner statistics in step with a bulk load (``analyze_stale``).

    A table that grew from nothing in one batch still looks empty to the planner until it is analysed, which turns
    the per-chunk lookups into scans of a whole unit's records. Checking after chunks 1, 2, 4, 8, … of a run costs a
    handful of ANALYZEs however long the file; on a large database none (five ANALYZEs of a 10-million-row ``record``
    were once most of a 50,000-row ingest, docs/benchmarks.md "Growth").
    """
    if engine.dialect.name != "postgresql" or chunks_this_run & (chunks_this_run - 1):
        return
    with engine.connect() as conn:
        analyze_stale(conn, _ANALYZED, rows_this_run)
        conn.commit()


def of_chunk(*, batch_id: str, now: dt.datetime) -> sa.ColumnElement[bool]:
    """The records a chunk wrote: exactly those of its batch stamped with the chunk's time. The list sync and the
    notices of a chunk select its records by this, not by a list of ids: ``record`` is partitioned by subject on
    PostgreSQL, so ids are looked for in every partition, and PostgreSQL read every row of all sixteen to find a
    chunk's 110 (8 ms of a 110-row batch at 21,000 records, growing with them; docs/benchmarks.md, "Soak", session
    13); the batch's index finds them in each partition at once.

    By batch alone (a batch has one resource): with the resource as a second term, SQLite without planner statistics
    (a database collected into but not yet analysed by the worker's daily PRAGMA optimize) chose the resource's index
    and read every record of the resource for every chunk, while holding the write lock — 40 ms of a 200-row chunk
    at 40,000 records and growing with them (docs/benchmarks.md, "Soak"). ``batch_id = …`` leaves one index.
    """
    return _chunk_written(batch_id, now)


def _chunk_written(batch: Any, time: Any) -> sa.ColumnElement[bool]:
    return sa.and_(Record.batch_id == batch, Record.updated_at == time)


# ``of_chunk`` with bound parameters ``chunk_batch`` and ``chunk_time``, for statements built once.
OF_CHUNK = _chunk_written(sa.bindparam("chunk_batch"), sa.bindparam("chunk_time"))
# The notices' query of a chunk, built once (see ``subjects.service._ignoring_conflicts`` for why).
_UNTOLD_OF_CHUNK = notices.untold_facts(OF_CHUNK)


def _sync_list_entries(*, session: Session, batch_id: str, now: dt.datetime) -> None:
    """Collected list-entry records become list entries in the same transaction as the records themselves."""
    lists.sync_from_records(
        session=session,
        actor=Actor(name=f"batch:{batch_id}", role="source_unit"),
        which=of_chunk(batch_id=batch_id, now=now),
    )


def _send_notices(*, session: Session, batch_id: str, now: dt.datetime) -> None:
    """失信告知 for the dishonesty records this chunk wrote, in the same transaction (one notice per record)."""
    notices.notify_facts(session=session, query=_UNTOLD_OF_CHUNK, params={"chunk_batch": batch_id, "chunk_time": now})


def _quarantined(batch_id: str, raw: RawRow, problems: list[Problem], now: dt.datetime) -> dict[str, Any]:
    return {
        "batch_id": batch_id,
        "row_no": raw.row_no,
        # The raw row may hold ID numbers: encrypted like every other identifier at rest.
        "raw_cipher": encrypt(orjson.dumps(raw.values).decode()),
        "reasons": [{"field": p.field, "message": p.message} for p in problems],
        "created_at": now,
    }
