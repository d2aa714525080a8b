"""Section providers: who fills each part of a report (DESIGN §4.6).

A provider is a function ``(ctx: ReportContext) -> ReportPart``. The defaults below read what the records already hold
(the list-entry resources of the catalog are records) through the report's profile, which the disclosure engine
produced for the report's viewer. Parts whose module is not built yet say so plainly (``PartStatus.NO_SOURCE``).

To point a part at another module after it is merged, replace its provider, e.g. in that module's start-up code::

    from xinyong.reports.providers import set_provider
    set_provider("serious_dishonesty", lists_serious_dishonesty_part)

A replacement must keep the rule that reports never decide visibility themselves: items shown to ``ctx.viewer``
come through ``xinyong.disclosure`` (``decide`` per record, or ``visible_filter`` for queries).
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from xinyong.disclosure import Viewer
from xinyong.reports.content import PartStatus, ReportItem, ReportPart
from xinyong.subjects.models import Subject
from xinyong.subjects.profile import RecordEntry, SubjectProfile

# Catalog resources shown in their own parts; every other resource's records go to 其他信息.
RED_LIST_RESOURCES = ("tax_credit_a",)  # 纳税信用A级纳税人名单 is a 守信激励对象名单
SERIOUS_DISHONESTY_RESOURCES = ("serious_dishonesty_list",)
ABNORMAL_RESOURCES = ("abnormal_operation",)
JUDICIAL_RESOURCES = ("dishonest_judgment_debtor",)


@dataclass(frozen=True)
class ReportContext:
    """What a provider may use: the subject, the report's viewer and its profile as that viewer sees it."""

    session: Session
    subject: Subject
    profile: SubjectProfile
    viewer: Viewer
    kind: str
    today: dt.date
    period_from: dt.date | None
    period_to: dt.date

    def in_period(self, entry: RecordEntry) -> bool:
        day = entry.record.decision_date
        if day is None:
            return self.period_from is None
        return (self.period_from is None or day >= self.period_from) and day <= self.period_to

    def entries(self) -> list[RecordEntry]:
        """Every record entry the viewer may see, decided in the period."""
        return [e for s in self.profile.sections for e in s.entries if self.in_period(e)]


Provider = Callable[[ReportContext], ReportPart]


def part_of(entry: RecordEntry) -> str:
    """The report part a record belongs to by default."""
    resource = entry.resource
    if resource.code in RED_LIST_RESOURCES:
        return "red_list"
    if resource.code in SERIOUS_DISHONESTY_RESOURCES:
        return "serious_dishonesty"
    if resource.code in ABNORMAL_RESOURCES:
        return "abnormal_operation"
    if resource.code in JUDICIAL_RESOURCES:
        return "judicial"
    if resource.nature == "license":
        return "licenses"
    if resource.nature == "penalty":
        return "penalties"
    if resource.nature == "honour":
        return "honours"
    return "other"


def _records_part(key: str, title: str, *, empty_text: str, source: str) -> Provider:
    def provide(ctx: ReportContext) -> ReportPart:
        items = [ReportItem.of(e) for e in ctx.entries() if part_of(e) == key]
        return ReportPart(key=key, title=title, items=items, empty_text=empty_text, source=source)

    provide.__name__ = f"records_{key}"
    return provide


def _commitments(ctx: ReportContext) -> ReportPart:
    return ReportPart(
        key="commitments",
        title="信用承诺",
        status=PartStatus.NO_SOURCE,
        note="本平台信用承诺模块尚未接入，本部分暂无数据来源，不代表该主体无信用承诺或承诺履行记录。",
        source="尚未接入",
    )


def _grade_of(result: Any) -> tuple[str | None, str | None, str | None]:
    """(grade, score, model version) from whatever ``evaluation.grade_for`` returns (object, mapping or tuple)."""
    if isinstance(result, dict):
        values = [result.get(k) for k in ("grade", "score", "model_version")]
    elif isinstance(result, tuple | list):
        values = [*list(result)[:3], None, None, None][:3]
    else:
        values = [getattr(result, k, None) for k in ("grade", "score", "model_version")]
    return tuple(None if v is None else str(v) for v in values)  # type: ignore[return-value]


def _evaluation(ctx: ReportContext) -> ReportPart:
    part = ReportPart(key="evaluation", title="公共信用综合评价", empty_text="暂无评价结果")
    try:
        module = importlib.import_module("xinyong.evaluation")
    except ImportError:  # pragma: no cover - the package exists, possibly empty
        module = None
    grade_for = getattr(module, "grade_for", None)
    if grade_for is None:
        part.status = PartStatus.NO_SOURCE
        part.source = "尚未接入"
        part.note = "本平台公共信用综合评价模块尚未接入，本部分暂无数据来源。"
        return part
    part.source = "公共信用综合评价模块"
    result = grade_for(session=ctx.session, subject_id=ctx.subject.id)
    if result is None:
        part.note = "该主体暂无公共信用综合评价结果。"
        return part
    grade, score, version = _grade_of(result)
    lines = (("信用等级", grade), ("评价得分", score), ("评价模型版本", version))
    part.facts = [(label, value) for label, value in lines if value]
    return part


def _red_list(ctx: ReportContext) -> ReportPart:
    part = _records_part("red_list", "守信激励对象名单（红名单）", empty_text="未发现列入红名单的记录",
                         source="目录资源：纳税信用A级纳税人名单")(ctx)  # fmt: skip
    part.note = "红名单目前来自平台归集的纳税信用A级纳税人名单；其他守信激励对象名单接入名单管理后一并列示。"
    return part


# Parts filled from the catalog's records: key → (title, text when empty, where the data comes from).
RECORD_PARTS = {
    "licenses": ("行政许可信息", "未发现行政许可信息", "目录资源：行政许可信息"),
    "penalties": ("行政处罚信息", "未发现行政处罚信息", "目录资源：行政处罚信息"),
    "honours": ("表彰荣誉信息", "未发现表彰荣誉信息", "目录资源（荣誉类）"),
    "serious_dishonesty": (
        "严重失信主体名单信息",
        "未发现列入严重失信主体名单的记录",
        "目录资源：严重失信主体名单信息",
    ),
    "abnormal_operation": ("经营异常名录信息", "未发现列入经营异常名录的记录", "目录资源：经营异常名录信息"),
    "judicial": ("失信被执行人信息", "未发现失信被执行人信息", "目录资源：失信被执行人信息"),
    "other": ("其他信用信息", "未发现其他信用信息", "目录中的其他资源"),
}
PROVIDERS: dict[str, Provider] = {
    key: _records_part(key, title, empty_text=empty, source=source)
    for key, (title, empty, source) in RECORD_PARTS.items()
} | {"red_list": _red_list, "commitments": _commitments, "evaluation": _evaluation}

# The report's sections (DESIGN §4.6) and the parts in each, in order; 基本信息 is the first section, always.
SECTION_LAYOUT: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("administrative", "行政管理信息", ("licenses", "penalties")),
    ("honesty", "诚实守信信息", ("red_list", "honours")),
    ("serious_dishonesty", "严重失信主体名单信息", ("serious_dishonesty",)),
    ("abnormal_operation", "经营异常信息", ("abnormal_operation",)),
    ("commitments", "信用承诺信息", ("commitments",)),
    ("evaluation", "信用评价信息", ("evaluation",)),
    ("judicial", "司法判决信息", ("judicial",)),
    ("other", "其他信息", ("other",)),
)


def set_provider(key: str, provider: Provider) -> Provider:
    """Make ``provider`` fill part ``key``; returns the one it replaces (so a test can put it back)."""
    from xinyong import hooks

    hooks.install()  # the domains' parts first, so that a replacement made here is not overwritten later
    if key not in PROVIDERS:
        raise KeyError(f"unknown report part {key!r}; known: {', '.join(PROVIDERS)}")
    previous = PROVIDERS[key]
    PROVIDERS[key] = provider
    return previous


def provide(key: str, ctx: ReportContext) -> ReportPart:
    from xinyong import hooks

    hooks.install()  # the domains' parts (lists, commitments, declarations, evaluation) replace the defaults
    return PROVIDERS[key](ctx)
