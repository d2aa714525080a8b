"""The content of a credit report as plain data: one model that both the HTML and the PDF are rendered from.

Nothing here decides what may be shown: every record item comes from ``subjects.profile.profile`` (which asks the
disclosure engine for the report's viewer) and carries that decision (公开/不公开 and the engine's reason).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from xinyong.subjects.profile import RecordEntry

CHINESE_NUMERALS = "一二三四五六七八九十"


class PartStatus:
    DATA = "data"  # the part has a data source (it may still be empty: "no record found")
    NO_SOURCE = "no_source"  # no data source is connected yet: said plainly in the report


@dataclass(frozen=True)
class ReportItem:
    """One record as the report shows it."""

    resource_name: str
    doc_no: str
    decision_date: dt.date | None
    unit_name: str
    severity_label: str | None
    fields: list[tuple[str, str]]
    public: bool
    reason: str  # the disclosure engine's reason (why it is or is not public, until when)
    mark: str | None  # 异议处理中
    published_until: dt.date | None
    unit_id: int | None  # None: not from a source unit's record (a commitment, a declaration, a hand-listed entry)
    updated_at: dt.datetime

    @classmethod
    def of(cls, entry: RecordEntry) -> ReportItem:
        return cls(
            unit_id=entry.record.source_unit_id,
            updated_at=entry.record.updated_at,
            resource_name=entry.resource.name,
            doc_no=entry.record.doc_no,
            decision_date=entry.record.decision_date,
            unit_name=entry.unit_name,
            # Severity belongs to dishonesty information; an honour or a licence has none worth printing.
            severity_label=entry.severity_label if entry.resource.nature in ("penalty", "dishonesty") else None,
            fields=entry.fields,
            public=entry.decision.public,
            reason=entry.decision.reason,
            mark=entry.decision.mark,
            published_until=entry.decision.published_until,
        )


@dataclass
class ReportPart:
    """A titled part of a section (e.g. 行政许可 within 行政管理信息), filled by one section provider."""

    key: str
    title: str
    status: str = PartStatus.DATA
    items: list[ReportItem] = field(default_factory=list)
    facts: list[tuple[str, str]] = field(default_factory=list)  # label → value lines (e.g. a grade)
    note: str | None = None  # where the data comes from, or why there is none
    empty_text: str = "未发现相关记录"
    source: str = ""  # which module or catalog resources filled it


@dataclass
class ReportSection:
    number: str  # 一、二、…
    key: str
    title: str
    parts: list[ReportPart]

    @property
    def item_count(self) -> int:
        return sum(len(p.items) for p in self.parts)


@dataclass(frozen=True)
class DomainFinding:
    """无违法违规记录版: the outcome for one chosen domain over the period."""

    key: str
    label: str
    items: list[ReportItem]
    units: list[str]  # the source units whose data was searched for this domain
    verdict: str

    @property
    def found(self) -> bool:
        return bool(self.items)

    @property
    def covered(self) -> bool:
        return bool(self.units)


@dataclass(frozen=True)
class SourceLine:
    unit_name: str
    unit_uscc: str
    resources: str  # the resources it provides to this report
    items: int
    last_update: dt.datetime | None  # when the unit's data last changed on the platform


@dataclass(frozen=True)
class SubjectFacts:
    name: str
    code: str  # USCC, or the masked ID number of a natural person
    kind: str
    kind_label: str
    uscc: str | None
    id_number_masked: str | None
    legal_rep: str | None
    status_label: str
    region: str | None
    established_on: dt.date | None
    former_names: list[str]

    @property
    def is_person(self) -> bool:
        return self.kind == "natural_person"


@dataclass
class ReportContent:
    kind: str
    kind_label: str
    edition: str
    site_name: str
    issuer_label: str  # 出具机构
    report_no: str
    verification_code: str
    verify_url: str  # what the QR code encodes (the verification page, with the code)
    verify_page: str  # the page without the code, printed for typing in
    issued_at: dt.datetime  # also the data cut-off time
    subject: SubjectFacts
    period_from: dt.date | None
    period_to: dt.date
    sections: list[ReportSection]
    domains: list[DomainFinding]
    sources: list[SourceLine]
    units_total: int
    notes: list[str]
    qr_svg: str = ""  # filled by the renderer

    @property
    def is_full(self) -> bool:
        return self.kind == "full"

    @property
    def is_no_violation(self) -> bool:
        return self.kind == "no_violation"

    def counts(self) -> dict[str, int]:
        """Items per section (or per domain), kept in the registry with the report."""
        if self.is_no_violation:
            return {d.key: len(d.items) for d in self.domains}
        return {s.key: s.item_count for s in self.sections}
