"""HTML and PDF of a report, both from ``templates/reports/report.html`` and one ``ReportContent``.

The PDF is made by the platform's one PDF engine (``xinyong.web.pdf``, WeasyPrint): A4, the report number in every
page's header, page numbers, Chinese in Noto Sans CJK embedded as a subset so the text can be extracted and searched.
"""

from __future__ import annotations

import datetime as dt

import segno

from xinyong.core import clock
from xinyong.reports.content import ReportContent
from xinyong.web.pdf import html_to_pdf
from xinyong.web.templating import environment

TEMPLATE = "reports/report.html"


def china_time(value: dt.datetime | None) -> str:
    return value.astimezone(clock.CHINA).strftime("%Y-%m-%d %H:%M:%S") if value is not None else "—"


environment.filters["china_time"] = china_time


def qr_data_uri(url: str) -> str:
    """The verification URL as a QR code (SVG data URI; error correction M survives a printed-and-scanned copy)."""
    return str(segno.make(url, error="m", micro=False).svg_data_uri(scale=4, border=4))


def html(content: ReportContent) -> str:
    if not content.qr_svg:
        content.qr_svg = qr_data_uri(content.verify_url)
    return environment.get_template(TEMPLATE).render(c=content)


def pdf(content: ReportContent) -> bytes:
    return html_to_pdf(html(content))
