"""Every chart as CSV and XLSX, and the monthly summary as a PDF (the platform's one PDF engine, ``web.pdf``)."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy.orm import Session

from xinyong.core import clock
from xinyong.core.settings import get_settings
from xinyong.monitoring.charts import Chart
from xinyong.monitoring.metrics import Scope, compute_all
from xinyong.web.pdf import html_to_pdf
from xinyong.web.templating import environment

PDF_TABLE_ROWS = 25


def _cell(value: Any) -> Any:
    return "" if value is None else value


def chart_csv(chart: Chart) -> bytes:
    """UTF-8 with BOM so that Excel on a Chinese Windows opens it without garbling."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([chart.title])
    writer.writerow([chart.explanation])
    for table in chart.tables:
        writer.writerow([])
        writer.writerow([table.title])
        writer.writerow(table.columns)
        writer.writerows([[_cell(v) for v in row] for row in table.rows])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def chart_xlsx(chart: Chart) -> bytes:
    book = Workbook()
    book.remove(book.worksheets[0])
    for i, table in enumerate(chart.tables, start=1):
        sheet = book.create_sheet(title=f"{i}-{table.title}"[:31])
        sheet.append([chart.title])
        sheet.append([chart.explanation])
        sheet.append(table.columns)
        for cell in sheet[3]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append([_cell(v) for v in row])
        for column, header in zip(sheet.columns, table.columns, strict=False):
            sheet.column_dimensions[column[0].column_letter].width = max(10, 2 * len(str(header)) + 2)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def summary_charts(*, session: Session, month: str, region: str | None = None) -> list[Chart]:
    return compute_all(session=session, scope=Scope.month(month, region=region))


def monthly_pdf(*, session: Session, month: str, region: str | None = None) -> bytes:
    """The monthly summary: each chart's title, explanation and its main table (the first rows; all in the exports)."""
    charts = summary_charts(session=session, month=month, region=region)
    settings = get_settings()
    blocks = []
    for chart in charts:
        table = chart.tables[0] if chart.tables else None
        rows = [[_cell(v) for v in r] for r in table.rows[:PDF_TABLE_ROWS]] if table else []
        more = max(0, len(table.rows) - PDF_TABLE_ROWS) if table else 0
        blocks.append({"chart": chart, "columns": table.columns if table else [], "rows": rows, "more": more})
    document = environment.get_template("monitoring/monthly.html").render(
        title=f"{settings.site_name} 公共信用信息监测月报（{month}）",
        subtitle=f"生成日期 {clock.today().isoformat()}" + (f" · 区域 {region}" if region else ""),
        blocks=blocks,
    )
    return html_to_pdf(document)
