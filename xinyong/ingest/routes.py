"""The HTTP door of the collection pipeline: source units push records, and everyone with a key reads batch history.

``POST /api/v1/batches/{resource}`` saves the body under ``data_dir/uploads/<sha256>.<ext>`` before processing, so a
retried request finds the same file: an interrupted batch resumes, a completed one comes back as duplicates.
It authenticates in a short session of its own and runs the pipeline outside any request transaction, because the
pipeline commits chunk by chunk (and on SQLite a request holding the write lock would block it), in a collection
process of its own (``offload.IngestProcesses``) so that batches never compete for the web worker's interpreter.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import Path as PathParam
from fastapi import Query, Request
from fastapi.responses import FileResponse
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from xinyong.accounts.models import Role
from xinyong.audit import service as audit
from xinyong.audit.service import Actor
from xinyong.catalog import service as catalog
from xinyong.catalog.models import SourceUnit
from xinyong.core.database import session_scope
from xinyong.core.deps import CurrentActor, SessionDep, key_actor, require_role
from xinyong.core.errors import Forbidden, InvalidInput, NotFound, TooLarge, Unauthenticated, XinyongError
from xinyong.core.routing import APIRouter
from xinyong.core.settings import get_settings
from xinyong.core.types import Cursor
from xinyong.ingest import service
from xinyong.ingest.faults import Fault
from xinyong.ingest.offload import IngestProcesses
from xinyong.ingest.schemas import BatchPage, BatchRead, BatchResult, ErrorRead, RejectedRow, rejects_url

router = APIRouter(prefix="/api/v1/batches", tags=["归集批次"])

UPLOAD_TYPES = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xls": "xls", ".json": "json", ".jsonl": "jsonl"}
MEDIA_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
    "jsonl": "application/x-ndjson",
}
_BLOCK = 1 << 20

ResourceCode = Annotated[str, PathParam(description="信息资源代码，如 administrative_penalty")]
BatchId = Annotated[str, PathParam(description="批次号")]


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    text = {
        401: "缺少或无效的 API 密钥",
        403: "角色无权操作，或单位未获准报送该资源",
        404: "信息资源或批次不存在",
        413: "文件超过大小上限（XINYONG_UPLOAD_MAX_BYTES）",
        415: "不支持的内容类型或文件类型",
        422: "文件无法读取或请求有误",
    }
    return {code: {"model": ErrorRead, "description": text[code]} for code in codes}


_SUBMIT_BODY = {
    "requestBody": {
        "required": True,
        "description": "数据行的 JSON 数组（每个对象以字段代码或中文字段名为键），"
        "或以 multipart/form-data 上传的文件 `file`（CSV/XLSX/XLS/JSON/JSONL）。",
        "content": {
            "application/json": {
                "schema": {"type": "array", "items": {"type": "object", "additionalProperties": {"type": "string"}}}
            },
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary", "description": "数据文件"}},
                    "required": ["file"],
                }
            },
        },
    }
}


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _authorise_submission(request: Request, engine: Engine, key: str | None, resource: str) -> tuple[Actor, str]:
    """The unit's actor and USCC, after checking the key, its role, the resource and the unit's grant."""
    if key is None:
        raise Unauthenticated("需要 API 密钥：请在请求头中提供 Authorization: Bearer <密钥>")
    with session_scope(engine) as session:
        actor = key_actor(request, session, key)  # already authenticated by the access matrix for this request
        require_role(actor, Role.SOURCE_UNIT)
        resource_row = catalog.get_resource(session=session, code=resource)
        unit = session.get(SourceUnit, actor.unit_id) if actor.unit_id else None
        if unit is None:
            raise Forbidden("该密钥未绑定信息提供单位")
        if not catalog.may_push(session=session, unit_id=unit.id, resource_id=resource_row.id):
            raise Forbidden(f"信息提供单位“{unit.name}”未获准报送“{resource_row.name}”")
        return actor, unit.uscc


# A partial upload older than this was left by a process that died while receiving it (no upload takes that long).
STALE_PARTIAL_SECONDS = 6 * 3600


class _Sink:
    """Writes an upload to ``uploads/`` while hashing and counting it; refuses more than the limit.

    The body goes to a hidden ``.part`` file and gets its real name (its SHA-256) only once complete and on disk, so a
    crash while receiving leaves nothing a retry could mistake for the file; the retry saves it again under the same
    name and so finds the batch it belongs to.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.folder = get_settings().data_dir / "uploads"
        self.folder.mkdir(parents=True, exist_ok=True)
        _remove_stale_partials(self.folder)
        self.partial = self.folder / f".{uuid.uuid4().hex}.part"
        self.fh = self.partial.open("wb")
        self.digest = hashlib.sha256()
        self.size = 0
        self.blocks = 0
        self.fault = Fault()

    def write(self, block: bytes) -> None:
        self.size += len(block)
        if self.size > self.limit:
            self.discard()
            raise _too_large(self.limit)
        self.digest.update(block)
        self.fh.write(block)
        self.blocks += 1
        self.fault("upload_block", self.blocks)

    def discard(self) -> None:
        self.fh.close()
        self.partial.unlink(missing_ok=True)

    def keep(self, fmt: str) -> Path:
        self.fh.flush()
        os.fsync(self.fh.fileno())
        self.fh.close()
        target = self.folder / f"{self.digest.hexdigest()}.{fmt}"
        os.replace(self.partial, target)
        self.fault("upload_saved")
        return target


def _remove_stale_partials(folder: Path) -> None:
    cutoff = time.time() - STALE_PARTIAL_SECONDS
    for partial in folder.glob(".*.part"):
        try:
            if partial.stat().st_mtime < cutoff:
                partial.unlink()
        except FileNotFoundError:  # another process cleaned it up first
            continue


def _too_large(limit: int) -> TooLarge:
    return TooLarge(f"文件过大：上限为 {limit / 1024 / 1024:.0f} MB，请拆分后分批报送")


async def _save(blocks: AsyncIterator[bytes], limit: int, fmt: str) -> Path:
    """Receive ``blocks`` into a ``_Sink``. Its file operations run in the thread pool: the final ``fsync`` waits for
    the disk, which the database's log is flushing to, and on the event loop it would hold up every request of the
    worker meanwhile (checks included) for as long as the disk takes."""
    sink = await run_in_threadpool(_Sink, limit)
    try:
        async for block in blocks:
            await run_in_threadpool(sink.write, block)
    except BaseException:
        sink.discard()  # not awaited: it must happen even when the request is being cancelled
        raise
    return await run_in_threadpool(sink.keep, fmt)


async def _save_body(request: Request) -> tuple[Path, str]:
    """Save the submitted rows or file; returns the saved path and the name to record in the batch."""
    limit = get_settings().upload_max_bytes
    declared = request.headers.get("content-length", "")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    # multipart framing adds a little; a body far above the limit is refused before reading it.
    if declared.isdigit() and int(declared) > limit + (64 * 1024 if content_type.startswith("multipart/") else 0):
        raise _too_large(limit)
    if content_type in ("application/json", "application/x-ndjson"):
        fmt = "json" if content_type == "application/json" else "jsonl"
        return await _save(request.stream(), limit, fmt), f"api.{fmt}"
    if content_type == "multipart/form-data":
        form = await request.form(max_files=1, max_fields=10)
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidInput("缺少上传文件：请以字段名 file 上传数据文件")
        name = Path(upload.filename or "upload").name
        upload_format = UPLOAD_TYPES.get(Path(name).suffix.lower())
        if upload_format is None:
            raise _UnsupportedType(
                f"不支持的文件类型“{Path(name).suffix or name}”：请上传 CSV、XLSX、XLS、JSON 或 JSONL 文件"
            )
        try:
            return await _save(_blocks(upload), limit, upload_format), name
        finally:
            await upload.close()
    raise _UnsupportedType(
        f"不支持的内容类型“{content_type or '（未指定）'}”："
        "请以 application/json 提交数据行数组，或以 multipart/form-data 上传文件"
    )


async def _blocks(upload: UploadFile) -> AsyncIterator[bytes]:
    while block := await upload.read(_BLOCK):
        yield block


class _UnsupportedType(XinyongError):
    status_code = 415
    code = "unsupported_media_type"


@router.post(
    "/{resource}",
    status_code=201,
    response_model=BatchResult,
    summary="报送数据（信息提供单位）",
    description="以单位的 API 密钥报送一个信息资源的数据：JSON 数组或上传文件。逐行校验、关联主体、按"
    "（资源、单位、文书号）入库并保留历史版本；拒收行附中文原因。同一文件重复提交：中断的批次续传，已完成的批次"
    "全部计为重复，不会产生重复记录。",
    responses=_errors(401, 403, 404, 413, 415, 422),
    openapi_extra=_SUBMIT_BODY,
)
async def submit_batch(resource: ResourceCode, request: Request) -> BatchResult:
    engine: Engine = request.app.state.engine
    actor, unit_uscc = await run_in_threadpool(_authorise_submission, request, engine, _bearer(request), resource)
    path, filename = await _save_body(request)
    collector: IngestProcesses = request.app.state.ingest
    settings = get_settings()
    summary = await collector.ingest(
        engine,
        path=path,
        resource=resource,
        unit_uscc=unit_uscc,
        actor=actor,
        channel="api",
        rejects_dir=settings.data_dir / "rejects",
        filename=filename,
        # SQLite has one write lock: smaller transactions let a check in between (docs/benchmarks.md, "Soak").
        chunk_size=(
            min(settings.ingest_chunk_size, settings.sqlite_api_chunk_size) if engine.dialect.name == "sqlite" else None
        ),
    )

    def rejected() -> list[tuple[int, list[str]]]:
        with session_scope(engine) as session:
            return service.rejected_rows(session=session, batch_id=summary.batch_id)

    rows = await run_in_threadpool(rejected)
    return BatchResult(
        batch_id=summary.batch_id,
        resource=summary.resource,
        state=summary.state,
        resumed=summary.resumed,
        received=summary.received,
        accepted=summary.accepted,
        duplicates=summary.duplicates,
        rejected=summary.rejected,
        linked=summary.linked,
        subjects_created=summary.subjects_created,
        rejects_file=rejects_url(summary.batch_id) if summary.rejects_file else None,
        rejects=[RejectedRow(row_no=row_no, reasons=reasons) for row_no, reasons in rows],
    )


@router.get(
    "",
    response_model=BatchPage,
    summary="归集批次列表",
    description="信息提供单位只看到本单位的批次；信用办和管理员看到全部（密钥限定区域时只含本区域）。",
    responses=_errors(401, 403),
)
def list_batches(
    session: SessionDep,
    actor: CurrentActor,
    limit: Annotated[int, Query(ge=1, le=200, description="每页条数")] = 20,
    offset: Annotated[Cursor, Query(description="跳过条数")] = 0,
) -> BatchPage:
    views, total = service.list_batches(session=session, actor=actor, limit=limit, offset=offset)
    return BatchPage(items=[BatchRead.of(v) for v in views], total=total)


@router.get("/{batch_id}", response_model=BatchRead, summary="归集批次详情", responses=_errors(401, 403, 404))
def get_batch(batch_id: BatchId, session: SessionDep, actor: CurrentActor) -> BatchRead:
    return BatchRead.of(service.get_batch(session=session, batch_id=batch_id, actor=actor))


@router.get(
    "/{batch_id}/rejects",
    summary="下载拒收数据文件",
    description="与报送文件同格式（XLS 报送返回 XLSX），原值不变，另加“错误原因”列；修改后可重新报送。",
    response_class=FileResponse,
    responses={
        200: {"description": "拒收数据文件", "content": {m: {} for m in MEDIA_TYPES.values()}},
        **_errors(401, 403, 404),
    },
)
def download_rejects(batch_id: BatchId, session: SessionDep, actor: CurrentActor) -> FileResponse:
    view = service.get_batch(session=session, batch_id=batch_id, actor=actor)
    path = service.rejects_file(session=session, view=view)
    if path is None:
        raise NotFound(f"批次 {batch_id} 没有拒收数据")
    # The rejected rows are the unit's raw data, identifiers included: a read of non-public data.
    audit.record(
        session=session, actor=actor, action="ingest.rejects_download", target_type="batch", target_id=batch_id
    )
    stem = Path(view.batch.filename).stem or batch_id
    ext = path.suffix.lstrip(".")
    return FileResponse(
        path, media_type=MEDIA_TYPES.get(ext, "application/octet-stream"), filename=f"{stem}.rejects.{ext}"
    )
