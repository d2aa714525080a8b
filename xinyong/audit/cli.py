"""``xinyong audit verify``: walk the audit chain and name every entry that was edited, deleted or reordered."""

from __future__ import annotations

import typer

from xinyong.audit import service
from xinyong.core.database import get_engine, session_scope

audit_app = typer.Typer(help="审计日志", no_args_is_help=True)


@audit_app.command("verify")
def verify() -> None:
    """校验审计日志的散列链：被修改、删除或调换顺序的记录逐条列出（有问题时退出码为 1）。"""
    with session_scope(get_engine()) as session:
        report = service.verify(session=session)
    for problem in report.problems:
        typer.echo(problem, err=True)
    early = f"（另有启用散列链之前的早期记录 {report.unchained} 条）" if report.unchained else ""
    if not report.ok:
        typer.echo(f"审计链校验失败：发现 {len(report.problems)} 处问题，共检查 {report.checked} 条{early}", err=True)
        raise typer.Exit(1)
    typer.echo(f"审计链完整：共 {report.checked} 条记录，均未被修改、删除或调换顺序{early}")


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
