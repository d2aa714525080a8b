"""``xinyong rights …``: deliver notifications, send pending notices, raise overdue alerts (for cron or the worker)."""

from __future__ import annotations

import typer

from xinyong.core.database import get_engine, session_scope
from xinyong.rights import notices, outbox, queue

rights_app = typer.Typer(help="异议、信用修复与通知", no_args_is_help=True)


@rights_app.command("deliver")
def deliver(limit: int = typer.Option(200, help="本次最多发送的消息数")) -> None:
    """发送发件箱中待发送的通知（可重复执行，已发送的不会重发）。"""
    with session_scope(get_engine(), write=True) as session:
        summary = outbox.deliver_outbox(session=session, limit=limit)
    typer.echo(f"已发送 {summary.sent}，失败 {summary.failed}")


@rights_app.command("notices")
def send_notices() -> None:
    """补发失信告知书（之后才关联到主体的记录、手工列入的名单条目）；幂等。"""
    with session_scope(get_engine(), write=True) as session:
        summary = notices.send_pending(session=session)
    typer.echo(f"失信记录告知 {summary.records}，名单条目告知 {summary.entries}")


@rights_app.command("alerts")
def alerts() -> None:
    """列出超期未办的异议与信用修复申请，并向信用办发出提醒（每个超期环节只提醒一次）。"""
    with session_scope(get_engine(), write=True) as session:
        raised = queue.raise_overdue_alerts(session=session)
        for item in queue.open_items(session=session):
            if item.overdue:
                typer.echo(
                    f"{item.kind}\t{item.no}\t{item.status_label}\t{item.waiting_for}{item.step_label}\t{item.due}"
                )
    typer.echo(f"超期提醒 {raised} 条")


def register(app: typer.Typer) -> None:
    app.add_typer(rights_app, name="rights")
