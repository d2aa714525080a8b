"""Data governance: likely duplicates and unusual volumes, found by scans and put in a queue an officer resolves.

Scans are idempotent: each problem has a stable key, so scanning again adds nothing that is already queued (open,
resolved or dismissed — a dismissed false alarm does not come back).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable
from itertools import combinations
from typing import Any

import sqlalchemy as sa
from rapidfuzz import fuzz
from sqlalchemy.orm import Session

from xinyong.audit import service as audit
from xinyong.audit.service import Actor
from xinyong.catalog.models import Resource, SourceUnit
from xinyong.core import clock
from xinyong.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from xinyong.core.text import clean, name_key, to_half_width
from xinyong.monitoring.metrics import Scope, china_date
from xinyong.monitoring.models import GovernanceIssue, IssueKind, IssueStatus
from xinyong.records.models import Record
from xinyong.subjects.codes import org_code_of
from xinyong.subjects.models import CodeType, Subject, SubjectCode, SubjectKind, SubjectStatus

NAME_SIMILARITY = 90  # rapidfuzz ratio (0–100) above which two names of one block are "likely the same company"
LARGEST_REGION_BLOCK = 3000  # subjects without a legal representative are compared region-wide only below this
SPIKE_FACTOR = 3.0  # a month with more than 3× the trailing average …
SPIKE_MIN_EXTRA = 10  # … and at least 10 records more is a spike
TRAILING_MONTHS = 3

_OPENING = "〔［【[（(｛{<《"
_CLOSING = "〕］】]）)｝}>》"
_BRACKETS = str.maketrans({**dict.fromkeys(_OPENING, "["), **dict.fromkeys(_CLOSING, "]")})
_SPACE = re.compile(r"\s+")
_DIGITS = re.compile(r"\d+")
_NUMBERS = re.compile(r"[0-9零〇一二三四五六七八九十]+")


def doc_no_key(doc_no: str) -> str:
    """A decision number as compared: half-width, one kind of bracket, no spaces, 第/号 kept, leading zeros dropped."""
    text = _SPACE.sub("", to_half_width(doc_no).translate(_BRACKETS)).upper()
    return _DIGITS.sub(lambda m: str(int(m.group())), text)


def _queue(
    session: Session,
    *,
    kind: IssueKind,
    key: str,
    title: str,
    detail: dict[str, Any],
    unit_id: int | None = None,
    region: str | None = None,
) -> bool:
    if session.scalar(sa.select(GovernanceIssue.id).where(GovernanceIssue.key == key)) is not None:
        return False
    session.add(
        GovernanceIssue(
            kind=kind,
            key=key,
            title=title,
            unit_id=unit_id,
            region=region,
            detail=detail,
            status=IssueStatus.OPEN,
            created_at=clock.now(),
        )
    )
    session.flush()
    return True


def scan_duplicate_records(*, session: Session) -> int:
    """Records of one unit and resource whose document numbers differ only in how they are written."""
    groups: dict[tuple[int, int, str], list[tuple[int, str, str | None]]] = defaultdict(list)
    query = sa.select(Record.id, Record.resource_id, Record.source_unit_id, Record.doc_no, Record.region)
    for record_id, resource_id, unit_id, doc_no, region in session.execute(query):
        groups[resource_id, unit_id, doc_no_key(doc_no)].append((record_id, doc_no, region))
    resources = dict(session.execute(sa.select(Resource.id, Resource.name)).all())
    added = 0
    for (resource_id, unit_id, key), rows in groups.items():
        if len(rows) < 2:
            continue
        added += _queue(
            session,
            kind=IssueKind.DUPLICATE_DOC,
            key=f"doc:{resource_id}:{unit_id}:{key}",
            title=f"{resources.get(resource_id, '')}：文号 {'、'.join(r[1] for r in rows)} 疑为同一决定",
            detail={"records": [r[0] for r in rows], "doc_nos": [r[1] for r in rows]},
            unit_id=unit_id,
            region=rows[0][2],
        )
    return added


def _pairs_by_name(subjects: list[tuple[int, str]]) -> Iterable[tuple[int, int, float]]:
    for (a, name_a), (b, name_b) in combinations(subjects, 2):
        # "一分公司" vs "二分公司", "1号" vs "2号": different numbers mean different companies, however alike.
        if _NUMBERS.findall(name_a) != _NUMBERS.findall(name_b):
            continue
        score = fuzz.ratio(name_a, name_b)
        if score >= NAME_SIMILARITY:
            yield a, b, score


def scan_duplicate_subjects(*, session: Session) -> int:
    """The same company under variant names (same region and legal representative) or behind the same old code."""
    rows = session.execute(
        sa.select(Subject.id, Subject.name, Subject.region, Subject.legal_rep, Subject.uscc).where(
            Subject.status != SubjectStatus.MERGED, Subject.kind != SubjectKind.NATURAL_PERSON
        )
    ).all()
    names = {r.id: r.name for r in rows}
    regions = {r.id: r.region for r in rows}
    found: dict[tuple[int, int], str] = {}
    blocks: dict[tuple[str | None, str], list[tuple[int, str]]] = defaultdict(list)
    by_region: dict[str | None, list[tuple[int, str]]] = defaultdict(list)
    for r in rows:
        if r.legal_rep:
            blocks[r.region, clean(r.legal_rep)].append((r.id, name_key(r.name)))
        else:
            by_region[r.region].append((r.id, name_key(r.name)))
    candidates = list(blocks.values()) + [b for b in by_region.values() if len(b) <= LARGEST_REGION_BLOCK]
    for block in candidates:
        for a, b, score in _pairs_by_name(block):
            found.setdefault((min(a, b), max(a, b)), f"名称相似度 {score:.0f}%（同一地区、同一法定代表人）")
    # The same 组织机构代码: inside one subject's USCC and mapped as another subject's old code, or in two USCCs.
    by_org: dict[str, set[int]] = defaultdict(set)
    for r in rows:
        if r.uscc and len(r.uscc) == 18:
            by_org[org_code_of(r.uscc)].add(r.id)
    for subject_id, code in session.execute(
        sa.select(SubjectCode.subject_id, SubjectCode.code).where(SubjectCode.code_type == CodeType.ZZJG)
    ):
        if subject_id in names:
            by_org[code.replace("-", "")].add(subject_id)
    for org, ids in by_org.items():
        for a, b in combinations(sorted(ids), 2):
            found[a, b] = f"同一组织机构代码 {org}"
    added = 0
    for (a, b), why in sorted(found.items()):
        added += _queue(
            session,
            kind=IssueKind.DUPLICATE_SUBJECT,
            key=f"subject:{a}:{b}",
            title=f"“{names[a]}”与“{names[b]}”疑为同一主体：{why}",
            detail={"subjects": [a, b], "why": why},
            region=regions[a],
        )
    return added


def monthly_counts(*, session: Session, months: list[str]) -> dict[tuple[int, str], int]:
    """Records first received per unit and month (China time)."""
    scope = Scope.month(months[0])
    end = Scope.month(months[-1])
    counts: dict[tuple[int, str], int] = defaultdict(int)
    query = sa.select(Record.source_unit_id, Record.received_at).where(
        Record.received_at >= scope.utc_start, Record.received_at < end.utc_end
    )
    for unit_id, received_at in session.execute(query):
        counts[unit_id, f"{china_date(received_at):%Y-%m}"] += 1
    return counts


def scan_volume(*, session: Session, month: str) -> int:
    """A unit whose volume in ``month`` fell to zero, or jumped, against its average of the three months before."""
    months = Scope.last_months(TRAILING_MONTHS + 1, until=dt.date.fromisoformat(f"{month}-01")).months()
    counts = monthly_counts(session=session, months=months)
    added = 0
    for unit in session.scalars(sa.select(SourceUnit).where(SourceUnit.active.is_(True))):
        trailing = [counts.get((unit.id, m), 0) for m in months[:-1]]
        average = sum(trailing) / len(trailing)
        current = counts.get((unit.id, month), 0)
        detail = {
            "month": month,
            "count": current,
            "trailing": dict(zip(months[:-1], trailing, strict=True)),
            "average": round(average, 1),
        }
        if current == 0 and average >= 1:
            added += _queue(
                session,
                kind=IssueKind.VOLUME_ZERO,
                key=f"volume:{unit.id}:{month}",
                unit_id=unit.id,
                region=unit.region,
                detail=detail,
                title=f"{unit.name} {month} 未报送任何记录（前三个月平均每月 {average:.1f} 条）",
            )
        elif current > SPIKE_FACTOR * average and current - average >= SPIKE_MIN_EXTRA:
            added += _queue(
                session,
                kind=IssueKind.VOLUME_SPIKE,
                key=f"volume:{unit.id}:{month}",
                unit_id=unit.id,
                region=unit.region,
                detail=detail,
                title=f"{unit.name} {month} 报送 {current} 条，远高于前三个月平均 {average:.1f} 条",
            )
    return added


def open_issues(*, session: Session, region: str | None, status: str = IssueStatus.OPEN) -> list[GovernanceIssue]:
    query = sa.select(GovernanceIssue).where(GovernanceIssue.status == status).order_by(GovernanceIssue.id.desc())
    if region:
        query = query.where(GovernanceIssue.region == region)
    return list(session.scalars(query.limit(200)))


def close_issue(*, session: Session, actor: Actor, issue_id: int, outcome: str, note: str) -> GovernanceIssue:
    """Resolve (fixed) or dismiss (false alarm) an issue; a note is required and the decision is audited."""
    if outcome not in (IssueStatus.RESOLVED, IssueStatus.DISMISSED):
        raise InvalidInput("处理结果：应为 已处理 或 已忽略")
    if not clean(note):
        raise InvalidInput("处理说明：请写明如何处理或为何忽略")
    issue = session.get(GovernanceIssue, issue_id)
    if issue is None:
        raise NotFound("治理问题不存在")
    if actor.region and issue.region != actor.region:
        raise Forbidden("无权处理其他区域的问题")
    if issue.status != IssueStatus.OPEN:
        raise Conflict("该问题已处理")
    issue.status, issue.note, issue.resolved_by, issue.resolved_at = outcome, clean(note), actor.name, clock.now()
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action=f"governance.{outcome}",
        target_type="governance_issue",
        target_id=issue.id,
        detail={"kind": issue.kind, "note": issue.note},
    )
    return issue
