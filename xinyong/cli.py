"""The ``xinyong`` command line. Domain commands register themselves from ``xinyong/<domain>/cli.py``."""

from __future__ import annotations

import importlib
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy.exc import DBAPIError

from xinyong import hooks
from xinyong.accounts import service as accounts
from xinyong.audit import service as audit
from xinyong.audit.service import Actor
from xinyong.catalog import service as catalog
from xinyong.core.bootstrap import upgrade_database
from xinyong.core.database import describe_url, get_engine, session_scope, unavailable_reason
from xinyong.core.errors import InvalidInput, NotFound, XinyongError
from xinyong.core.logging import configure_logging
from xinyong.core.settings import get_settings

app = typer.Typer(help="xinyong 公共信用信息平台", no_args_is_help=True, pretty_exceptions_enable=False)
db_app = typer.Typer(help="数据库", no_args_is_help=True)
unit_app = typer.Typer(help="信息提供单位", no_args_is_help=True)
apikey_app = typer.Typer(help="API 密钥", no_args_is_help=True)
account_app = typer.Typer(help="账号", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(unit_app, name="unit")
app.add_typer(apikey_app, name="apikey")
app.add_typer(account_app, name="account")
err = Console(stderr=True)

# Domains with commands of their own; each module has ``register(app: typer.Typer)``.
DOMAIN_COMMANDS = (
    "ingest", "demo", "portal", "lists", "monitoring", "evaluation",
    "reports", "exchange", "rights", "audit", "security", "backup",
)  # fmt: skip


@db_app.command("upgrade")
def db_upgrade() -> None:
    """创建或升级 XINYONG_DATABASE_URL 指向的数据库，并载入内置目录。"""
    result = upgrade_database(get_engine())
    typer.echo(
        f"数据库已是最新版本（{get_settings().database_url.split('@')[-1]}）；更新目录资源 {result['resources']} 项、"
        f"名单类型 {result['list_types']} 项、奖惩措施与事项 {result['measures']} 项"
    )


@unit_app.command("add")
def unit_add(
    uscc: Annotated[str, typer.Option("--uscc", help="单位统一社会信用代码")],
    name: Annotated[str, typer.Option("--name", help="单位名称")],
    region: Annotated[str, typer.Option("--region", help="行政区划代码")] = "",
    resource: Annotated[list[str], typer.Option("--resource", help="可报送的信息资源（可多次）")] = [],  # noqa: B006
    short_name: Annotated[str | None, typer.Option("--short-name", help="简称（文号前缀）")] = None,
) -> None:
    """登记信息提供单位及其可报送的信息资源（再次执行会更新）。"""
    with session_scope(get_engine(), write=True) as session:
        unit = catalog.register_unit(
            session=session,
            uscc=uscc,
            name=name,
            region=region or get_settings().region,
            resources=list(resource),
            short_name=short_name,
        )
        typer.echo(f"已登记：{unit.name}（{unit.uscc}），可报送 {len(unit.grants)} 项资源")


@apikey_app.command("create")
def apikey_create(
    role: Annotated[str, typer.Option("--role", help="admin / credit_office / source_unit / checker / subject")],
    unit: Annotated[str | None, typer.Option("--unit", help="所属单位统一社会信用代码")] = None,
    label: Annotated[str | None, typer.Option("--label", help="备注")] = None,
) -> None:
    """创建 API 密钥；最后一行输出密钥本身（只显示这一次）。"""
    with session_scope(get_engine(), write=True) as session:
        unit_row = catalog.get_unit(session=session, uscc=unit) if unit else None
        issued = accounts.create_api_key(
            session=session, actor=Actor.cli(), role=accounts.parse_role(role), unit=unit_row, label=label
        )
    typer.echo(f"已创建密钥（前缀 {issued.api_key.prefix}，角色 {role}）。请妥善保存，系统只保存其散列：")
    typer.echo(issued.key)


@apikey_app.command("revoke")
def apikey_revoke(prefix: Annotated[str, typer.Argument(help="密钥前缀")]) -> None:
    """吊销 API 密钥。"""
    with session_scope(get_engine(), write=True) as session:
        accounts.revoke_api_key(session=session, actor=Actor.cli(), prefix=prefix)
    typer.echo(f"已吊销密钥 {prefix}")


@account_app.command("create")
def account_create(
    username: Annotated[str, typer.Option("--username", help="登录名")],
    role: Annotated[str, typer.Option("--role", help="admin / credit_office / source_unit / checker / subject")],
    password: Annotated[str, typer.Option("--password", prompt=True, hide_input=True, help="密码")],
    unit: Annotated[str | None, typer.Option("--unit", help="所属单位统一社会信用代码")] = None,
    display_name: Annotated[str | None, typer.Option("--display-name", help="显示名")] = None,
    region: Annotated[str | None, typer.Option("--region", help="工作区域（空 = 全市）")] = None,
    subject: Annotated[
        str | None, typer.Option("--subject", help="信用主体代码（角色 subject 的账号绑定的主体）")
    ] = None,
) -> None:
    """创建可登录网站的账号。"""
    from xinyong.subjects.search import find_by_code

    with session_scope(get_engine(), write=True) as session:
        unit_row = catalog.get_unit(session=session, uscc=unit) if unit else None
        subject_row = find_by_code(session=session, code=subject) if subject else None
        if subject and subject_row is None:
            raise NotFound(f"未找到代码为 {subject} 的信用主体")
        if role == "subject" and subject_row is None:
            raise InvalidInput("信用主体账号必须用 --subject 指定所绑定的主体")
        account = accounts.create_account(
            session=session,
            username=username,
            role=accounts.parse_role(role),
            password=password,
            unit=unit_row,
            display_name=display_name,
            region=region,
            subject_id=subject_row.id if subject_row else None,
        )
        audit.record(
            session=session, actor=Actor.cli(), action="account.create", target_type="account", target_id=account.id
        )
    typer.echo(f"已创建账号 {username}（{role}）")


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
    workers: Annotated[int, typer.Option("--workers", min=1, help="工作进程数（建议不超过 CPU 核数）")] = 1,
) -> None:
    """启动网站与 API。"""
    import uvicorn

    if workers > 1:
        # Each worker process builds its own app (and its own connection pool) from the factory.
        uvicorn.run(
            "xinyong.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
            access_log=False,
        )
        return
    from xinyong.app import create_app

    uvicorn.run(create_app(), host=host, port=port, log_level="warning")


for _domain in DOMAIN_COMMANDS:
    importlib.import_module(f"xinyong.{_domain}.cli").register(app)
# The worker's jobs, the dashboard's charts and the merge hooks of every domain (see xinyong/hooks.py).
hooks.install()


def main() -> None:
    configure_logging()
    try:
        app()
    except XinyongError as exc:
        err.print(f"[red]错误：[/red]{exc.message}")
        raise SystemExit(2) from None
    except DBAPIError as exc:
        # The database is down, unreachable or locked: one Chinese line naming it, and the driver's own first line for
        # the administrator — not a traceback. Exit 3 (a cron job can tell "try again later" from a usage error).
        reason = unavailable_reason(exc)
        if reason is None:
            raise
        cause = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else type(exc.orig).__name__
        message = (
            f"{reason}（数据库 {describe_url(get_settings().database_url)}）。"
            f"请确认数据库服务已启动、XINYONG_DATABASE_URL 正确后重试。原因：{cause}"
        )
        err.print(f"[red]错误：[/red]{escape(message)}", highlight=False, soft_wrap=True)
        raise SystemExit(3) from None
