"""An evaluation model as data: the YAML file format, parsed and validated (errors in Chinese, naming the field).

See ``docs/evaluation.md`` for the format. The shipped models live in ``xinyong/evaluation/data/``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from xinyong.core.errors import InvalidInput
from xinyong.records.models import Severity

DATA_DIR = Path(__file__).parent / "data"
BUILTIN_MODELS = ("public_v1.yaml", "property_management_v1.yaml")

# Where an indicator's count comes from; see ``sources.py``.
SOURCES = ("records", "list_entries", "years_in_operation", "commitments_kept", "commitments_broken")
KINDS = ("score", "points")
LIST_KINDS = ("serious_dishonesty", "watch", "red")
UNGRADED = "-"


@dataclass(frozen=True)
class Indicator:
    code: str
    name: str
    dimension: str
    source: str
    points: int  # per counted unit (a record, an entry, a year); negative = deduction
    cap: int | None = None  # largest absolute total of this indicator
    count: str = "each"  # each: points × count; any: points once when count ≥ 1
    resources: tuple[str, ...] = ()
    list_types: tuple[str, ...] = ()  # list_entries: entries of these list types (list_type.code)
    list_kinds: tuple[str, ...] = ()  # list_entries: entries of list types of these kinds (serious_dishonesty …)
    severity: tuple[str, ...] = ()
    window_months: int | None = None  # on decision_date, ending today
    valid_today: bool = False  # valid_from ≤ today ≤ valid_to (open ends count as valid)
    behaviour_field: str | None = None  # payload field naming the behaviour (违法行为类型)
    behaviour_values: tuple[str, ...] = ()  # only these behaviours (empty = any)
    rectification_days: int | None = None  # a repeat within an earlier record's rectification period counts once
    max_years: int | None = None  # years_in_operation: counted up to this many years

    def total(self, count: int) -> int:
        """Points for a count — the same rule as the SQL in ``engine.py``."""
        raw = (self.points if count > 0 else 0) if self.count == "any" else self.points * count
        if self.cap is not None:
            raw = max(-self.cap, min(self.cap, raw))
        return raw


@dataclass(frozen=True)
class Dimension:
    code: str
    name: str
    weight: int | None  # percent of the score range this dimension may move (its cap); None = uncapped
    indicators: tuple[Indicator, ...]

    def bound(self, span: int) -> int | None:
        return None if self.weight is None else self.weight * span // 100

    def clamp(self, points: int, span: int) -> int:
        limit = self.bound(span)
        return points if limit is None else max(-limit, min(limit, points))


@dataclass(frozen=True)
class GradeBand:
    grade: str
    name: str
    min: int | None = None  # score ≥ min
    max: int | None = None  # score ≤ max (points models: fewer points is better)

    def matches(self, score: int) -> bool:
        return (self.min is None or score >= self.min) and (self.max is None or score <= self.max)


@dataclass(frozen=True)
class Override:
    indicator: str
    at_least: int
    grade: str  # the grade becomes no better than this
    reason: str


@dataclass(frozen=True)
class Attribution:
    """Records of employed persons also counted on the firm employing them on the record's decision date."""

    roles: tuple[str, ...]
    label: str


@dataclass(frozen=True)
class ModelSpec:
    code: str
    version: int
    name: str
    kind: str
    start: int
    min: int | None
    max: int | None
    dimensions: tuple[Dimension, ...]
    grades: tuple[GradeBand, ...]
    overrides: tuple[Override, ...] = ()
    subject_kinds: tuple[str, ...] = ()
    industry: str | None = None
    attribution: Attribution | None = None
    description: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def indicators(self) -> tuple[Indicator, ...]:
        return tuple(i for d in self.dimensions for i in d.indicators)

    @property
    def span(self) -> int:
        return (self.max or 1000) - (self.min or 0)

    @property
    def label(self) -> str:
        return f"{self.code} v{self.version}"

    def clamp_score(self, score: int) -> int:
        if self.min is not None:
            score = max(self.min, score)
        if self.max is not None:
            score = min(self.max, score)
        return score

    def grade_rank(self, score: int) -> int:
        for rank, band in enumerate(self.grades):
            if band.matches(score):
                return rank
        return len(self.grades) - 1

    def rank_of(self, grade: str) -> int:
        return [b.grade for b in self.grades].index(grade)


def load_file(path: Path) -> ModelSpec:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(f"无法读取模型文件 {path}：{exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise InvalidInput(f"模型文件 {path.name} 不是有效的 YAML：{exc}") from None
    return parse(raw)


def builtin_models() -> list[ModelSpec]:
    return [load_file(DATA_DIR / name) for name in BUILTIN_MODELS]


class _Reader:
    """Reads one mapping, collecting problems as Chinese messages that name the field path."""

    def __init__(self, problems: list[str], where: str, raw: Any) -> None:
        self.problems = problems
        self.where = where
        if not isinstance(raw, dict):
            problems.append(f"{where}：应为键值映射")
            raw = {}
        self.raw: dict[str, Any] = raw

    def _at(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def text(self, key: str, *, required: bool = True, default: str = "") -> str:
        value = self.raw.get(key)
        if value is None:
            if required:
                self.problems.append(f"{self._at(key)}：必填")
            return default
        if not isinstance(value, str) or not value.strip():
            self.problems.append(f"{self._at(key)}：应为非空文本")
            return default
        return value.strip()

    def integer(self, key: str, *, required: bool = False, default: int | None = None, low: int | None = None) -> Any:
        value = self.raw.get(key)
        if value is None:
            if required:
                self.problems.append(f"{self._at(key)}：必填")
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.problems.append(f"{self._at(key)}：应为整数（收到 {value!r}）")
            return default
        if low is not None and value < low:
            self.problems.append(f"{self._at(key)}：不能小于 {low}（收到 {value}）")
            return default
        return value

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.raw.get(key)
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problems.append(f"{self._at(key)}：应为文本列表")
            return ()
        return tuple(value)

    def items(self, key: str, *, required: bool = True) -> list[Any]:
        value = self.raw.get(key)
        if value is None:
            if required:
                self.problems.append(f"{self._at(key)}：必填")
            return []
        if not isinstance(value, list):
            self.problems.append(f"{self._at(key)}：应为列表")
            return []
        return value


def parse(raw: Any, *, known_resources: set[str] | None = None, known_list_types: set[str] | None = None) -> ModelSpec:
    """Validate a model definition; every problem is reported at once (InvalidInput with ``problems``)."""
    problems: list[str] = []
    top = _Reader(problems, "", raw)
    code = top.text("code")
    if code and not code.replace("_", "").isalnum():
        problems.append("code：只能由字母、数字和下划线组成")
    version = top.integer("version", required=True, default=0, low=1)
    kind = top.text("kind", default="score")
    if kind and kind not in KINDS:
        problems.append(f"kind：应为 {' / '.join(KINDS)}（收到 {kind}）")
    score = _Reader(problems, "score", top.raw.get("score", {}))
    start = score.integer("start", default=0)
    low = score.integer("min")
    high = score.integer("max")
    if low is not None and high is not None and low >= high:
        problems.append("score：min 应小于 max")
    applies = _Reader(problems, "applies_to", top.raw.get("applies_to", {}))
    subject_kinds = applies.strings("subject_kinds")
    for sk in subject_kinds:
        if sk not in ("legal_person", "individual_business", "natural_person"):
            problems.append(f"applies_to.subject_kinds：未知主体类别 {sk}")
    industry = applies.text("industry", required=False) or None

    seen: set[str] = set()
    dimensions: list[Dimension] = []
    for d_index, d_raw in enumerate(top.items("dimensions")):
        dim = _Reader(problems, f"dimensions[{d_index + 1}]", d_raw)
        d_code = dim.text("code")
        weight = dim.integer("weight", low=0)
        if weight is not None and weight > 100:
            problems.append(f"{dim.where}.weight：权重为百分比，不能超过 100")
        indicators = [
            _indicator(problems, f"{dim.where}.indicators[{i + 1}]", i_raw, d_code, known_resources, known_list_types)
            for i, i_raw in enumerate(dim.items("indicators"))
        ]
        for ind in indicators:
            if ind.code in seen:
                problems.append(f"{dim.where}：指标代码 {ind.code} 重复")
            seen.add(ind.code)
        dimensions.append(Dimension(d_code, dim.text("name"), weight, tuple(indicators)))
    if not dimensions and "dimensions" in top.raw:
        problems.append("dimensions：至少需要一个维度")

    grades: list[GradeBand] = []
    for g_index, g_raw in enumerate(top.items("grades")):
        band = _Reader(problems, f"grades[{g_index + 1}]", g_raw)
        grades.append(
            GradeBand(band.text("grade"), band.text("name", required=False), band.integer("min"), band.integer("max"))
        )
    if grades and (grades[-1].min is not None or grades[-1].max is not None):
        problems.append("grades：最后一档应不设 min/max，以涵盖其余所有分数")
    if len({g.grade for g in grades}) != len(grades):
        problems.append("grades：等级重复")
    grade_names = {g.grade for g in grades}

    overrides: list[Override] = []
    for o_index, o_raw in enumerate(top.items("overrides", required=False)):
        ov = _Reader(problems, f"overrides[{o_index + 1}]", o_raw)
        target = ov.text("indicator")
        if target and target not in seen:
            problems.append(f"{ov.where}.indicator：模型中没有指标 {target}")
        grade = ov.text("grade")
        if grade and grade not in grade_names:
            problems.append(f"{ov.where}.grade：等级 {grade} 不在 grades 中")
        overrides.append(Override(target, ov.integer("at_least", default=1, low=1), grade, ov.text("reason")))

    attribution = None
    if "attribution" in top.raw:
        at = _Reader(problems, "attribution", top.raw["attribution"])
        roles = at.strings("employee_roles")
        if not roles:
            problems.append("attribution.employee_roles：至少列出一个岗位")
        attribution = Attribution(roles, at.text("label", required=False, default="从业人员记录"))

    if problems:
        raise InvalidInput("评价模型校验未通过：" + "；".join(problems), problems=problems)
    return ModelSpec(
        code=code,
        version=version,
        name=top.text("name"),
        kind=kind,
        start=start,
        min=low,
        max=high,
        dimensions=tuple(dimensions),
        grades=tuple(grades),
        overrides=tuple(overrides),
        subject_kinds=subject_kinds,
        industry=industry,
        attribution=attribution,
        description=str(top.raw.get("description") or ""),
        raw=raw,
    )


def _indicator(
    problems: list[str],
    where: str,
    raw: Any,
    dimension: str,
    known_resources: set[str] | None,
    known_list_types: set[str] | None = None,
) -> Indicator:
    r = _Reader(problems, where, raw)
    source = r.text("source")
    if source and source not in SOURCES:
        problems.append(f"{where}.source：应为 {' / '.join(SOURCES)}（收到 {source}）")
    count = r.text("count", required=False, default="each")
    if count not in ("each", "any"):
        problems.append(f"{where}.count：应为 each 或 any")
    resources = r.strings("resources")
    list_types = r.strings("list_types")
    list_kinds = r.strings("list_kinds")
    if source == "records" and not resources:
        problems.append(f"{where}.resources：按记录计算的指标须列出信息资源")
    if source == "list_entries" and not (resources or list_types or list_kinds):
        problems.append(
            f"{where}：名单指标须给出 list_types（名单类型）、list_kinds（名单类别）或 resources（信息资源）"
        )
    if source != "list_entries" and (list_types or list_kinds):
        problems.append(f"{where}.list_types：只有 source 为 list_entries 的指标可以指定名单类型或类别")
    if known_list_types is not None:
        for lt in list_types:
            if lt not in known_list_types:
                problems.append(f"{where}.list_types：没有名单类型 {lt}")
    for lk in list_kinds:
        if lk not in LIST_KINDS:
            problems.append(f"{where}.list_kinds：名单类别应为 {' / '.join(LIST_KINDS)}（收到 {lk}）")
    if known_resources is not None:
        for res in resources:
            if res not in known_resources:
                problems.append(f"{where}.resources：目录中没有信息资源 {res}")
    severity = r.strings("severity")
    for sev in severity:
        if sev not in {s.value for s in Severity}:
            problems.append(f"{where}.severity：失信程度应为 minor/general/serious（收到 {sev}）")
    valid_today = bool(r.raw.get("valid_today", source == "list_entries"))
    rectification_days = r.integer("rectification_days", low=1)
    behaviour_field = r.text("behaviour_field", required=False) or None
    if rectification_days is not None and behaviour_field is None:
        problems.append(f"{where}.rectification_days：需同时给出 behaviour_field（按同一行为判断是否重复）")
    max_years = r.integer("max_years", low=1)
    if source == "years_in_operation" and max_years is None:
        problems.append(f"{where}.max_years：经营年限指标须给出计分的最多年数")
    return Indicator(
        code=r.text("code"),
        name=r.text("name"),
        dimension=dimension,
        source=source,
        points=r.integer("points", required=True, default=0),
        cap=r.integer("cap", low=0),
        count=count,
        resources=resources,
        list_types=list_types,
        list_kinds=list_kinds,
        severity=severity,
        window_months=r.integer("window_months", low=1),
        valid_today=valid_today,
        behaviour_field=behaviour_field,
        behaviour_values=r.strings("behaviour_values"),
        rectification_days=rectification_days,
        max_years=max_years,
    )
