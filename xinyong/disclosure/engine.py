"""The disclosure decision: may this viewer see this record today, why, until when, marked and masked how.

The one place the publication rules of DESIGN §4.1 and §4.3 are applied to a record. Everything that shows records
(portal, API, reports, exchange, checks) asks ``decide``; list queries use ``query.visible_filter``, which is built
from the same ``DisclosureRules`` and cross-checked against ``decide`` by the tests.

Nothing is stored: visibility is derived from the record's dates and status and ``clock.today()`` at read time, so
publication ends by itself at the maximum period without a job.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from dataclasses import dataclass
from typing import Any, Protocol

from xinyong.core import clock
from xinyong.disclosure.rules import DisclosureRules, get_rules
from xinyong.records.models import RecordStatus
from xinyong.subjects.codes import id_number_error, mask_id_number

# Record.subject_kind holds the enum value; a file's own label is accepted too.
NATURAL_PERSON_KINDS = ("natural_person", "自然人")
OBJECTION_MARK = "异议处理中"


class ResourceTerms(Protocol):
    """What the engine reads of a catalog resource (``catalog.models.Resource`` satisfies it)."""

    code: str
    nature: str
    disclosure_class: str
    publish_natural_persons: bool
    roles: dict[str, Any]


class RecordFacts(Protocol):
    """What the engine reads of a record (``records.models.Record`` satisfies it)."""

    subject_id: int | None
    subject_kind: str
    decision_date: dt.date | None
    valid_from: dt.date | None
    valid_to: dt.date | None
    publish_until: dt.date | None
    severity: str | None
    status: str
    objection_open: bool
    repaired_at: dt.datetime | None
    payload: dict[str, Any]


class ViewerKind(enum.StrEnum):
    PUBLIC = "public"  # 社会公众
    SUBJECT = "subject"  # 信用主体本身
    SHARED = "shared"  # 有政务共享权限的部门
    CREDIT_OFFICE = "credit_office"  # 信用办（全量档案）


@dataclass(frozen=True)
class Viewer:
    kind: ViewerKind
    subject_id: int | None = None

    @classmethod
    def public(cls) -> Viewer:
        return cls(ViewerKind.PUBLIC)

    @classmethod
    def subject(cls, subject_id: int) -> Viewer:
        return cls(ViewerKind.SUBJECT, subject_id)

    @classmethod
    def shared(cls) -> Viewer:
        return cls(ViewerKind.SHARED)

    @classmethod
    def credit_office(cls) -> Viewer:
        return cls(ViewerKind.CREDIT_OFFICE)

    @classmethod
    def for_role(cls, role: str | None, subject_id: int | None = None) -> Viewer:
        """The viewer an account or API key of ``role`` acts as."""
        if role in ("admin", "credit_office"):
            return cls.credit_office()
        if role in ("checker", "source_unit"):
            return cls.shared()
        if role == "subject" and subject_id is not None:
            return cls.subject(subject_id)
        return cls.public()


@dataclass(frozen=True)
class Decision:
    """The outcome for one record and one viewer."""

    visible: bool  # may this viewer see the record at all
    public: bool  # is it published to the public today
    reason: str  # why, in Chinese (for the owner and the credit office: why it is or is not public)
    published_from: dt.date | None  # first day of the period in which it may be used
    published_until: dt.date | None  # last day of that period (None: no end, or no period)
    objection: bool  # shown marked "异议处理中"
    masked: bool  # personal identifiers must be masked for this viewer
    repair_eligible_from: dt.date | None  # first day repair may end publication (dishonesty records)

    @property
    def mark(self) -> str | None:
        return OBJECTION_MARK if self.objection and self.visible else None


@dataclass(frozen=True)
class _Window:
    start: dt.date | None
    end: dt.date | None
    problem: str | None = None  # why there is no window at all
    end_reason: str = ""  # what ends it (for the "expired" message)


def _is_natural(record: RecordFacts) -> bool:
    return record.subject_kind in NATURAL_PERSON_KINDS


def _shorten(window: _Window, record: RecordFacts) -> _Window:
    if record.publish_until is not None and (window.end is None or record.publish_until < window.end):
        return _Window(window.start, record.publish_until, end_reason=f"公示截止期 {record.publish_until} 已过")
    return window


def _window(record: RecordFacts, resource: ResourceTerms, rules: DisclosureRules) -> _Window:
    mode = rules.mode_of(resource.nature)
    if mode == "severity_window":
        if record.decision_date is None:
            return _Window(None, None, "缺少决定日期，无法确定公示期限")
        terms = rules.terms(resource.code, record.severity)
        end = terms.last_day(record.decision_date)
        reason = f"已于 {end} 公示期满（{terms.label}失信信息最长公示 {terms.max_months} 个月）"
        return _shorten(_Window(record.decision_date, end, end_reason=reason), record)
    if mode == "licence":
        start = record.valid_from or record.decision_date
        if start is None:
            return _Window(None, None, "缺少有效期起始日期，无法确定公示期限")
        return _shorten(
            _Window(start, record.valid_to, end_reason=f"行政许可有效期已于 {record.valid_to} 届满"), record
        )
    if record.decision_date is None:
        return _Window(None, None, "缺少决定日期，无法确定公示期限")
    return _shorten(
        _Window(record.decision_date, record.valid_to, end_reason=f"有效期已于 {record.valid_to} 届满"), record
    )


def licence_status(record: RecordFacts, resource: ResourceTerms, rules: DisclosureRules) -> str | None:
    """The licence's reported status (XK_ZT), or None when not reported."""
    field = (resource.roles or {}).get(rules.licence_status_role)
    value = record.payload.get(field) if field and record.payload else None
    text = str(value).strip() if value is not None else ""
    return text or None


def _usable(record: RecordFacts, resource: ResourceTerms, rules: DisclosureRules, today: dt.date) -> str | None:
    """Why the record may not be used by anyone outside the archive today (status, repair, period), or None."""
    if record.status == RecordStatus.REVOKED:
        return "该信息已被撤销，不予公示"
    if record.status == RecordStatus.DELETED:
        return "该信息已删除（异议核实后删除），不予公示"
    if record.status != RecordStatus.ACTIVE:
        return f"记录状态“{record.status}”不予公示"
    if record.repaired_at is not None:
        return "已完成信用修复，停止公示（档案保留）"
    if rules.mode_of(resource.nature) == "licence":
        status = licence_status(record, resource, rules)
        if status is not None and status not in rules.licence_valid_status:
            return f"行政许可当前状态为“{status}”，不予公示"
    window = _window(record, resource, rules)
    if window.problem:
        return window.problem
    assert window.start is not None
    if today < window.start:
        return f"尚未到公示开始日期（{window.start}）"
    if window.end is not None and today > window.end:
        return window.end_reason
    return None


def _public_problem(record: RecordFacts, resource: ResourceTerms, rules: DisclosureRules, today: dt.date) -> str | None:
    """Why the public may not see the record today, or None. Checked in the order a reader expects the reason."""
    if record.status != RecordStatus.ACTIVE or record.repaired_at is not None:
        return _usable(record, resource, rules, today)
    if resource.disclosure_class == "authorized":
        return "授权查询信息，不向社会公开"
    if resource.disclosure_class == "shared":
        return "政务共享信息，仅供有共享权限的部门使用，不向社会公开"
    if resource.disclosure_class != "public":
        return f"公开属性“{resource.disclosure_class}”不向社会公开"
    if _is_natural(record) and not resource.publish_natural_persons:
        return "自然人信息，依规不向社会公开"
    if rules.mode_of(resource.nature) == "severity_window":
        terms = rules.terms(resource.code, record.severity)
        if not terms.published:
            return f"{terms.label}失信信息，依规不予公示"
    return _usable(record, resource, rules, today)


def repair_eligible_from(
    record: RecordFacts, resource: ResourceTerms, *, rules: DisclosureRules | None = None
) -> dt.date | None:
    """The first day a subject may have publication ended by repair (end of the minimum period), for dishonesty
    records with a decision date; None otherwise."""
    rules = rules or get_rules()
    if rules.mode_of(resource.nature) != "severity_window" or record.decision_date is None:
        return None
    return rules.terms(resource.code, record.severity).repair_from(record.decision_date)


def decide(
    record: RecordFacts,
    resource: ResourceTerms,
    viewer: Viewer,
    *,
    today: dt.date | None = None,
    rules: DisclosureRules | None = None,
) -> Decision:
    """Whether ``viewer`` may see ``record`` (of catalog ``resource``) today, and how."""
    rules = rules or get_rules()
    today = today or clock.today()
    window = _window(record, resource, rules)
    public_problem = _public_problem(record, resource, rules, today)
    public = public_problem is None
    if public:
        until = f"公示至 {window.end}" if window.end is not None and window.end < rules.open_end else "长期公示"
        public_reason = f"依规公示中，{until}"
    else:
        public_reason = public_problem or ""
    own = viewer.kind is ViewerKind.SUBJECT and viewer.subject_id is not None and viewer.subject_id == record.subject_id
    if viewer.kind is ViewerKind.CREDIT_OFFICE or own:
        visible, reason, masked = True, public_reason, False
    elif viewer.kind is ViewerKind.SHARED:
        problem = _usable(record, resource, rules, today)
        visible = problem is None
        if public or problem is not None:
            reason = public_reason if public else (problem or "")
        else:
            reason = f"政务共享：在使用期限内（不向社会公开：{public_reason}）"
        masked = False
    else:
        visible, reason, masked = public, public_reason, True
    return Decision(
        visible=visible,
        public=public,
        reason=reason,
        published_from=window.start,
        published_until=window.end if window.end is None or window.end < rules.open_end else None,
        objection=bool(record.objection_open) and visible,
        masked=masked,
        repair_eligible_from=repair_eligible_from(record, resource, rules=rules),
    )


# 18-character runs that pass the GB 11643 check are citizen ID numbers wherever they appear in free text.
_ID_LIKE = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")


def mask_identifiers(text: str) -> str:
    """Mask every citizen ID number in ``text`` (a safety net over payloads that should already be masked)."""

    def _mask(match: re.Match[str]) -> str:
        value = match.group(0).upper()
        return mask_id_number(value) if id_number_error(value) is None else match.group(0)

    return _ID_LIKE.sub(_mask, text)


def mask_value(value: Any) -> Any:
    """``mask_identifiers`` through nested JSON values."""
    if isinstance(value, str):
        return mask_identifiers(value)
    if isinstance(value, dict):
        return {k: mask_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_value(v) for v in value]
    return value
