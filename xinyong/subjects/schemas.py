"""Response models of the public subject API (GET /api/v1/subjects, GET /api/v1/subjects/{code})."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field


class SubjectSummary(BaseModel):
    code: str = Field(description="统一社会信用代码；自然人为门户编号 P<id>（从不使用身份证号）")
    name: str = Field(description="当前名称")
    kind: str = Field(description="legal_person / individual_business / natural_person")
    kind_label: str = Field(description="主体类别（中文）")
    region: str | None = Field(description="行政区划代码")
    status_label: str = Field(description="存续状态")
    exact_code: bool = Field(description="按代码精确命中（排在首位）")
    former_name: str | None = Field(description="命中的曾用名（当前名称未命中时）")
    url: str = Field(description="主体页面地址")


class SubjectPage(BaseModel):
    items: list[SubjectSummary]
    total: int = Field(description="命中数（超过上限时为上限，见 total_capped）")
    total_capped: bool = Field(description="命中数超过 XINYONG_SEARCH_MAX_RESULTS，请输入更完整的名称")
    page: int
    page_size: int


class RecordRead(BaseModel):
    id: int
    resource: str = Field(description="信息资源代码")
    resource_name: str
    doc_no: str = Field(description="决定文书号")
    decision_date: dt.date | None
    valid_from: dt.date | None
    valid_to: dt.date | None
    severity: str | None = Field(description="失信程度 minor / general / serious")
    severity_label: str | None
    source_unit: str = Field(description="信息提供单位")
    public: bool = Field(description="当前是否向社会公示")
    reason: str = Field(description="公示或不公示的理由")
    published_from: dt.date | None
    published_until: dt.date | None = Field(description="公示（使用）期限的最后一天；空 = 长期或不适用")
    objection: bool = Field(description="异议处理中")
    objection_mark: str | None
    repair_eligible_from: dt.date | None = Field(description="可申请信用修复的起始日（最短公示期届满）")
    fields: dict[str, str] = Field(description="记录字段（中文名 → 值），证件号码已脱敏")


class SectionRead(BaseModel):
    key: str = Field(description="licenses / penalties / lists / other")
    title: str
    records: list[RecordRead]


class ExtraItemRead(BaseModel):
    title: str
    tags: list[str]
    lines: list[tuple[str, str]]


class ExtraSectionRead(BaseModel):
    key: str = Field(description="commitments（信用承诺）/ declarations（自主申报）")
    title: str
    note: str | None = None
    items: list[ExtraItemRead]


class SubjectProfileRead(BaseModel):
    code: str
    name: str
    kind: str
    kind_label: str
    uscc: str | None
    id_number_masked: str | None = Field(description="自然人证件号码（脱敏）")
    region: str | None
    status: str
    status_label: str
    legal_rep: str | None
    established_on: dt.date | None
    former_names: list[str]
    viewer: str = Field(description="按何种身份呈现：public / subject / shared / credit_office")
    sections: list[SectionRead]
    extra_sections: list[ExtraSectionRead] = Field(default=[], description="信用承诺、自主申报（标注是否核实）")
