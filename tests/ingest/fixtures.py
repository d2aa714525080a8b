"""Builders of collection-pipeline test input: rows (field code → text) and the files departments send.

Every builder returns a row that passes validation as built (with "today" = 2026-06-15); pass keyword overrides to
make it messy or wrong, e.g. ``valid_penalty_row(3, CF_XDR_SHXYM="91370303MA0000031X")``. An override of ``None``
drops the field from the row.

Writers take a list of such rows and write them in a department's format; ``headers="names"`` writes the Chinese field
names of the resource (found from the row's field codes) instead of the codes.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from xinyong.catalog.service import builtin_specs
from xinyong.catalog.spec import ResourceSpec
from xinyong.subjects.codes import USCC_PLACEHOLDER, id_check_char, make_uscc

Headers = Literal["codes", "names"]
Row = Mapping[str, Any]

PENALTY = "administrative_penalty"
LICENSE = "administrative_license"

# 淄博市生态环境局 (a fictitious but valid code of a government body: 1 = 机构编制, 1 = 机关, 370300 = 淄博市).
UNIT_USCC = make_uscc("1", "1", "370300", "00425701")
UNIT_NAME = "淄博市生态环境局"
REGION = "370303"  # 淄博市张店区
DECISION_BASE = dt.date(2025, 1, 2)  # decision dates run from here, one per i, always before 2026-06-15

_COMPANY_WORDS = ("恒达", "鲁信", "华源", "齐盛", "博川", "金岭", "瑞丰", "泰和", "宏业", "新齐")
_INDUSTRY = ("化工", "陶瓷", "机械", "建材", "医药", "纺织", "物流", "食品")
_SURNAMES = "王李张刘陈杨赵黄周吴"
_GIVEN = ("伟", "芳", "娜", "敏", "静", "磊", "强", "洋", "艳", "军")


def spec(resource: str = PENALTY) -> ResourceSpec:
    return builtin_specs()[resource]


def company_uscc(i: int) -> str:
    """A valid USCC of a company (9 = 工商, 1 = 企业) registered in 张店区, distinct for each i < 10**6."""
    return make_uscc("9", "1", REGION, f"MA{i % 10**6:06d}")


def citizen_id(i: int) -> str:
    """A valid fake 18-digit 公民身份号码 (born 1960–2000, 张店区), distinct for each i < 1000 × days."""
    born = dt.date(1960, 1, 1) + dt.timedelta(days=(i * 37) % 14600)
    first17 = f"{REGION}{born:%Y%m%d}{i % 1000:03d}"
    return first17 + id_check_char(first17)


def registration_number(i: int) -> str:
    """A 15-digit 工商注册号 with its ISO 7064 MOD 11,10 check digit (what individual businesses still carry)."""
    body = f"{REGION}6{i % 10**7:07d}"
    p = 10
    for ch in body:
        s = (p + int(ch)) % 10 or 10
        p = (s * 2) % 11
    return body + str((11 - p) % 10)


def _date(i: int, days_after: int = 0) -> str:
    return (DECISION_BASE + dt.timedelta(days=(i % 500) + days_after)).isoformat()


def _apply(row: dict[str, str], overrides: Mapping[str, str | None]) -> dict[str, str]:
    for code, value in overrides.items():
        if value is None:
            row.pop(code, None)
        else:
            row[code] = value
    return row


def valid_penalty_row(i: int = 0, **overrides: str | None) -> dict[str, str]:
    """A fine on a company (法人及非法人组织), complete and valid."""
    word, industry = _COMPANY_WORDS[i % len(_COMPANY_WORDS)], _INDUSTRY[i % len(_INDUSTRY)]
    row = {
        "CF_XDR_MC": f"淄博{word}{industry}有限公司{i}",
        "CF_XDR_LB": "法人及非法人组织",
        "CF_XDR_SHXYM": company_uscc(i),
        "CF_FRDB": _SURNAMES[i % 10] + _GIVEN[(i // 10) % 10],
        "CF_WSH": f"淄环罚〔2025〕{i}号",
        "CF_WFXW": "违反大气污染防治管理制度",
        "CF_SY": "未按规定采取防燃、防尘措施，露天堆放易产生扬尘的物料",
        "CF_YJ": "《中华人民共和国大气污染防治法》第一百一十七条",
        "CF_CFLB": "罚款",
        "CF_NR": "罚款人民币贰万元整",
        "CF_NR_FK": "2",
        "CF_JDRQ": _date(i),
        "CF_YXQ": _date(i, 365),
        "CF_CFJG": UNIT_NAME,
        "CF_CFJGDM": UNIT_USCC,
        "CF_SJLY": UNIT_NAME,
        "CF_SJLYDM": UNIT_USCC,
    }
    return _apply(row, overrides)


def natural_person_penalty_row(i: int = 0, **overrides: str | None) -> dict[str, str]:
    """A warning to a natural person (自然人) with a valid fake citizen ID."""
    row = valid_penalty_row(
        i,
        CF_XDR_MC=_SURNAMES[i % 10] + _GIVEN[(i // 10) % 10] + _GIVEN[(i // 100) % 10],
        CF_XDR_LB="自然人",
        CF_XDR_SHXYM=None,
        CF_FRDB=None,
        CF_XDR_ZJLX="身份证",
        CF_XDR_ZJHM=citizen_id(i),
        CF_CFLB="警告",
        CF_NR="警告",
        CF_NR_FK=None,
        CF_WSH=f"淄环罚〔2025〕个{i}号",
    )
    return _apply(row, overrides)


def individual_business_row(i: int = 0, **overrides: str | None) -> dict[str, str]:
    """A fine on an individual business (个体工商户) without a USCC: the placeholder plus its 工商注册号."""
    row = valid_penalty_row(
        i,
        CF_XDR_MC=f"张店区{_COMPANY_WORDS[i % 10]}小吃店{i}",
        CF_XDR_LB="个体工商户",
        CF_XDR_SHXYM=USCC_PLACEHOLDER,
        CF_XDR_GSZC=registration_number(i),
        CF_FRDB=None,
        CF_NR="罚款人民币伍仟元整",
        CF_NR_FK="0.5",
        CF_WSH=f"淄环罚〔2025〕户{i}号",
    )
    return _apply(row, overrides)


def valid_license_row(i: int = 0, **overrides: str | None) -> dict[str, str]:
    """A 普通 licence for a company, valid for five years."""
    row = {
        "XK_XDR_MC": f"淄博{_COMPANY_WORDS[i % 10]}{_INDUSTRY[i % 8]}有限公司{i}",
        "XK_XDR_LB": "法人及非法人组织",
        "XK_XDR_SHXYM": company_uscc(i),
        "XK_FRDB": _SURNAMES[i % 10] + _GIVEN[(i // 10) % 10],
        "XK_XKWS": "准予行政许可决定书",
        "XK_WSH": f"淄环许〔2025〕{i}号",
        "XK_XKLB": "普通",
        "XK_XKZS": "排污许可证",
        "XK_XKBH": f"91370303{i:06d}001P",
        "XK_NR": "准予核发排污许可证",
        "XK_JDRQ": _date(i),
        "XK_YXQZ": _date(i),
        "XK_YXQZI": _date(i, 5 * 365),
        "XK_XKJG": UNIT_NAME,
        "XK_XKJGDM": UNIT_USCC,
        "XK_ZT": "有效",
        "XK_LYDW": UNIT_NAME,
        "XK_LYDWDM": UNIT_USCC,
    }
    return _apply(row, overrides)


def penalty_rows(n: int, start: int = 0) -> list[dict[str, str]]:
    return [valid_penalty_row(i) for i in range(start, start + n)]


# ---------------------------------------------------------------------------------------------------------------
# Writers


def _spec_for(rows: Sequence[Row]) -> ResourceSpec | None:
    codes = {c for r in rows for c in r}
    best: tuple[int, ResourceSpec | None] = (0, None)
    for candidate in builtin_specs().values():
        hits = len(codes & candidate.by_code.keys())
        if hits > best[0]:
            best = (hits, candidate)
    return best[1]


def columns(rows: Sequence[Row]) -> list[str]:
    """The union of the rows' keys, in order of first appearance."""
    seen: dict[str, None] = {}
    for r in rows:
        seen.update(dict.fromkeys(r))
    return list(seen)


def header_line(rows: Sequence[Row], headers: Headers = "codes", resource: ResourceSpec | None = None) -> list[str]:
    cols = columns(rows)
    if headers == "codes":
        return cols
    found = resource or _spec_for(rows)
    names = {f.code: f.name for f in found.fields} if found else {}
    return [names.get(c, c) for c in cols]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def write_csv(
    path: Path,
    rows: Sequence[Row],
    *,
    encoding: str = "utf-8",
    headers: Headers = "codes",
    crlf: bool = False,
    bom: bool = False,
    delimiter: str = ",",
) -> Path:
    """A CSV as a department's tool writes it. ``bom`` with UTF-8 writes the byte order mark (Excel's "CSV UTF-8")."""
    cols = columns(rows)
    if bom and encoding.lower().replace("_", "-") in ("utf-8", "utf8"):
        encoding = "utf-8-sig"
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n" if crlf else "\n", delimiter=delimiter)
        writer.writerow(header_line(rows, headers))
        for r in rows:
            writer.writerow([_text(r.get(c)) for c in cols])
    return path


def _date_codes(rows: Sequence[Row], resource: ResourceSpec | None) -> set[str]:
    found = resource or _spec_for(rows)
    return {f.code for f in found.fields if f.type == "date"} if found else set()


def _cell(code: str, value: Any, date_codes: set[str]) -> Any:
    if code in date_codes and isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    return value


def write_xlsx(
    path: Path,
    rows: Sequence[Row],
    *,
    headers: Headers = "codes",
    date_cells: bool = False,
    sheet_title: str = "Sheet1",
    leading_sheets: Iterable[str] = (),
) -> Path:
    """An XLSX workbook. ``date_cells`` writes ISO dates of date fields as real Excel dates (number + date format).

    Values that are not strings (int, float, date) are written as typed cells, as Excel would hold them.
    ``leading_sheets`` are not used by the reader (it reads the first sheet); they exist to build wrong files.
    """
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = sheet_title
    cols = columns(rows)
    dates = _date_codes(rows, None) if date_cells else set()
    sheet.append(header_line(rows, headers))
    for r in rows:
        sheet.append([_cell(c, r.get(c), dates) if r.get(c) is not None else None for c in cols])
    for title in leading_sheets:
        book.create_sheet(title, 0)
    book.save(path)
    return path


def write_xls(path: Path, rows: Sequence[Row], *, headers: Headers = "codes", date_cells: bool = False) -> Path:
    """An old Excel 97–2003 workbook (what many department systems still export)."""
    import xlwt  # type: ignore[import-untyped]

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Sheet1")
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    cols = columns(rows)
    dates = _date_codes(rows, None) if date_cells else set()
    for j, name in enumerate(header_line(rows, headers)):
        sheet.write(0, j, name)
    for i, r in enumerate(rows, start=1):
        for j, c in enumerate(cols):
            value = r.get(c)
            if value is None:
                continue
            cell = _cell(c, value, dates)
            if isinstance(cell, dt.date):
                sheet.write(i, j, cell, date_style)
            else:
                sheet.write(i, j, cell)
    book.save(str(path))
    return path


def write_json(path: Path, rows: Sequence[Row], *, headers: Headers = "codes") -> Path:
    path.write_text(json.dumps(_keyed(rows, headers), ensure_ascii=False, default=_text, indent=1), encoding="utf-8")
    return path


def write_jsonl(path: Path, rows: Sequence[Row], *, headers: Headers = "codes") -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for item in _keyed(rows, headers):
            fh.write(json.dumps(item, ensure_ascii=False, default=_text) + "\n")
    return path


def _keyed(rows: Sequence[Row], headers: Headers) -> list[dict[str, Any]]:
    if headers == "codes":
        return [dict(r) for r in rows]
    names = dict(zip(columns(rows), header_line(rows, headers), strict=True))
    return [{names[k]: v for k, v in r.items()} for r in rows]
