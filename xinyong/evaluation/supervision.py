"""分级分类监管: a 双随机 draw — subjects by grade ratios, two inspectors each — reproducible from a recorded seed.

The draw is a pure function of (seed, ratios, population snapshot, inspector pool, conflicts): both the snapshot and
the seed are stored with the campaign, so anyone can re-run ``draw`` and compare (``verify``). Ordering is by id
everywhere, so the result does not depend on how the database returns rows.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from xinyong.audit import service as audit
from xinyong.audit.service import Actor
from xinyong.core import clock
from xinyong.core.errors import Conflict, InvalidInput, NotFound
from xinyong.core.settings import get_settings
from xinyong.evaluation.models import (
    EvaluationCurrent,
    IndustryMember,
    InspectionCampaign,
    InspectionDraw,
    Inspector,
    InspectorConflict,
)
from xinyong.evaluation.spec import UNGRADED
from xinyong.subjects.models import Subject, SubjectKind, SubjectStatus

INSPECTORS_PER_SUBJECT = 2


def add_inspector(*, session: Session, actor: Actor, code: str, name: str, department: str) -> Inspector:
    if session.scalar(sa.select(Inspector.id).where(Inspector.code == code)) is not None:
        raise Conflict(f"执法证号 {code} 已登记")
    row = Inspector(code=code, name=name, department=department, active=True, created_at=clock.now())
    session.add(row)
    session.flush()
    audit.record(
        session=session, actor=actor, action="inspection.inspector_add", target_type="inspector", target_id=row.id
    )
    return row


def add_conflict(*, session: Session, actor: Actor, inspector_id: int, subject_id: int, reason: str | None) -> None:
    session.merge(InspectorConflict(inspector_id=inspector_id, subject_id=subject_id, reason=reason))
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="inspection.conflict_add",
        target_type="inspector",
        target_id=inspector_id,
        subject_id=subject_id,
    )


def ratios() -> dict[str, float]:
    return dict(get_settings().sampling_ratios)


@dataclass(frozen=True)
class Assignment:
    subject_id: int
    grade: str
    inspector_ids: tuple[int, ...]


def draw(
    *,
    seed: str,
    ratios: dict[str, float],
    population: dict[str, list[int]],
    inspectors: list[int],
    conflicts: dict[int, list[int]],
) -> list[Assignment]:
    """The draw itself: per grade (in sorted order) sample ceil(n × ratio) subjects, then two inspectors for each
    drawn subject among those without a conflict with it. Deterministic for the same inputs."""
    rng = random.Random(seed)
    pool = sorted(inspectors)
    chosen: list[tuple[str, int]] = []
    for grade in sorted(population):
        members = sorted(population[grade])
        ratio = ratios.get(grade, ratios.get(UNGRADED, 0.0))
        size = min(len(members), math.ceil(len(members) * ratio - 1e-9)) if members else 0
        chosen += [(grade, sid) for sid in rng.sample(members, size)]
    out: list[Assignment] = []
    for grade, sid in chosen:
        free = [i for i in pool if sid not in conflicts.get(i, ())]
        if len(free) < INSPECTORS_PER_SUBJECT:
            raise InvalidInput(f"主体 {sid} 可派检查人员不足 {INSPECTORS_PER_SUBJECT} 人（已排除回避人员）")
        out.append(Assignment(sid, grade, tuple(sorted(rng.sample(free, INSPECTORS_PER_SUBJECT)))))
    return out


def _digest(population: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(population, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def create_campaign(
    *,
    session: Session,
    actor: Actor,
    code: str,
    name: str,
    industry: str | None = None,
    region: str | None = None,
    subject_ids: list[int] | None = None,
    model_code: str | None = None,
    seed: str | None = None,
    ratios_override: dict[str, float] | None = None,
) -> InspectionCampaign:
    """Snapshot the population (subjects in scope with their current grade) and the inspector pool, draw, store."""
    if session.scalar(sa.select(InspectionCampaign.id).where(InspectionCampaign.code == code)) is not None:
        raise Conflict(f"抽查任务编号 {code} 已存在")
    model_code = model_code or get_settings().evaluation_model
    use_ratios = {**ratios(), **(ratios_override or {})}
    for grade, value in use_ratios.items():
        if not 0 <= value <= 1:
            raise InvalidInput(f"等级 {grade} 的抽查比例应在 0 到 1 之间（收到 {value}）")
    query = (
        sa.select(Subject.id, sa.func.coalesce(EvaluationCurrent.grade, UNGRADED))
        .outerjoin(
            EvaluationCurrent,
            sa.and_(EvaluationCurrent.subject_id == Subject.id, EvaluationCurrent.model_code == model_code),
        )
        .where(Subject.status == SubjectStatus.ACTIVE.value)
    )
    if industry:
        query = query.where(
            sa.exists().where(IndustryMember.subject_id == Subject.id, IndustryMember.industry == industry)
        )
    if region:
        query = query.where(Subject.region.startswith(region.rstrip("0") or region))
    if subject_ids is not None:
        query = query.where(Subject.id.in_(subject_ids))
    population: dict[str, list[int]] = {}
    for sid, grade in session.execute(query.order_by(Subject.id)):
        population.setdefault(grade, []).append(sid)
    if not population:
        raise InvalidInput("抽查范围内没有主体")
    inspectors = list(session.scalars(sa.select(Inspector.id).where(Inspector.active.is_(True)).order_by(Inspector.id)))
    conflicts: dict[int, list[int]] = {}
    for inspector_id, subject_id in session.execute(
        sa.select(InspectorConflict.inspector_id, InspectorConflict.subject_id).order_by(
            InspectorConflict.inspector_id, InspectorConflict.subject_id
        )
    ):
        conflicts.setdefault(inspector_id, []).append(subject_id)
    seed = seed or secrets.token_hex(16)
    assignments = draw(seed=seed, ratios=use_ratios, population=population, inspectors=inspectors, conflicts=conflicts)
    snapshot = {
        "subjects": population,
        "inspectors": inspectors,
        "conflicts": {str(k): v for k, v in conflicts.items()},
    }
    campaign = InspectionCampaign(
        code=code,
        name=name,
        model_code=model_code,
        seed=seed,
        ratios=use_ratios,
        scope={"industry": industry, "region": region, "subject_ids": subject_ids},
        population=snapshot,
        population_digest=_digest(snapshot),
        created_at=clock.now(),
        created_by=actor.name,
    )
    session.add(campaign)
    session.flush()
    session.add_all(
        InspectionDraw(
            campaign_id=campaign.id,
            position=i + 1,
            subject_id=a.subject_id,
            grade=a.grade,
            inspector_ids=list(a.inspector_ids),
        )
        for i, a in enumerate(assignments)
    )
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="inspection.draw",
        target_type="inspection_campaign",
        target_id=code,
        detail={"seed": seed, "drawn": len(assignments), "digest": campaign.population_digest},
    )
    return campaign


def get_campaign(*, session: Session, code: str) -> InspectionCampaign:
    campaign = session.scalar(sa.select(InspectionCampaign).where(InspectionCampaign.code == code))
    if campaign is None:
        raise NotFound(f"没有编号为 {code} 的抽查任务")
    return campaign


def _stored(session: Session, campaign: InspectionCampaign) -> list[Assignment]:
    rows = session.scalars(
        sa.select(InspectionDraw).where(InspectionDraw.campaign_id == campaign.id).order_by(InspectionDraw.position)
    )
    return [Assignment(r.subject_id, r.grade, tuple(r.inspector_ids)) for r in rows]


def verify(*, session: Session, code: str) -> dict[str, Any]:
    """Re-run the draw from the stored seed and snapshot and compare with what was stored."""
    campaign = get_campaign(session=session, code=code)
    snapshot = campaign.population
    rerun = draw(
        seed=campaign.seed,
        ratios=campaign.ratios,
        population=snapshot["subjects"],
        inspectors=snapshot["inspectors"],
        conflicts={int(k): v for k, v in snapshot["conflicts"].items()},
    )
    stored = _stored(session, campaign)
    digest_ok = _digest(snapshot) == campaign.population_digest
    return {
        "campaign": campaign.code,
        "seed": campaign.seed,
        "digest_ok": digest_ok,
        "same_draw": rerun == stored,
        "valid": digest_ok and rerun == stored,
        "drawn": len(stored),
    }


def publish(*, session: Session, actor: Actor, code: str) -> InspectionCampaign:
    campaign = get_campaign(session=session, code=code)
    campaign.published_at = campaign.published_at or clock.now()
    session.flush()
    audit.record(
        session=session, actor=actor, action="inspection.publish", target_type="inspection_campaign", target_id=code
    )
    return campaign


def public_view(*, session: Session, code: str) -> dict[str, Any]:
    """What the public page shows: campaign, seed, counts per grade, drawn subjects' names (natural persons masked),
    inspectors. Only for a published campaign."""
    campaign = get_campaign(session=session, code=code)
    if campaign.published_at is None:
        raise NotFound(f"抽查任务 {code} 尚未公示")
    stored = _stored(session, campaign)
    subjects = {
        s.id: s for s in session.scalars(sa.select(Subject).where(Subject.id.in_([a.subject_id for a in stored])))
    }
    ids = sorted({i for a in stored for i in a.inspector_ids})
    inspectors = {i.id: i for i in session.scalars(sa.select(Inspector).where(Inspector.id.in_(ids)))}
    population = campaign.population["subjects"]
    per_grade = {
        grade: {
            "population": len(population.get(grade, [])),
            "ratio": campaign.ratios.get(grade, campaign.ratios.get(UNGRADED)),
            "drawn": sum(1 for a in stored if a.grade == grade),
        }
        for grade in sorted(population)
    }
    return {
        "code": campaign.code,
        "name": campaign.name,
        "model": campaign.model_code,
        "seed": campaign.seed,
        "population_digest": campaign.population_digest,
        "drawn_at": campaign.created_at.isoformat(),
        "published_at": campaign.published_at.isoformat(),
        "per_grade": per_grade,
        "items": [
            {
                "position": n + 1,
                "name": _public_name(subjects[a.subject_id]),
                "code": subjects[a.subject_id].uscc,
                "grade": a.grade,
                "inspectors": [f"{inspectors[i].name}（{inspectors[i].department}）" for i in a.inspector_ids],
            }
            for n, a in enumerate(stored)
        ],
    }


def _public_name(subject: Subject) -> str:
    if subject.kind == SubjectKind.NATURAL_PERSON.value:
        return subject.name[:1] + "*" * max(len(subject.name) - 1, 1)
    return subject.name
