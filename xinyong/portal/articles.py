"""News and policy articles, written by the credit office on the website or with ``xinyong article add``."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from xinyong.audit import service as audit
from xinyong.audit.service import Actor
from xinyong.core import clock
from xinyong.core.errors import InvalidInput, NotFound
from xinyong.portal.models import ARTICLE_CATEGORY_LABELS, Article, ArticleCategory

BY_LABEL = {label: cat for cat, label in ARTICLE_CATEGORY_LABELS.items()}


def parse_category(value: str) -> ArticleCategory:
    """A category by code (news) or by its Chinese name (信用动态)."""
    value = value.strip()
    if value in BY_LABEL:
        return BY_LABEL[value]
    try:
        return ArticleCategory(value)
    except ValueError:
        choices = "、".join(f"{c.value}（{label}）" for c, label in ARTICLE_CATEGORY_LABELS.items())
        raise InvalidInput(f"未知的栏目“{value}”，可选：{choices}") from None


def _validate(title: str, body: str) -> tuple[str, str]:
    title, body = title.strip(), body.strip().replace("\r\n", "\n")
    if not title:
        raise InvalidInput("标题：必填")
    if len(title) > 200:
        raise InvalidInput("标题：不能超过 200 字")
    if not body:
        raise InvalidInput("正文：必填")
    return title, body


def create(
    *,
    session: Session,
    actor: Actor,
    category: ArticleCategory,
    title: str,
    body: str,
    source: str | None = None,
    published_on: dt.date | None = None,
    published: bool = True,
) -> Article:
    title, body = _validate(title, body)
    now = clock.now()
    article = Article(
        category=category.value,
        title=title,
        body=body,
        source=(source or "").strip() or None,
        published=published,
        published_on=published_on or clock.today(),
        author=actor.name,
        created_at=now,
        updated_at=now,
    )
    session.add(article)
    session.flush()
    audit.record(session=session, actor=actor, action="article.create", target_type="article", target_id=article.id)
    return article


def update(
    *,
    session: Session,
    actor: Actor,
    article_id: int,
    category: ArticleCategory,
    title: str,
    body: str,
    source: str | None,
    published_on: dt.date,
    published: bool,
) -> Article:
    article = get(session=session, article_id=article_id, include_drafts=True)
    article.title, article.body = _validate(title, body)
    article.category = category.value
    article.source = (source or "").strip() or None
    article.published_on = published_on
    article.published = published
    article.updated_at = clock.now()
    session.flush()
    audit.record(session=session, actor=actor, action="article.update", target_type="article", target_id=article.id)
    return article


def get(*, session: Session, article_id: int, include_drafts: bool = False) -> Article:
    article = session.get(Article, article_id)
    if article is None or (not include_drafts and (not article.published or article.published_on > clock.today())):
        raise NotFound(f"未找到编号为 {article_id} 的文章")
    return article


def listing(
    *,
    session: Session,
    category: ArticleCategory | None = None,
    include_drafts: bool = False,
    page: int = 1,
    page_size: int = 20,
) -> tuple[list[Article], int]:
    where = []
    if category is not None:
        where.append(Article.category == category.value)
    if not include_drafts:
        where += [Article.published.is_(True), Article.published_on <= clock.today()]
    total = int(session.scalar(sa.select(sa.func.count()).select_from(Article).where(*where)) or 0)
    rows = session.scalars(
        sa.select(Article)
        .where(*where)
        .order_by(Article.published_on.desc(), Article.id.desc())
        .offset((max(page, 1) - 1) * page_size)
        .limit(page_size)
    ).all()
    return list(rows), total
