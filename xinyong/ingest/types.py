"""The values that flow through the collection pipeline, stage to stage.

parse (``rows.py``: file → RawRow) → prepare (``prepare.py``: normalise + validate + classify → PreparedRow or
Problems) → store (``pipeline.py``: link to subjects, upsert records with versions, quarantine, batch bookkeeping).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class SourceInfo:
    """What was learnt about a file before its rows: its format, encoding and header → field code mapping."""

    format: str  # csv / xlsx / xls / json / jsonl
    encoding: str | None  # for text formats: utf-8, utf-8-sig, gb18030 …
    headers: tuple[str, ...]  # as written in the file (order kept, for the rejects file)
    field_codes: tuple[str | None, ...]  # the field code each header maps to (None: not a catalog field)


@dataclass(frozen=True)
class RawRow:
    """One data row as received. ``row_no`` counts like a spreadsheet does: the header is row 1 (JSON: item index)."""

    row_no: int
    values: dict[str, str]  # original header → original text (kept for the rejects file)
    fields: dict[str, str]  # field code → original text
    # Problems found while reading the row (more cells than headers, one field under two keys); prepare_row
    # reports them with the field problems, so such a row is always rejected.
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class Problem:
    """Why a row is rejected: the field code (or "" for the whole row) and a reason in Chinese."""

    field: str
    message: str

    def render(self, row_no: int) -> str:
        where = f" {self.field}" if self.field else ""
        return f"第 {row_no} 行{where}：{self.message}"


@dataclass(frozen=True)
class SubjectRef:
    """Everything the row says about who the record is about, normalised."""

    kind: str  # SubjectKind value
    name: str
    uscc: str | None  # None for natural persons and for the placeholder 00000000000000000X
    legacy_codes: dict[str, str] = field(default_factory=dict)  # CodeType value → normalised code
    id_number: str | None = None  # natural persons (citizen ID or other document), plaintext in memory only
    legal_rep: str | None = None


@dataclass(frozen=True)
class PreparedRow:
    """A valid row, normalised and classified, ready to be linked and stored."""

    row_no: int
    subject: SubjectRef
    unit_code: str | None  # 数据来源单位统一社会信用代码 from the row
    doc_no: str
    decision_date: dt.date | None
    valid_from: dt.date | None
    valid_to: dt.date | None
    publish_until: dt.date | None
    severity: str | None  # Severity value, None for non-dishonesty resources
    status: str  # RecordStatus value
    payload: dict[str, Any]  # field code → normalised JSON-able value; PII fields masked
    pii: dict[str, str]  # field code → plaintext identifier (encrypted before storage)
    amounts: dict[str, Decimal] = field(default_factory=dict)


@dataclass
class BatchSummary:
    """The result of one ingest, as printed by ``xinyong ingest --json`` (DESIGN §6)."""

    batch_id: str
    resource: str
    state: str
    received: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    linked: int = 0
    subjects_created: int = 0
    rejects_file: str | None = None
    resumed: bool = False
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "resource": self.resource,
            "state": self.state,
            "received": self.received,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "linked": self.linked,
            "subjects_created": self.subjects_created,
            "rejects_file": self.rejects_file,
            "resumed": self.resumed,
            "errors": self.errors,
        }
