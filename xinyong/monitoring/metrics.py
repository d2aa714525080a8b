"""The dashboard's metrics. Each is a provider ``(session, scope) -> Chart`` in one ordered registry.

Other domains plug their figures in with ``register_metric(key, provider)``: a placeholder registered here under the
same key (checks, evaluation coverage, objection/repair deadlines) is then replaced in place, so the dashboard, the
exports and the monthly PDF pick it up without further changes.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from xinyong.catalog.models import Resource, SourceUnit
from xinyong.core import clock
from xinyong.core.errors import NotFound
from xinyong.core.settings import get_settings
from xinyong.core.workdays import get_calendar
from xinyong.ingest.models import Batch, BatchState, QuarantinedRow
from xinyong.monitoring.charts import Chart, Series, Table
from xinyong.records.models import Record
from xinyong.subjects.models import SUBJECT_KIND_LABELS, Subject, SubjectKind, SubjectStatus

DOUBLE_PUBLICITY = {"license": "行政许可", "penalty": "行政处罚"}
PROVISIONAL_NOTE = "标注“临时”的工作日数所在年份尚无官方节假日安排，按仅扣除周末计算。"


@dataclass(frozen=True)
class Scope:
    """What a metric covers: whole months from ``start`` to ``end`` (inclusive), optionally one district."""

    start: dt.date
    end: dt.date
    region: str | None = None

    @classmethod
    def last_months(cls, months: int = 6, *, region: str | None = None, until: dt.date | None = None) -> Scope:
        last = (until or clock.today()).replace(day=1)
        first = last
        for _ in range(months - 1):
            first = (first - dt.timedelta(days=1)).replace(day=1)
        return cls(first, _month_end(last), region)

    @classmethod
    def month(cls, month: str, *, region: str | None = None) -> Scope:
        first = dt.date.fromisoformat(f"{month}-01")
        return cls(first, _month_end(first), region)

    def months(self) -> list[str]:
        out, current = [], self.start.replace(day=1)
        while current <= self.end:
            out.append(f"{current:%Y-%m}")
            current = (_month_end(current) + dt.timedelta(days=1)).replace(day=1)
        return out

    @property
    def utc_start(self) -> dt.datetime:
        return dt.datetime.combine(self.start, dt.time(), clock.CHINA).astimezone(dt.UTC)

    @property
    def utc_end(self) -> dt.datetime:
        """Exclusive end: midnight (China time) after the last day."""
        return dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), clock.CHINA).astimezone(dt.UTC)

    @property
    def label(self) -> str:
        months = self.months()
        return months[0] if len(months) == 1 else f"{months[0]} 至 {months[-1]}"


def _month_end(day: dt.date) -> dt.date:
    following = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


def china_date(moment: dt.datetime) -> dt.date:
    return moment.astimezone(clock.CHINA).date()


def pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


MetricProvider = Callable[[Session, Scope], Chart]
_PROVIDERS: dict[str, MetricProvider] = {}


def register_metric(key: str, provider: MetricProvider | None = None) -> Callable[[MetricProvider], MetricProvider]:
    """Add (or replace in place) the provider of one dashboard chart; usable as a decorator."""

    def add(fn: MetricProvider) -> MetricProvider:
        _PROVIDERS[key] = fn
        return fn

    if provider is not None:
        add(provider)
    return add


def metric_keys() -> list[str]:
    from xinyong import hooks

    hooks.install()  # the domains' charts replace their placeholders in place
    return list(_PROVIDERS)


def compute(key: str, *, session: Session, scope: Scope) -> Chart:
    if key not in metric_keys():
        raise NotFound(f"没有名为 {key} 的监测指标")
    return _PROVIDERS[key](session, scope)


def compute_all(*, session: Session, scope: Scope) -> list[Chart]:
    return [compute(key, session=session, scope=scope) for key in metric_keys()]


def _unit_names(session: Session) -> dict[int, str]:
    return dict(session.execute(sa.select(SourceUnit.id, SourceUnit.name)).all())


# --- 双公示 timeliness -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicityRow:
    record_id: int
    unit: str
    nature: str
    doc_no: str
    subject_name: str
    decision_date: dt.date
    received_on: dt.date
    workdays: int
    provisional: bool
    late: bool

    @property
    def month(self) -> str:
        return f"{self.decision_date:%Y-%m}"


def publicity_rows(*, session: Session, scope: Scope) -> list[PublicityRow]:
    """Every licence and penalty decided in the scope: working days from decision to receipt, and whether late."""
    limit = get_settings().publicity_workdays
    calendar = get_calendar()
    query = (
        sa.select(
            Record.id,
            Record.source_unit_id,
            Resource.nature,
            Record.doc_no,
            Record.subject_name,
            Record.decision_date,
            Record.received_at,
        )
        .join(Resource, Resource.id == Record.resource_id)
        .where(
            Resource.nature.in_(DOUBLE_PUBLICITY),
            Record.decision_date >= scope.start,
            Record.decision_date <= scope.end,
            Record.origin == "local",
        )
        .order_by(Record.decision_date, Record.id)
    )
    if scope.region:
        query = query.where(Record.region == scope.region)
    units = _unit_names(session)
    lags: dict[tuple[dt.date, dt.date], tuple[int, bool]] = {}
    rows = []
    for record_id, unit_id, nature, doc_no, name, decision, received_at in session.execute(query):
        if decision is None:  # the query filters on decision_date; this narrows the type
            continue
        received = china_date(received_at)
        if (decision, received) not in lags:
            lags[decision, received] = calendar.workdays_between(decision, received)
        days, provisional = lags[decision, received]
        rows.append(
            PublicityRow(
                record_id,
                units.get(unit_id, "?"),
                nature,
                doc_no,
                name,
                decision,
                received,
                days,
                provisional,
                days > limit,
            )
        )
    return rows


def _late_table(rows: Iterable[PublicityRow]) -> Table:
    limit = get_settings().publicity_workdays
    return Table(
        f"超过 {limit} 个工作日才公示的记录",
        ["部门", "类别", "决定文书号", "行政相对人", "决定日期", "接收日期", "相隔工作日", "工作日历"],
        [
            [
                r.unit,
                DOUBLE_PUBLICITY[r.nature],
                r.doc_no,
                r.subject_name,
                r.decision_date.isoformat(),
                r.received_on.isoformat(),
                r.workdays,
                "临时" if r.provisional else "正式",
            ]
            for r in rows
            if r.late
        ],
    )


@register_metric("publicity_by_department")
def publicity_by_department(session: Session, scope: Scope) -> Chart:
    limit = get_settings().publicity_workdays
    rows = publicity_rows(session=session, scope=scope)
    by_unit: dict[str, list[PublicityRow]] = defaultdict(list)
    by_unit_month: dict[tuple[str, str], list[PublicityRow]] = defaultdict(list)
    for row in rows:
        by_unit[row.unit].append(row)
        by_unit_month[row.unit, row.month].append(row)
    units = sorted(by_unit, key=lambda u: (pct(sum(not r.late for r in by_unit[u]), len(by_unit[u])) or 0, u))
    return Chart(
        key="publicity_by_department",
        title="双公示按时公示率（按部门）",
        explanation=(
            f"行政许可、行政处罚决定后 {limit} 个工作日内报送到平台的比例（{scope.label}，按决定日期统计）；"
            "节假日不计，调休上班日计入。"
        ),
        kind="hbar",
        x_label="按时公示率（%）",
        y_label="部门",
        categories=units,
        series=[Series("按时公示率", [pct(sum(not r.late for r in by_unit[u]), len(by_unit[u])) for u in units])],
        unit="%",
        threshold=100.0,
        threshold_label="目标 100%",
        tables=[
            Table(
                "各部门各月双公示按时率",
                ["部门", "决定月份", "应公示", "按时公示", "逾期", "按时率（%）", "工作日历"],
                [
                    [
                        unit,
                        month,
                        len(group),
                        sum(not r.late for r in group),
                        sum(r.late for r in group),
                        pct(sum(not r.late for r in group), len(group)),
                        "临时" if any(r.provisional for r in group) else "正式",
                    ]
                    for (unit, month), group in sorted(by_unit_month.items())
                ],
            ),
            _late_table(rows),
        ],
        note=PROVISIONAL_NOTE if any(r.provisional for r in rows) else "",
    )


@register_metric("publicity_by_month")
def publicity_by_month(session: Session, scope: Scope) -> Chart:
    limit = get_settings().publicity_workdays
    rows = publicity_rows(session=session, scope=scope)
    months = scope.months()
    grouped: dict[tuple[str, str], list[PublicityRow]] = defaultdict(list)
    for row in rows:
        grouped[row.nature, row.month].append(row)

    def rate(nature: str, month: str) -> float | None:
        group = grouped.get((nature, month), [])
        return pct(sum(not r.late for r in group), len(group))

    return Chart(
        key="publicity_by_month",
        title="双公示按时公示率（按月）",
        explanation=f"每月作出的许可、处罚决定中，{limit} 个工作日内报送到平台的比例；没有柱子的月份表示当月没有决定。",
        kind="vbar",
        x_label="决定月份",
        y_label="按时公示率（%）",
        categories=months,
        series=[Series(label, [rate(nature, m) for m in months]) for nature, label in DOUBLE_PUBLICITY.items()],
        unit="%",
        tables=[
            Table(
                "各月双公示按时率",
                ["决定月份", "类别", "应公示", "按时公示", "按时率（%）"],
                [
                    [
                        m,
                        label,
                        len(grouped.get((nature, m), [])),
                        sum(not r.late for r in grouped.get((nature, m), [])),
                        rate(nature, m),
                    ]
                    for m in months
                    for nature, label in DOUBLE_PUBLICITY.items()
                ],
            )
        ],
        note=PROVISIONAL_NOTE if any(r.provisional for r in rows) else "",
    )


# --- update timeliness against the catalog's declared frequency ----------------------------------------------------


@dataclass(frozen=True)
class UpdateStatus:
    resource: str
    unit: str | None
    declared_days: int
    last_update: dt.date | None
    workdays_since: int | None
    provisional: bool

    @property
    def overdue(self) -> bool:
        return self.workdays_since is None or self.workdays_since > self.declared_days


def update_statuses(*, session: Session, region: str | None = None, today: dt.date | None = None) -> list[UpdateStatus]:
    """Per resource with a declared frequency, and per granted unit: working days since the last delivery.

    A delivery is a received record or a completed batch (a batch of unchanged rows still shows the unit delivered).
    """
    today = today or clock.today()
    calendar = get_calendar()
    resources = session.scalars(
        sa.select(Resource).where(Resource.active.is_(True), Resource.update_days.is_not(None)).order_by(Resource.id)
    ).all()
    record_q = sa.select(Record.resource_id, Record.source_unit_id, sa.func.max(Record.received_at)).group_by(
        Record.resource_id, Record.source_unit_id
    )
    batch_q = (
        sa.select(Batch.resource_id, Batch.source_unit_id, sa.func.max(Batch.finished_at))
        .where(Batch.state == BatchState.COMPLETED)
        .group_by(Batch.resource_id, Batch.source_unit_id)
    )
    if region:
        record_q = record_q.where(Record.region == region)
        batch_q = batch_q.where(Batch.region == region)
    last: dict[tuple[int, int | None], dt.date] = {}
    for resource_id, unit_id, moment in [*session.execute(record_q), *session.execute(batch_q)]:
        if moment is None:
            continue
        day = china_date(moment)
        last[resource_id, unit_id] = max(day, last.get((resource_id, unit_id), day))
    units = _unit_names(session)
    out = []
    for resource in resources:
        per_unit = {u: d for (r, u), d in last.items() if r == resource.id}
        entries: list[tuple[str | None, dt.date | None]] = [(None, max(per_unit.values(), default=None))]
        entries += sorted(((units.get(u, "?") if u else "?"), d) for u, d in per_unit.items())
        for unit, delivered in entries:
            since, provisional = calendar.workdays_between(delivered, today) if delivered else (None, False)
            out.append(UpdateStatus(resource.name, unit, resource.update_days or 0, delivered, since, provisional))
    return out


@register_metric("update_timeliness")
def update_timeliness(session: Session, scope: Scope) -> Chart:
    statuses = update_statuses(session=session, region=scope.region)
    overall = [s for s in statuses if s.unit is None]
    return Chart(
        key="update_timeliness",
        title="各类信息更新及时性",
        explanation="每类信息距最近一次报送已过的工作日数，与目录规定的更新周期对比；蓝柱长于红柱即为超期未更新。",
        kind="hbar",
        x_label="工作日",
        y_label="信息资源",
        categories=[s.resource for s in overall],
        series=[
            Series("距上次更新", [None if s.workdays_since is None else float(s.workdays_since) for s in overall]),
            Series("规定更新周期", [float(s.declared_days) for s in overall]),
        ],
        unit="天",
        tables=[
            Table(
                "各资源、各部门最近一次报送",
                ["信息资源", "部门", "最近报送日期", "已过工作日", "规定周期（工作日）", "状态"],
                [
                    [
                        s.resource,
                        s.unit or "（全部部门）",
                        s.last_update.isoformat() if s.last_update else "从未报送",
                        s.workdays_since,
                        s.declared_days,
                        "超期" if s.overdue else "正常",
                    ]
                    for s in statuses
                ],
            )
        ],
        note="从未报送的资源没有蓝柱。" if any(s.last_update is None for s in overall) else "",
    )


# --- volume and growth ------------------------------------------------------------------------------------------


@register_metric("volume")
def volume(session: Session, scope: Scope) -> Chart:
    query = (
        sa.select(Record.received_at, Resource.nature)
        .join(Resource, Resource.id == Record.resource_id)
        .where(Record.received_at >= scope.utc_start, Record.received_at < scope.utc_end)
    )
    if scope.region:
        query = query.where(Record.region == scope.region)
    counts: Counter[tuple[str, str]] = Counter()
    for received_at, nature in session.execute(query):
        group = DOUBLE_PUBLICITY.get(nature, "其他信息")
        counts[group, f"{china_date(received_at):%Y-%m}"] += 1
    months = scope.months()
    groups = [*DOUBLE_PUBLICITY.values(), "其他信息"]
    totals = [sum(counts[g, m] for g in groups) for m in months]
    rows = []
    for i, month in enumerate(months):
        previous = totals[i - 1] if i else None
        growth = pct(totals[i] - previous, previous) if previous else None
        rows.append([month, *(counts[g, month] for g in groups), totals[i], growth])
    return Chart(
        key="volume",
        title="每月新归集的信用信息数量",
        explanation="每月首次接收入库的记录条数（按接收日期），分类显示；表格中的“环比”是与上月总数相比的增减幅度。",
        kind="vbar",
        x_label="接收月份",
        y_label="记录数（条）",
        categories=months,
        series=[Series(g, [float(counts[g, m]) for m in months]) for g in groups],
        unit="",
        tables=[Table("每月归集量与环比", ["接收月份", *groups, "合计", "环比（%）"], rows)],
    )


# --- link rate ------------------------------------------------------------------------------------------------


@register_metric("link_rate")
def link_rate(session: Session, scope: Scope) -> Chart:
    query = (
        sa.select(Batch.source_unit_id, sa.func.count(), sa.func.sum(Batch.accepted), sa.func.sum(Batch.linked))
        .where(Batch.started_at >= scope.utc_start, Batch.started_at < scope.utc_end)
        .group_by(Batch.source_unit_id)
    )
    if scope.region:
        query = query.where(Batch.region == scope.region)
    units = _unit_names(session)
    rows = sorted(
        (units.get(u, "（未指定单位）") if u else "（未指定单位）", n, int(a or 0), int(k or 0))
        for u, n, a, k in session.execute(query)
    )
    accepted = sum(r[2] for r in rows)
    linked = sum(r[3] for r in rows)
    return Chart(
        key="link_rate",
        title="关联入库率（按部门）",
        explanation="入库记录中能对应到信用主体（按统一社会信用代码、旧代码或身份证号）的比例；越高说明数据越规范。",
        kind="hbar",
        x_label="关联入库率（%）",
        y_label="部门",
        categories=[r[0] for r in rows],
        series=[Series("关联入库率", [pct(r[3], r[2]) for r in rows])],
        unit="%",
        tables=[
            Table(
                "各部门关联入库率",
                ["部门", "批次数", "入库记录", "已关联主体", "关联入库率（%）"],
                [[*r, pct(r[3], r[2])] for r in rows]
                + [["合计", sum(r[1] for r in rows), accepted, linked, pct(linked, accepted)]],
            )
        ],
        note=f"全部部门合计：{pct(linked, accepted) if accepted else '—'}%" if rows else "",
    )


# --- coverage ------------------------------------------------------------------------------------------------


@register_metric("coverage")
def coverage(session: Session, scope: Scope) -> Chart:
    has_record = sa.exists().where(Record.subject_id == Subject.id)
    query = (
        sa.select(Subject.kind, sa.func.count(), sa.func.count().filter(has_record))
        .where(Subject.status != SubjectStatus.MERGED)
        .group_by(Subject.kind)
    )
    if scope.region:
        query = query.where(Subject.region == scope.region)
    found = {kind: (int(total), int(with_records)) for kind, total, with_records in session.execute(query)}
    kinds = list(SubjectKind)
    labels = [SUBJECT_KIND_LABELS[k] for k in kinds]
    return Chart(
        key="coverage",
        title="信用主体覆盖情况（按主体类别）",
        explanation="平台已建档的信用主体数，以及其中至少有一条信用信息的主体数（已合并的主体不计）。",
        kind="vbar",
        x_label="主体类别",
        y_label="主体数（个）",
        categories=labels,
        series=[
            Series("已建档主体", [float(found.get(k, (0, 0))[0]) for k in kinds]),
            Series("有信用信息的主体", [float(found.get(k, (0, 0))[1]) for k in kinds]),
        ],
        tables=[
            Table(
                "各类主体覆盖率",
                ["主体类别", "已建档", "有信用信息", "覆盖率（%）"],
                [
                    [lbl, *found.get(k, (0, 0)), pct(found.get(k, (0, 0))[1], found.get(k, (0, 0))[0])]
                    for k, lbl in zip(kinds, labels, strict=True)
                ],
            )
        ],
    )


# --- rejection reasons -----------------------------------------------------------------------------------------

_ROW_PREFIX = re.compile(r"^第\s*\d+\s*行\s*")


def reason_label(reason: dict[str, object]) -> str:
    """One rejection reason without its row number, so the same problem on many rows counts as one reason."""
    field = str(reason.get("field") or "").strip()
    message = _ROW_PREFIX.sub("", str(reason.get("message") or "").strip())
    if field and message.startswith(field):
        message = message[len(field) :].lstrip("：: ")
    return f"{message}（{field}）" if field else message


def rejection_counts(*, session: Session, scope: Scope) -> Counter[tuple[str, str]]:
    query = (
        sa.select(Batch.source_unit_id, QuarantinedRow.reasons)
        .join(Batch, Batch.id == QuarantinedRow.batch_id)
        .where(Batch.started_at >= scope.utc_start, Batch.started_at < scope.utc_end)
    )
    if scope.region:
        query = query.where(Batch.region == scope.region)
    units = _unit_names(session)
    counts: Counter[tuple[str, str]] = Counter()
    for unit_id, reasons in session.execute(query):
        unit = units.get(unit_id, "（未指定单位）") if unit_id else "（未指定单位）"
        for label in {reason_label(r) for r in reasons or []}:
            counts[unit, label] += 1
    return counts


@register_metric("rejection_reasons")
def rejection_reasons(session: Session, scope: Scope) -> Chart:
    counts = rejection_counts(session=session, scope=scope)
    overall: Counter[str] = Counter()
    per_unit: dict[str, Counter[str]] = defaultdict(Counter)
    for (unit, label), n in counts.items():
        overall[label] += n
        per_unit[unit][label] += n
    top = overall.most_common(10)
    return Chart(
        key="rejection_reasons",
        title="被拒收数据的主要原因",
        explanation="各部门报送的数据中被退回（未入库）的行数，按原因统计；一行有多个问题时每个原因各计一次。",
        kind="hbar",
        x_label="被拒收的行数",
        y_label="拒收原因",
        categories=[label for label, _ in top],
        series=[Series("行数", [float(n) for _, n in top])],
        tables=[
            Table(
                "各部门前五位拒收原因",
                ["部门", "拒收原因", "行数"],
                [[unit, label, n] for unit in sorted(per_unit) for label, n in per_unit[unit].most_common(5)],
            )
        ],
    )


# --- hooks: filled in by the checks, evaluation, objections and repair domains ---------------------------------


def _placeholder(key: str, title: str, explanation: str, module: str) -> MetricProvider:
    def provider(_session: Session, _scope: Scope) -> Chart:
        return Chart(
            key=key,
            title=title,
            explanation=explanation,
            available=False,
            note=f"{module}模块尚未接入，接入后此处显示数据。",
        )

    return provider


register_metric(
    "evaluation_coverage",
    _placeholder(
        "evaluation_coverage",
        "公共信用综合评价覆盖率",
        "已完成综合评价的主体占已建档主体的比例（按主体类别）。",
        "综合评价",
    ),
)
register_metric(
    "checks_by_department",
    _placeholder(
        "checks_by_department",
        "各部门信用核查与联合奖惩案例",
        "各部门办理事项时的信用核查次数及据此实施的奖惩案例数。",
        "信用核查",
    ),
)
register_metric(
    "objection_repair_deadlines",
    _placeholder(
        "objection_repair_deadlines",
        "异议与修复按期办结率",
        "异议、信用修复申请在规定工作日内办结的比例。",
        "异议与修复",
    ),
)
