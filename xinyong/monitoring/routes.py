"""The monitoring dashboard and its exports (staff only; a district officer sees only their region)."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from xinyong.audit import service as audit
from xinyong.console.routes import page
from xinyong.console.web import StaffActor
from xinyong.core import clock
from xinyong.core.deps import SessionDep
from xinyong.core.errors import InvalidInput
from xinyong.core.routing import APIRouter
from xinyong.monitoring import exports, metrics
from xinyong.monitoring.charts import render_svg
from xinyong.monitoring.metrics import Scope

router = APIRouter(prefix="/console/dashboard", include_in_schema=False)
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _scope(months: int, month: str, region: str | None) -> Scope:
    if month:
        if not _MONTH.match(month):
            raise InvalidInput("月份格式应为 YYYY-MM，如 2026-05")
        return Scope.month(month, region=region)
    if not 1 <= months <= 24:
        raise InvalidInput("统计月数应为 1–24")
    return Scope.last_months(months, region=region)


def _download(body: bytes, filename: str, media_type: str) -> Response:
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
    )


@router.get("", response_class=HTMLResponse)
def dashboard(request: Request, session: SessionDep, actor: StaffActor, months: int = 6, month: str = "") -> Response:
    scope = _scope(months, month, actor.region)
    charts = metrics.compute_all(session=session, scope=scope)
    last_month = f"{clock.today().replace(day=1) - dt.timedelta(days=1):%Y-%m}"
    return page(
        request,
        "monitoring/dashboard.html",
        charts=[(c, render_svg(c)) for c in charts],
        scope=scope,
        months=months,
        month=month,
        last_month=last_month,
    )


@router.get("/summary.pdf")
def summary_pdf(session: SessionDep, actor: StaffActor, month: str) -> Response:
    _scope(1, month, actor.region)
    body = exports.monthly_pdf(session=session, month=month, region=actor.region)
    audit.record(session=session, actor=actor, action="monitoring.summary_pdf", detail={"month": month})
    return _download(body, f"监测月报-{month}.pdf", "application/pdf")


@router.get("/{key}.{fmt}")
def export_chart(
    key: str, fmt: str, session: SessionDep, actor: StaffActor, months: int = 6, month: str = ""
) -> Response:
    chart = metrics.compute(key, session=session, scope=_scope(months, month, actor.region))
    if fmt == "csv":
        return _download(exports.chart_csv(chart), f"{chart.title}.csv", "text/csv; charset=utf-8")
    if fmt == "xlsx":
        return _download(
            exports.chart_xlsx(chart),
            f"{chart.title}.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    raise InvalidInput("导出格式应为 csv 或 xlsx")
