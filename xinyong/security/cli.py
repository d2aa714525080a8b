"""``xinyong keys rotate``."""

from __future__ import annotations

from typing import Annotated

import typer

from xinyong.core.database import get_engine
from xinyong.security import keys

keys_app = typer.Typer(help="密钥", no_args_is_help=True)


@keys_app.command("rotate")
def rotate(chunk: Annotated[int, typer.Option("--chunk", min=1, help="每个事务处理的行数")] = 1000) -> None:
    """用当前 XINYONG_PII_KEY 重新加密所有个人信息密文列（旧密钥须列在 XINYONG_PII_KEYS_OLD），服务无需停止。"""
    done = keys.rotate(engine=get_engine(), chunk=chunk)
    for column, count in done.items():
        typer.echo(f"{column}：重新加密 {count} 行")
    typer.echo(f"密钥轮换完成，共重新加密 {sum(done.values())} 行")


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
