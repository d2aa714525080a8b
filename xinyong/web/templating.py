"""Server-rendered pages: one Jinja environment that finds every domain's templates.

A domain keeps its pages in ``xinyong/<domain>/templates/<domain>/…`` and extends ``base.html`` (blocks ``title``,
``content``). Templates stay dumb: routes pass them the values that services computed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from xinyong.core import clock
from xinyong.core.settings import get_settings

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


def render(request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200) -> HTMLResponse:
    settings = get_settings()
    base = {
        "site_name": settings.site_name,
        "today": clock.today(),
        "account": getattr(request.state, "account", None),
    }
    return templates.TemplateResponse(request, name, base | (context or {}), status_code=status_code)


def wants_html(request: Request) -> bool:
    """A browser asking for a page (rather than a client asking for JSON)."""
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "application/json" not in accept
