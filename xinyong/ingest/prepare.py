"""Stage two of collection: one RawRow → a normalised, validated, classified PreparedRow, or every Problem it has.

The resource's field schema (``ResourceSpec``) drives everything: each field's type picks its normaliser, and its
rules (required, required_for, required_if, max_length, choices, pattern, not_future, not_before) the checks. A row is
reported with all of its problems at once, so a department fixes a file in one round.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from xinyong.catalog.spec import FieldSpec, ResourceSpec
from xinyong.ingest import values as v
from xinyong.ingest.types import PreparedRow, Problem, RawRow, SubjectRef
from xinyong.records.models import SEVERITY_LABELS, RecordStatus, Severity
from xinyong.subjects.codes import USCC_PLACEHOLDER, id_number_error, mask_id_number, uscc_error
from xinyong.subjects.models import SUBJECT_KIND_LABELS, SubjectKind


def prepare_row(spec: ResourceSpec, row: RawRow, *, today: dt.date) -> PreparedRow | list[Problem]:
    """Normalise, validate and classify one row; all problems of the row are returned together."""
    return _RowCheck(_plan_of(spec), row, today).run()


@dataclass(frozen=True, slots=True)
class _FieldPlan:
    """One field with everything its check needs looked up in advance (prepare runs once per row per field)."""

    field: FieldSpec
    read: Callable[[FieldSpec, str], Any]
    choices: frozenset[str]
    pattern: re.Pattern[str] | None


@dataclass(frozen=True)
class _Plan:
    spec: ResourceSpec
    fields: tuple[_FieldPlan, ...]
    may_be_required: tuple[FieldSpec, ...]
    not_before: tuple[FieldSpec, ...]
    id_numbers: tuple[FieldSpec, ...]
    roles: dict[str, str | None]


_PLANS: dict[int, _Plan] = {}


def _plan_of(spec: ResourceSpec) -> _Plan:
    # Keyed by identity and holding the spec, so an id is never reused for another spec while its plan exists.
    plan = _PLANS.get(id(spec))
    if plan is None or plan.spec is not spec:
        if len(_PLANS) > 64:
            _PLANS.clear()
        plan = _PLANS[id(spec)] = _build_plan(spec)
    return plan


def _build_plan(spec: ResourceSpec) -> _Plan:
    role_names = (
        "subject_kind",
        "subject_name",
        "uscc",
        "legal_rep",
        "id_number",
        "doc_no",
        "unit_code",
        "decision_date",
        "valid_from",
        "valid_to",
        "publish_until",
        "severity",
    )
    return _Plan(
        spec=spec,
        fields=tuple(
            _FieldPlan(
                field=f,
                read=_READERS.get(f.type, _read_text),
                choices=frozenset(f.choices),
                pattern=re.compile(f.pattern) if f.pattern else None,
            )
            for f in spec.fields
        ),
        may_be_required=tuple(f for f in spec.fields if f.required == "always" or f.required_for or f.required_if),
        not_before=tuple(f for f in spec.fields if f.not_before),
        id_numbers=tuple(f for f in spec.fields if f.type == "id_number"),
        roles={name: spec.role(name) for name in role_names},
    )


class _RowCheck:
    def __init__(self, plan: _Plan, row: RawRow, today: dt.date) -> None:
        self.plan = plan
        self.spec = plan.spec
        self.row = row
        self.today = today
        self.values: dict[str, Any] = {}  # field code → normalised value (only for non-blank, readable cells)
        self.problems: dict[str, list[str]] = {}
        self.given: set[str] = set()  # fields whose cell is not blank, readable or not
        self.kind: SubjectKind | None = None

    def problem(self, field: FieldSpec, message: str) -> None:
        self.problems.setdefault(field.code, []).append(message)

    def run(self) -> PreparedRow | list[Problem]:
        cells = self.row.fields
        for fp in self.plan.fields:
            text = cells.get(fp.field.code)
            if text or fp.field.default is not None:
                self._read(fp, text or "")
        kind = self.values.get(self.plan.roles["subject_kind"] or "")
        self.kind = kind if isinstance(kind, SubjectKind) else None
        for f in self.plan.may_be_required:
            self._check_required(f)
        self._check_cross_field()
        if self.problems or self.row.problems:
            ordered = [Problem(f.code, m) for f in self.spec.fields for m in self.problems.get(f.code, ())]
            return [*self.row.problems, *ordered]
        return self._prepared()

    # -- one field -------------------------------------------------------------------------------------------------

    def _read(self, fp: _FieldPlan, text: str) -> None:
        f = fp.field
        # Blank test only; each reader normalises the original text its own way (codes fully half-width, prose not).
        if v.is_blank(text):
            if f.default is None:
                return
            text = f.default
        self.given.add(f.code)
        try:
            value = fp.read(f, text)
        except v.BadValue as bad:
            self.problem(f, f"{f.name}{bad.reason}")
            return
        if type(value) is str:
            if f.max_length is not None and len(value) > f.max_length:
                self.problem(f, f"{f.name}超过 {f.max_length} 个字符（实为 {len(value)} 个）")
                return
            if fp.choices and value not in fp.choices:
                self.problem(f, f"{f.name}“{value}”不是可选值（应为 {'、'.join(f.choices)} 之一）")
                return
            if fp.pattern is not None and not fp.pattern.fullmatch(value):
                self.problem(f, f"{f.name}“{value}”格式不正确")
                return
        elif f.not_future and isinstance(value, dt.date) and value > self.today:
            self.problem(f, f"{f.name}不能晚于今天（{self.today.isoformat()}），实为 {value.isoformat()}")
            return
        self.values[f.code] = value

    def _check_required(self, f: FieldSpec) -> None:
        # A field counts as given when its cell is not blank, even if unreadable (that is reported on its own).
        if f.code in self.given:
            return
        if f.required == "always":
            self.problem(f, f"{f.name}不能为空")
        elif self.kind is not None and self.kind.value in f.required_for:
            self.problem(f, f"{SUBJECT_KIND_LABELS[self.kind]}的{f.name}不能为空")
        elif f.required_if and (reason := self._required_because(f.required_if)):
            self.problem(f, f"{reason}时{f.name}不能为空")

    def _required_because(self, rule: dict[str, Any]) -> str | None:
        other = self.spec.by_code.get(rule.get("field", ""))
        if other is None:
            return None
        wanted = [str(x) for x in rule.get("any_of", [])]
        given = self.values.get(other.code)
        given_items = given if isinstance(given, list) else [given] if given is not None else []
        hits = [str(x) for x in given_items if str(x) in wanted]
        if not hits:
            return None
        names = "、".join(v.PENALTY_CATEGORIES.get(h, h) for h in hits)
        return f"{other.name}含“{names}”"

    # -- across fields ---------------------------------------------------------------------------------------------

    def _check_cross_field(self) -> None:
        values = self.values
        for f in self.plan.not_before:
            value, earlier = values.get(f.code), values.get(f.not_before or "")
            if isinstance(value, dt.date) and isinstance(earlier, dt.date) and value < earlier:
                name = self.spec.by_code[f.not_before or ""].name
                self.problem(f, f"{f.name}（{value.isoformat()}）不能早于{name}（{earlier.isoformat()}）")
        for f in self.plan.id_numbers:
            number = values.get(f.code)
            if isinstance(number, str):
                self._check_id_number(f, number)
        if self.plan.roles["uscc"] and values.get(self.plan.roles["uscc"]) == USCC_PLACEHOLDER:
            self._check_placeholder(self.spec.by_code[self.plan.roles["uscc"]])

    def _check_id_number(self, f: FieldSpec, number: str) -> None:
        id_type = self.values.get(f.id_type_field or "", "")
        if v.is_citizen_id_type(id_type):
            if error := id_number_error(number, today=self.today):
                self.problem(f, f"{f.name}无效：{error}")
        elif len(number) > v.MAX_OTHER_ID_LENGTH:
            self.problem(f, f"{f.name}超过 {v.MAX_OTHER_ID_LENGTH} 个字符")

    def _check_placeholder(self, f: FieldSpec) -> None:
        if self.kind is not None and self.kind is not SubjectKind.INDIVIDUAL_BUSINESS:
            self.problem(f, f"{f.name} {USCC_PLACEHOLDER} 仅适用于没有统一社会信用代码的个体工商户")
            return
        gszc = self.spec.legacy_code_fields.get("gszc")
        if self.kind is SubjectKind.INDIVIDUAL_BUSINESS and gszc and gszc not in self.values:
            reg = self.spec.by_code[gszc]
            self.problem(reg, f"个体工商户的{f.name}为 {USCC_PLACEHOLDER} 时，{reg.name}不能为空")

    # -- result ----------------------------------------------------------------------------------------------------

    def _prepared(self) -> PreparedRow:
        by_code = self.spec.by_code
        payload: dict[str, Any] = {}
        pii: dict[str, str] = {}
        amounts: dict[str, Decimal] = {}
        for code, value in self.values.items():  # in field order: read in that order
            if type(value) is str:
                if by_code[code].pii:
                    pii[code] = value
                    payload[code] = mask_id_number(value)
                else:
                    payload[code] = value
            elif isinstance(value, Decimal):
                amounts[code] = value
                payload[code] = v.amount_text(value)
            else:
                payload[code] = _json_value(value)
        return PreparedRow(
            row_no=self.row.row_no,
            subject=self._subject(),
            unit_code=self._text_role("unit_code"),
            doc_no=self._text_role("doc_no") or "",
            decision_date=self._date_role("decision_date"),
            valid_from=self._date_role("valid_from"),
            valid_to=self._date_role("valid_to"),
            publish_until=self._date_role("publish_until"),
            severity=self._severity(),
            status=RecordStatus.ACTIVE.value,
            payload=payload,
            pii=pii,
            amounts=amounts,
        )

    def _text_role(self, role: str) -> str | None:
        code = self.plan.roles[role]
        value = self.values.get(code) if code else None
        return value if isinstance(value, str) else None

    def _date_role(self, role: str) -> dt.date | None:
        code = self.plan.roles[role]
        value = self.values.get(code) if code else None
        return value if isinstance(value, dt.date) else None

    def _subject(self) -> SubjectRef:
        kind = self.kind or SubjectKind.LEGAL_PERSON  # resources without subject fields: the unit reports organisations
        uscc = self._text_role("uscc")
        if uscc == USCC_PLACEHOLDER or kind is SubjectKind.NATURAL_PERSON:
            uscc = None
        legacy = {
            code_type: self.values[code]
            for code_type, code in self.spec.legacy_code_fields.items()
            if isinstance(self.values.get(code), str)
        }
        id_number = self._text_role("id_number") if kind is SubjectKind.NATURAL_PERSON else None
        return SubjectRef(
            kind=kind.value,
            name=self._text_role("subject_name") or "",
            uscc=uscc,
            legacy_codes=legacy,
            id_number=id_number,
            legal_rep=self._text_role("legal_rep"),
        )

    def _severity(self) -> str | None:
        explicit = self.values.get(self.plan.roles["severity"] or "")
        if isinstance(explicit, Severity):
            return explicit.value
        return classify_severity(self.spec, self.values)


def classify_severity(spec: ResourceSpec, values: dict[str, Any]) -> str | None:
    """The severity a resource's rules give a row (DESIGN §4.1); None when the resource has no rules."""
    rules = spec.severity_rules
    if not rules:
        return None
    categories_code = spec.role("categories")
    given = values.get(categories_code) if categories_code else None
    categories = [str(c) for c in given] if isinstance(given, list) else []
    if any(c in rules.get("serious_categories", []) for c in categories):
        return Severity.SERIOUS.value
    minor_only = set(rules.get("minor_only_categories", []))
    if categories and minor_only and all(c in minor_only for c in categories):
        return Severity.MINOR.value
    keywords = rules.get("minor_keywords", [])
    texts = [values.get(code) for code in rules.get("keyword_fields", [])]
    if any(isinstance(t, str) and k in t for t in texts for k in keywords):
        return Severity.MINOR.value
    default = rules.get("default")
    return str(Severity(default).value) if default else None


def _json_value(value: Any) -> Any:
    if type(value) is dt.date:
        return value.isoformat()
    if isinstance(value, SubjectKind):
        return SUBJECT_KIND_LABELS[value]
    if isinstance(value, Severity):
        return SEVERITY_LABELS[value]
    return value


# -- readers by field type: (field, cleaned non-empty text) → value, or BadValue --------------------------------------


def _read_text(f: FieldSpec, text: str) -> str:
    return v.clean_text(text)


def _read_name(f: FieldSpec, text: str) -> str:
    return v.normalise_name(text)


def _read_uscc(f: FieldSpec, text: str) -> str:
    code = v.normalise_identifier(text)
    if code == USCC_PLACEHOLDER:
        return code
    if error := uscc_error(code):
        raise v.BadValue(_after_name(f, error))
    return code


def _read_unit_code(f: FieldSpec, text: str) -> str:
    code = v.normalise_identifier(text)
    if error := _unit_code_error(code):
        raise v.BadValue(f"无效：{error}")
    return code


# A file repeats its few unit codes on every row; check each once.
_unit_code_error = lru_cache(maxsize=4096)(uscc_error)


def _after_name(f: FieldSpec, error: str) -> str:
    # uscc_error's reasons already start with "统一社会信用代码"; do not say it twice after the field name.
    prefix = "统一社会信用代码"
    if f.name.endswith(prefix) and error.startswith(prefix):
        return error[len(prefix) :]
    return f"无效：{error}"


def _read_legacy_code(f: FieldSpec, text: str) -> str:
    code = v.normalise_legacy_code(text)
    if len(code) > 50:
        raise v.BadValue(f"超过 50 个字符（实为 {len(code)} 个）")
    return code


def _read_id_number(f: FieldSpec, text: str) -> str:
    return v.normalise_identifier(text)


def _read_id_type(f: FieldSpec, text: str) -> str:
    value = v.normalise_id_type(text)
    if len(value) > 50:
        raise v.BadValue("超过 50 个字符")
    return value


_READERS: dict[str, Callable[[FieldSpec, str], Any]] = {
    "text": _read_text,
    "enum": _read_text,
    "name": _read_name,
    "doc_no": lambda f, text: v.normalise_doc_no(text),
    "subject_kind": lambda f, text: v.parse_subject_kind(text),
    "uscc": _read_uscc,
    "unit_code": _read_unit_code,
    "legacy_code": _read_legacy_code,
    "id_type": _read_id_type,
    "id_number": _read_id_number,
    "date": lambda f, text: v.parse_date(text),
    "amount": lambda f, text: v.parse_amount(text),
    "penalty_category": lambda f, text: v.parse_penalty_categories(text),
    "license_category": lambda f, text: v.parse_license_category(text),
    "severity": lambda f, text: v.parse_severity(text),
}
