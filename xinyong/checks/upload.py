"""Reading a batch-check upload (CSV in any common Chinese encoding, or XLSX/XLS) and writing its result."""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass
from typing import Any

from charset_normalizer import from_bytes

from xinyong.core.errors import InvalidInput
from xinyong.core.text import clean

CODE_HEADERS = {"统一社会信用代码", "社会信用代码", "信用代码", "代码", "code", "uscc", "证件号码", "身份证号"}
NAME_HEADERS = {"名称", "主体名称", "企业名称", "单位名称", "供应商名称", "申请人", "name", "姓名"}
MAX_ROWS = 50_000


@dataclass
class UploadRow:
    row_no: int  # as the user sees it in the file (header = 1)
    code: str
    name: str


def read_upload(filename: str, content: bytes) -> list[UploadRow]:
    lower = filename.lower()
    if lower.endswith((".xlsx", ".xls", ".xlsm")):
        table = _read_excel(content)
    elif lower.endswith((".csv", ".txt")):
        table = _read_csv(content)
    else:
        raise InvalidInput(f"文件「{filename}」：只接受 CSV 或 XLSX/XLS 文件")
    if not table:
        raise InvalidInput("文件是空的")
    header = [clean(str(h)).lower() for h in table[0]]
    code_col = next((i for i, h in enumerate(header) if h in {x.lower() for x in CODE_HEADERS}), None)
    name_col = next((i for i, h in enumerate(header) if h in {x.lower() for x in NAME_HEADERS}), None)
    if code_col is None and name_col is None:
        raise InvalidInput("第 1 行：找不到「统一社会信用代码」或「名称」列（表头须包含其中至少一个）")
    rows = []
    for n, values in enumerate(table[1:], start=2):
        code = _cell(values, code_col)
        name = _cell(values, name_col)
        if not code and not name:
            continue
        rows.append(UploadRow(row_no=n, code=code, name=name))
        if len(rows) > MAX_ROWS:
            raise InvalidInput(f"一次最多核查 {MAX_ROWS} 行，请拆分文件")
    return rows


def _cell(values: list[Any], col: int | None) -> str:
    if col is None or col >= len(values) or values[col] is None:
        return ""
    value = values[col]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return clean(str(value))


def _read_csv(content: bytes) -> list[list[Any]]:
    """The same rule as collection (xinyong.ingest.rows.detect_encoding): a BOM decides; else UTF-8 when the whole file
    is valid UTF-8; else GB18030 (the superset of GBK/GB2312), or Big5 when charset-normalizer is sure of it. A short
    GBK file is often mistaken for another code page by detection alone."""
    if content.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        try:
            content.decode("utf-8")
            encoding = "utf-8"
        except UnicodeDecodeError:
            best = from_bytes(content[:200_000]).best()
            name = (best.encoding if best else "").lower().replace("-", "_")
            encoding = "big5hkscs" if name in ("big5", "big5hkscs", "cp950") else "gb18030"
    try:
        text = content.decode(encoding)
    except UnicodeDecodeError:
        raise InvalidInput("CSV 文件编码无法识别（支持 UTF-8、GBK/GB18030）") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        return list(reader)
    except csv.Error:
        raise InvalidInput(f"第 {reader.line_num} 行：CSV 格式错误（单元格过长或引号不配对）") from None


def _read_excel(content: bytes) -> list[list[Any]]:
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(content))
        return list(book.get_sheet_by_index(0).to_python())
    except Exception as exc:  # calamine raises its own error types for broken files
        raise InvalidInput(f"Excel 文件无法读取：{exc}") from None


def write_csv(columns: list[tuple[str, str]], rows: list[dict[str, Any]]) -> bytes:
    """UTF-8 with BOM, so Excel on Chinese Windows opens it correctly."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([label for _, label in columns])
    for row in rows:
        writer.writerow(["" if row.get(key) is None else row.get(key) for key, _ in columns])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def write_xlsx(columns: list[tuple[str, str]], rows: list[dict[str, Any]], title: str) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    sheet.append([label for _, label in columns])
    for row in rows:
        sheet.append(["" if row.get(key) is None else row.get(key) for key, _ in columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
