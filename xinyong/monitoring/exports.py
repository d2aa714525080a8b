"""Every chart as CSV and XLSX, and the monthly summary as a PDF with embedded Noto Sans CJK.

ReportLab cannot embed fonts with PostScript (CFF) outlines, which is what Debian's Noto Sans CJK ships. So for each
PDF the font is cut down with fontTools to the characters the document uses and its outlines are converted to
TrueType curves: a few hundred glyphs, done in well under a second, and the text stays extractable.
"""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path
from typing import Any

from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont, newTable
from openpyxl import Workbook
from openpyxl.styles import Font
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont as ReportLabFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from sqlalchemy.orm import Session

from xinyong.core import clock
from xinyong.core.errors import ConfigurationError
from xinyong.core.settings import get_settings
from xinyong.monitoring.charts import Chart
from xinyong.monitoring.metrics import Scope, compute_all

NOTO_CJK = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
NOTO_SC_INDEX = 2  # JP, KR, SC, TC, HK in the collection
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


def _truetype_subset(text: str, target: Path) -> None:
    if not NOTO_CJK.exists():
        raise ConfigurationError(f"缺少中文字体 {NOTO_CJK}（请安装 fonts-noto-cjk）")
    font = TTFont(str(NOTO_CJK), fontNumber=NOTO_SC_INDEX)
    options = subset.Options()
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.layout_features = []
    options.hinting = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=text + "0123456789%.-（）：")
    subsetter.subset(font)
    order = font.getGlyphOrder()
    glyphs = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder, glyf.glyphs = order, {}
    for name in order:
        pen = TTGlyphPen(glyphs)
        glyphs[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
        glyf[name] = pen.glyph()
    font["glyf"], font["loca"] = glyf, newTable("loca")
    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    for attr in (
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
        "maxComponentDepth",
    ):
        setattr(maxp, attr, 0)
    maxp.maxZones = 1
    post = font["post"]
    post.formatType, post.extraNames, post.mapping, post.glyphOrder = 2.0, [], {}, order
    del font["CFF "]
    if "VORG" in font:
        del font["VORG"]
    font.sfntVersion = "\x00\x01\x00\x00"
    font["head"].indexToLocFormat, font["head"].glyphDataFormat = 0, 0
    font.save(str(target))


def summary_charts(*, session: Session, month: str, region: str | None = None) -> list[Chart]:
    return compute_all(session=session, scope=Scope.month(month, region=region))


def monthly_pdf(*, session: Session, month: str, region: str | None = None) -> bytes:
    """The monthly summary: each chart's title, explanation and its main table."""
    charts = summary_charts(session=session, month=month, region=region)
    settings = get_settings()
    title = f"{settings.site_name} 公共信用信息监测月报（{month}）"
    subtitle = f"生成日期 {clock.today().isoformat()}" + (f" · 区域 {region}" if region else "")
    blocks: list[tuple[Chart, list[list[str]]]] = []
    for chart in charts:
        table = chart.tables[0] if chart.tables else None
        rows = [table.columns] + [[str(_cell(v)) for v in r] for r in table.rows[:PDF_TABLE_ROWS]] if table else []
        blocks.append((chart, rows))
    text = (
        title
        + subtitle
        + "".join(
            c.title
            + c.explanation
            + c.note
            + "".join("".join(r) for r in rows)
            + "（另有 条，见导出文件）所选期间没有数据"
            for c, rows in blocks
        )
    )
    with tempfile.TemporaryDirectory() as tmp:
        font_path = Path(tmp) / "noto-subset.ttf"
        _truetype_subset(text, font_path)
        font_name = f"NotoSansCJKsc-{abs(hash(text)) % 10**8}"
        pdfmetrics.registerFont(ReportLabFont(font_name, str(font_path)))
    h1 = ParagraphStyle("h1", fontName=font_name, fontSize=16, leading=22, spaceAfter=4)
    h2 = ParagraphStyle("h2", fontName=font_name, fontSize=12, leading=17, spaceBefore=10, spaceAfter=2)
    body = ParagraphStyle("body", fontName=font_name, fontSize=9, leading=13, textColor=colors.HexColor("#374151"))
    story: list[Any] = [Paragraph(title, h1), Paragraph(subtitle, body), Spacer(1, 4 * mm)]
    for chart, rows in blocks:
        story.append(Paragraph(chart.title, h2))
        story.append(Paragraph(chart.explanation, body))
        if chart.note:
            story.append(Paragraph(chart.note, body))
        if len(rows) > 1:
            grid = Table(rows, repeatRows=1)
            grid.setStyle(
                TableStyle(
                    [
                        ("FONT", (0, 0), (-1, -1), font_name, 7.5),
                        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e5e7eb")),
                        ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#9ca3af")),
                    ]
                )
            )
            story.append(Spacer(1, 2 * mm))
            story.append(grid)
            total = len(chart.tables[0].rows)
            if total > PDF_TABLE_ROWS:
                story.append(Paragraph(f"（另有 {total - PDF_TABLE_ROWS} 条，见导出文件）", body))
        elif chart.available:
            story.append(Paragraph("所选期间没有数据", body))
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4, title=title, leftMargin=15 * mm, rightMargin=15 * mm).build(story)
    return out.getvalue()
