"""``xinyong exchange …``: push to and pull from upper platforms, subscribers, webhook delivery."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

from xinyong.audit.service import Actor
from xinyong.catalog import service as catalog
from xinyong.core.database import get_engine, session_scope
from xinyong.exchange import national, subscribers, webhooks

exchange_app = typer.Typer(help="共享交换（上报、下载、变更订阅与推送）", no_args_is_help=True)
subscriber_app = typer.Typer(help="变更订阅方", no_args_is_help=True)
exchange_app.add_typer(subscriber_app, name="subscriber")


@exchange_app.command("push")
def push(
    out: Annotated[Path, typer.Option("--out", help="输出目录")],
    target: Annotated[str, typer.Option("--target", help="上级平台名称（每个平台单独记增量起点）")] = "upper",
    fmt: Annotated[list[str], typer.Option("--format", help="csv / xlsx（可多次，默认两者）")] = [],  # noqa: B006
    as_json: Annotated[bool, typer.Option("--json", help="输出一个 JSON 对象")] = False,
) -> None:
    """按国家双公示字段格式导出上次成功上报以来的变更（含更正与撤回）。"""
    result = national.push(engine=get_engine(), out=out, target=target, formats=tuple(fmt) or national.FORMATS)
    if as_json:
        typer.echo(json.dumps(result.as_dict(), ensure_ascii=False))
        return
    typer.echo(f"上报 {target}：游标 {result.after} → {result.through}，文件 {len(result.files)} 个")
    for code, counts in result.counts.items():
        typer.echo(f"  {code}：新增或更新 {counts['upsert']}，撤回 {counts['withdraw']}")
    for name in result.files:
        typer.echo(name)


@exchange_app.command("pull")
def pull(
    file: Annotated[Path, typer.Argument(help="上级平台发布的文件（国家字段格式 CSV/XLSX/JSON）")],
    resource: Annotated[str, typer.Option("--resource", help="信息资源，如 administrative_penalty")],
    origin: Annotated[str, typer.Option("--origin", help="上级平台名称（记入每条记录的来源）")],
    as_json: Annotated[bool, typer.Option("--json", help="输出一个 JSON 对象")] = False,
) -> None:
    """经归集流程导入上级平台发布的记录或名单，保留来源；自动登记外部单位，执行撤回行。"""
    result = national.pull(engine=get_engine(), path=file, resource=resource, origin=origin)
    if as_json:
        typer.echo(json.dumps(result.as_dict(), ensure_ascii=False))
        return
    batch = result.batch
    typer.echo(
        f"批次 {batch['batch_id']}：读取 {batch['received']}，入库 {batch['accepted']}，重复 {batch['duplicates']}，"
        f"拒收 {batch['rejected']}；新登记外部单位 {result.external_units}，撤回 {result.withdrawn}"
        + (f"（未找到 {result.withdrawals_unknown}）" if result.withdrawals_unknown else "")
    )


@exchange_app.command("deliver")
def deliver(
    loop: Annotated[bool, typer.Option("--loop", help="持续运行（每隔 --interval 秒一轮）")] = False,
    interval: Annotated[float, typer.Option("--interval", help="轮询间隔（秒）")] = 5.0,
) -> None:
    """投递推送（可多个进程同时运行）。"""
    while True:
        report = webhooks.deliver_webhooks(engine=get_engine())
        if report.delivered or report.failed or not loop:
            typer.echo(f"送达 {report.delivered}，失败 {report.failed}")
        if not loop:
            return
        time.sleep(interval)


@subscriber_app.command("add")
def subscriber_add(
    name: Annotated[str, typer.Option("--name", help="订阅方名称")],
    kind: Annotated[str, typer.Option("--kind", help="public / department / agency")],
    unit: Annotated[str | None, typer.Option("--unit", help="部门订阅方所属单位统一社会信用代码")] = None,
    uscc: Annotated[str | None, typer.Option("--uscc", help="机构的统一社会信用代码")] = None,
) -> None:
    """登记变更订阅方；最后一行输出其订阅密钥（只显示这一次）。"""
    with session_scope(get_engine(), write=True) as session:
        unit_row = catalog.get_unit(session=session, uscc=unit) if unit else None
        issued = subscribers.create_subscriber(
            session=session,
            actor=Actor.cli(),
            name=name,
            kind=subscribers.parse_kind(kind),
            unit=unit_row,
            uscc=uscc,
        )
        subscriber_id = issued.subscriber.id
    typer.echo(f"已登记订阅方 {name}（编号 {subscriber_id}，类型 {kind}）。订阅密钥：")
    typer.echo(issued.key)


def register(app: typer.Typer) -> None:
    app.add_typer(exchange_app, name="exchange")
