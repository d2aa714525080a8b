"""HTML and PDF of a report, both from ``templates/reports/report.html`` and one ``ReportContent``.

The PDF is made by WeasyPrint (HTML → PDF through Pango): A4, the report number in every page's header, page
numbers, Chinese in Noto Sans CJK (Debian fonts-noto-cjk, found through fontconfig), embedded as a subset with its
ToUnicode map so the text can be extracted and searched.
"""

from __future__ import annotations

import datetime as dt
import logging

import segno

from xinyong.core import clock
from xinyong.reports.content import ReportContent
from xinyong.web.templating import environment

TEMPLATE = "reports/report.html"
# WeasyPrint logs every CSS property it ignores (flex details, screen rules) at WARNING; not useful to operators.
logging.getLogger("weasyprint").setLevel(logging.ERROR)
logging.getLogger("fontTools").setLevel(logging.ERROR)


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
    from weasyprint import HTML  # imported late: loading Pango takes a moment and most commands never need it

    return bytes(HTML(string=html(content)).write_pdf())
