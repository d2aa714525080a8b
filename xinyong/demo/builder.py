"""Build a demo database through the real collection pipeline (what ``xinyong demo`` does before serving).

Every record arrives the way a department's would: the units are registered with their grants, the generator writes
one CSV per unit and resource, and each file goes through ``ingest_file`` — parse, validate, link, upsert — so the demo
shows the platform's own behaviour, not rows inserted behind its back. A completed build leaves a ``demo.built`` audit
event, which is how a later ``xinyong demo`` knows the database is complete and can be served as it is.
"""

from __future__ import annotations

import datetime as dt
import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from xinyong.accounts import service as accounts
from xinyong.accounts.models import Account, Role
from xinyong.audit import service as audit
from xinyong.audit.models import AuditEvent
from xinyong.audit.service import Actor
from xinyong.catalog import service as catalog
from xinyong.catalog.models import Resource
from xinyong.core import clock
from xinyong.core.bootstrap import upgrade_database
from xinyong.core.database import session_scope
from xinyong.demo.generator import ALL_RESOURCES, DemoData, Unit
from xinyong.demo.writers import DataFile, write_dataset
from xinyong.ingest.pipeline import ingest_file
from xinyong.records.models import Record
from xinyong.subjects.models import Subject

DEMO_SUBJECTS = 12_000
DEMO_RECORDS_PER_SUBJECT = 5.0
DEMO_SEED = 20250101
DEMO_ACTOR = Actor(name="demo", role="admin")
BUILT_ACTION = "demo.built"

Say = Callable[[str], None]
Advance = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass
class DemoBuild:
    """What a build produced: generated rows and what the pipeline made of them."""

    subjects: int
    region: str
    seed: int
    units: int = 0
    files: int = 0
    received: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    linked: int = 0
    subjects_created: int = 0
    by_resource: dict[str, int] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)  # label → API key (shown once)
    logins: dict[str, str] = field(default_factory=dict)  # label → website user name and password (shown once)
    errors: list[str] = field(default_factory=list)

    def as_detail(self) -> dict[str, Any]:
        fields = (
            "subjects",
            "region",
            "seed",
            "units",
            "files",
            "received",
            "accepted",
            "duplicates",
            "rejected",
            "linked",
            "subjects_created",
            "by_resource",
        )
        return {name: getattr(self, name) for name in fields}


def completed_build(engine: Engine) -> dict[str, Any] | None:
    """The detail of the last completed demo build in this database, or None (no build, or no schema yet)."""
    if not sa.inspect(engine).has_table("audit_event"):
        return None
    with session_scope(engine) as session:
        detail = session.scalar(
            sa.select(AuditEvent.detail)
            .where(AuditEvent.action == BUILT_ACTION)
            .order_by(AuditEvent.id.desc())
            .limit(1)
        )
    return dict(detail) if detail is not None else None


def holds_records(engine: Engine) -> bool:
    if not sa.inspect(engine).has_table("record"):
        return False
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT 1 FROM record LIMIT 1")).first() is not None


def build_demo(
    *,
    engine: Engine,
    subjects: int = DEMO_SUBJECTS,
    seed: int = DEMO_SEED,
    records_per_subject: float = DEMO_RECORDS_PER_SUBJECT,
    region: str,
    messy: float = 0.0,
    workdir: Path | None = None,
    say: Say | None = None,
    advance: Advance | None = None,
    create_keys: bool = True,
) -> DemoBuild:
    """Migrate, register the units, generate the files and collect every one of them; returns the counts."""
    tell = say or (lambda _message: None)
    step = advance or (lambda _stage, _done, _total: None)
    result = DemoBuild(subjects=subjects, region=region, seed=seed)

    tell("创建数据库结构并载入内置目录")
    upgrade_database(engine)

    data = DemoData(subjects=subjects, seed=seed, records_per_subject=records_per_subject, region=region, messy=messy)
    tell(f"登记信息提供单位 {len(data.units)} 个")
    register_units(engine, data.units)
    result.units = len(data.units)

    with tempfile.TemporaryDirectory(prefix="xinyong-demo-", dir=workdir) as tmp:
        tell(f"生成 {subjects:,} 个信用主体的模拟数据（种子 {seed}，今天 {data.today}）")
        seen = 0

        def on_row(record: Any) -> None:
            nonlocal seen
            if record.subject_index >= seen:
                seen = record.subject_index + 1
                if seen % 200 == 0 or seen == subjects:
                    step("generate", seen, subjects)

        files = write_dataset(data.records(), Path(tmp), per_unit=True, on_row=on_row)
        step("generate", subjects, subjects)
        order = {resource: i for i, resource in enumerate(ALL_RESOURCES)}
        files.sort(key=lambda f: (order.get(f.resource, 99), f.unit_uscc or ""))
        total = sum(f.rows for f in files)
        result.files = len(files)
        tell(f"通过归集流程导入 {len(files)} 个文件、{total:,} 条记录")
        _collect(engine, files, result, total, step)

    _simulate_receipt_dates(engine)
    if create_keys:
        result.keys = _demo_keys(engine, data.units[0].uscc if data.units else None)
        result.logins = _demo_accounts(engine)
    with session_scope(engine, write=True) as session:
        audit.record(
            session=session,
            actor=DEMO_ACTOR,
            action=BUILT_ACTION,
            target_type="database",
            detail={**result.as_detail(), "today": clock.today().isoformat()},
        )
    return result


def register_units(engine: Engine, units: list[Unit]) -> None:
    """The generated departments as source units, each with the resources it may push."""
    with session_scope(engine, write=True) as session:
        for unit in units:
            catalog.register_unit(
                session=session,
                uscc=unit.uscc,
                name=unit.name,
                region=unit.region,
                resources=list(unit.resources),
                short_name=unit.short_name,
            )


def receipt_delay(record_id: int) -> int:
    """Days between a record's decision and its receipt: 0–11, deterministic by id (most within 7 working days)."""
    return (record_id * 7919) % 12 if record_id % 5 else record_id % 4


def receipt_time(record_id: int, decided: dt.date, now: dt.datetime, days: int | None = None) -> dt.datetime:
    """When a platform would have received a record decided on ``decided``: ``receipt_delay`` days later, at 10:00
    China time, never after ``now``."""
    days = receipt_delay(record_id) if days is None else days
    received = dt.datetime.combine(decided, dt.time(10, 0), tzinfo=clock.CHINA) + dt.timedelta(days=days)
    return min(received.astimezone(dt.UTC), now)


def _collect(engine: Engine, files: list[DataFile], result: DemoBuild, total: int, step: Advance) -> None:
    done = 0
    for data_file in files:
        base = done

        def progress(rows: int, base: int = base) -> None:
            step("ingest", base + rows, total)

        summary = ingest_file(
            engine=engine,
            path=data_file.path,
            resource=data_file.resource,
            unit_uscc=data_file.unit_uscc,
            actor=DEMO_ACTOR,
            channel="cli",
            progress=progress,
        )
        done += data_file.rows
        result.received += summary.received
        result.accepted += summary.accepted
        result.duplicates += summary.duplicates
        result.rejected += summary.rejected
        result.linked += summary.linked
        result.subjects_created += summary.subjects_created
        result.by_resource[data_file.resource] = result.by_resource.get(data_file.resource, 0) + summary.accepted
        result.errors.extend(summary.errors[: max(0, 20 - len(result.errors))])
        step("ingest", done, total)


def _simulate_receipt_dates(engine: Engine) -> None:
    """Give demo records the receipt times a real platform would have accumulated.

    A demo database is loaded in one go, so every record would otherwise look received today, and the 双公示
    timeliness on the dashboard would show every department as late. Records are dated back to their decision date
    plus 0–11 days (deterministic by id: most within 7 working days, some late), never after today.
    """
    record: sa.Table = Record.__table__  # type: ignore[assignment]
    with session_scope(engine, write=True) as session:
        rows = session.execute(
            sa.select(record.c.id, record.c.decision_date).where(record.c.decision_date.is_not(None))
        )
        now = clock.now()
        updates = []
        for record_id, decided in rows:
            updates.append({"rid": record_id, "received_at": receipt_time(record_id, decided, now)})
        if updates:
            session.execute(
                sa.update(record)
                .where(record.c.id == sa.bindparam("rid"))
                .values(received_at=sa.bindparam("received_at")),
                updates,
            )


def _demo_accounts(engine: Engine) -> dict[str, str]:
    """Website sign-ins for trying the pages (random passwords, shown once): staff, a clerk, and one company that has
    a published penalty, so its own view shows something worth seeing."""
    made: dict[str, str] = {}
    with session_scope(engine, write=True) as session:
        company = session.scalar(
            sa.select(Subject)
            .join(Record, Record.subject_id == Subject.id)
            .join(Resource, Resource.id == Record.resource_id)
            .where(Resource.code == "administrative_penalty", Subject.uscc.is_not(None))
            .order_by(Record.decision_date.desc())
            .limit(1)
        )
        for username, role, label, subject in (
            ("admin", Role.ADMIN, "平台管理员", None),
            ("xinyongban", Role.CREDIT_OFFICE, "信用办", None),
            ("chuangkou", Role.CHECKER, "窗口核查员", None),
            ("qiye", Role.SUBJECT, company.name if company else "企业", company),
        ):
            if subject is None and role is Role.SUBJECT:
                continue
            if session.scalar(sa.select(Account.id).where(Account.username == username)) is not None:
                continue
            password = secrets.token_urlsafe(9)
            accounts.create_account(
                session=session,
                username=username,
                role=role,
                password=password,
                display_name=label,
                subject_id=subject.id if subject else None,
            )
            made[f"网站登录（{label}）"] = f"用户名 {username}  密码 {password}"
    return made


def _demo_keys(engine: Engine, unit_uscc: str | None) -> dict[str, str]:
    """API keys for trying the platform: one per role a visitor would want."""
    keys: dict[str, str] = {}
    with session_scope(engine, write=True) as session:
        for role, label in (
            (Role.ADMIN, "演示：平台管理员"),
            (Role.CREDIT_OFFICE, "演示：信用办"),
            (Role.CHECKER, "演示：核查用户"),
        ):
            issued = accounts.create_api_key(session=session, actor=DEMO_ACTOR, role=role, label=label)
            keys[label] = issued.key
        if unit_uscc:
            unit = catalog.get_unit(session=session, uscc=unit_uscc)
            issued = accounts.create_api_key(
                session=session, actor=DEMO_ACTOR, role=Role.SOURCE_UNIT, unit=unit, label=f"演示：{unit.name}"
            )
            keys[f"演示：{unit.name}"] = issued.key
    return keys
