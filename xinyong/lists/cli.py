"""``xinyong lists …``: list types and the collection hook from the command line (runs as admin)."""

from __future__ import annotations

import typer

from xinyong.audit.service import Actor
from xinyong.core.database import get_engine, session_scope
from xinyong.lists import service as lists

lists_app = typer.Typer(help="名单（红黑名单、重点关注名单）", no_args_is_help=True)


@lists_app.command("types")
def list_types() -> None:
    """列出名单类型及其依据状态。"""
    with session_scope(get_engine()) as session:
        for row in lists.list_types(session=session):
            basis = "依据待信用办填写" if not row.basis else f"依据 {len(row.basis)} 项"
            typer.echo(f"{row.code}\t{row.name}\t{row.kind}\t{basis}")


@lists_app.command("sync")
def sync() -> None:
    """由已归集的名单类记录生成或更新名单条目（幂等）。"""
    with session_scope(get_engine(), write=True) as session:
        summary = lists.sync_from_records(session=session, actor=Actor.cli())
    typer.echo(
        f"新增 {summary.created}，更新 {summary.updated}，未变 {summary.unchanged}，"
        f"未关联主体 {summary.unlinked}，无对应名单类型 {summary.unmapped}"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(lists_app, name="lists")
