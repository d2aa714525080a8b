"""Request and response models of the report API (issuing, verification)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field


class ReportCreate(BaseModel):
    code: str = Field(description="信用主体代码（统一社会信用代码、旧代码或门户编号 P<id>）", max_length=64)
    kind: str = Field(
        default="public", description="public（公开版）/ full（完整版）/ no_violation（无违法违规记录版）"
    )
    format: str = Field(default="pdf", description="pdf 或 html")
    period_from: dt.date | None = Field(default=None, description="报告期间起（无违法违规记录版默认三年前）")
    period_to: dt.date | None = Field(default=None, description="报告期间止（默认今天）")
    domains: list[str] = Field(default_factory=list, description="无违法违规记录版的领域（代码或名称，空 = 全部）")


class ReportVerifyRead(BaseModel):
    valid: bool = Field(description="报告真实：编号已登记，且所做的每项核对（验证码、文件）都通过")
    found: bool = Field(description="编号是否由本平台出具")
    report_no: str
    message: str = Field(description="核验结论（中文）")
    kind: str | None = None
    kind_label: str | None = None
    subject_name: str | None = Field(default=None, description="报告主体（自然人姓名脱敏）")
    subject_code: str | None = Field(default=None, description="统一社会信用代码；自然人为脱敏证件号码")
    issued_at: dt.datetime | None = Field(default=None, description="出具时间（数据截止时间）")
    issued_on: dt.date | None = Field(default=None, description="出具日期（北京时间）")
    period_from: dt.date | None = None
    period_to: dt.date | None = None
    issuer: str | None = Field(default=None, description="出具渠道")
    code_checked: bool = False
    code_valid: bool | None = Field(default=None, description="验证码是否正确（未提供时为空）")
    file_checked: bool = False
    file_matches: bool | None = Field(default=None, description="上传文件的 SHA-256 是否与出具时登记的一致")
    file_sha256: str | None = Field(default=None, description="上传文件的 SHA-256")


class IssuedReportRead(BaseModel):
    report_no: str
    kind: str
    kind_label: str
    issued_at: dt.datetime
    channel: str
    file_format: str
    file_sha256: str
    period_from: dt.date | None
    period_to: dt.date | None
