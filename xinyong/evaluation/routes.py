"""Evaluation, 双随机 and 信易+ endpoints. Thin: every answer comes from the services."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, Field

from xinyong.accounts.models import Account, Role
from xinyong.audit import service as audit
from xinyong.audit.service import Actor
from xinyong.core.deps import CurrentActor, SessionDep
from xinyong.core.errors import Forbidden
from xinyong.core.routing import APIRouter
from xinyong.evaluation import scenarios, service, supervision

router = APIRouter(prefix="/api/v1", tags=["评价与监管"])

SubjectCode = Annotated[str, Path(description="统一社会信用代码（或自然人身份证号）")]


def _own_subject_id(session: SessionDep, actor: Actor) -> int | None:
    if actor.subject_id is not None:
        return actor.subject_id
    if actor.account_id is None:
        return None
    account = session.get(Account, actor.account_id)
    return account.subject_id if account else None


@router.get("/evaluation/{code}", summary="主体的信用评价（等级、分数与逐项说明）")
def evaluation_of(code: SubjectCode, session: SessionDep, actor: CurrentActor, model: str | None = None) -> Any:
    subject = service.find_subject(session=session, code=code)
    office = actor.role in (Role.ADMIN.value, Role.CREDIT_OFFICE.value)
    if not office and _own_subject_id(session, actor) != subject.id:
        raise Forbidden("只有信用办、平台管理员或主体本人可以查看信用评价说明")
    explained = service.explain(session=session, subject_id=subject.id, model=model)
    audit.record(
        session=session,
        actor=actor,
        action="evaluation.view",
        target_type="subject",
        target_id=subject.id,
        subject_id=subject.id,
        purpose="信用评价查询" if office else "主体查看本人评价",
        detail={"model": explained.model_code, "version": explained.model_version},
    )
    return {
        "subject": {"id": subject.id, "name": subject.name, "code": subject.uscc},
        "current": service.grade_for(session=session, subject_id=subject.id, model=model),
        "history": service.history(session=session, subject_id=subject.id, model=model),
        "explanation": explained.as_dict(),
    }


@router.get("/scenarios", summary="信易+ 应用场景及其规则")
def scenario_list(actor: CurrentActor) -> Any:
    return {"items": scenarios.list_scenarios()}


class ScenarioCheck(BaseModel):
    code: str = Field(description="主体统一社会信用代码（或自然人身份证号）")


@router.post("/scenarios/{scenario}/check", summary="核验主体是否符合某个信易+ 场景")
def scenario_check(scenario: str, body: ScenarioCheck, session: SessionDep, actor: CurrentActor) -> Any:
    subject = service.find_subject(session=session, code=body.code)
    answer = scenarios.scenario_answer(session=session, subject_id=subject.id, scenario=scenario)
    audit.record(
        session=session,
        actor=actor,
        action="scenario.check",
        target_type="subject",
        target_id=subject.id,
        subject_id=subject.id,
        purpose=f"信易+ {answer['name']}",
        detail={"scenario": scenario, "eligible": answer["eligible"]},
    )
    return {"subject": {"name": subject.name, "code": subject.uscc}, **answer}


@router.get("/inspections/{campaign}", summary="双随机抽查结果公示（已公示的任务）")
def inspection_public(campaign: str, session: SessionDep) -> Any:
    return supervision.public_view(session=session, code=campaign)


@router.get("/inspections/{campaign}/verify", summary="按公开的随机种子复现抽取并核对")
def inspection_verify(campaign: str, session: SessionDep) -> Any:
    supervision.public_view(session=session, code=campaign)  # only published campaigns can be verified publicly
    return supervision.verify(session=session, code=campaign)
