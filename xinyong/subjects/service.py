"""Linking incoming rows to 信用主体, in bulk.

The collection pipeline hands over one chunk of subject references at a time. Every lookup is one set-based query
per chunk (all USCCs, all legacy codes, all ID hashes at once) and every write is one multi-row INSERT, so linking
costs a handful of statements per chunk whatever its size. Inserts use ``ON CONFLICT DO NOTHING`` followed by a
re-select, so two writers creating the same subject at the same moment (PostgreSQL) end with one subject, both linked
to it.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from xinyong.core.crypto import encrypt, keyed_hash
from xinyong.core.text import name_key
from xinyong.ingest.types import SubjectRef
from xinyong.subjects.codes import mask_id_number, uscc_region
from xinyong.subjects.models import Subject, SubjectCode, SubjectKind, SubjectName, SubjectStatus

_subject = cast(sa.Table, Subject.__table__)
_subject_code = cast(sa.Table, SubjectCode.__table__)
_subject_name = cast(sa.Table, SubjectName.__table__)

# One IN (...) list stays well under SQLite's 32,766 bound parameters and PostgreSQL's 65,535.
_IN_CHUNK = 5000


@dataclass
class LinkOutcome:
    """The subject each reference was linked to (in input order; None if it carried no identifier)."""

    subject_ids: list[int | None]
    created: int = 0
    name_conflicts: int = 0
    created_ids: set[int] = field(default_factory=set)


def insert_ignoring_conflicts(session: Session, table: sa.Table, *returning: str) -> Any:
    """``INSERT … ON CONFLICT DO NOTHING`` in the session's dialect, ``RETURNING`` the columns named, if any."""
    return _ignoring_conflicts(session.get_bind().dialect.name, table, returning)


# Statements the collection pipeline runs in every chunk are built once, not per call: building one and computing its
# cache key costs more than running a small one (~0.3 ms against ~0.04 ms for a batch's counter update on SQLite),
# and on SQLite a chunk runs while holding the one write lock (docs/benchmarks.md, "Soak", session 15). A statement is
# immutable, so sharing it is safe; values go in as bound parameters, lists through expanding ones.
@functools.cache
def _ignoring_conflicts(dialect: str, table: sa.Table, returning: tuple[str, ...]) -> Any:
    if dialect == "postgresql":
        statement: Any = postgresql.insert(table).on_conflict_do_nothing()
    elif dialect == "sqlite":
        statement = sqlite.insert(table).on_conflict_do_nothing()
    else:
        raise NotImplementedError(f"unsupported database: {dialect}")
    return statement.returning(*(table.c[name] for name in returning)) if returning else statement


@functools.cache
def _subjects_by(column: str) -> sa.Select[tuple[Any, int, str]]:
    key = _subject.c[column]
    return sa.select(key, _subject.c.id, _subject.c.name).where(key.in_(sa.bindparam("values", expanding=True)))


def _chunks(values: Sequence[Any]) -> list[Sequence[Any]]:
    return [values[i : i + _IN_CHUNK] for i in range(0, len(values), _IN_CHUNK)]


def _pairs(session: Session, column: str, values: Sequence[Any], names: dict[int, str]) -> dict[Any, int]:
    """``{column value: subject id}`` for the subjects whose ``column`` is in ``values``; their names into ``names``."""
    found: dict[Any, int] = {}
    for key, subject_id, name in session.execute(_subjects_by(column), {"values": list(values)}):
        found[key] = subject_id
        names[subject_id] = name
    return found


def _names(session: Session, ids: Sequence[int]) -> dict[int, str]:
    return {subject_id: name for subject_id, name in session.execute(_NAMES, {"ids": list(ids)})}


_NAMES = sa.select(_subject.c.id, _subject.c.name).where(_subject.c.id.in_(sa.bindparam("ids", expanding=True)))
# The names a subject has had (its name history), and a new one.
_HISTORY = sa.select(_subject_name.c.subject_id, _subject_name.c.name).where(
    _subject_name.c.subject_id.in_(sa.bindparam("ids", expanding=True))
)
_ADD_NAMES = sa.insert(_subject_name)


def _identity(ref: SubjectRef, id_hash: str | None) -> tuple[str, ...] | None:
    """The key under which a new subject is created (and two rows of one chunk recognised as the same subject)."""
    if ref.uscc:
        return ("uscc", ref.uscc)
    if id_hash:
        return ("id", id_hash)
    for code_type, code in sorted(ref.legacy_codes.items()):
        return ("code", code_type, code)
    return None


def link_subjects(
    *,
    session: Session,
    refs: Sequence[SubjectRef],
    fallback_regions: Sequence[str | None],
    sources: Sequence[str],
    now: dt.datetime,
) -> LinkOutcome:
    """Find or create the subject of every reference; record legacy codes and name history on the way.

    ``fallback_regions[i]`` is the region of the unit that sent reference i, used when the subject has no USCC to read
    its registration region from; ``sources[i]`` (the unit's code) is written into the name history.
    """
    id_hashes = [keyed_hash(ref.id_number) if ref.id_number and not ref.uscc else None for ref in refs]
    names: dict[int, str] = {}  # subject id → current name, as far as the lookups fetched it
    by_uscc, by_hash, by_code = _existing(session, refs, id_hashes, names)

    def resolve(ref: SubjectRef, id_hash: str | None) -> int | None:
        if ref.uscc and ref.uscc in by_uscc:
            return by_uscc[ref.uscc]
        if id_hash and id_hash in by_hash:
            return by_hash[id_hash]
        for code_type, code in sorted(ref.legacy_codes.items()):
            found = by_code.get((code_type, code))
            if found is not None and not ref.uscc:
                return found
        return None

    # Create the unknown subjects, one per identity key.
    wanted: dict[tuple[str, ...], dict[str, Any]] = {}
    for ref, id_hash, region in zip(refs, id_hashes, fallback_regions, strict=True):
        if resolve(ref, id_hash) is not None:
            continue
        key = _identity(ref, id_hash)
        if key is None or key in wanted:
            continue
        wanted[key] = _new_subject(ref, id_hash, region, now)
    created_ids: set[int] = set()
    if wanted:
        created_ids = _create(session, list(wanted.values()), by_uscc, by_hash, by_code, names)

    subject_ids = [resolve(ref, h) for ref, h in zip(refs, id_hashes, strict=True)]
    _record_codes(session, refs, subject_ids, by_code, now)
    conflicts = _record_names(session, refs, subject_ids, created_ids, sources, names, now)
    return LinkOutcome(
        subject_ids=subject_ids, created=len(created_ids), name_conflicts=conflicts, created_ids=created_ids
    )


def _existing(
    session: Session, refs: Sequence[SubjectRef], id_hashes: Sequence[str | None], names: dict[int, str]
) -> tuple[dict[str, int], dict[str, int], dict[tuple[str, str], int]]:
    usccs = sorted({ref.uscc for ref in refs if ref.uscc})
    hashes = sorted({h for h in id_hashes if h})
    pairs = {(t, c) for ref in refs for t, c in ref.legacy_codes.items()}
    by_uscc: dict[str, int] = {}
    for part in _chunks(usccs):
        by_uscc.update(_pairs(session, "uscc", part, names))
    by_hash: dict[str, int] = {}
    for part in _chunks(hashes):
        by_hash.update(_pairs(session, "id_hash", part, names))
    by_code: dict[tuple[str, str], int] = {}
    if pairs:
        types = sorted({t for t, _ in pairs})
        for part in _chunks(sorted({c for _, c in pairs})):
            query = sa.select(_subject_code.c.code_type, _subject_code.c.code, _subject_code.c.subject_id).where(
                _subject_code.c.code_type.in_(types), _subject_code.c.code.in_(part)
            )
            for code_type, code, subject_id in session.execute(query):
                if (code_type, code) in pairs:
                    by_code[(code_type, code)] = subject_id
    return by_uscc, by_hash, by_code


def _new_subject(ref: SubjectRef, id_hash: str | None, fallback_region: str | None, now: dt.datetime) -> dict[str, Any]:
    region = (uscc_region(ref.uscc) if ref.uscc else None) or fallback_region
    person = ref.kind == SubjectKind.NATURAL_PERSON.value and ref.id_number is not None and not ref.uscc
    return {
        "kind": ref.kind,
        "uscc": ref.uscc,
        "name": ref.name,
        "region": region,
        "status": SubjectStatus.ACTIVE.value,
        "legal_rep": ref.legal_rep,
        "id_hash": id_hash,
        "id_cipher": encrypt(ref.id_number) if person and ref.id_number else None,
        "id_masked": mask_id_number(ref.id_number) if person and ref.id_number else None,
        "name_conflict": False,
        "created_at": now,
        "updated_at": now,
        # Carried only to find the row again after the insert; not a column.
        "_codes": dict(ref.legacy_codes),
    }


def _create(
    session: Session,
    rows: list[dict[str, Any]],
    by_uscc: dict[str, int],
    by_hash: dict[str, int],
    by_code: dict[tuple[str, str], int],
    names: dict[int, str],
) -> set[int]:
    """Insert new subjects; fill the lookup maps with their ids. Returns the ids this call actually created."""
    keyed = [r for r in rows if r["uscc"] or r["id_hash"]]
    code_only = [r for r in rows if not (r["uscc"] or r["id_hash"])]
    created: set[int] = set()
    if keyed:
        statement = insert_ignoring_conflicts(session, _subject, "id", "name")
        for subject_id, name in session.execute(
            statement, [{k: v for k, v in r.items() if k != "_codes"} for r in keyed]
        ):
            created.add(subject_id)
            names[subject_id] = name
        # Re-select: the rows a concurrent writer created in the meantime were skipped by ON CONFLICT.
        usccs = [r["uscc"] for r in keyed if r["uscc"]]
        hashes = [r["id_hash"] for r in keyed if r["id_hash"] and not r["uscc"]]
        for part in _chunks(usccs):
            by_uscc.update(_pairs(session, "uscc", part, names))
        for part in _chunks(hashes):
            by_hash.update(_pairs(session, "id_hash", part, names))
    for row in code_only:
        # A subject known only by a legacy code (an individual business without USCC): the code mapping is its
        # identity, so claim the code first and create the subject only if the claim succeeded.
        subject_id = session.execute(
            sa.insert(_subject).returning(_subject.c.id), {k: v for k, v in row.items() if k != "_codes"}
        ).scalar_one()
        code_type, code = sorted(row["_codes"].items())[0]
        claimed = session.execute(
            insert_ignoring_conflicts(session, _subject_code, "id"),
            {"subject_id": subject_id, "code_type": code_type, "code": code, "created_at": row["created_at"]},
        ).first()
        if claimed is None:
            session.execute(sa.delete(_subject).where(_subject.c.id == subject_id))
            owner = session.execute(
                sa.select(_subject_code.c.subject_id).where(
                    _subject_code.c.code_type == code_type, _subject_code.c.code == code
                )
            ).scalar_one()
            by_code[(code_type, code)] = owner
        else:
            by_code[(code_type, code)] = subject_id
            created.add(subject_id)
            names[subject_id] = row["name"]
    return created


def _record_codes(
    session: Session,
    refs: Sequence[SubjectRef],
    subject_ids: Sequence[int | None],
    by_code: dict[tuple[str, str], int],
    now: dt.datetime,
) -> None:
    """Add the legacy codes rows carry to the code mapping (a code already mapped keeps its subject)."""
    new: dict[tuple[str, str], dict[str, Any]] = {}
    for ref, subject_id in zip(refs, subject_ids, strict=True):
        if subject_id is None:
            continue
        for code_type, code in ref.legacy_codes.items():
            if (code_type, code) not in by_code and (code_type, code) not in new:
                new[(code_type, code)] = {
                    "subject_id": subject_id,
                    "code_type": code_type,
                    "code": code,
                    "created_at": now,
                }
    if new:
        session.execute(insert_ignoring_conflicts(session, _subject_code), list(new.values()))
        for key, row in new.items():
            by_code.setdefault(key, row["subject_id"])


def _record_names(
    session: Session,
    refs: Sequence[SubjectRef],
    subject_ids: Sequence[int | None],
    created_ids: set[int],
    sources: Sequence[str],
    current: dict[int, str],
    now: dt.datetime,
) -> int:
    """Start the name history of new subjects; keep a different name for a known subject and flag it.

    Returns how many subjects were newly flagged with a name conflict.
    """
    missing = sorted({s for s in subject_ids if s is not None and s not in current})
    for part in _chunks(missing):
        current.update(_names(session, part))
    keys: dict[str, str] = {}

    def key_of(name: str) -> str:
        if name not in keys:
            keys[name] = name_key(name)
        return keys[name]

    differing = {
        subject_id
        for ref, subject_id in zip(refs, subject_ids, strict=True)
        if subject_id is not None
        and ref.name != current[subject_id]
        and key_of(ref.name) != key_of(current[subject_id])
    }
    known: dict[int, set[str]] = {}
    for part in _chunks(sorted(differing | created_ids)):
        for subject_id, name in session.execute(_HISTORY, {"ids": list(part)}):
            known.setdefault(subject_id, set()).add(name_key(name))
    first_source = {s: src for s, src in zip(reversed(subject_ids), reversed(sources), strict=True) if s is not None}
    names: list[dict[str, Any]] = []
    for subject_id in sorted(created_ids):
        if name_key(current[subject_id]) not in known.get(subject_id, set()):
            known.setdefault(subject_id, set()).add(name_key(current[subject_id]))
            names.append(_name_row(subject_id, current[subject_id], first_source[subject_id], now, is_current=True))
    for ref, subject_id, source in zip(refs, subject_ids, sources, strict=True):
        if subject_id in differing and name_key(ref.name) not in known.setdefault(subject_id, set()):
            known[subject_id].add(name_key(ref.name))
            names.append(_name_row(subject_id, ref.name, source, now, is_current=False))
    if names:
        session.execute(_ADD_NAMES, names)
    flagged = 0
    if differing:
        for part in _chunks(sorted(differing)):
            result = session.execute(
                sa.update(_subject)
                .where(_subject.c.id.in_(part), _subject.c.name_conflict.is_(False))
                .values(name_conflict=True, updated_at=now)
            )
            flagged += result.rowcount or 0  # type: ignore[attr-defined]
    return flagged


def _name_row(subject_id: int, name: str, source: str, now: dt.datetime, *, is_current: bool) -> dict[str, Any]:
    return {
        "subject_id": subject_id,
        "name": name,
        "first_seen": now,
        "last_seen": now,
        "source": source,
        "is_current": is_current,
    }
