"""Staff console pages (信用办 and platform admins). Routes are thin: they call services and render templates."""

from __future__ import annotations

import json
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from xinyong.accounts import service as accounts
from xinyong.accounts.models import ROLE_LABELS, Account, ApiKey, Role
from xinyong.audit import service as audit
from xinyong.catalog import service as catalog
from xinyong.catalog.models import Resource, SourceUnit, UnitResource
from xinyong.console import service
from xinyong.console.models import ApplicationItem, BehaviourItem
from xinyong.console.sections import SECTIONS
from xinyong.console.web import StaffActor, back, check_csrf, csrf_token
from xinyong.core.deps import SessionDep
from xinyong.core.errors import Forbidden, NotFound, XinyongError
from xinyong.core.routing import APIRouter
from xinyong.core.types import RowId
from xinyong.ingest.models import Batch, QuarantinedRow
from xinyong.monitoring import governance, worker
from xinyong.monitoring.models import ISSUE_KIND_LABELS, ISSUE_STATUS_LABELS, GovernanceIssue, IssueStatus
from xinyong.records.models import SEVERITY_LABELS
from xinyong.subjects.models import CODE_TYPE_LABELS, SUBJECT_KIND_LABELS, Subject, SubjectName
from xinyong.web.templating import render

router = APIRouter(prefix="/console", include_in_schema=False)
Text = Annotated[str, Form()]
OptionalText = Annotated[str, Form()]


def page(request: Request, name: str, **context: Any) -> HTMLResponse:
    base = {
        "sections": list(SECTIONS.values()),
        "csrf": csrf_token(request),
        "flash_ok": request.query_params.get("ok"),
        "flash_error": request.query_params.get("error"),
        "kind_labels": SUBJECT_KIND_LABELS,
        "severity_labels": SEVERITY_LABELS,
        "disclosure_labels": service.DISCLOSURE_LABELS,
    }
    return render(request, name if "/" in name else f"console/{name}", base | context)


@router.get("", response_class=HTMLResponse)
def overview(request: Request, session: SessionDep, actor: StaffActor) -> HTMLResponse:
    open_issues = governance.open_issues(session=session, region=actor.region)
    return page(request, "overview.html", open_issues=len(open_issues), runs=worker.recent_runs(session=session))


# --- catalog -------------------------------------------------------------------------------------------------


@router.get("/catalog", response_class=HTMLResponse)
def catalog_list(request: Request, session: SessionDep, actor: StaffActor) -> HTMLResponse:
    resources = session.scalars(sa.select(Resource).order_by(Resource.id)).all()
    return page(request, "catalog.html", resources=resources)


@router.get("/catalog/{code}", response_class=HTMLResponse)
def catalog_edit(request: Request, code: str, session: SessionDep, actor: StaffActor) -> HTMLResponse:
    resource = catalog.get_resource(session=session, code=code)
    return page(
        request,
        "resource.html",
        resource=resource,
        history=service.catalog_history(session=session, resource_id=resource.id),
        legal_text="\n".join(
            " | ".join(str(b.get(k, "")) for k in ("document", "article", "point")).rstrip(" |")
            for b in resource.legal_basis
        ),
        rules_text=json.dumps(resource.severity_rules, ensure_ascii=False, indent=2),
        fields_text=json.dumps(resource.fields, ensure_ascii=False, indent=1),
    )


@router.post("/catalog/{code}")
def catalog_save(
    request: Request,
    code: str,
    session: SessionDep,
    actor: StaffActor,
    csrf: Text,
    name: Text,
    disclosure_class: Text,
    update_frequency: Text,
    reason: Text,
    fields: Text,
    update_days: OptionalText = "",
    legal_basis: OptionalText = "",
    severity_rules: OptionalText = "{}",
) -> Response:
    check_csrf(request, csrf)
    if actor.role != Role.ADMIN and actor.region:
        raise Forbidden("目录由市级信用办维护，区县账号只能查看")
    edit = service.ResourceEdit(
        name, disclosure_class, update_frequency, update_days, legal_basis, severity_rules, fields, reason
    )
    try:
        change = service.revise_resource(session=session, actor=actor, code=code, edit=edit)
    except XinyongError as exc:
        session.rollback()
        return back(f"/console/catalog/{code}", error=exc.message)
    return back(f"/console/catalog/{code}", ok=f"已保存为第 {change.version} 版" if change else "没有改动")


# --- 三清单 --------------------------------------------------------------------------------------------------


@router.get("/lists", response_class=HTMLResponse)
def lists_page(request: Request, session: SessionDep, actor: StaffActor) -> HTMLResponse:
    return page(
        request,
        "lists.html",
        resources=session.scalars(sa.select(Resource).where(Resource.active.is_(True)).order_by(Resource.id)).all(),
        behaviours=session.scalars(sa.select(BehaviourItem).where(BehaviourItem.active.is_(True))).all(),
        applications=session.scalars(sa.select(ApplicationItem).where(ApplicationItem.active.is_(True))).all(),
    )


@router.post("/lists/behaviour")
def behaviour_add(
    request: Request,
    session: SessionDep,
    actor: StaffActor,
    csrf: Text,
    name: Text,
    direction: Text,
    resource_code: Text,
    legal_basis: Text,
    severity: OptionalText = "",
) -> Response:
    check_csrf(request, csrf)
    try:
        service.add_behaviour(
            session=session,
            actor=actor,
            name=name,
            direction=direction,
            resource_code=resource_code,
            severity=severity or None,
            legal_basis=legal_basis,
        )
    except XinyongError as exc:
        session.rollback()
        return back("/console/lists", error=exc.message)
    return back("/console/lists", ok="已加入行为清单")


@router.post("/lists/application")
def application_add(
    request: Request,
    session: SessionDep,
    actor: StaffActor,
    csrf: Text,
    matter: Text,
    legal_basis: Text,
    resource_codes: Annotated[list[str], Form()] = [],  # noqa: B006
    department: OptionalText = "",
    measure_codes: OptionalText = "",
) -> Response:
    check_csrf(request, csrf)
    try:
        service.add_application(
            session=session,
            actor=actor,
            matter=matter,
            department=department,
            resource_codes=resource_codes,
            measure_codes=measure_codes.replace("，", ",").split(","),
            legal_basis=legal_basis,
        )
    except XinyongError as exc:
        session.rollback()
        return back("/console/lists", error=exc.message)
    return back("/console/lists", ok="已加入应用清单")


@router.post("/lists/{kind}/{item_id}/retire")
def list_retire(
    request: Request, kind: str, item_id: RowId, session: SessionDep, actor: StaffActor, csrf: Text
) -> Response:
    check_csrf(request, csrf)
    service.retire_list_item(session=session, actor=actor, kind=kind, item_id=item_id)
    return back("/console/lists", ok="已停用该清单条目")


# --- units, accounts and keys -------------------------------------------------------------------------------------


@router.get("/units", response_class=HTMLResponse)
def units_page(request: Request, session: SessionDep, actor: StaffActor) -> HTMLResponse:
    units = service.units_in_scope(session=session, region=actor.region)
    grants: dict[int, set[str]] = {}
    for unit_id, code in session.execute(
        sa.select(UnitResource.unit_id, Resource.code).join(Resource, Resource.id == UnitResource.resource_id)
    ):
        grants.setdefault(unit_id, set()).add(code)
    resources = session.scalars(sa.select(Resource).order_by(Resource.id)).all()
    return page(request, "units.html", units=units, grants=grants, resources=resources)


@router.post("/units/{unit_id}/grants")
def unit_grants(
    request: Request,
    unit_id: RowId,
    session: SessionDep,
    actor: StaffActor,
    csrf: Text,
    resource: Annotated[list[str], Form()] = [],  # noqa: B006
) -> Response:
    check_csrf(request, csrf)
    unit = session.get(SourceUnit, unit_id)
    if unit is None or not service.in_scope(actor.region, unit.region):
        raise NotFound("单位不存在或不在本区域")
    catalog.register_unit(
        session=session,
        uscc=unit.uscc,
        name=unit.name,
        region=unit.region,
        resources=resource,
        short_name=unit.short_name,
    )
    audit.record(
        session=session,
        actor=actor,
        action="unit.grants",
        target_type="source_unit",
        target_id=unit.uscc,
        detail={"resources": sorted(resource)},
    )
    return back("/console/units", ok=f"已更新“{unit.name}”可报送的资源")


@router.get("/accounts", response_class=HTMLResponse)
def accounts_page(request: Request, session: SessionDep, actor: StaffActor) -> HTMLResponse:
    query = sa.select(Account).order_by(Account.id)
    keys = sa.select(ApiKey).order_by(ApiKey.id.desc())
    if actor.region:
        query, keys = query.where(Account.region == actor.region), keys.where(ApiKey.region == actor.region)
    units = {u.id: u for u in service.units_in_scope(session=session, region=actor.region)}
    return page(
        request,
        "accounts.html",
        accounts=session.scalars(query).all(),
        keys=session.scalars(keys).all(),
        units=units,
        role_labels=ROLE_LABELS,
        issued=None,
    )


@router.post("/apikeys", response_class=HTMLResponse)
def apikey_issue(
    request: Request,
    session: SessionDep,
    actor: StaffActor,
    csrf: Text,
    role: Text,
    unit: OptionalText = "",
    label: OptionalText = "",
) -> Response:
    check_csrf(request, csrf)
    try:
        unit_row = catalog.get_unit(session=session, uscc=unit) if unit else None
        if unit_row is not None and not service.in_scope(actor.region, unit_row.region):
            raise Forbidden("不能为其他区域的单位签发密钥")
        issued = accounts.create_api_key(
            session=session, actor=actor, role=accounts.parse_role(role), unit=unit_row, label=label or None
        )
    except XinyongError as exc:
        session.rollback()
        return back("/console/accounts", error=exc.message)
    units = {u.id: u for u in service.units_in_scope(session=session, region=actor.region)}
    return page(
        request,
        "accounts.html",
        accounts=session.scalars(sa.select(Account).order_by(Account.id)).all(),
        keys=session.scalars(sa.select(ApiKey).order_by(ApiKey.id.desc())).all(),
        units=units,
        role_labels=ROLE_LABELS,
        issued=issued.key,
    )


@router.post("/apikeys/{prefix}/revoke")
def apikey_revoke(request: Request, prefix: str, session: SessionDep, actor: StaffActor, csrf: Text) -> Response:
    check_csrf(request, csrf)
    key = session.scalar(sa.select(ApiKey).where(ApiKey.prefix == prefix))
    if key is None or not service.in_scope(actor.region, key.region):
        raise NotFound("密钥不存在")
    accounts.revoke_api_key(session=session, actor=actor, prefix=prefix)
    return back("/console/accounts", ok=f"已吊销密钥 {prefix}")


# --- batches and rejected rows --------------------------------------------------------------------------------


@router.get("/batches", response_class=HTMLResponse)
def batches_page(request: Request, session: SessionDep, actor: StaffActor) -> HTMLResponse:
    query = sa.select(Batch).order_by(Batch.started_at.desc()).limit(100)
    if actor.region:
        query = query.where(Batch.region == actor.region)
    return page(
        request,
        "batches.html",
        batches=session.scalars(query).all(),
        units={u.id: u.name for u in session.scalars(sa.select(SourceUnit))},
        resources={r.id: r.name for r in session.scalars(sa.select(Resource))},
    )


@router.get("/batches/{batch_id}", response_class=HTMLResponse)
def batch_page(request: Request, batch_id: str, session: SessionDep, actor: StaffActor) -> HTMLResponse:
    batch = session.get(Batch, batch_id)
    if batch is None or not service.in_scope(actor.region, batch.region):
        raise NotFound("批次不存在")
    rows = session.scalars(
        sa.select(QuarantinedRow).where(QuarantinedRow.batch_id == batch_id).order_by(QuarantinedRow.row_no)
    ).all()
    return page(request, "batch.html", batch=batch, rows=rows, raw=None)


@router.post("/batches/rows/{row_id}/raw", response_class=HTMLResponse)
def rejected_row_raw(
    request: Request, row_id: RowId, session: SessionDep, actor: StaffActor, csrf: Text, purpose: OptionalText = ""
) -> Response:
    check_csrf(request, csrf)
    row = session.get(QuarantinedRow, row_id)
    if row is None:
        raise NotFound("被拒收的数据行不存在")
    try:
        raw = service.rejected_raw_row(session=session, actor=actor, row_id=row_id, purpose=purpose)
    except XinyongError as exc:
        session.rollback()
        return back(f"/console/batches/{row.batch_id}", error=exc.message)
    batch = session.get(Batch, row.batch_id)
    rows = session.scalars(
        sa.select(QuarantinedRow).where(QuarantinedRow.batch_id == row.batch_id).order_by(QuarantinedRow.row_no)
    ).all()
    return page(request, "batch.html", batch=batch, rows=rows, raw=raw, raw_row=row)


# --- records ---------------------------------------------------------------------------------------------------


@router.get("/records", response_class=HTMLResponse)
def records_page(
    request: Request, session: SessionDep, actor: StaffActor, q: str = "", resource: str = "", purpose: str = ""
) -> Response:
    found = None
    if q or resource:
        try:
            found = service.search_records(session=session, actor=actor, purpose=purpose, q=q, resource=resource)
        except XinyongError as exc:
            return page(
                request,
                "records.html",
                found=None,
                q=q,
                resource=resource,
                purpose=purpose,
                resources=session.scalars(sa.select(Resource)).all(),
                flash_error=exc.message,
            )
    names = {r.id: r.name for r in session.scalars(sa.select(Resource))}
    units = {u.id: u.name for u in session.scalars(sa.select(SourceUnit))}
    return page(
        request,
        "records.html",
        found=found,
        q=q,
        resource=resource,
        purpose=purpose,
        resources=session.scalars(sa.select(Resource)).all(),
        resource_names=names,
        unit_names=units,
    )


@router.get("/records/{record_id}", response_class=HTMLResponse)
def record_page(
    request: Request, record_id: RowId, session: SessionDep, actor: StaffActor, purpose: str = ""
) -> Response:
    try:
        record = service.view_record(session=session, actor=actor, record_id=record_id, purpose=purpose)
    except XinyongError as exc:
        return back("/console/records", error=exc.message)
    return page(
        request,
        "record.html",
        record=record,
        purpose=purpose,
        resource=session.get(Resource, record.resource_id),
        unit=session.get(SourceUnit, record.source_unit_id),
    )


# --- subjects --------------------------------------------------------------------------------------------------


@router.get("/subjects", response_class=HTMLResponse)
def subjects_page(request: Request, session: SessionDep, actor: StaffActor, q: str = "") -> HTMLResponse:
    return page(request, "subjects.html", q=q, found=service.find_subjects(session=session, actor=actor, q=q))


@router.get("/subjects/{subject_id}", response_class=HTMLResponse)
def subject_page(request: Request, subject_id: RowId, session: SessionDep, actor: StaffActor) -> HTMLResponse:
    subject = service.get_subject(session=session, actor=actor, subject_id=subject_id)
    names = session.scalars(sa.select(SubjectName).where(SubjectName.subject_id == subject.id).order_by(SubjectName.id))
    return page(
        request,
        "subject.html",
        subject=subject,
        names=names.all(),
        codes=subject.codes,
        code_labels=CODE_TYPE_LABELS,
        merges=service.merges_of(session=session, subject_id=subject.id),
        record_count=session.scalar(sa.select(sa.func.count()).where(service.Record.subject_id == subject.id)),
    )


def _subject_action(request: Request, session: SessionDep, subject_id: RowId, action: Any, ok: str) -> Response:
    try:
        action()
    except XinyongError as exc:
        session.rollback()
        return back(f"/console/subjects/{subject_id}", error=exc.message)
    return back(f"/console/subjects/{subject_id}", ok=ok)


@router.post("/subjects/{subject_id}/rename")
def subject_rename(
    request: Request, subject_id: RowId, session: SessionDep, actor: StaffActor, csrf: Text, name: Text, reason: Text
) -> Response:
    check_csrf(request, csrf)
    return _subject_action(
        request,
        session,
        subject_id,
        lambda: service.rename(session=session, actor=actor, subject_id=subject_id, name=name, reason=reason),
        "已变更名称",
    )


@router.post("/subjects/{subject_id}/codes")
def subject_code(
    request: Request, subject_id: RowId, session: SessionDep, actor: StaffActor, csrf: Text, code_type: Text, code: Text
) -> Response:
    check_csrf(request, csrf)
    return _subject_action(
        request,
        session,
        subject_id,
        lambda: service.add_code(session=session, actor=actor, subject_id=subject_id, code_type=code_type, code=code),
        "已添加代码映射",
    )


@router.post("/subjects/{subject_id}/merge")
def subject_merge(
    request: Request, subject_id: RowId, session: SessionDep, actor: StaffActor, csrf: Text, other: Text, reason: Text
) -> Response:
    check_csrf(request, csrf)
    wanted = other.strip()
    target = session.get(Subject, int(wanted)) if wanted.isdigit() and len(wanted) < 18 else None
    target = target or session.scalar(sa.select(Subject).where(Subject.uscc == wanted.upper()))
    if target is None:
        return back(f"/console/subjects/{subject_id}", error="请填写要并入的主体编号或统一社会信用代码")
    merged_id, merged_name = target.id, target.name
    return _subject_action(
        request,
        session,
        subject_id,
        lambda: service.merge_subjects(
            session=session, actor=actor, survivor_id=subject_id, merged_id=merged_id, reason=reason
        ),
        f"已将“{merged_name}”并入本主体",
    )


@router.post("/merges/{merge_id}/undo")
def merge_undo(request: Request, merge_id: RowId, session: SessionDep, actor: StaffActor, csrf: Text) -> Response:
    check_csrf(request, csrf)
    try:
        log = service.undo_merge(session=session, actor=actor, merge_id=merge_id)
    except XinyongError as exc:
        session.rollback()
        return RedirectResponse(f"/console/subjects?error={exc.message}", status_code=303)
    return back(f"/console/subjects/{log.survivor_id}", ok="已撤销合并")


# --- governance queue ----------------------------------------------------------------------------------------


@router.get("/governance", response_class=HTMLResponse)
def governance_page(request: Request, session: SessionDep, actor: StaffActor, status: str = "open") -> HTMLResponse:
    issues = governance.open_issues(session=session, region=actor.region, status=status)
    return page(
        request,
        "governance.html",
        issues=issues,
        status=status,
        kind_labels_gov=ISSUE_KIND_LABELS,
        status_labels=ISSUE_STATUS_LABELS,
        statuses=list(IssueStatus),
    )


@router.post("/governance/{issue_id}")
def governance_close(
    request: Request,
    issue_id: RowId,
    session: SessionDep,
    actor: StaffActor,
    csrf: Text,
    outcome: Text,
    note: OptionalText = "",
) -> Response:
    check_csrf(request, csrf)
    try:
        governance.close_issue(session=session, actor=actor, issue_id=issue_id, outcome=outcome, note=note)
    except XinyongError as exc:
        session.rollback()
        return back("/console/governance", error=exc.message)
    return back("/console/governance", ok="已处理")


@router.post("/governance-scan")
def governance_scan(request: Request, session: SessionDep, actor: StaffActor, csrf: Text) -> Response:
    check_csrf(request, csrf)
    found = governance.scan_duplicate_records(session=session) + governance.scan_duplicate_subjects(session=session)
    audit.record(session=session, actor=actor, action="governance.scan", detail={"new": found})
    return back("/console/governance", ok=f"扫描完成，新发现 {found} 个问题")


__all__ = ["GovernanceIssue", "router"]
