"""Response models of the 双公示 list API."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field


class PublicityItem(BaseModel):
    id: int
    resource: str
    doc_no: str = Field(description="决定文书号")
    subject_name: str = Field(description="行政相对人名称")
    subject_code: str | None = Field(description="主体代码（主体页面 /subjects/{code}）")
    decision_date: dt.date | None
    valid_from: dt.date | None
    valid_to: dt.date | None
    severity_label: str | None
    source_unit: str
    published_until: dt.date | None
    objection_mark: str | None = Field(description="异议处理中时为“异议处理中”")
    fields: dict[str, str]


class PublicityPageRead(BaseModel):
    kind: str = Field(description="licenses / penalties")
    items: list[PublicityItem]
    total: int
    total_capped: bool = Field(description="命中超过 10000 条时为真，total 为 10000")
    page: int
    page_size: int
