"""Stage one of collection: a department's file → its header mapping and a stream of RawRows.

Formats: CSV (also ``.txt``; UTF-8, UTF-8 with BOM, UTF-16 with BOM, GBK/GB18030 detected), XLSX and XLS (first
sheet, through calamine), JSON (an array of objects) and JSON Lines. Headers may be the field codes (any case) or the
Chinese field names; a title row above the header is skipped. Rows come out one at a time: a CSV or JSON file of any
size is read with bounded memory (an Excel sheet is held by calamine in compact native form, rows are converted to
Python one by one).

Anything that makes the whole file unusable raises ``InvalidInput`` with a Chinese message, before the first row
where it can be known (encoding, header), or while iterating for damage further down (broken CSV quoting, bad JSON).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import json
import re
from collections.abc import Iterable, Iterator
from itertools import chain
from pathlib import Path
from typing import IO, Any

from xinyong.catalog.spec import ResourceSpec
from xinyong.core.errors import InvalidInput
from xinyong.core.text import clean
from xinyong.ingest.types import Problem, RawRow, SourceInfo

FORMATS = ("csv", "xlsx", "xls", "json", "jsonl")
_EXTENSIONS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".xls": "xls",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
_CHUNK = 256 * 1024  # bytes (or characters) read at a time when checking an encoding or splitting JSON
_MAX_JSON_ITEM = 16 << 20  # one JSON object longer than this is taken for a broken file, not read on
_HEADER_SEARCH_ROWS = 10  # a title row or two above the header is common in exported sheets
_GBK_FAMILY = {"gbk", "gb2312", "gb18030", "cp936", "hz", "euc_cn", "ms936", "big5", "big5hkscs", "cp950"}


def open_rows(path: Path, spec: ResourceSpec, *, format: str | None = None) -> tuple[SourceInfo, Iterator[RawRow]]:
    """Read the file's header now and return what was learnt, with an iterator over its data rows."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(f"文件不存在：{path.name}")
    if path.stat().st_size == 0:
        raise InvalidInput("文件为空")
    fmt = _format_of(path, format)
    if fmt == "csv":
        encoding = detect_encoding(path)
        return _tabular(spec, fmt, encoding, _csv_cells(path, encoding))
    if fmt in ("xlsx", "xls"):
        return _tabular(spec, fmt, None, _excel_cells(path, fmt))
    encoding = detect_encoding(path)
    items = _json_array_items(path, encoding) if fmt == "json" else _json_lines(path, encoding)
    return _keyed(spec, fmt, encoding, items)


# ---------------------------------------------------------------------------------------------------------------
# Format and encoding


def _format_of(path: Path, requested: str | None) -> str:
    if requested is not None:
        fmt = requested.lower().lstrip(".")
        fmt = {"txt": "csv", "tsv": "csv", "ndjson": "jsonl", "xlsm": "xlsx"}.get(fmt, fmt)
        if fmt not in FORMATS:
            raise InvalidInput(f"不支持的文件格式：{requested}（支持 {'、'.join(FORMATS)}）")
    else:
        fmt = _EXTENSIONS.get(path.suffix.lower(), "")
    with path.open("rb") as fh:
        head = fh.read(512)
    sniffed = _sniff(head)
    if fmt in ("xlsx", "xls"):
        # Department systems often name a file .xls whatever it holds; trust the bytes.
        if sniffed in ("xlsx", "xls"):
            return sniffed
        if head.lstrip().lower().startswith((b"<", b"\xef\xbb\xbf<")):
            raise InvalidInput(
                "文件扩展名是 Excel，但内容是网页（HTML）导出的表格；请用 Excel 打开后另存为 .xlsx 或 CSV"
            )
        raise InvalidInput("文件不是有效的 Excel 文件（已损坏或格式不符）")
    if sniffed in ("xlsx", "xls"):
        return sniffed
    return fmt or sniffed or "csv"


def _sniff(head: bytes) -> str | None:
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "xls"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"["):
        return "json"
    if text.startswith(b"{"):
        return "jsonl"
    return None


def detect_encoding(path: Path) -> str:
    """utf-8-sig / utf-16 (by BOM), utf-8 (when the WHOLE file is valid UTF-8), else gb18030 (or big5)."""
    with path.open("rb") as fh:
        head = fh.read(4)
    if head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif _decodes(path, "utf-8"):
        encoding = "utf-8"
    else:
        encoding = _guess_legacy(path)
        if not _decodes(path, encoding):
            raise InvalidInput(
                f"无法识别文件编码（按 {encoding.upper()} 解码失败）；请另存为 UTF-8 或 GB18030 编码的 CSV"
            )
    if encoding != "utf-16" and _has_nul(path):
        raise InvalidInput("文件含有空字符（NUL），可能已损坏、不是文本文件，或是没有字节顺序标记的 UTF-16 文件")
    return encoding


def _has_nul(path: Path) -> bool:
    with path.open("rb") as fh:
        return any(b"\x00" in chunk for chunk in iter(lambda: fh.read(_CHUNK), b""))


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _guess_legacy(path: Path) -> str:
    """Not UTF-8: in practice a GBK-family file. charset-normalizer only decides between GB and Big5."""
    from charset_normalizer import from_bytes

    with path.open("rb") as fh:
        sample = fh.read(256 * 1024)
    best = from_bytes(sample).best()
    name = (best.encoding if best else "").lower().replace("-", "_")
    if name in ("big5", "big5hkscs", "cp950"):
        return "big5hkscs"
    # GBK, GB2312 and CP936 are subsets of GB18030; decoding as the superset never loses a character.
    return "gb18030"


# ---------------------------------------------------------------------------------------------------------------
# Cells of tabular formats: (spreadsheet row number, list of cell texts)

Cells = Iterator[tuple[int, list[str]]]


def _csv_cells(path: Path, encoding: str) -> Cells:
    fh: IO[str] = path.open("r", encoding=encoding, newline="")
    first = fh.readline()
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    fh.seek(0)
    return _csv_records(fh, delimiter)


def _csv_records(fh: IO[str], delimiter: str) -> Cells:
    with fh:
        reader = csv.reader(fh, delimiter=delimiter)
        row_no = 0
        try:
            for row_no, record in enumerate(reader, start=1):  # row_no is reported on error
                yield row_no, record
        except csv.Error as exc:
            raise InvalidInput(f"CSV 格式错误（第 {row_no + 1} 行附近）：{_csv_reason(exc)}") from None
        except UnicodeDecodeError:
            raise InvalidInput(f"文件第 {row_no + 1} 行附近无法解码") from None


def _csv_reason(exc: csv.Error) -> str:
    text = str(exc)
    if "field larger" in text:
        return "单元格过长，通常是引号不成对"
    return "引号或分隔符使用不当"


def _excel_cells(path: Path, fmt: str) -> Cells:
    from python_calamine import CalamineWorkbook

    try:
        # From the open file, not the path: calamine then goes by the content, whatever the extension says.
        with path.open("rb") as fh:
            book = CalamineWorkbook.from_filelike(fh)
        if not book.sheet_names:
            raise InvalidInput("Excel 文件中没有工作表")
        rows = book.get_sheet_by_index(0).iter_rows()
    except InvalidInput:
        raise
    except Exception:  # calamine raises its own error types for every kind of damaged workbook
        raise InvalidInput(f"无法读取 {fmt.upper()} 文件（文件已损坏或不是 Excel 格式）") from None
    # iter_rows starts at the sheet's first row even when it is empty, so the index is the spreadsheet row number.
    return ((i, [cell_text(c) for c in row]) for i, row in enumerate(rows, start=1))


def cell_text(value: Any) -> str:
    """A typed cell (Excel, JSON) as the text the department meant: no ``123.0``, dates in ISO form."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value  # PostgreSQL text cannot hold NUL
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return ""
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ";".join(cell_text(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


# ---------------------------------------------------------------------------------------------------------------
# Header


def header_key(text: str) -> str:
    """A header as compared: half-width, no spaces, no required-field marks (``*``, ``（必填）``), upper case."""
    key = re.sub(r"\s+", "", clean(text))
    key = re.sub(r"^\*+|\*+$|\((必填|选填|非必填)\)$", "", key)
    return key.upper()


def _field_lookup(spec: ResourceSpec) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for header, code in spec.header_map.items():
        lookup.setdefault(header_key(header), code)
    return lookup


def _required_codes(spec: ResourceSpec) -> list[str]:
    return [f.code for f in spec.fields if f.required == "always" and f.default is None]


def _map_headers(spec: ResourceSpec, headers: list[str]) -> tuple[tuple[str, ...], tuple[str | None, ...]]:
    """Unique display headers and the field each maps to; raises on one field under two headers."""
    lookup = _field_lookup(spec)
    shown: list[str] = []
    codes: list[str | None] = []
    column_of: dict[str, int] = {}
    for j, raw in enumerate(headers, start=1):
        text = raw.lstrip("\ufeff").strip()
        code = lookup.get(header_key(text)) if text else None
        if code is not None:
            if code in column_of:
                raise InvalidInput(
                    f"表头重复：第 {column_of[code]} 列“{shown[column_of[code] - 1]}”与第 {j} 列“{text}”"
                    f"都对应字段 {code}（{spec.by_code[code].name}）"
                )
            column_of[code] = j
        name = text or f"第{j}列"
        while name in shown:
            name += "'"  # the rejects file needs unique column names; the original stays recognisable
        shown.append(name)
        codes.append(code)
    return tuple(shown), tuple(codes)


def _check_required_headers(spec: ResourceSpec, codes: Iterable[str | None]) -> None:
    present = set(codes)
    missing = [c for c in _required_codes(spec) if c not in present]
    if not missing:
        return
    listed = "、".join(f"{c}（{spec.by_code[c].name}）" for c in missing[:6])
    more = f" 等 {len(missing)} 个" if len(missing) > 6 else ""
    required = len(_required_codes(spec))
    if len(missing) == required:
        raise InvalidInput(
            f"无法识别表头：缺少必填字段 {listed}{more}。"
            f"表头应为字段代码或中文字段名，请确认文件与信息资源“{spec.name}”相符"
        )
    hint = f"。请确认文件与信息资源“{spec.name}”相符" if 2 * len(missing) >= required else ""
    raise InvalidInput(f"表头缺少必填字段 {listed}{more}{hint}")


def _find_header(spec: ResourceSpec, cells: Cells) -> tuple[int, list[str]]:
    lookup = _field_lookup(spec)
    required = set(_required_codes(spec))
    first: tuple[int, list[str]] | None = None
    for n, (row_no, row) in enumerate(cells):
        if not any(c.strip() for c in row):
            continue
        first = first or (row_no, row)
        if any(lookup.get(header_key(c)) in required for c in row if c.strip()):
            return row_no, row
        if n >= _HEADER_SEARCH_ROWS:
            break
    if first is None:
        raise InvalidInput("文件为空：没有表头和数据")
    return first


# ---------------------------------------------------------------------------------------------------------------
# Rows


def _tabular(spec: ResourceSpec, fmt: str, encoding: str | None, cells: Cells) -> tuple[SourceInfo, Iterator[RawRow]]:
    _header_row, raw_headers = _find_header(spec, cells)
    while raw_headers and not raw_headers[-1].strip():
        raw_headers = raw_headers[:-1]  # trailing empty columns left by spreadsheet formatting
    headers, codes = _map_headers(spec, raw_headers)
    _check_required_headers(spec, codes)
    info = SourceInfo(format=fmt, encoding=encoding, headers=headers, field_codes=codes)
    rows = _peeked(_tabular_rows(headers, codes, cells))
    return info, rows


def _tabular_rows(headers: tuple[str, ...], codes: tuple[str | None, ...], cells: Cells) -> Iterator[RawRow]:
    width = len(headers)
    for row_no, row in cells:
        if not any(c.strip() for c in row if c):
            continue
        problems: tuple[Problem, ...] = ()
        extra = [c for c in row[width:] if c.strip()]
        if extra:
            problems = (
                Problem(
                    "",
                    f"本行有 {len(row) - _trailing_blanks(row)} 个单元格，多于表头的 {width} 列"
                    "（多出的内容无法对应字段，常见原因是内容中有未加引号的逗号）",
                ),
            )
        values = {h: (row[j] if j < len(row) else "") for j, h in enumerate(headers)}
        fields = {code: values[h] for h, code in zip(headers, codes, strict=True) if code is not None}
        yield RawRow(row_no=row_no, values=values, fields=fields, problems=problems)


def _trailing_blanks(row: list[str]) -> int:
    n = 0
    for c in reversed(row):
        if c.strip():
            break
        n += 1
    return n


def _peeked(rows: Iterator[RawRow]) -> Iterator[RawRow]:
    """Fail now, not after the caller has started a batch, when there is no data row at all."""
    first = next(rows, None)
    if first is None:
        raise InvalidInput("文件只有表头，没有数据行")
    return chain([first], rows)


# ---------------------------------------------------------------------------------------------------------------
# JSON


def _json_array_items(path: Path, encoding: str) -> Iterator[tuple[int, Any]]:
    """Objects of a top-level JSON array, decoded one at a time (memory bounded by the largest object)."""
    decoder = json.JSONDecoder()
    with path.open("r", encoding=encoding) as fh:
        buffer = fh.read(_CHUNK).lstrip("\ufeff \t\r\n")
        if not buffer.startswith("["):
            raise InvalidInput("JSON 文件应为对象数组（[{…}, {…}]）")
        pos, index, eof = 1, 0, False
        while True:
            while True:
                pos = _skip(buffer, pos, ",", first=index == 0)
                if pos < len(buffer) or eof:
                    break
                buffer, pos, eof = _refill(fh, buffer, pos)
            if pos < len(buffer) and buffer[pos] == "]":
                return
            if pos >= len(buffer):
                raise InvalidInput("JSON 文件不完整（缺少结尾的“]”）")
            try:
                item, end = decoder.raw_decode(buffer, pos)
            except json.JSONDecodeError as exc:
                if eof or len(buffer) - pos > _MAX_JSON_ITEM:
                    raise InvalidInput(f"JSON 格式错误（第 {index + 1} 条附近）：{exc.msg}") from None
                buffer, pos, eof = _refill(fh, buffer, pos)
                continue
            if end == len(buffer) and not eof:
                # A number or literal may continue in the next chunk; decode again with more text.
                buffer, pos, eof = _refill(fh, buffer, pos)
                continue
            index += 1
            yield index, item
            pos = end


def _skip(buffer: str, pos: int, separator: str, *, first: bool) -> int:
    n = len(buffer)
    while pos < n and buffer[pos] in " \t\r\n":
        pos += 1
    if not first and pos < n and buffer[pos] == separator:
        pos += 1
        while pos < n and buffer[pos] in " \t\r\n":
            pos += 1
    return pos


def _refill(fh: IO[str], buffer: str, pos: int) -> tuple[str, int, bool]:
    more = fh.read(_CHUNK)
    return buffer[pos:] + more, 0, not more


def _json_lines(path: Path, encoding: str) -> Iterator[tuple[int, Any]]:
    with path.open("r", encoding=encoding) as fh:
        for line_no, line in enumerate(fh, start=1):
            text = line.strip().lstrip("\ufeff")
            if not text:
                continue
            try:
                yield line_no, json.loads(text)
            except json.JSONDecodeError as exc:
                raise InvalidInput(f"JSON Lines 格式错误（第 {line_no} 行）：{exc.msg}") from None


def _keyed(
    spec: ResourceSpec, fmt: str, encoding: str, items: Iterator[tuple[int, Any]]
) -> tuple[SourceInfo, Iterator[RawRow]]:
    first = next(items, None)
    if first is None:
        raise InvalidInput("文件中没有数据")
    if not isinstance(first[1], dict):
        raise InvalidInput('JSON 中的每一条数据应为对象（{"字段代码或中文名": "值", …}）')
    headers, codes = _map_headers(spec, list(first[1]))
    # JSON has no header row: the first object stands for one. A program may leave out a key it has no value for,
    # and the first row may simply be a bad one, so a missing required key is that row's problem (found when it is
    # prepared, naming the row and the field). Only a first object lacking half or more of the required fields is
    # taken for a file of another resource, refused as a whole like a CSV header would be.
    missing = [c for c in _required_codes(spec) if c not in set(codes)]
    if 2 * len(missing) >= len(_required_codes(spec)):
        _check_required_headers(spec, codes)
    info = SourceInfo(format=fmt, encoding=encoding, headers=headers, field_codes=codes)
    return info, _keyed_rows(spec, chain([first], items))


_KEYS_REMEMBERED = 1000


def _keyed_rows(spec: ResourceSpec, items: Iterator[tuple[int, Any]]) -> Iterator[RawRow]:
    lookup = _field_lookup(spec)
    # The field of each key as written, worked out once per file: the objects of a file repeat the same keys, and
    # normalising every key of every row (``header_key``: two regular expressions) made reading a 110-row batch
    # take 6.4 ms of CPU instead of 1.5 (docs/benchmarks.md, "Soak", session 13).
    field_of: dict[str, str | None] = {}
    for row_no, item in items:
        if not isinstance(item, dict):
            yield RawRow(row_no, {}, {}, (Problem("", '此条数据不是对象（应为 {"字段": "值", …}）'),))
            continue
        values = {str(k): cell_text(val) for k, val in item.items()}
        fields: dict[str, str] = {}
        problems: list[Problem] = []
        for key, text in values.items():
            if key in field_of:
                code = field_of[key]
            else:
                code = lookup.get(header_key(key))
                if len(field_of) < _KEYS_REMEMBERED:  # bounded: a hostile file may give every object new keys
                    field_of[key] = code
            if code is None:
                continue
            if code in fields:
                problems.append(Problem(code, f"字段 {code}（{spec.by_code[code].name}）出现了两次"))
            fields[code] = text
        yield RawRow(row_no=row_no, values=values, fields=fields, problems=tuple(problems))


def rows_from_objects(spec: ResourceSpec, objects: Iterable[Any]) -> tuple[SourceInfo, Iterator[RawRow]]:
    """The same as ``open_rows`` for a JSON array already parsed (the HTTP endpoint's request body)."""
    return _keyed(spec, "json", "utf-8", ((i, obj) for i, obj in enumerate(objects, start=1)))


__all__ = ["FORMATS", "cell_text", "detect_encoding", "header_key", "open_rows", "rows_from_objects"]
