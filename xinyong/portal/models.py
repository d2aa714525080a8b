"""News and policy pages of the portal, edited by the credit office (信用动态, 政策法规, 诚信典型, 失信案例)."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.core.database import Base, BigId, UTCDateTime


class ArticleCategory(enum.StrEnum):
    NEWS = "news"  # 信用动态
    POLICY = "policy"  # 政策法规
    HONEST = "honest"  # 诚信典型
    DISHONEST = "dishonest"  # 失信案例


ARTICLE_CATEGORY_LABELS = {
    ArticleCategory.NEWS: "信用动态",
    ArticleCategory.POLICY: "政策法规",
    ArticleCategory.HONEST: "诚信典型",
    ArticleCategory.DISHONEST: "失信案例",
}


class Article(Base):
    __tablename__ = "article"
    __table_args__ = (
        sa.Index("ix_article_category_published", "category", "published_on"),
        {"comment": "门户文章（信用动态、政策法规、诚信典型、失信案例）"},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    category: Mapped[str] = mapped_column(sa.String(16), comment="栏目: news / policy / honest / dishonest")
    title: Mapped[str] = mapped_column(sa.String(200), comment="标题")
    body: Mapped[str] = mapped_column(sa.Text, comment="正文（纯文本，空行分段）")
    source: Mapped[str | None] = mapped_column(sa.String(200), comment="来源")
    published: Mapped[bool] = mapped_column(sa.Boolean, default=True, comment="是否发布")
    published_on: Mapped[dt.date] = mapped_column(sa.Date, comment="发布日期")
    author: Mapped[str] = mapped_column(sa.String(64), comment="编辑（账号名）")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
