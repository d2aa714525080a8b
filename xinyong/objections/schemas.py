"""Request bodies of the objection API."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from xinyong.core.types import RowId


class ObjectionCreate(BaseModel):
    record_id: RowId = Field(description="异议的信用信息记录编号（本主体的记录）")
    reasons: str = Field(min_length=1, max_length=4000, description="异议理由")
    request: Literal["correct", "delete"] = Field(default="correct", description="请求更正或删除")
    requested_changes: dict[str, Any] = Field(default={}, description="申请更正的字段代码及正确值")


class Note(BaseModel):
    note: str | None = Field(default=None, max_length=4000)


class Refusal(BaseModel):
    reason: str = Field(min_length=1, max_length=4000, description="不予受理理由")


class Verification(BaseModel):
    outcome: Literal["corrected", "deleted", "upheld"]
    note: str = Field(min_length=1, max_length=4000, description="核实意见")
    changes: dict[str, Any] = Field(default={}, description="更正时：字段代码（或 decision_date、severity 等）及正确值")


class Answer(BaseModel):
    text: str = Field(min_length=1, max_length=4000, description="答复内容")
