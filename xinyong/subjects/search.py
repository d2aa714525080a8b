"""Finding a subject by name or code (DESIGN §5): exact code first, then names (current and former).

Names: SQLite FTS5 with the trigram tokenizer for terms of three characters or more (table ``subject_name_fts``, kept
in step by triggers), PostgreSQL ``pg_trgm`` (GIN index on ``subject_name.name``); terms of one or two characters fall
back to a substring scan. At most ``XINYONG_SEARCH_MAX_RESULTS`` matches are counted and ranked (the answer then says
"N+"), which keeps a query as broad as "有限公司" as fast as a precise one.
Natural persons are never found unless a published record requires it (DESIGN §4.3).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from xinyong.core.settings import get_settings
from xinyong.core.text import clean, normalise_code, normalise_name
from xinyong.disclosure import public_filter
from xinyong.records.models import Record
from xinyong.subjects.models import Subject, SubjectCode, SubjectKind, SubjectName

_CODE_LIKE = re.compile(r"^[0-9A-Z]{8,18}$")
_PERSON_REF = re.compile(r"^P([0-9]{1,12})$")


@dataclass(frozen=True)
class SearchHit:
    subject: Subject
    exact_code: bool = False  # found by its code, not by name
    former_name: str | None = None  # the former name that matched, when the current one did not


@dataclass(frozen=True)
class SearchResult:
    query: str
    terms: list[str]
    items: list[SearchHit]
    total: int
    capped: bool  # more than ``total`` matches exist
    page: int
    page_size: int
    pages: int = field(default=0)


def region_prefix(region: str) -> str:
    """370300 → 3703, 370000 → 37: the prefix every code within the region starts with."""
    prefix = region
    while prefix.endswith("00") and len(prefix) > 2:
        prefix = prefix[:-2]
    return prefix


def portal_region() -> str | None:
    """The region a district's own portal is limited to (XINYONG_PORTAL_REGION_ONLY), or None for all."""
    settings = get_settings()
    return region_prefix(settings.region) if settings.portal_region_only else None


def shown_subject(*, session: Session) -> ColumnElement[bool]:
    """Subjects the public may find: any but natural persons, who only with a published record that requires it."""
    published = (
        sa.select(sa.literal(1))
        .where(Record.subject_id == Subject.id, public_filter(session=session))
        .correlate(Subject)
        .exists()
    )
    clause = sa.or_(Subject.kind != SubjectKind.NATURAL_PERSON.value, published)
    region = portal_region()
    if region:
        clause = sa.and_(clause, Subject.region.like(f"{region}%"))
    return sa.and_(clause, Subject.merged_into_id.is_(None))


def subject_ref(subject: Subject) -> str:
    """The code under which the portal addresses a subject: its USCC, or P<id> for a person (never the ID number)."""
    return subject.uscc or f"P{subject.id}"


def find_by_code(*, session: Session, code: str) -> Subject | None:
    """A subject by USCC, legacy code (代码映射) or portal reference, the code normalised (case, spaces, full-width)."""
    code = normalise_code(code)
    if not code:
        return None
    person = _PERSON_REF.match(code)
    if person:
        return session.get(Subject, int(person.group(1)))
    subject = session.scalar(sa.select(Subject).where(Subject.uscc == code))
    if subject is None:
        subject = session.scalar(
            sa.select(Subject).join(SubjectCode, SubjectCode.subject_id == Subject.id).where(SubjectCode.code == code)
        )
    while subject is not None and subject.merged_into_id is not None:
        subject = session.get(Subject, subject.merged_into_id)
    return subject


def _like_escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _fts_phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _name_matches(session: Session, terms: list[str]) -> sa.Select[int]:
    """Ids of subject_name rows whose name contains every term."""
    query = sa.select(SubjectName.id)
    long_terms = [t for t in terms if len(t) >= 3]
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite" and long_terms:
        match = " AND ".join(_fts_phrase(t) for t in long_terms)
        fts = sa.text("SELECT rowid FROM subject_name_fts WHERE subject_name_fts MATCH :match").bindparams(match=match)
        query = query.where(SubjectName.id.in_(fts))
        rest = [t for t in terms if len(t) < 3]
    else:
        rest = terms
    for term in rest:
        query = query.where(SubjectName.name.like(f"%{_like_escape(term)}%", escape="\\"))
    return query


def _rank(name: str, query: str, terms: list[str]) -> int:
    if name == query:
        return 0
    if name.startswith(query):
        return 1
    if all(t in name for t in terms):
        return 2
    return 3


def search(*, session: Session, q: str, page: int = 1, page_size: int = 20) -> SearchResult:
    """Subjects matching ``q`` (a name, part of one, or a code); the exact code match first, then by relevance."""
    query_text = normalise_name(q)
    terms = [t for t in query_text.split(" ") if t]
    page = max(page, 1)
    cap = get_settings().search_max_results
    if not terms:
        return SearchResult(q, [], [], 0, False, page, page_size, 0)
    visible = shown_subject(session=session)
    exact: Subject | None = None
    code = normalise_code(q)
    if _CODE_LIKE.match(code) or _PERSON_REF.match(code):
        exact = find_by_code(session=session, code=code)
        if exact is not None and not session.scalar(sa.select(sa.literal(1)).where(Subject.id == exact.id, visible)):
            exact = None
    if exact is not None and query_text.isascii():
        # A code that found its subject is not also a name fragment: skip the (costly) substring match.
        candidates: list[Any] = []
        capped = False
    else:
        candidates, capped = _name_candidates(session, terms, visible, cap)
    ranked = sorted(
        (_rank(name, query_text, terms), len(name), sid) for sid, name in candidates if exact is None or sid != exact.id
    )
    ordered_ids = ([exact.id] if exact is not None else []) + [sid for _, _, sid in ranked]
    total = len(ordered_ids)
    page_ids = ordered_ids[(page - 1) * page_size : page * page_size]
    subjects = (
        {s.id: s for s in session.scalars(sa.select(Subject).where(Subject.id.in_(page_ids)))} if page_ids else {}
    )
    former = _former_names(session, page_ids, terms)
    items = [
        SearchHit(
            subject=subjects[sid],
            exact_code=exact is not None and sid == exact.id,
            former_name=None if all(t in subjects[sid].name for t in terms) else former.get(sid),
        )
        for sid in page_ids
        if sid in subjects
    ]
    pages = (total + page_size - 1) // page_size
    return SearchResult(clean(q), terms, items, total, capped, page, page_size, pages)


def _name_candidates(
    session: Session, terms: list[str], visible: ColumnElement[bool], cap: int
) -> tuple[list[Any], bool]:
    names = _name_matches(session, terms).subquery()
    rows = session.execute(
        sa.select(Subject.id, Subject.name)
        .where(Subject.id.in_(sa.select(SubjectName.subject_id).where(SubjectName.id.in_(sa.select(names.c.id)))))
        .where(visible)
        .order_by(Subject.id)
        .limit(cap + 1)
    ).all()
    return list(rows[:cap]), len(rows) > cap


def _former_names(session: Session, subject_ids: list[int], terms: list[str]) -> dict[int, str]:
    if not subject_ids:
        return {}
    rows = session.execute(
        sa.select(SubjectName.subject_id, SubjectName.name)
        .where(SubjectName.subject_id.in_(subject_ids), SubjectName.is_current.is_(False))
        .order_by(SubjectName.id)
    ).all()
    found: dict[int, str] = {}
    for sid, name in rows:
        if all(t in name for t in terms):
            found.setdefault(sid, name)
    return found
