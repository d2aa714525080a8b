"""The credit check: resolve the subject, find the entries in force, return only catalogued measures, store it all.

A check can only ever return measures from the ``measure`` table (the measure catalog, loaded from
``checks/data/measures.yaml``): ``select_measures`` takes catalog rows and nothing else, and a measure without any
legal basis (a local policy the credit office has not confirmed yet) is never returned.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa
import yaml
from rapidfuzz import fuzz
from sqlalchemy.orm import Session

from xinyong.accounts.models import Role
from xinyong.audit import service as audit
from xinyong.audit.service import Actor
from xinyong.catalog.models import Resource, SourceUnit
from xinyong.checks.models import Check, CheckFeedback, Matter, Measure
from xinyong.core import clock, crypto
from xinyong.core.database import refresh_versioned
from xinyong.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from xinyong.core.settings import get_settings
from xinyong.core.text import name_key, normalise_code, normalise_name
from xinyong.evaluation import scenarios
from xinyong.evaluation import service as evaluation
from xinyong.lists import service as lists
from xinyong.lists.basis import public_basis
from xinyong.lists.models import ListEntry
from xinyong.records.models import Record
from xinyong.subjects.codes import id_number_error, is_valid_uscc, mask_id_number, uscc_error
from xinyong.subjects.models import SUBJECT_KIND_LABELS, Subject, SubjectCode, SubjectKind, SubjectName

BUILTIN = Path(__file__).resolve().parent / "data" / "measures.yaml"
CHECKERS = (Role.CHECKER, Role.CREDIT_OFFICE, Role.ADMIN)
KIND_LABELS = {"reward": "激励", "punishment": "惩戒"}
SURE_SCORE = 90.0  # a name match at or above this, clearly ahead of the next one, needs no person to confirm
MARGIN = 5.0


# --- the catalog ------------------------------------------------------------------------------------------------


@lru_cache
def builtin_catalog() -> dict[str, Any]:
    return dict(yaml.safe_load(BUILTIN.read_text(encoding="utf-8")))


def load_builtin(*, session: Session) -> int:
    """Insert or refresh the built-in matters and measures; idempotent. Returns how many rows were written."""
    catalog = builtin_catalog()
    written = 0
    matters = {m.code: m for m in session.scalars(sa.select(Matter))}
    for spec in catalog["matters"]:
        row = matters.get(spec["code"])
        if row is None:
            session.add(Matter(code=spec["code"], name=spec["name"]))
            written += 1
        elif row.name != spec["name"]:
            row.name = spec["name"]
            written += 1
    known_matters = {m["code"] for m in catalog["matters"]}
    measures = {m.code: m for m in session.scalars(sa.select(Measure))}
    for spec in catalog["measures"]:
        unknown = set(spec["matters"]) - known_matters
        if unknown:
            raise ValueError(f"measure {spec['code']} names unknown matters {sorted(unknown)}")
        values = {
            "name": spec["name"],
            "kind": spec["kind"],
            "department": spec["department"],
            "list_category": spec.get("list_category"),
            "duration": spec.get("duration"),
            "basis": spec.get("basis") or [],
            "local_policy": bool(spec.get("local_policy", False)),
            "list_types": spec["list_types"],
            "matters": spec["matters"],
            "subject_kinds": spec.get("subject_kinds") or [],
            "associated_only": bool(spec.get("associated_only", False)),
        }
        measure = measures.get(spec["code"])
        if measure is None:
            session.add(Measure(code=spec["code"], active=True, version=1, updated_at=clock.now(), **values))
            written += 1
            continue
        if measure.basis and not values["basis"]:
            # The credit office confirmed a local policy's basis: an upgrade must not wipe it.
            values["basis"], values["local_policy"] = measure.basis, measure.local_policy
        if refresh_versioned(measure, values, now=clock.now()):
            written += 1
    session.flush()
    return written


def all_matters(*, session: Session) -> list[Matter]:
    return list(session.scalars(sa.select(Matter).order_by(Matter.id)))


@dataclass(frozen=True)
class MatterRef:
    code: str
    name: str


@dataclass(frozen=True)
class MeasureRef:
    """A measure as read from the catalog table (a plain copy, so it can be cached across sessions)."""

    code: str
    name: str
    kind: str
    department: str
    list_category: str | None
    duration: str | None
    basis: list[dict[str, Any]]
    local_policy: bool
    list_types: list[str]
    matters: list[str]
    subject_kinds: list[str]
    associated_only: bool
    active: bool


# The catalog is read on every check; it is cached per database and re-read whenever its version stamp (counts, sum
# of row versions, latest change: one cheap aggregate query) changes, e.g. after the credit office confirmed a basis.
_catalog_cache: dict[str, tuple[tuple[Any, ...], dict[str, MatterRef], list[MeasureRef]]] = {}


_STAMP = sa.select(
    sa.select(sa.func.count(Matter.id)).scalar_subquery().label("matters"),
    sa.func.count(Measure.id).label("measures"),
    sa.func.sum(Measure.version).label("versions"),
    sa.func.max(Measure.updated_at).label("changed"),
).subquery("catalog_stamp")
_CATALOG_STAMP = sa.select(*_STAMP.c)


def _catalog(session: Session, stamp: tuple[Any, ...] | None = None) -> tuple[dict[str, MatterRef], list[MeasureRef]]:
    """The catalog's matters (by code and by name) and active measures. ``stamp``: its version stamp, when the caller
    has read it already (a check by USCC reads it with the subject, ``_SUBJECT_AND_GRADE_BY_USCC``)."""
    if stamp is None:
        stamp = tuple(session.execute(_CATALOG_STAMP).one())
    key = str(session.get_bind().engine.url)
    cached = _catalog_cache.get(key)
    if cached is not None and cached[0] == stamp:
        return cached[1], cached[2]
    matters: dict[str, MatterRef] = {}
    for row in session.scalars(sa.select(Matter).order_by(Matter.id)):
        ref = MatterRef(code=row.code, name=row.name)
        matters[row.code] = ref
        matters[row.name] = ref
    measures = [
        MeasureRef(
            code=m.code,
            name=m.name,
            kind=m.kind,
            department=m.department,
            list_category=m.list_category,
            duration=m.duration,
            basis=list(m.basis),
            local_policy=m.local_policy,
            list_types=list(m.list_types),
            matters=list(m.matters),
            subject_kinds=list(m.subject_kinds),
            associated_only=m.associated_only,
            active=m.active,
        )
        for m in session.scalars(sa.select(Measure).where(Measure.active.is_(True)).order_by(Measure.id))
    ]
    _catalog_cache[key] = (stamp, matters, measures)
    return matters, measures


def get_matter(*, session: Session, matter: str, matters: dict[str, MatterRef] | None = None) -> MatterRef:
    """A matter by its code or its Chinese name (``matters``: the catalog already read in this request, if any)."""
    value = (matter or "").strip()
    if matters is None:
        matters, _ = _catalog(session)
    if value not in matters:
        known = "、".join(f"{m.code}（{m.name}）" for m in all_matters(session=session))
        raise InvalidInput(f"matter：未知的事项「{value}」（可选：{known}）")
    return matters[value]


def catalog_measures(*, session: Session) -> list[MeasureRef]:
    return _catalog(session)[1]


def confirm_measure_basis(*, session: Session, actor: Actor, code: str, basis: list[dict[str, Any]]) -> Measure:
    """The credit office gives a local-policy measure (e.g. 容缺受理) its basis; from then on checks return it."""
    if actor.role not in (Role.CREDIT_OFFICE.value, Role.ADMIN.value):
        raise Forbidden(f"当前角色（{actor.role}）无权修改措施清单")
    row = session.scalar(sa.select(Measure).where(Measure.code == code))
    if row is None:
        raise NotFound(f"措施 {code} 不在措施清单中")
    if not basis or any(not str(item.get("document", "")).strip() for item in basis):
        raise InvalidInput("basis：每项依据须填写文件名称（document）")
    row.basis = [
        {k: v for k, v in item.items() if k in ("document", "doc_no", "article", "point", "confirmed")}
        for item in basis
    ]
    row.version += 1
    row.updated_at = clock.now()
    audit.record(
        session=session,
        actor=actor,
        action="measure.set_basis",
        target_type="measure",
        target_id=code,
        detail={"basis": row.basis},
    )
    session.flush()
    return row


def returnable(measure: Measure | MeasureRef) -> bool:
    """A measure may be returned only with a basis (no invented punishments, 过惩相当)."""
    return measure.active and bool(measure.basis)


def select_measures(
    *,
    measures: list[MeasureRef],
    entries: list[ListEntry],
    matter: str,
    subject_kind: str | None,
    associated: bool = False,
) -> list[tuple[MeasureRef, list[ListEntry]]]:
    """The catalogued measures that follow from these entries in this matter, each with the entries behind it."""
    chosen: list[tuple[MeasureRef, list[ListEntry]]] = []
    for measure in measures:
        if not returnable(measure) or matter not in measure.matters:
            continue
        if measure.associated_only and not associated:
            continue
        if measure.subject_kinds and (associated and "natural_person" not in measure.subject_kinds):
            continue
        if measure.subject_kinds and not associated and subject_kind not in measure.subject_kinds:
            continue
        behind = [e for e in entries if e.list_type.code in measure.list_types]
        if behind:
            chosen.append((measure, behind))
    return chosen


def measure_view(measure: MeasureRef, behind: list[ListEntry]) -> dict[str, Any]:
    return {
        "code": measure.code,
        "name": measure.name,
        "kind": measure.kind,
        "kind_label": KIND_LABELS.get(measure.kind, measure.kind),
        "department": measure.department,
        "duration": measure.duration,
        "basis": public_basis(measure.basis),
        "basis_confirmed": all(bool(b.get("confirmed")) for b in measure.basis),
        "local_policy": measure.local_policy,
        "list_category": measure.list_category,
        "list_category_note": "基础清单分类待核实",
        "follows_from": sorted({e.list_type.code for e in behind}),
        "entry_ids": [e.id for e in behind],
    }


# --- finding the subject ----------------------------------------------------------------------------------------


@dataclass
class NameMatch:
    subject: Subject
    score: float
    matched_name: str


# Statements of the check's hot path, built once: constructing them per call cost more than running them.
_SUBJECT_BY_USCC = sa.select(Subject).where(Subject.uscc == sa.bindparam("uscc"))
# A check by USCC (most checks) reads the subject, its grade, whether it has any list entry and any record under
# objection, and the catalog's version stamp in one statement (``_ReadWithSubject``): round trips are what the
# check's tail under load is made of (docs/benchmarks.md, "Soak", sessions 8, 14 and 16).
_SUBJECT_AND_GRADE_BY_USCC = (
    evaluation.with_grade(sa.select(Subject), Subject.id)
    .add_columns(
        sa.exists().where(ListEntry.subject_id == Subject.id).label("any_entries"),
        sa.exists().where(Record.subject_id == Subject.id, Record.objection_open.is_(True)).label("any_objections"),
        *_STAMP.c,
    )
    .join(_STAMP, sa.true())  # one row: the stamp, beside the subject
    .where(Subject.uscc == sa.bindparam("uscc"))
)


@dataclass(frozen=True)
class _ReadWithSubject:
    """What a check by USCC read in the subject's own statement. The reads of its active list entries and of its
    records under objection are not sent when it has none at all: most subjects checked are on no list and have no
    objection, and each read skipped is a round trip."""

    grade: dict[str, Any] | None
    any_entries: bool
    any_objections: bool
    catalog_stamp: tuple[Any, ...]


_OBJECTION_RECORDS = (
    sa.select(Record.id, Resource.name, Record.doc_no, Record.decision_date)
    .join(Resource, Resource.id == Record.resource_id)
    .where(Record.subject_id == sa.bindparam("subject_id"), Record.objection_open.is_(True))
    .order_by(Record.id)
)


def find_by_code(*, session: Session, code: str) -> tuple[Subject | None, str]:
    """(subject or None, normalised code). A USCC, a citizen ID number or a legacy code; invalid codes are refused."""
    value = normalise_code(code)
    if not value:
        raise InvalidInput("code：不能为空")
    if is_valid_uscc(value):
        return session.scalar(_SUBJECT_BY_USCC, {"uscc": value}), value
    if len(value) == 18 and id_number_error(value) is None:
        return session.scalar(sa.select(Subject).where(Subject.id_hash == crypto.keyed_hash(value))), value
    legacy = session.scalar(
        sa.select(Subject).join(SubjectCode, SubjectCode.subject_id == Subject.id).where(SubjectCode.code == value)
    )
    if legacy is not None:
        return legacy, value
    if len(value) == 18:
        problem = uscc_error(value) if not value[:17].isdigit() else (id_number_error(value) or uscc_error(value))
        raise InvalidInput(f"code：{problem}")
    raise InvalidInput(f"code：「{value}」不是有效的统一社会信用代码、公民身份号码或已登记的旧代码")


def match_name(*, session: Session, name: str, limit: int = 5) -> list[NameMatch]:
    """Subjects whose current or former name matches, best first, scored 0–100.

    Exact names (after normalisation) score 100. Otherwise candidates share the name's first characters (a range
    scan on the indexed ``subject_name.name``, so it stays fast on millions of subjects) and are scored with
    RapidFuzz; former names score 2 points lower than the same current name.
    """
    wanted = normalise_name(name)
    if not wanted:
        raise InvalidInput("name：不能为空")
    found: dict[int, NameMatch] = {}
    exact = session.execute(
        sa.select(SubjectName.subject_id, SubjectName.name, SubjectName.is_current).where(SubjectName.name == wanted)
    ).all()
    rows = list(exact)
    if not rows:
        for width in (4, 2):
            prefix = wanted[:width]
            if len(prefix) < width and width == 4 and len(wanted) < 4:
                prefix = wanted
            rows = list(
                session.execute(
                    sa.select(SubjectName.subject_id, SubjectName.name, SubjectName.is_current)
                    .where(SubjectName.name >= prefix, SubjectName.name < prefix + "\uffff")
                    .limit(200)
                )
            )
            if rows:
                break
    key = name_key(wanted)
    for subject_id, candidate, current in rows:
        score = 100.0 if name_key(candidate) == key else float(fuzz.ratio(key, name_key(candidate)))
        if not current:
            score -= 2.0
        if subject_id not in found or found[subject_id].score < score:
            found[subject_id] = NameMatch(subject=None, score=score, matched_name=candidate)  # type: ignore[arg-type]
    best = sorted(found.items(), key=lambda item: -item[1].score)[:limit]
    subjects = {s.id: s for s in session.scalars(sa.select(Subject).where(Subject.id.in_([i for i, _ in best])))}
    result = []
    for subject_id, match in best:
        match.subject = subjects[subject_id]
        result.append(match)
    return result


def is_ambiguous(matches: list[NameMatch]) -> bool:
    if not matches:
        return True
    if matches[0].score < SURE_SCORE:
        return True
    return len(matches) > 1 and matches[0].score - matches[1].score < MARGIN


# --- the check --------------------------------------------------------------------------------------------------


@dataclass
class CheckRequest:
    matter: str
    code: str | None = None
    name: str | None = None
    person_name: str | None = None  # an associated person checked by name within a company (``company``)
    company: str | None = None  # USCC or exact name of that company
    subject_id: int | None = None  # a candidate the clerk picked after a name search


@dataclass
class CheckOutcome:
    check: Check
    result: dict[str, Any] = field(default_factory=dict)


def _require_checker(actor: Actor) -> None:
    if actor.role not in {r.value for r in CHECKERS}:
        raise Forbidden(f"当前角色（{actor.role}）无权进行信用核查")


def grade_of(*, session: Session, subject_id: int) -> dict[str, Any] | None:
    """The subject's current grade under the configured evaluation model, or None when not yet evaluated."""
    return evaluation.grade_for(session=session, subject_id=subject_id)


_CHECKS = cast(sa.Table, Check.__table__)
_scenario_cache: dict[Path, tuple[tuple[int, int], dict[str, scenarios.Scenario]]] = {}


def _scenarios() -> dict[str, scenarios.Scenario]:
    """The 信易+ scenarios, parsed once per version of their file rather than on every check (the YAML parse was
    half of a check's time). Keyed by path, size and modification time, so an edited file is re-read at once."""
    path = Path(get_settings().scenarios_file or scenarios.DATA_DIR / "scenarios.yaml")
    stat = path.stat()
    stamp = (stat.st_mtime_ns, stat.st_size)
    cached = _scenario_cache.get(path)
    if cached is None or cached[0] != stamp:
        cached = (stamp, scenarios.load(path))
        _scenario_cache[path] = cached
    return cached[1]


def new_check_no(today: dt.date) -> str:
    return f"HC{today:%Y%m%d}{secrets.token_hex(4).upper()}"


def run_check(
    *,
    session: Session,
    actor: Actor,
    request: CheckRequest,
    batch_no: str | None = None,
    row_no: int | None = None,
) -> CheckOutcome:
    """One check, stored with a snapshot of its result and audited. Raises Conflict when a name is ambiguous."""
    check = answer_check(session=session, actor=actor, request=request, batch_no=batch_no, row_no=row_no)
    return store_check(session=session, actor=actor, check=check)


def answer_check(
    *,
    session: Session,
    actor: Actor,
    request: CheckRequest,
    batch_no: str | None = None,
    row_no: int | None = None,
) -> Check:
    """The answer to one check, as the (not yet stored) check that records it. Only reads ``session``."""
    _require_checker(actor)
    scenario = _scenarios().get(request.matter)
    subject, query, known = _resolve(session=session, request=request)
    matters, measures = _catalog(session, known.catalog_stamp if known else None)
    matter = (
        MatterRef(code=scenario.code, name=f"信易+ {scenario.name}")
        if scenario is not None
        else get_matter(session=session, matter=request.matter, matters=matters)
    )
    today = clock.today()
    grade = known.grade if known else (grade_of(session=session, subject_id=subject.id) if subject else None)
    person_id = query.pop("_id_number", None)
    company = None
    if request.person_name and request.company:
        company, _ = _company(session=session, value=request.company)
    result: dict[str, Any] = {
        "matter": {"code": matter.code, "name": matter.name},
        "subject": _subject_view(subject, query),
        "match": {
            "by": "name" if "score" in query else "code" if "code" in query else "id",
            "score": query.get("score"),
        },
        "grade": grade,
        "entries": [],
        "measures": [],
        "objection_records": [],
        "associated": [],
    }
    if subject is not None:
        entries = (
            lists.active_entries(session=session, subject_id=subject.id, today=today)
            if known is None or known.any_entries
            else []
        )
        result["entries"] = [_entry_brief(e, today) for e in entries]
        result["measures"] = [
            measure_view(m, behind)
            for m, behind in select_measures(
                measures=measures, entries=entries, matter=matter.code, subject_kind=subject.kind
            )
        ]
        if known is None or known.any_objections:
            result["objection_records"] = _objection_records(session=session, subject_id=subject.id)
        if scenario is not None:
            # A 信易+ matter: the answer is the scenario's benefit and the outcome of each of its rules.
            result["scenario"] = scenarios.scenario_answer(
                session=session, subject_id=subject.id, scenario=scenario.code
            )
    if person_id or (request.person_name and company is not None):
        associated = lists.associated_entries(
            session=session, id_number=person_id, person_name=request.person_name, company=company, today=today
        )
        result["associated"] = [_associated_view(e, measures, matter.code, today) for e in associated]
    result["summary"] = _summary(result)
    check = Check(
        check_no=new_check_no(today),
        at=clock.now(),
        actor=actor.name,
        actor_role=actor.role,
        unit_id=actor.unit_id,
        matter=matter.code,
        query=query,
        subject_id=subject.id if subject else None,
        result=result,
        batch_no=batch_no,
        row_no=row_no,
    )
    return check


def store_check(*, session: Session, actor: Actor, check: Check) -> CheckOutcome:
    """Store the check ``answer_check`` made and audit it: the only writes of a check, one statement on PostgreSQL.

    In SQLAlchemy Core, as the audit entry: nothing reads the row back in this transaction, and the ORM's unit of
    work for it cost a check more CPU than the statement (docs/benchmarks.md, "Soak", session 11). ``check`` stays a
    plain object with its new id."""
    check.id = audit.insert_audited(
        session=session,
        table=_CHECKS,
        values={column.key: getattr(check, column.key) for column in _CHECKS.columns if column.key != "id"},
        actor=actor,
        action="check.run",
        target_type="credit_check",
        target_id=check.check_no,
        subject_id=check.subject_id,
        purpose=f"信用核查：{check.result['matter']['name']}",
    )
    return CheckOutcome(check=check, result=check_view(check))


def check_view(check: Check) -> dict[str, Any]:
    return {
        "check_id": check.check_no,
        "checked_at": check.at.astimezone(clock.CHINA).isoformat(timespec="seconds"),
        "checked_by": check.actor,
        **check.result,
    }


def _resolve(
    *, session: Session, request: CheckRequest
) -> tuple[Subject | None, dict[str, Any], _ReadWithSubject | None]:
    """(subject or None, the query as stored, what was read with the subject or None)."""
    if request.subject_id is not None:
        subject = session.get(Subject, request.subject_id)
        if subject is None:
            raise NotFound(f"主体 {request.subject_id} 不存在")
        return subject, {"subject_id": subject.id, "name": request.name}, None
    if request.code:
        uscc = normalise_code(request.code)
        if is_valid_uscc(uscc):
            params = {"uscc": uscc, "model_code": evaluation.current_model_code()}
            row = session.execute(_SUBJECT_AND_GRADE_BY_USCC, params).first()
            if row is None:
                return None, {"code": uscc}, None
            stamp_at = len(row) - len(_STAMP.c)  # subject, grade columns, any_entries, any_objections, the stamp
            read = _ReadWithSubject(
                grade=evaluation.grade_view(row[1 : stamp_at - 2]),
                any_entries=row[stamp_at - 2],
                any_objections=row[stamp_at - 1],
                catalog_stamp=tuple(row[stamp_at:]),
            )
            return row[0], {"code": uscc}, read
        subject, code = find_by_code(session=session, code=request.code)
        is_person_id = len(code) == 18 and not is_valid_uscc(code)
        query: dict[str, Any] = {"code": mask_id_number(code) if is_person_id else code}
        if is_person_id:
            query["_id_number"] = code
        return subject, query, None
    if request.person_name and request.company:
        return None, {"person_name": request.person_name, "company": request.company}, None
    if request.name:
        matches = match_name(session=session, name=request.name)
        if not matches:
            return None, {"name": normalise_name(request.name)}, None
        if is_ambiguous(matches):
            raise Conflict(
                f"名称「{normalise_name(request.name)}」匹配到 {len(matches)} 个可能的主体，请确认后再核查",
                candidates=[_candidate(m) for m in matches],
            )
        return matches[0].subject, {"name": normalise_name(request.name), "score": matches[0].score}, None
    raise InvalidInput("请提供 code（统一社会信用代码或身份证号）或 name（名称）")


def _company(*, session: Session, value: str) -> tuple[Subject | None, str]:
    code = normalise_code(value)
    if is_valid_uscc(code):
        return session.scalar(sa.select(Subject).where(Subject.uscc == code)), code
    matches = match_name(session=session, name=value)
    exact = [m for m in matches if m.score >= 100]
    return (exact[0].subject if len(exact) == 1 else None), value


def _candidate(match: NameMatch) -> dict[str, Any]:
    subject = match.subject
    return {
        "subject_id": subject.id,
        "name": subject.name,
        "matched_name": match.matched_name,
        "code": subject.uscc or subject.id_masked,
        "score": round(match.score, 1),
    }


def _subject_view(subject: Subject | None, query: dict[str, Any]) -> dict[str, Any]:
    if subject is None:
        return {"found": False, "query": {k: v for k, v in query.items() if not k.startswith("_")}}
    return {
        "found": True,
        "id": subject.id,
        "name": subject.name,
        "code": subject.uscc or subject.id_masked,
        "kind": subject.kind,
        "kind_label": SUBJECT_KIND_LABELS.get(SubjectKind(subject.kind), subject.kind),
        "status": subject.status,
        "legal_rep": subject.legal_rep,
    }


def _entry_brief(entry: ListEntry, today: dt.date) -> dict[str, Any]:
    view = lists.entry_view(entry, today=today)
    return {
        k: view[k]
        for k in ("entry_id", "list_type", "state_label", "doc_no", "authority", "listed_on", "expires_on", "origin")
    }


def _objection_records(*, session: Session, subject_id: int) -> list[dict[str, Any]]:
    rows = session.execute(_OBJECTION_RECORDS, {"subject_id": subject_id})
    return [
        {
            "record_id": rid,
            "resource": res,
            "doc_no": doc,
            "decision_date": d.isoformat() if d else None,
            "note": "异议处理中：该记录的内容正在核实，使用时请注意",
        }
        for rid, res, doc, d in rows
    ]


def _associated_view(entry: ListEntry, measures: list[MeasureRef], matter: str, today: dt.date) -> dict[str, Any]:
    rule = entry.list_type.associated or {}
    company = entry_subject_name(entry)
    return {
        "entry": _entry_brief(entry, today),
        "company": company,
        "role": "法定代表人/负责人",
        "rule": rule.get("rule"),
        "rule_basis": public_basis([rule["basis"]]) if rule.get("basis") else [],
        "measures": [
            measure_view(m, behind)
            for m, behind in select_measures(
                measures=measures, entries=[entry], matter=matter, subject_kind=None, associated=True
            )
        ],
    }


def entry_subject_name(entry: ListEntry) -> str | None:
    from sqlalchemy.orm import object_session

    session = object_session(entry)
    subject = session.get(Subject, entry.subject_id) if session else None
    return subject.name if subject else None


def _summary(result: dict[str, Any]) -> str:
    if not result["subject"]["found"] and not result["associated"]:
        return "未查询到该主体，无名单信息，无适用的奖惩措施"
    parts = []
    punish = [m for m in result["measures"] if m["kind"] == "punishment"]
    reward = [m for m in result["measures"] if m["kind"] == "reward"]
    parts.append(f"在列名单 {len(result['entries'])} 个")
    parts.append(f"适用惩戒措施 {len(punish)} 项、激励措施 {len(reward)} 项")
    if result["objection_records"]:
        parts.append(f"异议处理中的记录 {len(result['objection_records'])} 条")
    if result["associated"]:
        parts.append(f"关联人员约束 {len(result['associated'])} 项")
    return "；".join(parts)


def get_check(*, session: Session, check_no: str) -> Check:
    check = session.scalar(sa.select(Check).where(Check.check_no == check_no))
    if check is None:
        raise NotFound(f"核查编号 {check_no} 不存在")
    return check


# --- feedback and statistics ------------------------------------------------------------------------------------


@dataclass
class FeedbackItem:
    measure_code: str
    applied: bool
    reason: str | None = None


def record_feedback(
    *, session: Session, actor: Actor, check_no: str, items: list[FeedbackItem], department: str | None = None
) -> list[CheckFeedback]:
    """The clerk reports, per measure of the check, whether it was applied and why."""
    _require_checker(actor)
    check = get_check(session=session, check_no=check_no)
    offered = {m["code"]: m["kind"] for m in check.result.get("measures", [])}
    for assoc in check.result.get("associated", []):
        offered.update({m["code"]: m["kind"] for m in assoc.get("measures", [])})
    if not items:
        raise InvalidInput("items：至少反馈一项措施")
    for n, item in enumerate(items, start=1):
        if item.measure_code not in offered:
            raise InvalidInput(f"第 {n} 项 measure_code：措施 {item.measure_code} 不在本次核查结果中")
        if not item.applied and not (item.reason or "").strip():
            raise InvalidInput(f"第 {n} 项 reason：未实施措施 {item.measure_code} 须说明理由")
    dept = department or _department_of(session, actor) or "未注明单位"
    rows = []
    for item in items:
        row = CheckFeedback(
            check_id=check.id,
            measure_code=item.measure_code,
            measure_kind=offered[item.measure_code],
            applied=item.applied,
            reason=(item.reason or "").strip() or None,
            department=dept,
            at=clock.now(),
            actor=actor.name,
        )
        session.add(row)
        rows.append(row)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="check.feedback",
        target_type="credit_check",
        target_id=check_no,
        subject_id=check.subject_id,
        detail={"items": [vars(i) for i in items], "department": dept},
    )
    return rows


def _department_of(session: Session, actor: Actor) -> str | None:
    if actor.unit_id is None:
        return None
    unit = session.get(SourceUnit, actor.unit_id)
    return unit.name if unit else None


def feedback_of(*, session: Session, check: Check) -> list[CheckFeedback]:
    return list(
        session.scalars(sa.select(CheckFeedback).where(CheckFeedback.check_id == check.id).order_by(CheckFeedback.id))
    )


STAT_COLUMNS = [
    ("department", "实施部门"),
    ("month", "月份"),
    ("cases", "联合奖惩案例数"),
    ("punishments_applied", "实施惩戒措施（项次）"),
    ("rewards_applied", "实施激励措施（项次）"),
    ("not_applied", "未实施（项次）"),
]


def case_statistics(
    *, session: Session, start: dt.date | None = None, end: dt.date | None = None, region: str | None = None
) -> list[dict[str, Any]]:
    """联合奖惩案例 per department and month: a case is a check in which at least one measure was applied.

    ``region``: only checks made by units of that district (the console's district officers)."""
    query = sa.select(
        CheckFeedback.check_id,
        CheckFeedback.department,
        CheckFeedback.at,
        CheckFeedback.applied,
        CheckFeedback.measure_kind,
    )
    if region:
        query = (
            query.join(Check, Check.id == CheckFeedback.check_id)
            .join(SourceUnit, SourceUnit.id == Check.unit_id)
            .where(SourceUnit.region == region)
        )
    rows = session.execute(query)
    stats: dict[tuple[str, str], dict[str, Any]] = {}
    cases: dict[tuple[str, str], set[int]] = {}
    for check_id, department, at, applied, kind in rows:
        day = at.astimezone(clock.CHINA).date()
        if (start and day < start) or (end and day > end):
            continue
        key = (department, f"{day:%Y-%m}")
        line = stats.setdefault(
            key,
            {
                "department": department,
                "month": key[1],
                "cases": 0,
                "punishments_applied": 0,
                "rewards_applied": 0,
                "not_applied": 0,
            },
        )
        if not applied:
            line["not_applied"] += 1
            continue
        line["rewards_applied" if kind == "reward" else "punishments_applied"] += 1
        cases.setdefault(key, set()).add(check_id)
    for key, line in stats.items():
        line["cases"] = len(cases.get(key, set()))
    return [stats[k] for k in sorted(stats)]


# --- batch check ------------------------------------------------------------------------------------------------

BATCH_COLUMNS = [
    ("row_no", "行号"),
    ("input_code", "输入代码"),
    ("input_name", "输入名称"),
    ("status_label", "核查状态"),
    ("subject_name", "匹配主体"),
    ("subject_code", "统一社会信用代码"),
    ("score", "名称匹配分"),
    ("lists", "在列名单"),
    ("punishments", "惩戒措施"),
    ("rewards", "激励措施"),
    ("objections", "异议中记录"),
    ("check_id", "核查编号"),
    ("note", "说明"),
]
BATCH_STATUS_LABELS = {
    "checked": "已核查",
    "not_found": "未查询到主体",
    "needs_confirmation": "待人工确认",
    "rejected": "无法核查",
}


def new_batch_no(today: dt.date) -> str:
    return f"PL{today:%Y%m%d}{secrets.token_hex(4).upper()}"


# Rows of a batch check answered, then stored together in one short transaction. SQLite's are shorter: single checks
# wait for its one write lock while a chunk is written (bench/batch_check.py, 5,000 rows: their p99 24 and 16 ms with
# 20 rows a chunk, 32 and 33 ms with 50); on PostgreSQL, 50 rows took 5.7 s where 20 took 7.5 (a commit each).
BATCH_CHUNK = {"sqlite": 20, "postgresql": 50}


def batch_check(
    *,
    session: Session,
    actor: Actor,
    matter: str,
    rows: list[Any],
    batch_no: str | None = None,
    store: Callable[[], AbstractContextManager[Session]] | None = None,
) -> tuple[str, list[dict[str, Any]]]:
    """批量核查: one stored check per row. Rows with only a name are matched with a score; ambiguous ones are stored
    as 'needs_confirmation' with their candidates (no measures are guessed for them).

    Every row is answered by reading ``session``, and each chunk of rows' checks (``BATCH_CHUNK``) is then written in
    ``store()`` (by default ``session`` itself). The routes give a transaction of its own for each chunk: a file of
    50,000 rows is minutes of look-ups, and SQLite's one write lock (or, on PostgreSQL, one of the audit chains) is
    then held only while a chunk is written, not while the whole file is looked up."""
    _require_checker(actor)
    matter_row = get_matter(session=session, matter=matter)
    batch_no = batch_no or new_batch_no(clock.today())
    chunk = BATCH_CHUNK[session.get_bind().dialect.name]
    lines = []
    for start in range(0, len(rows), chunk):
        answers: list[tuple[Any, Check | Conflict | InvalidInput]] = []
        for row in rows[start : start + chunk]:
            request = CheckRequest(matter=matter_row.code, code=row.code or None, name=None if row.code else row.name)
            try:
                answers.append(
                    (
                        row,
                        answer_check(
                            session=session, actor=actor, request=request, batch_no=batch_no, row_no=row.row_no
                        ),
                    )
                )
            except (Conflict, InvalidInput) as exc:
                answers.append((row, exc))
        with store() if store is not None else nullcontext(session) as writing:
            for row, outcome in answers:
                if isinstance(outcome, Check):
                    view = store_check(session=writing, actor=actor, check=outcome).result
                else:
                    status = "needs_confirmation" if isinstance(outcome, Conflict) else "rejected"
                    view = check_view(
                        _store_unresolved(writing, actor, matter_row.code, row, batch_no, status, outcome)
                    )
                lines.append(_batch_line(row, view))
    return batch_no, lines


def _store_unresolved(
    session: Session, actor: Actor, matter: str, row: Any, batch_no: str, status: str, exc: Any
) -> Check:
    check = Check(
        check_no=new_check_no(clock.today()),
        at=clock.now(),
        actor=actor.name,
        actor_role=actor.role,
        unit_id=actor.unit_id,
        matter=matter,
        query={"code": row.code or None, "name": row.name or None},
        subject_id=None,
        result={"status": status, "message": exc.message, "candidates": exc.detail.get("candidates", [])},
        batch_no=batch_no,
        row_no=row.row_no,
    )
    session.add(check)
    session.flush()
    return check


def _batch_line(row: Any, result: dict[str, Any]) -> dict[str, Any]:
    line: dict[str, Any] = {
        "row_no": row.row_no,
        "input_code": row.code,
        "input_name": row.name,
        "check_id": result["check_id"],
    }
    status = result.get("status")
    if status in ("needs_confirmation", "rejected"):
        candidates = result.get("candidates", [])
        line |= {"status": status, "note": result.get("message"), "candidates": candidates}
        if candidates:
            line["note"] = f"{result.get('message')}：" + "；".join(
                f"{c['name']}（{c['code']}，{c['score']}分）" for c in candidates
            )
        line["status_label"] = BATCH_STATUS_LABELS[status]
        return line
    subject = result["subject"]
    line |= {
        "status": "checked" if subject["found"] else "not_found",
        "subject_name": subject.get("name"),
        "subject_code": subject.get("code"),
        "score": (result.get("match") or {}).get("score"),
        "lists": "；".join(e["list_type"]["name"] for e in result["entries"]),
        "punishments": "；".join(f"{m['code']} {m['name']}" for m in result["measures"] if m["kind"] == "punishment"),
        "rewards": "；".join(f"{m['code']} {m['name']}" for m in result["measures"] if m["kind"] == "reward"),
        "objections": len(result["objection_records"]),
        "note": result.get("summary"),
    }
    line["status_label"] = BATCH_STATUS_LABELS[line["status"]]
    return line


def batch_lines(*, session: Session, batch_no: str) -> list[dict[str, Any]]:
    checks = list(session.scalars(sa.select(Check).where(Check.batch_no == batch_no).order_by(Check.row_no)))
    if not checks:
        raise NotFound(f"批量核查批次 {batch_no} 不存在")
    lines = []
    for check in checks:
        query = check.query or {}
        row = type(
            "Row", (), {"row_no": check.row_no, "code": query.get("code") or "", "name": query.get("name") or ""}
        )
        lines.append(_batch_line(row, check_view(check)))
    return lines
