"""``xinyong backup --out DIR``, ``xinyong backup verify DIR`` and ``xinyong restore DIR [--force]``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from xinyong.backup import service
from xinyong.core.database import describe_url, get_engine
from xinyong.core.errors import InvalidInput
from xinyong.core.settings import get_settings

backup_app = typer.Typer(
    help="备份：xinyong backup --out 目录；校验：xinyong backup verify 目录", invoke_without_command=True
)


@backup_app.callback()
def backup(
    ctx: typer.Context,
    out: Annotated[Path | None, typer.Option("--out", help="备份目录（须为新目录或空目录）")] = None,
) -> None:
    """备份整个数据库（PostgreSQL 用 pg_dump，SQLite 用在线备份接口，应用运行时也一致），并写出清单 manifest.json。"""
    if ctx.invoked_subcommand is not None:
        return
    if out is None:
        raise InvalidInput("请用 --out 指定备份目录，例如 xinyong backup --out /backup/xinyong-20260615")
    manifest = service.create_backup(engine=get_engine(), out=out)
    typer.echo(
        f"已备份 {describe_url(get_settings().database_url)} 到 {out}：{len(manifest['tables'])} 张表、"
        f"{manifest['total_rows']} 行，文件 {manifest['file']}（{manifest['file_bytes']} 字节）"
    )
    typer.echo("注意：备份不含密钥。XINYONG_PII_KEY、XINYONG_HASH_KEY、XINYONG_SECRET_KEY 须另行备份、分开保管。")


def _report(result: service.Verification, done: str) -> None:
    for note in result.notes:
        typer.echo(f"提示：{note}", err=True)
    if not result.ok:
        for problem in result.problems:
            typer.echo(problem, err=True)
        typer.echo(f"备份校验失败：发现 {len(result.problems)} 处问题", err=True)
        raise typer.Exit(1)
    manifest = result.manifest
    heads = service.manifest_heads(manifest)
    typer.echo(
        f"{done}：{len(manifest['tables'])} 张表、{manifest['total_rows']} 行与清单一致；"
        f"审计链完整（{len(heads)} 条链共 {result.audit_checked} 条记录）；"
        f"数据库版本 {'、'.join(manifest['alembic_revisions'])}"
    )


@backup_app.command("verify")
def verify(path: Annotated[Path, typer.Argument(help="备份目录")]) -> None:
    """校验备份：核对文件散列，恢复到临时数据库，逐表核对行数、校验和与数据库版本，并校验审计链（有问题时退出码 1）。"""
    _report(service.verify_backup(path=path, scratch_url=get_settings().database_url), "备份校验通过")


def register(app: typer.Typer) -> None:
    app.add_typer(backup_app, name="backup")

    @app.command("restore")
    def restore(
        path: Annotated[Path, typer.Argument(help="备份目录")],
        force: Annotated[bool, typer.Option("--force", help="目标数据库不为空时仍然恢复（替换其中全部数据）")] = False,
    ) -> None:
        """把备份恢复到 XINYONG_DATABASE_URL 指向的数据库（须先停止应用），恢复后按清单校验（有问题时退出码为 1）。"""
        result = service.restore_backup(engine=get_engine(), path=path, force=force)
        _report(result, f"已恢复到 {describe_url(get_settings().database_url)} 并校验通过")
