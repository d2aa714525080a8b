"""The credit report's parts that other domains fill (DESIGN §4.6): 信用承诺 (commitments), 诚实守信 (红名单) and
严重失信主体名单 (the lists domain's entries in force), 自主申报 under 其他, and 信用评价 (the evaluation's grade).

Registered with ``reports.providers.set_provider`` when ``xinyong.hooks.install`` imports this module. What the
public may see: public commitment types only; list types marked public only (an entry from a collected record is
shown through that record, i.e. as the disclosure engine decided); legal persons' declarations not found untrue;
the grade only where ``XINYONG_PUBLIC_GRADES`` allows it. The full report (the subject itself) shows everything,
each item marked public or not.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from xinyong.commitments import service as commitments
from xinyong.commitments.models import COMMITMENT_STATUS_LABELS, Commitment, CommitmentStatus
from xinyong.core import clock
from xinyong.declarations import service as declarations
from xinyong.declarations.models import CATEGORY_LABELS, DeclarationCategory, DeclarationStatus, SelfDeclaration
from xinyong.disclosure import ViewerKind
from xinyong.evaluation import service as evaluation
from xinyong.lists import service as lists
from xinyong.lists.models import ListEntry
from xinyong.reports import providers
from xinyong.reports.content import ReportItem, ReportPart
from xinyong.reports.providers import ReportContext
from xinyong.subjects.models import SubjectKind


def _public_only(ctx: ReportContext) -> bool:
    return ctx.viewer.kind is ViewerKind.PUBLIC


def _day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(clock.CHINA).date()


def _in_period(ctx: ReportContext, day: dt.date | None) -> bool:
    if day is None:
        return ctx.period_from is None
    return (ctx.period_from is None or day >= ctx.period_from) and day <= ctx.period_to


# --- 信用承诺 ------------------------------------------------------------------------------------------------------


def commitments_part(ctx: ReportContext) -> ReportPart:
    query = sa.select(Commitment).where(Commitment.subject_id == ctx.subject.id).order_by(Commitment.signed_at)
    if _public_only(ctx):
        query = query.where(Commitment.public.is_(True))
    labels = commitments.type_labels()
    items = []
    for row in ctx.session.scalars(query):
        signed = _day(row.signed_at)
        if not _in_period(ctx, signed):
            continue
        status = COMMITMENT_STATUS_LABELS[CommitmentStatus(row.status)]
        fields = [("承诺类型", labels.get(row.type, row.type)), ("履约情况", status)]
        if row.fulfilment_note:
            fields.append(("履约说明", row.fulfilment_note))
        if row.valid_to:
            fields.append(("有效期至", row.valid_to.isoformat()))
        fields.append(("承诺内容", row.text))
        items.append(
            ReportItem(
                resource_name=f"信用承诺：{row.title}",
                doc_no=row.no,
                decision_date=signed,
                unit_name="信用主体在线签署",
                severity_label=None,
                fields=fields,
                public=row.public,
                reason="该类承诺向社会公示" if row.public else "该类承诺不向社会公示，仅主体本人与信用办可见",
                mark=None,
                published_until=None,
                unit_id=None,
                updated_at=row.fulfilment_at or row.signed_at,
            )
        )
    return ReportPart(
        key="commitments",
        title="信用承诺",
        items=items,
        empty_text="未发现信用承诺",
        source="信用承诺模块",
        note=None if not _public_only(ctx) else "仅列示向社会公示的承诺类型。",
    )


# --- 红名单、严重失信主体名单 ---------------------------------------------------------------------------------------


def _entry_item(entry: ListEntry) -> ReportItem:
    kind = entry.list_type
    fields = [
        ("列入事由", entry.reason),
        ("有效期至", entry.expires_on.isoformat() if entry.expires_on else "至移出决定"),
    ]
    return ReportItem(
        resource_name=kind.name,
        doc_no=entry.doc_no or "",
        decision_date=entry.listed_on,
        unit_name=entry.authority or kind.authority,
        severity_label=None,
        fields=fields,
        public=kind.public,
        reason="名单向社会公开" if kind.public else "该名单不向社会公开，仅主体本人与信用办可见",
        mark=None,
        published_until=entry.expires_on,
        unit_id=None,
        updated_at=entry.updated_at,
    )


def _with_entries(default: providers.Provider, kind: str, source: str) -> providers.Provider:
    """The records of the part (as the disclosure engine decided for the viewer) plus the lists domain's entries in
    force of that list kind. An entry made from a collected record is shown through its record only: once, and only
    when the viewer may see the record."""

    def provide(ctx: ReportContext) -> ReportPart:
        part = default(ctx)
        visible = {e.record.id: e for e in ctx.entries()}
        shown = {(i.doc_no, i.decision_date, i.resource_name) for i in part.items}
        for entry in lists.active_entries(session=ctx.session, subject_id=ctx.subject.id, today=ctx.today):
            if entry.list_type.kind != kind:
                continue
            if entry.record_id is not None:
                record_entry = visible.get(entry.record_id)
                if record_entry is not None:
                    item = ReportItem.of(record_entry)
                    if (item.doc_no, item.decision_date, item.resource_name) not in shown:
                        part.items.append(item)
                continue
            if _public_only(ctx) and not entry.list_type.public:
                continue
            part.items.append(_entry_item(entry))
        part.source = f"{part.source}；名单管理（有效名单条目）" if part.source else source
        part.note = None
        return part

    provide.__name__ = f"{default.__name__}_with_entries"
    return provide


# --- 自主申报 ------------------------------------------------------------------------------------------------------


def _declaration_items(ctx: ReportContext) -> list[ReportItem]:
    public_only = _public_only(ctx)
    if public_only and ctx.subject.kind == SubjectKind.NATURAL_PERSON.value:
        return []  # natural persons' declarations are never public
    query = sa.select(SelfDeclaration).where(SelfDeclaration.subject_id == ctx.subject.id)
    if public_only:
        query = query.where(SelfDeclaration.status != DeclarationStatus.REJECTED)
    items = []
    for row in ctx.session.scalars(query.order_by(SelfDeclaration.declared_at)):
        if not _in_period(ctx, row.occurred_on or _day(row.declared_at)):
            continue
        fields = [("名称", row.title), ("类别", CATEGORY_LABELS[DeclarationCategory(row.category)])]
        if row.issuer:
            fields.append(("发证/授予机关或相对方", row.issuer))
        if row.valid_to:
            fields.append(("有效期至", row.valid_to.isoformat()))
        fields.append(("说明", row.content))
        rejected = row.status == DeclarationStatus.REJECTED
        public = not rejected and ctx.subject.kind != SubjectKind.NATURAL_PERSON.value
        items.append(
            ReportItem(
                resource_name=declarations.label_of(row),
                doc_no="",
                decision_date=row.occurred_on,
                unit_name=row.verified_by or "信用主体自主申报",
                severity_label=None,
                fields=fields,
                public=public,
                reason="由信用主体自主申报" + ("，经部门核实" if row.verified_by and not rejected else "，尚未核实")
                if not rejected
                else "经核实与事实不符，不公示",
                mark=None,
                published_until=None,
                unit_id=None,
                updated_at=row.verified_at or row.declared_at,
            )
        )
    return items


def _with_declarations(default: providers.Provider) -> providers.Provider:
    def provide(ctx: ReportContext) -> ReportPart:
        part = default(ctx)
        found = _declaration_items(ctx)
        if found:
            part.items.extend(found)
            part.source = f"{part.source}；自主申报"
            part.note = "标注“自主申报（未核实）”的信息由信用主体自行申报，尚未经部门核实，仅供参考。"
        return part

    provide.__name__ = f"{default.__name__}_with_declarations"
    return provide


# --- 信用评价 ------------------------------------------------------------------------------------------------------


def evaluation_part(ctx: ReportContext) -> ReportPart:
    part = ReportPart(
        key="evaluation", title="公共信用综合评价", empty_text="暂无评价结果", source="公共信用综合评价模块"
    )
    if _public_only(ctx):
        grade = evaluation.public_grade(session=ctx.session, subject_id=ctx.subject.id)
        missing = "公开版报告不列示综合评价结果（平台未开放评价结果公开）。"
        if grade is None and evaluation.grade_for(session=ctx.session, subject_id=ctx.subject.id) is not None:
            part.note = missing
            return part
    else:
        grade = evaluation.grade_for(session=ctx.session, subject_id=ctx.subject.id)
    if grade is None:
        part.note = "该主体暂无公共信用综合评价结果。"
        return part
    part.facts = [
        ("信用等级", str(grade["grade"])),
        ("评价得分", str(grade["score"])),
        ("评价模型", f"{grade['model_name']}（第 {grade['model_version']} 版）"),
        ("评价时间", str(grade["evaluated_at"])[:10]),
    ]
    return part


def _install() -> None:
    # Wrap the records-based defaults once (importing this module again must not wrap them twice).
    defaults = {key: providers.PROVIDERS[key] for key in ("red_list", "serious_dishonesty", "other")}
    providers.set_provider("commitments", commitments_part)
    providers.set_provider("evaluation", evaluation_part)
    providers.set_provider("red_list", _with_entries(defaults["red_list"], "red", "名单管理（有效名单条目）"))
    providers.set_provider(
        "serious_dishonesty",
        _with_entries(defaults["serious_dishonesty"], "serious_dishonesty", "名单管理（有效名单条目）"),
    )
    providers.set_provider("other", _with_declarations(defaults["other"]))


_install()
