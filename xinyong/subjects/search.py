"""Finding a subject by name or code (DESIGN §5): exact code first, then names (current and former).

Names: one statement gathers the candidates — names starting with the query (B-tree range) and names containing every
term (SQLite FTS5 trigram table ``subject_name_fts``, PostgreSQL ``pg_trgm`` GIN index on ``subject_name.name``; terms
of one or two characters have no trigram and are tested with ``instr``/``strpos``, on PostgreSQL two-character terms
through a GIN index of each name's bigrams), stopping after
``XINYONG_SEARCH_MAX_RESULTS`` + 1 names without sorting them, so a query as broad as "有限公司" costs no more than a
precise one (the answer then says "N+"). Ranking is done in Python over those candidates. See docs/portal.md.
Natural persons are never found unless a published record requires it (DESIGN §4.3).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from xinyong.catalog.models import Resource
from xinyong.core.settings import get_settings
from xinyong.core.text import clean, normalise_code, normalise_name
from xinyong.disclosure import public_filter
from xinyong.records.models import Record
from xinyong.subjects.models import Subject, SubjectCode, SubjectKind, SubjectName

# Candidates of a query made only of 1–2 character terms (see ``search``); XINYONG_SEARCH_MAX_RESULTS if lower.
SHORT_QUERY_CAP = 100
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
    # Only resources that publish natural persons can make one findable; the clause need not name the others.
    publishing = session.scalars(sa.select(Resource).where(Resource.publish_natural_persons.is_(True))).all()
    published = (
        sa.select(sa.literal(1))
        .where(Record.subject_id == Subject.id, public_filter(session=session, resources=publishing))
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


# Above every character a name can hold: ``name >= q AND name < q + _TOP`` is the B-tree range of names starting with q.
_TOP = "\U0010ffff"


# What the candidate stage reads of each name row (see ``_name_candidates``).
_CANDIDATE = (
    SubjectName.subject_id,
    SubjectName.name,
    SubjectName.is_current,
    SubjectName.kind,
    SubjectName.region,
    SubjectName.merged,
)

Candidates = sa.Select[int, str, bool, str | None, str | None, bool]


def _prefix_hits(terms: list[str], limit: int) -> Candidates:
    """Names starting with the (single-term) query: a range scan of the B-tree on ``subject_name.name``.

    The range finds them in index order; the LIKE keeps the answer exact under any collation (under a linguistic one
    the range may miss a few, which the substring stage then still finds)."""
    term = terms[0]
    return (
        sa.select(*_CANDIDATE)
        .where(
            SubjectName.name >= term,
            SubjectName.name < term + _TOP,
            SubjectName.name.like(f"{_like_escape(term)}%", escape="\\"),
        )
        .limit(limit)
    )


def _contains_hits(session: Session, terms: list[str], limit: int) -> Candidates:
    """At most ``limit`` names containing every term, in the order the index or table yields them (no sort).

    Terms of three characters or more go through the trigram index (SQLite FTS5, PostgreSQL pg_trgm with ``LIKE``);
    shorter ones have no trigram and are tested with ``instr``/``strpos`` on the rows an index yields, or on a scan
    of the table that stops at ``limit`` (fast for common characters; on SQLite a full scan for a rare pair). On
    PostgreSQL a two-character term also goes through the bigram index of ``0012_name_bigrams``; the short test is
    deliberately not a ``LIKE``: a prepared statement's generic plan could otherwise send a two-character pattern to
    the trigram index, which cannot narrow it and would read every entry."""
    dialect = session.get_bind().dialect.name
    long_terms = [t for t in terms if len(t) >= 3]
    short_terms = [t for t in terms if len(t) < 3]
    query = sa.select(*_CANDIDATE)
    if dialect == "sqlite":
        if long_terms:
            fts = sa.table("subject_name_fts", sa.column("rowid"))
            match = " AND ".join(_fts_phrase(t) for t in long_terms)
            # A join, not ``id IN (…)``: the FTS cursor streams and the LIMIT stops it early.
            query = query.join(fts, fts.c.rowid == SubjectName.id).where(
                sa.text("subject_name_fts MATCH :match").bindparams(match=match)
            )
        position = sa.func.instr
    else:
        for term in long_terms:
            # The pattern is written into the statement (``literal_execute``), not sent as a parameter: psycopg
            # prepares a statement after five uses, and PostgreSQL's generic plan for ``LIKE $1`` cannot know the
            # pattern suits the trigram index — it chose a sequential scan (1.4 s instead of 10 ms at 1M names).
            pattern = sa.bindparam(None, f"%{_like_escape(term)}%", type_=sa.String, literal_execute=True)
            query = query.where(SubjectName.name.like(pattern, escape="\\"))
        position = sa.func.strpos
        for term in short_terms:
            if len(term) == 2:
                # The bigram index (migration 0012_name_bigrams), the pair written into the statement like the
                # trigram patterns above, so the planner weighs how common it is: a rare pair through the index, a
                # pair found in most names by the scan that stops at ``limit``.
                pair = postgresql.array([sa.bindparam(None, term, type_=sa.String, literal_execute=True)])
                query = query.where(sa.func.xinyong_name_bigrams(SubjectName.name).op("@>")(pair))
    for term in short_terms:
        query = query.where(position(SubjectName.name, term) > 0)
    return query.limit(limit)


def _rank(name: str, query: str, terms: list[str]) -> int:
    if name == query:
        return 0
    if name.startswith(query):
        return 1
    if all(t in name for t in terms):
        return 2
    return 3


def search(*, session: Session, q: str, page: int = 1, page_size: int = 20) -> SearchResult:
    """Subjects matching ``q`` (a name, part of one, or a code); the exact code match first, then by relevance.

    Two statements in the common case: the candidates with their visibility, then the page's subjects (plus the
    former names of those found only by one, and the natural-person check when a person is among the candidates)."""
    query_text = normalise_name(q)
    terms = [t for t in query_text.split(" ") if t]
    page = max(page, 1)
    cap = get_settings().search_max_results
    if not terms:
        return SearchResult(q, [], [], 0, False, page, page_size, 0)
    exact: Subject | None = None
    code = normalise_code(q)
    if _CODE_LIKE.match(code) or _PERSON_REF.match(code):
        exact = find_by_code(session=session, code=code)
        if exact is not None and not _shown(
            session, [(exact.id, exact.kind, exact.region, exact.merged_into_id is not None)]
        ):
            exact = None
    if exact is not None and query_text.isascii():
        # A code that found its subject is not also a name fragment: skip the substring match.
        candidates: list[tuple[int, str]] = []
        capped = False
    else:
        if all(len(t) < 3 for t in terms):
            # Only 1–2 character terms: no index can narrow them, the table is scanned until the cap is reached, so
            # a lower cap bounds the scan (the answer says "100+": type more of the name).
            cap = min(cap, SHORT_QUERY_CAP)
        candidates, capped = _name_candidates(session, terms, cap)
    ranked = sorted(
        (_rank(name, query_text, terms), len(name), sid) for sid, name in candidates if exact is None or sid != exact.id
    )
    ordered_ids = ([exact.id] if exact is not None else []) + [sid for _, _, sid in ranked]
    total = len(ordered_ids)
    page_ids = ordered_ids[(page - 1) * page_size : page * page_size]
    subjects = {exact.id: exact} if exact is not None and exact.id in page_ids else {}
    rest = [sid for sid in page_ids if sid not in subjects]
    if rest:
        subjects.update({s.id: s for s in session.scalars(sa.select(Subject).where(Subject.id.in_(rest)))})
    # Former names only for those whose current name does not contain the query (found by a former name).
    by_former = [sid for sid in rest if sid in subjects and not all(t in subjects[sid].name for t in terms)]
    former = _former_names(session, by_former, terms)
    items = [
        SearchHit(
            subject=subjects[sid],
            exact_code=exact is not None and sid == exact.id,
            former_name=former.get(sid),
        )
        for sid in page_ids
        if sid in subjects
    ]
    pages = (total + page_size - 1) // page_size
    return SearchResult(clean(q), terms, items, total, capped, page, page_size, pages)


def _shown(session: Session, rows: list[tuple[int, str | None, str | None, bool]]) -> set[int]:
    """Which of these subjects (id, kind, region, merged) the public may find: ``shown_subject`` applied in
    Python to the rows at hand, and in SQL only to natural persons (rare), whose visibility depends on records."""
    region = portal_region()
    keep = {
        sid
        for sid, _, subject_region, merged in rows
        if not merged and (not region or (subject_region or "").startswith(region))
    }
    persons = [sid for sid, kind, _, _ in rows if sid in keep and kind == SubjectKind.NATURAL_PERSON.value]
    if persons:
        published = set(
            session.scalars(sa.select(Subject.id).where(Subject.id.in_(persons), shown_subject(session=session)))
        )
        keep -= set(persons) - published
    return keep


def _name_candidates(session: Session, terms: list[str], cap: int) -> tuple[list[tuple[int, str]], bool]:
    """(id, current name) of the visible subjects with a name (current or former) containing every term, at most
    ``cap`` of them, and whether there are more.

    One statement: names starting with the query (B-tree range, so the best matches are among the candidates even
    when a broad query stops at the cap) and names containing every term (trigram index, stopping after ``cap + 1``
    names instead of finding, sorting and counting every match: a count beyond the cap is answered as "N+"). The name
    rows carry their subject's kind, region and merge (migration 0016), so who may be shown is decided without
    reading the candidates' subjects: on a cold cache each of those was a read from disk. Only the subjects found by a
    former name alone are read, for their current name, by which they are ranked."""
    stages = [_contains_hits(session, terms, cap + 1).add_columns(sa.literal(1).label("stage"))]
    if len(terms) == 1:
        stages.insert(0, _prefix_hits(terms, cap + 1).add_columns(sa.literal(0).label("stage")))
    hits = (sa.union_all(*(stage.subquery().select() for stage in stages)) if len(stages) > 1 else stages[0]).subquery()
    rows = list(session.execute(sa.select(hits)).all())
    capped = sum(1 for row in rows if row.stage == 1) > cap
    rows.sort(key=lambda row: row.stage)  # prefix matches first: they survive the cut to ``cap``
    subjects: dict[int, Any] = {}  # one row per subject, in the order first found
    for row in rows:
        subjects.setdefault(row.subject_id, row)
    current = {row.subject_id: row.name for row in rows if row.is_current}
    former_only = [sid for sid in subjects if sid not in current]
    if former_only:
        current.update(session.execute(sa.select(Subject.id, Subject.name).where(Subject.id.in_(former_only))).all())
    shown = _shown(session, [(sid, row.kind, row.region, row.merged) for sid, row in subjects.items()])
    found = [(int(sid), str(current[sid])) for sid in subjects if sid in shown]
    return found[:cap], capped or len(found) > cap


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
