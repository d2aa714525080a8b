"""Public subject API (DESIGN §6): search and profile, the JSON twins of /search and /subjects/{code}."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, Request
from fastapi.responses import Response

from xinyong.core.deps import OptionalActor, SessionDep
from xinyong.core.routing import APIRouter
from xinyong.disclosure import Viewer
from xinyong.portal.fairuse import fair_use
from xinyong.subjects import profile as profiles
from xinyong.subjects import search as searching
from xinyong.subjects.models import SUBJECT_KIND_LABELS, SubjectKind
from xinyong.subjects.profile import STATUS_LABELS, SubjectProfile
from xinyong.subjects.schemas import (
    ExtraSectionRead,
    RecordRead,
    SectionRead,
    SubjectPage,
    SubjectProfileRead,
    SubjectSummary,
)
from xinyong.subjects.search import SearchResult
from xinyong.web.caching import conditional_json

router = APIRouter(prefix="/api/v1/subjects", tags=["信用主体"], dependencies=[Depends(fair_use)])

CodePath = Annotated[
    str,
    Path(
        description="统一社会信用代码、旧代码（工商注册号、组织机构代码等）或门户编号；不区分大小写，可含空格或全角字符"
    ),
]


def page_of(result: SearchResult) -> SubjectPage:
    items = []
    for hit in result.items:
        subject = hit.subject
        code = searching.subject_ref(subject)
        items.append(
            SubjectSummary(
                code=code,
                name=subject.name,
                kind=subject.kind,
                kind_label=SUBJECT_KIND_LABELS.get(SubjectKind(subject.kind), subject.kind),
                region=subject.region,
                status_label=STATUS_LABELS.get(subject.status, subject.status),  # type: ignore[call-overload]
                exact_code=hit.exact_code,
                former_name=hit.former_name,
                url=f"/subjects/{code}",
            )
        )
    return SubjectPage(
        items=items, total=result.total, total_capped=result.capped, page=result.page, page_size=result.page_size
    )


def profile_read(found: SubjectProfile) -> SubjectProfileRead:
    return SubjectProfileRead(
        code=found.code,
        name=found.name,
        kind=found.kind,
        kind_label=found.kind_label,
        uscc=found.uscc,
        id_number_masked=found.id_number_masked,
        region=found.region,
        status=found.status,
        status_label=found.status_label,
        legal_rep=found.legal_rep,
        established_on=found.established_on,
        former_names=found.former_names,
        viewer=found.viewer.value,
        sections=[
            SectionRead(
                key=s.key,
                title=s.title,
                records=[RecordRead.model_validate(profiles.payload_for(e)) for e in s.entries],
            )
            for s in found.sections
        ],
        extra_sections=[
            ExtraSectionRead.model_validate(
                {"key": x.key, "title": x.title, "note": x.note, "items": [vars(i) for i in x.items]}
            )
            for x in found.extras
        ],
    )


@router.get(
    "",
    response_model=SubjectPage,
    summary="按名称或代码查询信用主体",
    description="名称模糊匹配（含曾用名，一两个字也可），或代码精确匹配（任意大小写、空格、全角）；代码命中排在首位。",
)
def search_subjects(
    request: Request,
    session: SessionDep,
    q: Annotated[str, Query(min_length=1, max_length=100, description="名称、名称片段或代码")],
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Response:
    result = searching.search(session=session, q=q, page=page, page_size=page_size)
    return conditional_json(request, page_of(result))


@router.get(
    "/{code}",
    response_model=SubjectProfileRead,
    summary="信用主体公示信息",
    description="仅含依规公示的信息；携带政务共享或信用办 API 密钥时按其权限呈现（并记入审计日志）。未知代码返回 404。",
    responses={404: {"description": "未找到该信用主体"}, 304: {"description": "未变化（If-None-Match）"}},
)
def subject_profile(request: Request, session: SessionDep, code: CodePath, actor: OptionalActor) -> Response:
    viewer = Viewer.for_role(actor.role, actor.subject_id) if actor else Viewer.public()
    found = profiles.profile(session=session, code=code, viewer=viewer, actor=actor)
    cache = "public, max-age=60" if actor is None else "private, no-store"
    return conditional_json(request, profile_read(found), cache=cache)
