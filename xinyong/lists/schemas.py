"""Request bodies of the list management API (credit office and admin only)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from xinyong.core.types import RowId
from xinyong.lists.models import RemovalReason


class EntryCreate(BaseModel):
    list_type: str = Field(description="名单类型代码，如 wage_arrears")
    subject_id: RowId | None = None
    code: str | None = Field(default=None, description="主体统一社会信用代码（与 subject_id 二选一）")
    reason: str = Field(description="列入事由")
    doc_no: str | None = None
    authority: str | None = None
    legal_rep_id_number: str | None = Field(
        default=None, description="法定代表人身份证号（仅存密钥散列，用于关联人员核查）"
    )


class NoticeCreate(BaseModel):
    on: dt.date | None = None


class ListingCreate(BaseModel):
    listed_on: dt.date | None = None
    expires_on: dt.date | None = None
    note: str | None = None


class RemovalCreate(BaseModel):
    reason: RemovalReason
    note: str | None = None
    on: dt.date | None = None


class WithdrawalCreate(BaseModel):
    note: str


class BasisUpdate(BaseModel):
    basis: list[dict[str, object]]
    note: str | None = None
