"""Exchange with upper platforms in the national 双公示 field format (DESIGN §3.3).

**Push** (``push``): every record of a pushed resource (penalties, licences, list data) changed since the last
successful push to the same target — found through the change feed, so corrections (new versions), repairs and
revocations are included — written once, in its current state, one file per resource and format: CSV in UTF-8 with
BOM and CRLF line ends, and XLSX; the header row is the field codes. Three columns follow the national fields:

| column | meaning |
|---|---|
| ``CZLX`` 操作类型 | ``U`` 新增或更新 (store this row as the current state) / ``D`` 撤回 (stop publishing the record) |
| ``CZYY`` 撤回原因 | for ``D``: ``repaired`` 信用修复, ``revoked`` 决定撤销, ``deleted`` 异议核实删除 |
| ``BBH`` 版本号 | the record's version on the sending platform |

A ``D`` row still carries the record's fields, so the receiver can identify it (resource, 数据来源单位代码, 文书号) even
if it never received it. Records that came from an upper platform (``origin`` not ``local``) are not pushed back.

**Pull** (``pull``): a file in that format, from an upper platform, goes through the collection pipeline
(``channel="upstream"``, ``origin=NAME``); the units named in it that the platform does not know are registered as
external units (``exchange_external_unit``) and granted the resource first; ``D`` rows are then applied (repair or
status) through the records service, which emits the change events. ``apply_feed`` does the same for feed items.
"""

from __future__ import annotations

import csv
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from openpyxl import Workbook
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from xinyong.audit import service as audit
from xinyong.audit.service import Actor
from xinyong.catalog import service as catalog
from xinyong.catalog.models import Resource, SourceUnit, UnitResource
from xinyong.core import clock
from xinyong.core.database import session_scope
from xinyong.core.errors import InvalidInput
from xinyong.core.settings import get_settings
from xinyong.core.text import normalise_code
from xinyong.exchange import feed
from xinyong.exchange.models import ChangeEvent, ExternalUnit, PushLog
from xinyong.ingest.pipeline import ingest_file
from xinyong.ingest.prepare import prepare_row
from xinyong.ingest.rows import open_rows
from xinyong.records import service as records
from xinyong.records.models import Record, RecordStatus
from xinyong.subjects.codes import uscc_error

OPERATION, WITHDRAW_REASON, VERSION = "CZLX", "CZYY", "BBH"
UPSERT, WITHDRAW = "U", "D"
PUSH_NATURES = ("penalty", "license", "list_entry", "honour")
FORMATS = ("csv", "xlsx")
DEFAULT_TARGET = "upper"


def pushed_resources(session: Session) -> list[Resource]:
    return list(
        session.scalars(
            sa.select(Resource)
            .where(Resource.nature.in_(PUSH_NATURES), Resource.active.is_(True))
            .order_by(Resource.id)
        )
    )


@dataclass
class PushResult:
    push_id: int
    target: str
    after: int
    through: int
    files: list[str] = field(default_factory=list)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "push_id": self.push_id,
            "target": self.target,
            "after": self.after,
            "through": self.through,
            "files": self.files,
            "counts": self.counts,
        }


def last_pushed(*, session: Session, target: str) -> int:
    return int(
        session.scalar(
            sa.select(sa.func.coalesce(sa.func.max(PushLog.through_cursor), 0)).where(
                PushLog.target == target, PushLog.state == "succeeded"
            )
        )
        or 0
    )


def _row(record: Record, resource: Resource) -> dict[str, str]:
    row = feed.national_fields(record, resource, unmask=True)
    usable = record.status == RecordStatus.ACTIVE and record.repaired_at is None
    row[OPERATION] = UPSERT if usable else WITHDRAW
    row[WITHDRAW_REASON] = "" if usable else feed.withdrawal_reason(record)
    row[VERSION] = str(record.version)
    return row


def _write(out: Path, stem: str, columns: list[str], rows: list[dict[str, str]], formats: Sequence[str]) -> list[Path]:
    written = []
    if "csv" in formats:
        path = out / f"{stem}.csv"
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns, lineterminator="\r\n", extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
        written.append(path)
    if "xlsx" in formats:
        path = out / f"{stem}.xlsx"
        book = Workbook(write_only=True)
        sheet = book.create_sheet("data")
        sheet.append(columns)
        for row in rows:
            sheet.append([row.get(c, "") for c in columns])
        book.save(path)
        written.append(path)
    return written


def push(
    *,
    engine: Engine,
    out: Path,
    target: str = DEFAULT_TARGET,
    actor: Actor | None = None,
    formats: Sequence[str] = FORMATS,
) -> PushResult:
    """Write the changes since the last successful push to ``target`` into ``out``; logged in ``exchange_push``."""
    actor = actor or Actor.cli()
    if unknown := set(formats) - set(FORMATS):
        raise InvalidInput(f"不支持的格式：{'、'.join(sorted(unknown))}（可选 csv、xlsx）")
    out.mkdir(parents=True, exist_ok=True)
    with session_scope(engine, write=True) as session:
        after = last_pushed(session=session, target=target)
        through = feed.latest_cursor(session=session)
        log = PushLog(
            target=target,
            after_cursor=after,
            through_cursor=through,
            state="running",
            files=[],
            counts={},
            started_at=clock.now(),
        )
        session.add(log)
        session.flush()
        push_id = log.id
    result = PushResult(push_id=push_id, target=target, after=after, through=through)
    try:
        with session_scope(engine) as session:
            resources = {r.id: r for r in pushed_resources(session)}
            changed = (
                sa.select(ChangeEvent.entity_id)
                .where(ChangeEvent.entity == "record", ChangeEvent.id > after, ChangeEvent.id <= through)
                .distinct()
            )
            query = (
                sa.select(Record)
                .where(Record.id.in_(changed), Record.resource_id.in_(resources), Record.origin == "local")
                .order_by(Record.resource_id, Record.id)
            )
            by_resource: dict[int, list[dict[str, str]]] = defaultdict(list)
            for record in session.scalars(query).yield_per(2000):
                by_resource[record.resource_id].append(_row(record, resources[record.resource_id]))
        stamp = f"{clock.today():%Y%m%d}_{after}_{through}"
        for resource_id, rows in by_resource.items():
            resource = resources[resource_id]
            columns = [f["code"] for f in resource.fields] + [OPERATION, WITHDRAW_REASON, VERSION]
            paths = _write(out, f"{target}_{resource.code}_{stamp}", columns, rows, formats)
            result.files += [str(p) for p in paths]
            result.counts[resource.code] = {
                "upsert": sum(1 for r in rows if r[OPERATION] == UPSERT),
                "withdraw": sum(1 for r in rows if r[OPERATION] == WITHDRAW),
            }
    except Exception as exc:
        with session_scope(engine, write=True) as session:
            failed = session.get_one(PushLog, push_id)
            failed.state, failed.error, failed.finished_at = "failed", str(exc)[:2000], clock.now()
        raise
    with session_scope(engine, write=True) as session:
        done = session.get_one(PushLog, push_id)
        done.state, done.files, done.counts, done.finished_at = "succeeded", result.files, result.counts, clock.now()
        audit.record(
            session=session,
            actor=actor,
            action="exchange.push",
            target_type="push",
            target_id=push_id,
            detail={"target": target, "after": after, "through": through, "counts": result.counts},
        )
    return result


# --- pull ------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Withdrawal:
    unit_code: str
    doc_no: str
    reason: str


@dataclass
class PullResult:
    batch: dict[str, Any]
    external_units: int = 0
    withdrawn: int = 0
    withdrawals_unknown: int = 0

    def as_dict(self) -> dict[str, Any]:
        return self.batch | {
            "external_units": self.external_units,
            "withdrawn": self.withdrawn,
            "withdrawals_unknown": self.withdrawals_unknown,
        }


def _unit_region(uscc: str) -> str:
    region = uscc[2:8]
    return region if region.isdigit() and region[:2] != "00" else get_settings().region


def register_external_units(
    *, session: Session, resource: Resource, units: dict[str, str], origin: str, actor: Actor
) -> int:
    """Units named in an upstream file (code → name) that are not registered: registered as external units of
    ``origin`` and granted ``resource``. A local unit is never changed (its grants are the credit office's)."""
    added = 0
    for code, name in sorted(units.items()):
        if uscc_error(code):
            continue  # the pipeline rejects those rows with the reason
        unit = session.scalar(sa.select(SourceUnit).where(SourceUnit.uscc == code))
        if unit is None:
            unit = SourceUnit(uscc=code, name=name or code, region=_unit_region(code), created_at=clock.now())
            session.add(unit)
            session.flush()
            session.add(ExternalUnit(unit_id=unit.id, origin=origin, registered_at=clock.now()))
            added += 1
        elif session.get(ExternalUnit, unit.id) is None:
            continue
        if not catalog.may_push(session=session, unit_id=unit.id, resource_id=resource.id):
            session.add(UnitResource(unit_id=unit.id, resource_id=resource.id))
    session.flush()
    if added:
        audit.record(
            session=session,
            actor=actor,
            action="exchange.external_units",
            target_type="resource",
            target_id=resource.code,
            detail={"origin": origin, "added": added},
        )
    return added


def _scan(path: Path, resource: Resource) -> tuple[dict[str, str], list[Withdrawal]]:
    """Units (code → name) and withdrawal rows of an upstream file."""
    spec = catalog.spec_of(resource)
    code_field, name_field = spec.role("unit_code"), spec.role("unit_name")
    units: dict[str, str] = {}
    withdrawals: list[Withdrawal] = []
    _, rows = open_rows(path, spec)
    today = clock.today()
    for raw in rows:
        code = normalise_code(raw.fields.get(code_field or "", ""))
        if code and code not in units:
            units[code] = raw.fields.get(name_field or "", "").strip()
        operation = (raw.values.get(OPERATION) or "").strip().upper()
        if operation == WITHDRAW:
            prepared = prepare_row(spec, raw, today=today)
            if not isinstance(prepared, list) and prepared.unit_code:
                reason = (raw.values.get(WITHDRAW_REASON) or "").strip() or "revoked"
                withdrawals.append(Withdrawal(prepared.unit_code, prepared.doc_no, reason))
    return units, withdrawals


def apply_withdrawals(
    *, session: Session, resource: Resource, withdrawals: Iterable[Withdrawal], origin: str
) -> tuple[int, int]:
    """Repair or revoke the records named; returns (applied, unknown)."""
    applied = unknown = 0
    by = f"upstream:{origin}"
    for item in withdrawals:
        record = session.scalar(
            sa.select(Record)
            .join(SourceUnit, SourceUnit.id == Record.source_unit_id)
            .where(Record.resource_id == resource.id, SourceUnit.uscc == item.unit_code, Record.doc_no == item.doc_no)
        )
        if record is None:
            unknown += 1
            continue
        if item.reason == "repaired":
            if record.repaired_at is None:
                records.mark_repaired(session=session, record=record, by=by)
                applied += 1
        elif item.reason in (RecordStatus.REVOKED.value, RecordStatus.DELETED.value) and record.status != item.reason:
            records.change_status(session=session, record=record, status=item.reason, by=by, reason=item.reason)
            applied += 1
    return applied, unknown


def pull(*, engine: Engine, path: Path, resource: str, origin: str, actor: Actor | None = None) -> PullResult:
    """Import an upper platform's file of ``resource`` through the collection pipeline, keeping ``origin``."""
    actor = actor or Actor.cli()
    if not origin or origin == "local":
        raise InvalidInput("请用 --origin 指明上级平台名称（不能为 local）")
    with session_scope(engine) as session:
        resource_row = catalog.get_resource(session=session, code=resource)
    units, withdrawals = _scan(path, resource_row)
    with session_scope(engine, write=True) as session:
        added = register_external_units(session=session, resource=resource_row, units=units, origin=origin, actor=actor)
    summary = ingest_file(
        engine=engine, path=path, resource=resource, unit_uscc=None, actor=actor, channel="upstream", origin=origin
    )
    result = PullResult(batch=summary.as_dict(), external_units=added)
    with session_scope(engine, write=True) as session:
        result.withdrawn, result.withdrawals_unknown = apply_withdrawals(
            session=session, resource=resource_row, withdrawals=withdrawals, origin=origin
        )
        audit.record(
            session=session,
            actor=actor,
            action="exchange.pull",
            target_type="batch",
            target_id=summary.batch_id,
            detail={"origin": origin, "resource": resource, "withdrawn": result.withdrawn, "units": added},
        )
    return result


def apply_feed(*, engine: Engine, items: Sequence[dict[str, Any]], origin: str, actor: Actor | None = None) -> int:
    """Apply record items of another platform's feed (as a department or upper platform reads it) to this one:
    upserts through the collection pipeline, withdrawals through the records service. Returns items applied."""
    actor = actor or Actor.cli()
    upserts: dict[str, list[dict[str, str]]] = defaultdict(list)
    withdrawals: dict[str, list[Withdrawal]] = defaultdict(list)
    for item in items:
        if item.get("entity") != "record":
            continue
        record = item["record"]
        if item["operation"] == "upsert":
            upserts[record["resource"]].append(record["fields"])
        elif item["operation"] == "withdraw" and "doc_no" in record:
            withdrawals[record["resource"]].append(Withdrawal(record["unit_code"], record["doc_no"], item["reason"]))
    applied = 0
    for resource, rows in upserts.items():
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"{resource}.jsonl"
            path.write_bytes(b"\n".join(orjson.dumps(r) for r in rows) + b"\n")
            with session_scope(engine, write=True) as session:
                resource_row = catalog.get_resource(session=session, code=resource)
                spec = catalog.spec_of(resource_row)
                code_field, name_field = spec.role("unit_code") or "", spec.role("unit_name") or ""
                units = {normalise_code(r.get(code_field, "")): r.get(name_field, "") for r in rows}
                register_external_units(session=session, resource=resource_row, units=units, origin=origin, actor=actor)
            summary = ingest_file(
                engine=engine,
                path=path,
                resource=resource,
                unit_uscc=None,
                actor=actor,
                channel="upstream",
                origin=origin,
                rejects_dir=Path(tmp),
            )
            applied += summary.accepted + summary.duplicates
    for resource, found in withdrawals.items():
        with session_scope(engine, write=True) as session:
            resource_row = catalog.get_resource(session=session, code=resource)
            done, _ = apply_withdrawals(session=session, resource=resource_row, withdrawals=found, origin=origin)
            applied += done
    return applied


def push_history(*, session: Session, target: str | None = None, limit: int = 20) -> list[PushLog]:
    query = sa.select(PushLog).order_by(PushLog.id.desc()).limit(limit)
    if target:
        query = query.where(PushLog.target == target)
    return list(session.scalars(query))
