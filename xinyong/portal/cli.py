"""``xinyong article …``: the credit office publishes news and policy pages from the command line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from xinyong.audit.service import Actor
from xinyong.core.database import get_engine, session_scope
from xinyong.core.errors import InvalidInput
from xinyong.portal import articles
from xinyong.portal.models import ARTICLE_CATEGORY_LABELS, ArticleCategory

article_app = typer.Typer(help="门户文章（信用动态、政策法规、诚信典型、失信案例）", no_args_is_help=True)


@article_app.command("add")
def article_add(
    category: Annotated[str, typer.Option("--category", help="栏目：news/policy/honest/dishonest 或 信用动态 等")],
    title: Annotated[str, typer.Option("--title", help="标题")],
    body_file: Annotated[Path, typer.Option("--body-file", help="正文文件（UTF-8 纯文本，空行分段）")],
    source: Annotated[str | None, typer.Option("--source", help="来源")] = None,
    date: Annotated[str | None, typer.Option("--date", help="发布日期 YYYY-MM-DD（默认今天）")] = None,
    draft: Annotated[bool, typer.Option("--draft", help="存为草稿，不发布")] = False,
) -> None:
    """发布一篇文章；最后一行输出文章编号。"""
    try:
        body = body_file.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"无法读取正文文件 {body_file}：{exc.strerror}") from None
    try:
        published_on = dt.date.fromisoformat(date) if date else None
    except ValueError:
        raise InvalidInput("--date：日期格式应为 YYYY-MM-DD") from None
    with session_scope(get_engine(), write=True) as session:
        article = articles.create(
            session=session,
            actor=Actor.cli(),
            category=articles.parse_category(category),
            title=title,
            body=body,
            source=source,
            published_on=published_on,
            published=not draft,
        )
        typer.echo(f"已{'保存草稿' if draft else '发布'}：{article.title}")
        typer.echo(str(article.id))


@article_app.command("list")
def article_list(
    category: Annotated[str | None, typer.Option("--category", help="栏目")] = None,
) -> None:
    """列出文章（含草稿）。"""
    with session_scope(get_engine()) as session:
        cat = articles.parse_category(category) if category else None
        rows, total = articles.listing(session=session, category=cat, include_drafts=True, page_size=1000)
        for a in rows:
            label = ARTICLE_CATEGORY_LABELS[ArticleCategory(a.category)]
            typer.echo(f"{a.id}\t{label}\t{a.published_on}\t{'已发布' if a.published else '草稿'}\t{a.title}")
        typer.echo(f"共 {total} 篇")


def register(app: typer.Typer) -> None:
    app.add_typer(article_app, name="article")
