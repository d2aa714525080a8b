"""Request bodies of the check API (responses are the stored result snapshot, documented in docs/checks.md)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from xinyong.core.types import RowId


class CheckCreate(BaseModel):
    matter: str = Field(description="事项代码或名称，如 government_procurement / 政府采购")
    code: str | None = Field(default=None, description="统一社会信用代码、公民身份号码或已登记的旧代码")
    name: str | None = Field(default=None, description="名称（无代码时按名称匹配；多个候选时返回 409 与候选列表）")
    subject_id: RowId | None = Field(default=None, description="按名称匹配后确认的主体 id")
    person_name: str | None = Field(default=None, description="关联人员姓名（与 company 一起，查其任职企业的名单约束）")
    company: str | None = Field(default=None, description="关联人员所在企业的统一社会信用代码或名称")


class FeedbackItemIn(BaseModel):
    measure_code: str
    applied: bool
    reason: str | None = Field(default=None, description="未实施时必填")


class FeedbackCreate(BaseModel):
    items: list[FeedbackItemIn]
    department: str | None = Field(default=None, description="实施部门（默认：密钥所属单位）")


class MeasureBasisUpdate(BaseModel):
    basis: list[dict[str, object]] = Field(description="依据：[{document, doc_no, article, confirmed}]")
