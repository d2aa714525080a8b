"""What the collection API returns."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from xinyong.ingest.service import BatchView


class BatchCounts(BaseModel):
    received: int = Field(description="读取的数据行数 = accepted + duplicates + rejected")
    accepted: int = Field(description="入库行数（新记录或新版本）")
    duplicates: int = Field(description="与已入库内容完全相同的行数（未作改动）")
    rejected: int = Field(description="拒收行数（已隔离，原因见 rejects）")
    linked: int = Field(description="入库行中关联到信用主体的行数")
    subjects_created: int = Field(description="新建的信用主体数")


class BatchRead(BatchCounts):
    batch_id: str = Field(description="批次号")
    resource: str = Field(description="信息资源代码")
    source_unit: str | None = Field(description="报送单位统一社会信用代码（为空：按每行的数据来源单位）")
    source_unit_name: str | None = Field(description="报送单位名称")
    filename: str = Field(description="文件名")
    file_format: str = Field(description="csv / xlsx / xls / json / jsonl")
    channel: str = Field(description="渠道：cli / api / upstream")
    state: str = Field(description="running（进行中或中断，可续传）/ completed / failed")
    rows_done: int = Field(description="已提交处理的数据行数（断点）")
    error: str | None = Field(description="整批失败的原因")
    started_at: dt.datetime
    finished_at: dt.datetime | None
    rejects_url: str | None = Field(description="拒收数据文件的下载地址（无拒收行时为空）")

    @classmethod
    def of(cls, view: BatchView) -> BatchRead:
        b = view.batch
        return cls(
            batch_id=b.id,
            resource=view.resource,
            source_unit=view.unit_uscc,
            source_unit_name=view.unit_name,
            filename=b.filename,
            file_format=b.file_format,
            channel=b.channel,
            state=b.state,
            rows_done=b.rows_done,
            received=b.received,
            accepted=b.accepted,
            duplicates=b.duplicates,
            rejected=b.rejected,
            linked=b.linked,
            subjects_created=b.subjects_created,
            error=b.error,
            started_at=b.started_at,
            finished_at=b.finished_at,
            rejects_url=rejects_url(b.id) if b.rejected else None,
        )


class BatchPage(BaseModel):
    items: list[BatchRead]
    total: int = Field(description="可见批次总数")


class RejectedRow(BaseModel):
    row_no: int = Field(description="行号（表头为第 1 行；JSON 为数组中的序号）")
    reasons: list[str] = Field(description="拒收原因，如“第 12 行 CF_XDR_SHXYM：统一社会信用代码校验位错误”")


class BatchResult(BatchCounts):
    """The summary of one submission (DESIGN §6) with the first rejected rows."""

    batch_id: str = Field(description="批次号")
    resource: str = Field(description="信息资源代码")
    state: str = Field(description="completed，或 failed（文件无法读取）")
    resumed: bool = Field(description="是否续传了此前中断的同一文件")
    rejects_file: str | None = Field(description="拒收数据文件的下载地址（与输入同格式，另加“错误原因”列）")
    rejects: list[RejectedRow] = Field(description="前 100 个拒收行及原因")


class ErrorRead(BaseModel):
    error: str = Field(description="错误代码")
    message: str = Field(description="中文错误信息")


def rejects_url(batch_id: str) -> str:
    return f"/api/v1/batches/{batch_id}/rejects"
