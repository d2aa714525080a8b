"""Bulk data at scale: millions of subjects and records written straight into the tables, for benchmarks.

The demo builder (``builder.py``) sends every record through the collection pipeline, which stores a few thousand rows a
second — right for a demo, hopeless for 100,000,000 records. This module produces the same rows the pipeline would
store, at the speed of the database's bulk path:

* **Subjects** are the demo generator's (``DemoData.subject(i)``: kinds, regions, name shapes, valid USCCs, legacy
  codes, citizen IDs), one per index, each a pure function of (seed, index).
* **Records** come from a *pool*: the generator's records for its first ``pool`` subjects (licences, penalties,
  serious-list entries … with the demo's mix, severities, dates and units), each passed once through the real
  ``prepare_row`` (normalise, validate, classify) and turned into a template whose subject fields and document number
  are slots. Bulk subject ``i`` takes the whole record set of one pool subject of the same kind, industry and code
  shape (chosen by a hash of seed and ``i``), filled with its own name, codes and identity and with fresh document
  numbers. Each record's content hash is the pipeline's keyed hash of its filled canonical text, and a natural
  person's identifiers are encrypted per row exactly as the pipeline stores them (``pii_cipher``, ``id_cipher``,
  ``id_hash``), so a later resend of the same record through the pipeline is recognised as a duplicate.
* **Writing**: PostgreSQL ``COPY`` from ``jobs`` processes, each over its own range of subjects, with the tables'
  secondary indexes dropped for the load and rebuilt afterwards (foreign keys stay; the loading sessions skip their
  checks with ``session_replication_role = replica`` — the generator only refers to rows it has written); SQLite
  ``executemany`` in large transactions from one process (one writer). Memory is constant: rows are produced and
  written block by block.

Ids are deterministic: subject ``i`` gets id ``i + 1`` and its records ids ``i × RECORD_STRIDE + k + 1`` (so each job
knows its ids without counting the others' records); the sequences are moved past them at the end. The document number
of a record is the template's with its serial replaced by the record id, so it is unique per resource and unit.

What the bulk path does not do, on purpose: batches, the change feed (``exchange``) and 失信告知 notices — the data
is a baseline that "was already there", not a delivery. List-entry records (严重失信主体名单) do become list entries,
through ``lists.sync_from_records`` as the pipeline does, so checks find them.
"""

from __future__ import annotations

import datetime as dt
import itertools
import multiprocessing as mp
import re
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import Engine

from xinyong.audit import service as audit
from xinyong.audit.service import Actor
from xinyong.catalog.service import builtin_specs
from xinyong.core import clock
from xinyong.core.bootstrap import upgrade_database
from xinyong.core.crypto import bulk_encrypter, bulk_keyed_hasher
from xinyong.core.database import UTCDateTime, session_scope
from xinyong.core.errors import Conflict
from xinyong.demo import vocabulary as v
from xinyong.demo.builder import receipt_delay, receipt_time, register_units
from xinyong.demo.generator import ALL_RESOURCES, DemoData, SubjectProfile
from xinyong.ingest.prepare import prepare_row
from xinyong.ingest.types import PreparedRow, RawRow
from xinyong.records.service import content_text
from xinyong.subjects.codes import USCC_PLACEHOLDER, mask_id_number
from xinyong.subjects.models import SubjectKind, SubjectStatus

RECORD_STRIDE = 512  # record ids of subject i: i × 512 + 1 … (the generator caps a subject near 400 records)
NAME_STRIDE = 2  # subject_name ids: the current name and at most one former name
CODE_STRIDE = 2  # subject_code ids: 工商注册号 and 组织机构代码
DEFAULT_POOL = 5000
BULK_ACTOR = Actor(name="bulk", role="admin")
BULK_ACTION = "demo.bulk"
TABLES = ("subject", "subject_name", "subject_code", "record", "list_entry")

Advance = Callable[[str, int, int], None]  # (stage, done, total)
Say = Callable[[str], None]

# Slots of a template: values that differ from one bulk subject (or record) to the next.
SLOTS = ("name", "uscc", "gszc", "zzjg", "legal_rep", "id_masked", "id_plain", "doc_no")
_SLOT = {name: i for i, name in enumerate(SLOTS)}
_SLOT_RE = re.compile("\ue000(\\d)\ue001")  # private-use characters: never in generated text
_SERIAL_RE = re.compile(r"^(.*?)(\d+)(号)$")

SUBJECT_COLUMNS = (
    "id, kind, uscc, name, region, status, legal_rep, id_hash, id_cipher, id_masked, name_conflict, "
    "created_at, updated_at"
)
# kind, region, merged: the subject's, which the database copies into its names by trigger, except under COPY here
NAME_COLUMNS = "id, subject_id, name, first_seen, last_seen, source, is_current, kind, region, merged"
CODE_COLUMNS = "id, subject_id, code_type, code, created_at"
# Per-record values first, then the template's constant columns (written as one pre-formatted tail).
RECORD_COLUMNS = (
    "id, subject_id, doc_no, subject_name, payload, pii_cipher, content_hash, received_at, updated_at, "
    "resource_id, source_unit_id, decision_date, valid_from, valid_to, publish_until, severity, status, "
    "objection_open, region, subject_kind, version, origin"
)
ENTRY_COLUMNS = (
    "id, subject_id, record_id, doc_no, reason, authority, legal_rep_name, "
    "list_type_id, status, deadline_provisional, listed_on, expires_on, origin, created_by, created_at, updated_at"
)


def _mark(slot: str) -> str:
    return f"\ue000{_SLOT[slot]}\ue001"


@dataclass(frozen=True)
class Filler:
    """A text with slots, compiled to a ``str.format`` pattern (``{3}`` = slot 3) so filling it is one C call."""

    pattern: str

    @classmethod
    def of(cls, text: str) -> Filler:
        escaped = text.replace("{", "{{").replace("}", "}}")
        return cls(_SLOT_RE.sub(lambda m: "{" + m.group(1) + "}", escaped))

    def fill(self, values: Sequence[str]) -> str:
        return self.pattern.format(*values)

    def mapped(self, change: Callable[[str], str]) -> Filler:
        """The same slots around literal text passed through ``change`` (e.g. COPY escaping)."""
        return Filler(change(self.pattern))


@dataclass(frozen=True)
class EntryTemplate:
    """The list entry a list-entry record becomes (values from ``lists.entry_from_record``, with slots)."""

    list_type_id: int
    reason: Filler
    authority: Filler | None
    listed_on: dt.date | None
    expires_on: dt.date | None
    origin: str
    legal_rep: Filler | None


@dataclass(frozen=True)
class Template:
    """One pool record, prepared by the pipeline's own ``prepare_row``, with its subject fields as slots."""

    resource_id: int
    unit_id: int
    region: str
    doc_head: str  # document number = head + serial + tail
    doc_tail: str
    decision_date: dt.date | None
    valid_from: dt.date | None
    valid_to: dt.date | None
    publish_until: dt.date | None
    severity: str | None
    status: str
    subject_kind: str
    payload: Filler  # JSON text
    canonical: Filler  # the content-hash text
    pii: Filler | None  # the JSON text that is encrypted into pii_cipher
    entry: EntryTemplate | None = None


def _subject_key(p: SubjectProfile) -> tuple[Any, ...]:
    """What a pool subject must share with a bulk subject for its records to fit: kind and code shape first (a
    placeholder USCC needs its 工商注册号 in every record), then industry and the 纳税信用A级 flag."""
    shape = (p.kind, p.uscc == USCC_PLACEHOLDER, p.registration_no is not None, p.org_code is not None)
    return (*shape, p.industry.word if p.industry else "", p.tax_a)


def _identity(p: SubjectProfile) -> list[str]:
    """The slot values of a subject (doc_no left empty: it is per record)."""
    values = [""] * len(SLOTS)
    values[_SLOT["name"]] = p.name
    values[_SLOT["uscc"]] = p.uscc if p.uscc and p.uscc != USCC_PLACEHOLDER else ""
    values[_SLOT["gszc"]] = p.registration_no or ""
    values[_SLOT["zzjg"]] = p.org_code or ""
    values[_SLOT["legal_rep"]] = p.legal_rep or ""
    values[_SLOT["id_masked"]] = mask_id_number(p.id_number) if p.id_number else ""
    values[_SLOT["id_plain"]] = p.id_number or ""
    return values


def _slotted(value: Any, replacements: list[tuple[str, str]]) -> Any:
    if isinstance(value, str):
        for old, mark in replacements:
            if old in value:
                value = value.replace(old, mark)
        return value
    if isinstance(value, list):
        return [_slotted(item, replacements) for item in value]
    return value


EntryMaker = Callable[[str, PreparedRow], EntryTemplate | None]


def _template(
    row: PreparedRow,
    profile: SubjectProfile,
    resource: str,
    resource_id: int,
    unit: tuple[int, str],
    entry_of: EntryMaker,
) -> Template:
    known = [
        (row.doc_no, "doc_no"),
        (profile.name, "name"),
        (profile.former_name or "", "name"),
        (profile.uscc if profile.uscc != USCC_PLACEHOLDER else "", "uscc"),
        (profile.registration_no or "", "gszc"),
        (profile.org_code or "", "zzjg"),
        (profile.legal_rep or "", "legal_rep"),
        (mask_id_number(profile.id_number) if profile.id_number else "", "id_masked"),
        (profile.id_number or "", "id_plain"),
    ]
    # Longest first: a USCC contains its organisation code, a company name may contain its owner's surname.
    replacements = sorted(((old, _mark(slot)) for old, slot in known if old), key=lambda r: -len(r[0]))
    payload = {code: _slotted(value, replacements) for code, value in row.payload.items()}
    pii = {code: _slotted(value, replacements) for code, value in row.pii.items()}
    slotted = replace(row, payload=payload, pii=pii)
    match = _SERIAL_RE.match(row.doc_no)
    head, tail = (match.group(1), match.group(3)) if match else (row.doc_no + "-", "")
    return Template(
        resource_id=resource_id,
        unit_id=unit[0],
        region=unit[1],
        doc_head=head,
        doc_tail=tail,
        decision_date=row.decision_date,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        publish_until=row.publish_until,
        severity=row.severity,
        status=row.status,
        subject_kind=row.subject.kind,
        payload=Filler.of(orjson.dumps(payload).decode()),
        canonical=Filler.of(content_text(slotted)),
        pii=Filler.of(orjson.dumps(pii, option=orjson.OPT_SORT_KEYS).decode()) if pii else None,
        entry=entry_of(resource, replace(slotted, doc_no=_mark("doc_no"))),
    )


def entry_maker(engine: Engine) -> EntryMaker:
    """Builds a record template's list entry with the lists domain's own mapping and values."""
    from xinyong.catalog.models import Resource
    from xinyong.lists import service as lists
    from xinyong.records.models import Record

    with session_scope(engine) as session:
        index = lists.feed_index(session=session)
        roles = {code: r or {} for code, r in session.execute(sa.select(Resource.code, Resource.roles))}
        session.expunge_all()  # the list types stay usable, detached, for the whole load

    def make(resource: str, row: PreparedRow) -> EntryTemplate | None:
        if not any(code == resource for code, _ in index):
            return None
        record = Record(
            payload=row.payload,
            decision_date=row.decision_date,
            valid_to=row.valid_to,
            doc_no=row.doc_no,
            origin="local",
        )
        fed = lists.entry_from_record(index=index, resource_code=resource, roles=roles[resource], record=record)
        if fed is None:
            return None
        list_type, values = fed
        return EntryTemplate(
            list_type_id=list_type.id,
            reason=Filler.of(values["reason"]),
            authority=Filler.of(values["authority"]) if values["authority"] else None,
            listed_on=values["listed_on"],
            expires_on=values["expires_on"],
            origin=values["origin"],
            legal_rep=Filler.of(values["legal_rep_name"]) if values["legal_rep_name"] else None,
        )

    return make


@dataclass
class Pool:
    """Record sets of the pool subjects, grouped by ``_subject_key``."""

    by_key: dict[tuple[Any, ...], list[tuple[Template, ...]]] = field(default_factory=dict)
    by_shape: dict[tuple[Any, ...], list[tuple[Template, ...]]] = field(default_factory=dict)
    records: int = 0
    subjects: int = 0


def build_pool(
    data: DemoData,
    size: int,
    resource_ids: dict[str, int],
    units: dict[str, tuple[int, str]],
    today: dt.date,
    entry_of: EntryMaker,
) -> Pool:
    """Generate ``size`` pool subjects' records and prepare each through the pipeline's ``prepare_row``."""
    specs = builtin_specs()
    pool_data = DemoData(
        subjects=size,
        seed=data.seed,
        records_per_subject=data.records_per_subject,
        region=data.region,
        today=today,
        resources=tuple(r for r in ALL_RESOURCES if r != v.GOVERNMENT),
    )
    pool = Pool()
    current: list[Template] = []
    profile: SubjectProfile | None = None

    def close() -> None:
        if profile is not None:
            key = _subject_key(profile)
            pool.by_key.setdefault(key, []).append(tuple(current))
            pool.by_shape.setdefault(key[:4], []).append(tuple(current))
            pool.subjects += 1

    for generated in pool_data.records():
        if profile is None or generated.subject_index != profile.index:
            close()
            profile, current = pool_data.subject(generated.subject_index), []
        prepared = prepare_row(specs[generated.resource], RawRow(0, generated.fields, generated.fields), today=today)
        if isinstance(prepared, list):  # the generator only writes valid rows; a rejected one is a bug there
            raise ValueError(f"生成的记录未通过校验：{prepared[0].message}")
        current.append(
            _template(
                prepared,
                profile,
                generated.resource,
                resource_ids[generated.resource],
                units[generated.unit.uscc],
                entry_of,
            )
        )
        pool.records += 1
    close()
    return pool


def _pick(seed: int, index: int) -> int:
    """A well-mixed 64-bit hash of (seed, index) (splitmix64), to choose a bulk subject's pool record set."""
    z = (seed * 0x9E3779B97F4A7C15 + index * 0xBF58476D1CE4E5B9 + 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return z ^ (z >> 31)


# ---------------------------------------------------------------------------------------------------------------
# Rows


@dataclass
class SubjectRows:
    subject: Any  # PostgreSQL: COPY lines; SQLite: tuples
    names: list[Any]
    codes: list[Any]
    records: list[Any]
    entries: list[Any]


class Dialect:
    """How one engine wants values: PostgreSQL COPY text, or Python values for sqlite3."""

    def __init__(self, name: str) -> None:
        self.name = name
        if name == "postgresql":
            self.date: Callable[[dt.date | None], Any] = lambda day: day.isoformat() if day is not None else None
            self.stamp: Callable[[dt.datetime], Any] = dt.datetime.isoformat
        else:
            dialect = sqlite_dialect.dialect()
            date_bind = sa.Date().dialect_impl(dialect).bind_processor(dialect)
            stamp_bind = UTCDateTime().bind_processor(dialect)
            assert date_bind is not None and stamp_bind is not None
            self.date = lambda day: date_bind(day) if day is not None else None
            self.stamp = stamp_bind

    def line(self, values: Sequence[Any]) -> Any:
        """A row in this engine's form (a COPY line on PostgreSQL; a tuple on SQLite)."""
        if self.name == "postgresql":
            return "\t".join([_pg_text(value) for value in values]) + "\n"
        return tuple(self.stamp(v) if isinstance(v, dt.datetime) else v for v in values)


@dataclass(frozen=True)
class Compiled:
    """A template in one engine's form: fillers and the constant tail of its row."""

    payload: Filler
    canonical: Filler
    pii: Filler | None
    doc_head: str
    doc_tail: str
    received: tuple[Any, ...]  # by receipt delay 0–11
    tail: Any  # the constant columns: a COPY text ending in a newline, or a tuple
    entry_reason: Filler | None = None
    entry_authority: Filler | None = None
    entry_legal_rep: Filler | None = None
    entry_tail: Any = None


def _compile(t: Template, d: Dialect, today: dt.date, now: dt.datetime) -> Compiled:
    postgres = d.name == "postgresql"
    copy_text: Callable[[str], str] = _pg_text if postgres else (lambda text: text)
    tail = (
        t.resource_id,
        t.unit_id,
        d.date(t.decision_date),
        d.date(t.valid_from),
        d.date(t.valid_to),
        d.date(t.publish_until),
        t.severity,
        t.status,
        False,
        t.region,
        t.subject_kind,
        1,
        "local",
    )
    received = tuple(d.stamp(receipt_time(0, t.decision_date or today, now, days=days)) for days in range(12))
    entry: dict[str, Any] = {}
    if (e := t.entry) is not None:
        entry = {
            "entry_reason": e.reason.mapped(copy_text),
            "entry_authority": e.authority.mapped(copy_text) if e.authority else None,
            "entry_legal_rep": e.legal_rep.mapped(copy_text) if e.legal_rep else None,
            "entry_tail": _tail(
                d,
                (
                    e.list_type_id,
                    "listed",
                    False,
                    d.date(e.listed_on),
                    d.date(e.expires_on),
                    e.origin,
                    BULK_ACTOR.name,
                    now,
                    now,
                ),
            ),
        }
    return Compiled(
        payload=t.payload.mapped(copy_text),
        canonical=t.canonical,
        pii=t.pii,
        doc_head=t.doc_head,
        doc_tail=t.doc_tail,
        received=received,
        tail=_tail(d, tail),
        **entry,
    )


def _tail(d: Dialect, values: tuple[Any, ...]) -> Any:
    if d.name == "postgresql":
        return "\t".join(_pg_text(v) for v in values) + "\n"
    return tuple(d.stamp(v) if isinstance(v, dt.datetime) else v for v in values)


class Producer:
    """Turns subject indexes into table rows for one engine."""

    def __init__(self, data: DemoData, pool: Pool, now: dt.datetime, dialect: Dialect) -> None:
        self.data = data
        self.now = now
        self.today = data.today
        self.d = dialect
        self.encrypt = bulk_encrypter()
        self.keyed_hash = bulk_keyed_hasher()
        compiled: dict[int, Compiled] = {}

        def sets(groups: dict[tuple[Any, ...], list[tuple[Template, ...]]]) -> dict[Any, list[tuple[Compiled, ...]]]:
            out: dict[Any, list[tuple[Compiled, ...]]] = {}
            for key, group in groups.items():
                for record_set in group:
                    for t in record_set:
                        if id(t) not in compiled:
                            compiled[id(t)] = _compile(t, dialect, self.today, now)
                    out.setdefault(key, []).append(tuple(compiled[id(t)] for t in record_set))
            return out

        self.by_key = sets(pool.by_key)
        self.by_shape = sets(pool.by_shape)

    def record_set(self, profile: SubjectProfile, pick: int) -> tuple[Compiled, ...]:
        key = _subject_key(profile)
        group = self.by_key.get(key) or self.by_shape.get(key[:4]) or [()]
        return group[pick % len(group)]

    def subject_rows(self, index: int) -> SubjectRows:
        p = self.data.subject(index)
        sid = index + 1
        now = self.now
        person = p.kind == SubjectKind.NATURAL_PERSON.value and p.id_number is not None
        uscc = p.uscc if p.uscc and p.uscc != USCC_PLACEHOLDER else None
        line = self.d.line
        subject = line(
            (
                sid,
                p.kind,
                uscc,
                p.name,
                p.region,
                SubjectStatus.ACTIVE.value,
                p.legal_rep,
                self.keyed_hash(p.id_number) if person and p.id_number else None,
                self.encrypt(p.id_number) if person and p.id_number else None,
                mask_id_number(p.id_number) if person and p.id_number else None,
                False,
                now,
                now,
            )
        )
        names = [line((sid * NAME_STRIDE - 1, sid, p.name, now, now, "bulk", True, p.kind, p.region, False))]
        if p.former_name:
            names.append(
                line((sid * NAME_STRIDE, sid, p.former_name, now, now, "bulk", False, p.kind, p.region, False))
            )
        codes = []
        if p.registration_no:
            codes.append(line((sid * CODE_STRIDE - 1, sid, "gszc", p.registration_no, now)))
        if p.org_code:
            codes.append(line((sid * CODE_STRIDE, sid, "zzjg", p.org_code, now)))
        values = _identity(p)
        name = p.name
        records: list[Any] = []
        entries: list[Any] = []
        doc = _SLOT["doc_no"]
        base = index * RECORD_STRIDE
        postgres = self.d.name == "postgresql"
        encrypt, keyed_hash = self.encrypt, self.keyed_hash
        for k, t in enumerate(self.record_set(p, _pick(self.data.seed, index))[: RECORD_STRIDE - 1]):
            rid = base + k + 1
            doc_no = f"{t.doc_head}{rid}{t.doc_tail}"
            values[doc] = doc_no
            received = t.received[receipt_delay(rid)]
            payload = t.payload.fill(values)
            cipher = encrypt(t.pii.fill(values)) if t.pii is not None else None
            digest = keyed_hash(t.canonical.fill(values))
            if postgres:
                pii_text = _NULL if cipher is None else "\\\\x" + cipher.hex()
                records.append(
                    f"{rid}\t{sid}\t{doc_no}\t{name}\t{payload}\t{pii_text}\t{digest}\t{received}\t{received}\t{t.tail}"
                )
            else:
                records.append((rid, sid, doc_no, name, payload, cipher, digest, received, received, *t.tail))
            if t.entry_reason is not None:
                reason = t.entry_reason.fill(values)
                authority = t.entry_authority.fill(values) if t.entry_authority else None
                legal_rep = t.entry_legal_rep.fill(values) if t.entry_legal_rep else None
                if postgres:
                    entries.append(
                        f"{rid}\t{sid}\t{rid}\t{doc_no}\t{reason}\t{authority or _NULL}\t"
                        f"{legal_rep or _NULL}\t{t.entry_tail}"
                    )
                else:
                    entries.append((rid, sid, rid, doc_no, reason, authority, legal_rep, *t.entry_tail))
        return SubjectRows(subject, names, codes, records, entries)


# ---------------------------------------------------------------------------------------------------------------
# PostgreSQL: COPY text from several processes


_NULL = "\\N"  # COPY text's NULL


@dataclass
class CopyBlock:
    """One block of subjects as COPY text, table by table: (table, columns, lines)."""

    subjects: int
    records: int
    tables: list[tuple[str, str, list[str]]]


def _pg_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, bytes):
        return "\\\\x" + value.hex()
    if isinstance(value, dt.datetime):
        return value.isoformat()
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def copy_blocks(producer: Producer, start: int, stop: int, block: int) -> Iterator[CopyBlock]:
    """Subjects ``start`` … ``stop - 1`` as PostgreSQL COPY text, ``block`` subjects at a time: what one loading
    process writes (and what ``bench/generate.py`` times without a database)."""
    for first in range(start, stop, block):
        rows = [producer.subject_rows(i) for i in range(first, min(stop, first + block))]
        yield CopyBlock(
            subjects=len(rows),
            records=sum(len(r.records) for r in rows),
            tables=[
                ("subject", SUBJECT_COLUMNS, [r.subject for r in rows]),
                ("subject_name", NAME_COLUMNS, [n for r in rows for n in r.names]),
                ("subject_code", CODE_COLUMNS, [c for r in rows for c in r.codes]),
                ("record", RECORD_COLUMNS, [x for r in rows for x in r.records]),
                ("list_entry", ENTRY_COLUMNS, [x for r in rows for x in r.entries]),
            ],
        )


def _pg_worker(
    conninfo: str, data: DemoData, pool: Pool, now: dt.datetime, start: int, stop: int, block: int, done: Any
) -> None:
    import psycopg

    producer = Producer(data, pool, now, Dialect("postgresql"))
    with psycopg.connect(conninfo) as conn:
        conn.execute("SET session_replication_role = replica")  # no FK checks row by row (see the module doc)
        conn.execute("SET synchronous_commit = off")
        for produced in copy_blocks(producer, start, stop, block):
            with conn.cursor() as cur:
                for table, columns, lines in produced.tables:
                    if not lines:
                        continue
                    with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                        for part in range(0, len(lines), 5000):
                            copy.write("".join(lines[part : part + 5000]))
            conn.commit()
            with done.get_lock():
                done[0] += produced.subjects
                done[1] += produced.records


# ---------------------------------------------------------------------------------------------------------------
# Indexes: dropped for the load, rebuilt after


def _pg_secondary(conn: sa.Connection) -> list[tuple[str, str]]:
    """(drop, create) statements for the loaded tables' indexes and unique constraints, primary keys excepted."""
    tables = ", ".join(f"'{t}'::regclass" for t in TABLES)
    out: list[tuple[str, str]] = []
    for table, name, definition in conn.execute(
        sa.text(
            f"SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            f"WHERE conrelid IN ({tables}) AND contype = 'u' AND conparentid = 0 "
            f"AND NOT EXISTS (SELECT 1 FROM pg_constraint f "
            f"WHERE f.contype = 'f' AND f.conindid = pg_constraint.conindid)"
        )
    ):
        out.append(
            (
                f'ALTER TABLE {table} DROP CONSTRAINT "{name}"',
                f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}',
            )
        )
    for name, definition in conn.execute(
        sa.text(
            f"SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            f"WHERE i.indrelid IN ({tables}) AND NOT i.indisprimary "
            f"AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"
        )
    ):
        # A partitioned table's index is reported as "ON ONLY record": recreated that way it would be an empty,
        # invalid parent with no index on any partition, so every lookup by subject would scan a whole partition.
        out.append((f"DROP INDEX {name}", definition.replace(" ON ONLY ", " ON ", 1)))
    return out


def _sqlite_secondary(conn: sa.Connection) -> list[tuple[str, str]]:
    tables = ", ".join(f"'{t}'" for t in TABLES)
    rows = conn.execute(
        sa.text(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ({tables}) AND sql IS NOT NULL"
        )
    )
    return [(f'DROP INDEX "{name}"', sql) for name, sql in rows]


# ---------------------------------------------------------------------------------------------------------------
# Orchestration


@dataclass
class BulkResult:
    subjects: int
    records: int
    seed: int
    jobs: int
    pool_subjects: int
    pool_records: int
    list_entries: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    def as_detail(self) -> dict[str, Any]:
        return {
            "subjects": self.subjects,
            "records": self.records,
            "seed": self.seed,
            "jobs": self.jobs,
            "pool_subjects": self.pool_subjects,
            "pool_records": self.pool_records,
            "list_entries": self.list_entries,
            "seconds": {k: round(s, 1) for k, s in self.seconds.items()},
        }


def prepare(
    *, engine: Engine, subjects: int, records: int, seed: int, region: str, pool: int, say: Say
) -> tuple[DemoData, Pool, dt.datetime]:
    """Everything before the rows: migrate the empty database, register the units, and build the record templates
    (the generator's data, the pool, and the load's ``now``)."""
    if subjects < 1 or records < subjects:
        raise ValueError("subjects must be at least 1 and records at least subjects")
    upgrade_database(engine)
    with engine.connect() as conn:
        if conn.execute(sa.text("SELECT 1 FROM subject LIMIT 1")).first() is not None:
            raise Conflict("数据库中已有信用主体；批量生成只写入空库（请换一个数据库或先清空）")
    today, now = clock.today(), clock.now()
    data = DemoData(subjects=subjects, seed=seed, records_per_subject=records / subjects, region=region, today=today)
    register_units(engine, data.units)
    with engine.connect() as conn:
        resource_ids: dict[str, int] = {
            code: rid for code, rid in conn.execute(sa.text("SELECT code, id FROM resource"))
        }
        units = {
            uscc: (uid, reg) for uscc, uid, reg in conn.execute(sa.text("SELECT uscc, id, region FROM source_unit"))
        }
    pool_size = min(pool, subjects)
    say(f"准备记录模板：用演示生成器生成 {pool_size:,} 个主体的记录，逐条经归集校验")
    return data, build_pool(data, pool_size, resource_ids, units, today, entry_maker(engine)), now


def bulk_load(
    *,
    engine: Engine,
    subjects: int,
    records: int,
    seed: int = 20250101,
    region: str,
    jobs: int = 1,
    pool: int = DEFAULT_POOL,
    block: int = 2000,
    say: Say | None = None,
    advance: Advance | None = None,
) -> BulkResult:
    """Migrate, register the units and write ``subjects`` subjects with about ``records`` records into an empty
    database (the count follows the generator's skewed per-subject distribution around ``records / subjects``)."""
    tell = say or (lambda _message: None)
    step = advance or (lambda _stage, _done, _total: None)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    data, templates, now = prepare(
        engine=engine, subjects=subjects, records=records, seed=seed, region=region, pool=pool, say=tell
    )
    timings["pool"] = time.perf_counter() - started
    result = BulkResult(subjects, 0, seed, jobs, templates.subjects, templates.records)

    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        secondary = _pg_secondary(conn) if postgres else _sqlite_secondary(conn)
        for drop, _ in secondary:
            conn.execute(sa.text(drop))
    how = f"COPY，{jobs} 个进程" if postgres else f"executemany，{jobs} 个进程生成"
    tell(f"写入 {subjects:,} 个主体（约 {records:,} 条记录），{how}")
    started = time.perf_counter()
    if postgres:
        result.records = _load_postgres(engine, data, templates, now, jobs, block, step)
    else:
        result.records = _load_sqlite(engine, data, templates, now, block, jobs, step)
    timings["load"] = time.perf_counter() - started

    tell(f"重建 {len(secondary)} 个索引与约束")
    started = time.perf_counter()
    with engine.connect() as conn:
        if postgres:
            conn.execute(sa.text("SET maintenance_work_mem = '1GB'"))
            conn.execute(sa.text("SET max_parallel_maintenance_workers = 2"))
        for n, (_, create) in enumerate(secondary):
            step("index", n, len(secondary))
            conn.execute(sa.text(create))
            conn.commit()
        step("index", len(secondary), len(secondary))
        if postgres:
            for table, stride in (("subject", 1), ("subject_name", NAME_STRIDE), ("subject_code", CODE_STRIDE)):
                conn.execute(
                    sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), :n)"), {"n": subjects * stride}
                )
            for table in ("record", "list_entry"):
                conn.execute(
                    sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), :n)"),
                    {"n": subjects * RECORD_STRIDE},
                )
            conn.commit()
    timings["index"] = time.perf_counter() - started

    with engine.connect() as conn:
        result.list_entries = conn.execute(sa.text("SELECT count(*) FROM list_entry")).scalar_one()

    tell("更新统计信息（VACUUM ANALYZE / ANALYZE）")
    started = time.perf_counter()
    if postgres:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in TABLES:
                conn.execute(sa.text(f"VACUUM ANALYZE {table}"))
    else:
        with engine.begin() as conn:
            conn.execute(sa.text("ANALYZE"))
    timings["analyze"] = time.perf_counter() - started
    result.seconds = timings
    with session_scope(engine, write=True) as session:
        audit.record(
            session=session,
            actor=BULK_ACTOR,
            action=BULK_ACTION,
            target_type="database",
            detail={**result.as_detail(), "today": data.today.isoformat()},
        )
    return result


def _ranges(subjects: int, jobs: int) -> list[tuple[int, int]]:
    size = -(-subjects // jobs)
    return [(start, min(subjects, start + size)) for start in range(0, subjects, size)]


def _load_postgres(
    engine: Engine, data: DemoData, pool: Pool, now: dt.datetime, jobs: int, block: int, step: Advance
) -> int:
    conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    context = mp.get_context("fork")  # the pool is shared with the workers, not pickled
    done = context.Array("q", 2)
    workers = [
        context.Process(target=_pg_worker, args=(conninfo, data, pool, now, start, stop, block, done), daemon=True)
        for start, stop in _ranges(data.subject_count, max(1, jobs))
    ]
    for worker in workers:
        worker.start()
    try:
        while any(w.is_alive() for w in workers):
            time.sleep(0.5)
            step("load", done[0], data.subject_count)
            if any(w.exitcode not in (None, 0) for w in workers):
                break
    finally:
        for worker in workers:
            if worker.exitcode is None and any(w.exitcode not in (None, 0) for w in workers):
                worker.terminate()
            worker.join()
    failed = [w.exitcode for w in workers if w.exitcode != 0]
    if failed:
        raise RuntimeError(f"批量写入进程失败（退出码 {failed}）")
    step("load", data.subject_count, data.subject_count)
    return int(done[1])


_BLOCK_PRODUCER: Producer | None = None  # set in the parent before forking the SQLite row producers


def _sqlite_block(bounds: tuple[int, int]) -> list[list[Any]]:
    """One block of subjects' rows, table by table (run in a forked producer process)."""
    assert _BLOCK_PRODUCER is not None
    rows = [_BLOCK_PRODUCER.subject_rows(i) for i in range(*bounds)]
    return [
        [r.subject for r in rows],
        [n for r in rows for n in r.names],
        [c for r in rows for c in r.codes],
        [x for r in rows for x in r.records],
        [x for r in rows for x in r.entries],
    ]


def _bounded(workers: Any, blocks: list[tuple[int, int]], ahead: int) -> Iterator[list[list[Any]]]:
    """The blocks' rows in order, at most ``ahead`` blocks in flight: producers never run far ahead of the writer
    (``Pool.imap`` would queue every finished block in memory)."""
    pending: deque[Any] = deque()
    upcoming = iter(blocks)
    for bounds in itertools.islice(upcoming, ahead):
        pending.append(workers.apply_async(_sqlite_block, (bounds,)))
    while pending:
        tables = pending.popleft().get()
        following = next(upcoming, None)
        if following is not None:
            pending.append(workers.apply_async(_sqlite_block, (following,)))
        yield tables


def _load_sqlite(
    engine: Engine, data: DemoData, pool: Pool, now: dt.datetime, block: int, jobs: int, step: Advance
) -> int:
    """One writer (SQLite has one); with ``jobs`` > 1 the rows are produced by that many forked processes, in order."""
    global _BLOCK_PRODUCER
    _BLOCK_PRODUCER = Producer(data, pool, now, Dialect("sqlite"))
    statements = [
        f"INSERT INTO {table} ({columns}) VALUES ({', '.join('?' * len(columns.split(',')))})"
        for table, columns in (
            ("subject", SUBJECT_COLUMNS),
            ("subject_name", NAME_COLUMNS),
            ("subject_code", CODE_COLUMNS),
            ("record", RECORD_COLUMNS),
            ("list_entry", ENTRY_COLUMNS),
        )
    ]
    blocks = [(first, min(data.subject_count, first + block)) for first in range(0, data.subject_count, block)]
    per_commit = max(1, 50_000 // block)  # blocks per transaction
    workers = mp.get_context("fork").Pool(jobs) if jobs > 1 else None
    produced = _bounded(workers, blocks, ahead=2 * jobs) if workers else map(_sqlite_block, blocks)
    written = 0
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA cache_size = -512000")  # 500 MB of page cache for this connection's big transactions
        cursor.execute("BEGIN")
        for n, ((_, last), tables) in enumerate(zip(blocks, produced, strict=True), start=1):
            for statement, rows in zip(statements, tables, strict=True):
                cursor.executemany(statement, rows)
            written += len(tables[3])
            if n % per_commit == 0 or n == len(blocks):
                cursor.execute("COMMIT")
                step("load", last, data.subject_count)
                if n < len(blocks):
                    cursor.execute("BEGIN")
    finally:
        raw.close()
        if workers:
            workers.terminate()
        _BLOCK_PRODUCER = None
    return written


def iter_subject_rows(data: DemoData, pool: Pool, now: dt.datetime, engine: str = "sqlite") -> Iterator[SubjectRows]:
    """Every subject's rows in index order, in ``engine``'s form (for tests and tools that want rows, not a load)."""
    producer = Producer(data, pool, now, Dialect(engine))
    for index in range(data.subject_count):
        yield producer.subject_rows(index)
