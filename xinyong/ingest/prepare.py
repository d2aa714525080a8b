"""Stage two of collection: one RawRow → a normalised, validated, classified PreparedRow, or every Problem it has.

The resource's field schema (``ResourceSpec``) drives everything: each field's type picks its normaliser, and its
rules (required, required_for, required_if, max_length, choices, pattern, not_future, not_before) the checks. A row is
reported with all of its problems at once, so a department fixes a file in one round.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from xinyong.catalog.spec import FieldSpec, ResourceSpec
from xinyong.core.text import clean, normalise_name
from xinyong.ingest import values as v
from xinyong.ingest.types import PreparedRow, Problem, RawRow, SubjectRef
from xinyong.records.models import SEVERITY_LABELS, RecordStatus, Severity
from xinyong.subjects.codes import USCC_PLACEHOLDER, id_number_error, mask_id_number, uscc_error
from xinyong.subjects.models import SUBJECT_KIND_LABELS, SubjectKind


def prepare_row(spec: ResourceSpec, row: RawRow, *, today: dt.date) -> PreparedRow | list[Problem]:
    """Normalise, validate and classify one row; all problems of the row are returned together."""
    checker = _RowCheck(spec, row, today)
    return checker.run()


class _RowCheck:
    def __init__(self, spec: ResourceSpec, row: RawRow, today: dt.date) -> None:
        self.spec = spec
        self.row = row
        self.today = today
        self.values: dict[str, Any] = {}  # field code → normalised value (only for non-empty, readable cells)
        self.problems: dict[str, list[str]] = {}
        self.kind: SubjectKind | None = None

    def problem(self, field: FieldSpec, message: str) -> None:
        self.problems.setdefault(field.code, []).append(message)

    def run(self) -> PreparedRow | list[Problem]:
        fields = self.spec.fields
        for f in fields:
            self._read(f)
        kind_field = self.spec.role("subject_kind")
        if kind_field and isinstance(self.values.get(kind_field), SubjectKind):
            self.kind = self.values[kind_field]
        for f in fields:
            self._check_required(f)
        self._check_cross_field()
        if self.problems or self.row.problems:
            ordered = [Problem(code, msg) for f in fields for code, msg in self._problems_of(f.code)]
            return [*self.row.problems, *ordered]
        return self._prepared()

    def _problems_of(self, code: str) -> list[tuple[str, str]]:
        return [(code, message) for message in self.problems.get(code, [])]

    # -- one field -------------------------------------------------------------------------------------------------

    def _read(self, f: FieldSpec) -> None:
        # Blank test only; each reader normalises the original text its own way (codes fully half-width, prose not).
        text = self.row.fields.get(f.code, "")
        if not clean(text):
            text = ""
        if not text and f.default is not None:
            text = f.default
        if not text:
            return
        reader = _READERS.get(f.type, _read_text)
        try:
            value = reader(f, text)
        except v.BadValue as bad:
            self.problem(f, f"{f.name}{bad.reason}")
            return
        if isinstance(value, str):
            if f.max_length is not None and len(value) > f.max_length:
                self.problem(f, f"{f.name}超过 {f.max_length} 个字符（实为 {len(value)} 个）")
                return
            if f.choices and value not in f.choices:
                self.problem(f, f"{f.name}“{value}”不是可选值（应为 {'、'.join(f.choices)} 之一）")
                return
            if f.pattern and not re.fullmatch(f.pattern, value):
                self.problem(f, f"{f.name}“{value}”格式不正确")
                return
        if isinstance(value, dt.date) and f.not_future and value > self.today:
            self.problem(f, f"{f.name}不能晚于今天（{self.today.isoformat()}），实为 {value.isoformat()}")
            return
        self.values[f.code] = value

    def _present(self, f: FieldSpec) -> bool:
        # A field counts as given when its cell is non-empty, even if unreadable (that is reported on its own).
        return f.code in self.values or bool(clean(self.row.fields.get(f.code, ""))) or f.default is not None

    def _check_required(self, f: FieldSpec) -> None:
        if self._present(f):
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
        by_code = self.spec.by_code
        for f in self.spec.fields:
            value = self.values.get(f.code)
            if f.not_before and isinstance(value, dt.date):
                earlier = self.values.get(f.not_before)
                if isinstance(earlier, dt.date) and value < earlier:
                    name = by_code[f.not_before].name
                    self.problem(f, f"{f.name}（{value.isoformat()}）不能早于{name}（{earlier.isoformat()}）")
            if f.type == "id_number" and isinstance(value, str):
                self._check_id_number(f, value)
        self._check_subject_codes()

    def _check_id_number(self, f: FieldSpec, number: str) -> None:
        id_type = self.values.get(f.id_type_field or "", "")
        if v.is_citizen_id_type(id_type):
            if error := id_number_error(number, today=self.today):
                self.problem(f, f"{f.name}无效：{error}")
        elif len(number) > v.MAX_OTHER_ID_LENGTH:
            self.problem(f, f"{f.name}超过 {v.MAX_OTHER_ID_LENGTH} 个字符")

    def _check_subject_codes(self) -> None:
        uscc_code = self.spec.role("uscc")
        if uscc_code is None or self.values.get(uscc_code) != USCC_PLACEHOLDER:
            return
        f = self.spec.by_code[uscc_code]
        if self.kind is not None and self.kind is not SubjectKind.INDIVIDUAL_BUSINESS:
            self.problem(f, f"{f.name} {USCC_PLACEHOLDER} 仅适用于没有统一社会信用代码的个体工商户")
            return
        gszc = self.spec.legacy_code_fields.get("gszc")
        if self.kind is SubjectKind.INDIVIDUAL_BUSINESS and gszc and gszc not in self.values:
            reg = self.spec.by_code[gszc]
            self.problem(reg, f"个体工商户的{f.name}为 {USCC_PLACEHOLDER} 时，{reg.name}不能为空")

    # -- result ----------------------------------------------------------------------------------------------------

    def _prepared(self) -> PreparedRow:
        spec, values = self.spec, self.values
        payload: dict[str, Any] = {}
        pii: dict[str, str] = {}
        amounts: dict[str, Decimal] = {}
        for f in spec.fields:
            if f.code not in values:
                continue
            value = values[f.code]
            if f.pii and isinstance(value, str):
                pii[f.code] = value
                payload[f.code] = mask_id_number(value)
            elif isinstance(value, Decimal):
                amounts[f.code] = value
                payload[f.code] = v.amount_text(value)
            else:
                payload[f.code] = _json_value(value)
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
        code = self.spec.role(role)
        value = self.values.get(code) if code else None
        return value if isinstance(value, str) else None

    def _date_role(self, role: str) -> dt.date | None:
        code = self.spec.role(role)
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
        explicit = self.spec.role("severity")
        if explicit and isinstance(self.values.get(explicit), Severity):
            return str(self.values[explicit].value)
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
    if isinstance(value, dt.date):
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
    return normalise_name(text)


def _read_uscc(f: FieldSpec, text: str) -> str:
    code = v.normalise_identifier(text)
    if code == USCC_PLACEHOLDER:
        return code
    if error := uscc_error(code):
        raise v.BadValue(_after_name(f, error))
    return code


def _read_unit_code(f: FieldSpec, text: str) -> str:
    code = v.normalise_identifier(text)
    if error := uscc_error(code):
        raise v.BadValue(f"无效：{error}")
    return code


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
