"""``xinyong ingest`` (DESIGN §6) and ``xinyong batches``."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from xinyong.audit.service import Actor
from xinyong.core.database import get_engine, session_scope
from xinyong.core.errors import XinyongError
from xinyong.ingest import pipeline
from xinyong.ingest import service as batches
from xinyong.ingest.types import BatchSummary

err = Console(stderr=True)
ERRORS_PRINTED = 10


def _estimate_rows(path: Path) -> int | None:
    """Data rows of a line-based file, for the progress bar (quoted line breaks make it an estimate)."""
    if path.suffix.lower() not in (".csv", ".txt", ".jsonl"):
        return None
    lines = 0
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            lines += block.count(b"\n")
    return max(lines - (1 if path.suffix.lower() != ".jsonl" else 0), 0)


@contextmanager
def _progress_bar(path: Path, enabled: bool) -> Iterator[pipeline.Progress | None]:
    if not enabled:
        yield None
        return
    with Progress(
        SpinnerColumn(),
        TextColumn("归集 {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("行"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task(path.name, total=_estimate_rows(path))

        def advance(done: int) -> None:
            bar.update(task, completed=done)

        yield advance


def _print_summary(summary: BatchSummary) -> None:
    typer.echo(
        f"批次 {summary.batch_id}{'（断点续传）' if summary.resumed else ''}：读取 {summary.received} 行，"
        f"入库 {summary.accepted} 行，重复 {summary.duplicates} 行，拒收 {summary.rejected} 行，"
        f"关联主体 {summary.linked} 行，新建主体 {summary.subjects_created} 个"
    )
    for line in summary.errors[:ERRORS_PRINTED]:
        typer.echo(f"  {line}")
    if summary.rejected > ERRORS_PRINTED:
        typer.echo(f"  ……共 {summary.rejected} 行被拒收")
    if summary.rejects_file:
        typer.echo(f"拒收数据及原因已写入：{summary.rejects_file}（修改后可重新报送）")


def register(app: typer.Typer) -> None:
    """Add this domain's commands to ``app``."""

    @app.command("ingest")
    def ingest(
        file: Annotated[Path, typer.Argument(help="数据文件：CSV（UTF-8/GBK/GB18030）、XLSX、XLS、JSON、JSONL")],
        resource: Annotated[str, typer.Option("--resource", help="信息资源代码，如 administrative_penalty")],
        source_unit: Annotated[
            str | None, typer.Option("--source-unit", help="报送单位统一社会信用代码（不指定则按每行的数据来源单位）")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="只在标准输出打印一个 JSON 对象（批次汇总）")] = False,
    ) -> None:
        """归集一个数据文件：校验、关联主体、入库（保留历史版本），拒收行写入 <文件名>.rejects.<扩展名>。"""
        try:
            with _progress_bar(file, enabled=not as_json and sys.stderr.isatty()) as progress:
                summary = pipeline.ingest_file(
                    engine=get_engine(),
                    path=file,
                    resource=resource,
                    unit_uscc=source_unit,
                    actor=Actor.cli(),
                    channel="cli",
                    progress=progress,
                )
        except XinyongError as exc:
            if as_json:
                body = {"error": exc.code, "message": exc.message, **exc.detail}
                typer.echo(orjson.dumps(body).decode())
            err.print(f"[red]错误：[/red]{exc.message}", highlight=False)
            raise typer.Exit(2) from None
        if as_json:
            typer.echo(orjson.dumps(summary.as_dict()).decode())
        else:
            _print_summary(summary)

    @app.command("batches")
    def list_batches(
        limit: Annotated[int, typer.Option("--limit", min=1, help="显示最近多少个批次")] = 20,
        as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
    ) -> None:
        """归集批次历史（最新的在前）。"""
        with session_scope(get_engine()) as session:
            views, total = batches.list_batches(session=session, limit=limit)
        if as_json:
            items = [
                {
                    "batch_id": v.batch.id,
                    "resource": v.resource,
                    "source_unit": v.unit_uscc,
                    "filename": v.batch.filename,
                    "channel": v.batch.channel,
                    "state": v.batch.state,
                    "received": v.batch.received,
                    "accepted": v.batch.accepted,
                    "duplicates": v.batch.duplicates,
                    "rejected": v.batch.rejected,
                    "linked": v.batch.linked,
                    "started_at": v.batch.started_at.isoformat(),
                    "error": v.batch.error,
                }
                for v in views
            ]
            typer.echo(orjson.dumps({"items": items, "total": total}).decode())
            return
        table = Table(title=f"归集批次（共 {total} 个，显示最近 {len(views)} 个）")
        for column in ("批次号", "资源", "单位", "文件", "状态", "读取", "入库", "重复", "拒收", "开始时间"):
            table.add_column(column)
        for v in views:
            b = v.batch
            table.add_row(
                b.id,
                v.resource,
                v.unit_name or "（按行）",
                b.filename,
                {"running": "进行中/中断", "completed": "完成", "failed": "失败"}.get(b.state, b.state),
                str(b.received),
                str(b.accepted),
                str(b.duplicates),
                str(b.rejected),
                f"{b.started_at:%Y-%m-%d %H:%M}",
            )
        Console().print(table)
