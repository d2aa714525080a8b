"""Server-rendered pages: one Jinja environment that finds every domain's templates.

A domain keeps its pages in ``xinyong/<domain>/templates/<domain>/…`` and extends ``base.html`` (blocks ``title``,
``content``). Templates stay dumb: routes pass them the values that services computed.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from xinyong.core import clock
from xinyong.core.settings import get_settings
from xinyong.web import csrf

PACKAGE = Path(__file__).resolve().parent.parent


def _template_dirs() -> list[str]:
    dirs = [str(PACKAGE / "web" / "templates")]
    dirs += sorted(str(p) for p in PACKAGE.glob("*/templates") if p.parent.name != "web")
    return dirs


environment = Environment(
    loader=ChoiceLoader([FileSystemLoader(d) for d in _template_dirs()]),
    autoescape=select_autoescape(["html", "xml"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
templates = Jinja2Templates(env=environment)


def highlight(text: str, terms: list[str]) -> Markup:
    """``text`` escaped, with every occurrence of the search terms wrapped in <mark>."""
    escaped = str(escape(text))
    needles = sorted({str(escape(t)) for t in terms if t}, key=len, reverse=True)
    if not needles:
        return Markup(escaped)
    pattern = re.compile("|".join(re.escape(n) for n in needles))
    return Markup(pattern.sub(lambda m: f"<mark>{m.group(0)}</mark>", escaped))


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]


def china_date(value: dt.datetime | None) -> str:
    return value.astimezone(clock.CHINA).strftime("%Y-%m-%d") if value is not None else "—"


environment.filters["highlight"] = highlight
environment.filters["china_date"] = china_date
environment.filters["paragraphs"] = paragraphs
environment.globals["csrf_token"] = csrf.csrf_token


def render(request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200) -> HTMLResponse:
    settings = get_settings()
    base = {
        "site_name": settings.site_name,
        "site_region": settings.region,
        "today": clock.today(),
        "account": getattr(request.state, "account", None),
    }
    return templates.TemplateResponse(request, name, base | (context or {}), status_code=status_code)


def wants_html(request: Request) -> bool:
    """A browser asking for a page (rather than a client asking for JSON)."""
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "application/json" not in accept
