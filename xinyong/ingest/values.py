"""Parsers of single values as departments write them: dates, amounts, code lists, subject categories.

Each parser takes the text of one cell and returns the normalised value, or raises :class:`BadValue` with a reason in
Chinese that reads after the field's name ("处罚决定日期" + "不是有效日期：“2021-02-30”"). They never raise anything
else, whatever the text, so one bad cell can only ever reject its own row.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from xinyong.catalog.codelists import LICENSE_CATEGORIES, PENALTY_CATEGORIES
from xinyong.core.text import CONTROL_CLASS, CONTROL_CODES, clean
from xinyong.records.models import SEVERITY_LABELS, Severity
from xinyong.subjects.models import SUBJECT_KIND_LABELS, SubjectKind

# What ``clean`` translates or drops; a cell without any of these only needs its white space tidied.
_NEEDS_CLEAN = re.compile(f"[\uff01-\uff5e\u3000\u00a0\ufeff\u200b-\u200d\u2060{CONTROL_CLASS}]")


def fast_clean(text: str) -> str:
    """Exactly ``core.text.clean``, several times faster on the usual cell (nothing full-width or invisible)."""
    if _NEEDS_CLEAN.search(text):
        return clean(text)
    return " ".join(text.split())


def normalise_name(text: str) -> str:
    """Exactly ``core.text.normalise_name`` (canonical full-width brackets), on the fast path."""
    return fast_clean(text).replace("(", "（").replace(")", "）")


class BadValue(ValueError):
    """A cell that cannot be read as its field's type; ``reason`` is Chinese and follows the field name."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _quote(text: str, limit: int = 40) -> str:
    return "“" + (text if len(text) <= limit else text[:limit] + "…") + "”"


# ---------------------------------------------------------------------------------------------------------------
# Dates

LONG_TERM = dt.date(2099, 12, 31)  # 有效期至 2099-12-31 means 长期 (no end); kept as that date
_MIN_YEAR, _MAX_YEAR = 1900, 2100
# Excel serial day numbers count from 1899-12-30 (which absorbs Excel's phantom 1900-02-29). Only serials of dates
# between 1950 and 2100 are read as such, so an 8-digit 20210305 can never be taken for a serial.
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_SERIAL_MIN = (dt.date(1950, 1, 1) - _EXCEL_EPOCH).days
_SERIAL_MAX = (dt.date(2100, 12, 31) - _EXCEL_EPOCH).days

_TIME = r"(?:[ T]?\d{1,2}(?::\d{1,2}){1,2}(?:\.\d+)?|[ T]?\d{1,2}时(?:\d{1,2}分(?:\d{1,2}秒)?)?)?"
_DATE_FORMS = (
    # 2021-03-05, 2021/3/5, 2021.3.5, 2021年3月5日 (and mixtures of those separators)
    re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?" + _TIME),
    # 20210305
    re.compile(r"(\d{4})(\d{2})(\d{2})" + _TIME),
)
_SERIAL = re.compile(r"(\d{5})(?:\.\d+)?")
_DATE_HINT = "应为 2021-03-05、2021/3/5、20210305 或 2021年3月5日"


def parse_date(text: str) -> dt.date:
    """A date in any of the forms departments use, or an Excel serial day number."""
    value = fast_clean(text)
    for form in _DATE_FORMS:
        if m := form.fullmatch(value):
            year, month, day = (int(g) for g in m.groups())
            try:
                parsed = dt.date(year, month, day)
            except ValueError:
                raise BadValue(f"不是有效日期：{_quote(value)}") from None
            if not _MIN_YEAR <= parsed.year <= _MAX_YEAR:
                raise BadValue(f"年份超出范围（{_MIN_YEAR}–{_MAX_YEAR}）：{_quote(value)}")
            return parsed
    if (m := _SERIAL.fullmatch(value)) and _SERIAL_MIN <= int(m.group(1)) <= _SERIAL_MAX:
        return _EXCEL_EPOCH + dt.timedelta(days=int(m.group(1)))
    raise BadValue(f"格式无法识别：{_quote(value)}（{_DATE_HINT}）")


# ---------------------------------------------------------------------------------------------------------------
# Amounts (万元)

_AMOUNT = re.compile(r"[+]?(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?|[+]?\.\d+")
_AMOUNT_UNIT = re.compile(r"\s*(万元|万|\(万元\))$")
_MAX_INTEGER_DIGITS = 12  # 万元: up to a trillion 万元 — anything longer is a unit or typing mistake
_MAX_DECIMALS = 6  # 0.000001 万元 = 0.01 元


def parse_amount(text: str) -> Decimal:
    """An amount in 万元: thousands separators and full-width digits accepted, never negative."""
    shown = fast_clean(text)
    value = _AMOUNT_UNIT.sub("", shown).replace(" ", "")
    if value.startswith("-"):
        raise BadValue(f"不能为负数：{_quote(shown)}")
    if not _AMOUNT.fullmatch(value):
        raise BadValue(f"不是有效金额：{_quote(shown)}（以万元为单位的数字，如 1,234.50）")
    try:
        amount = Decimal(value.replace(",", "").lstrip("+"))
    except InvalidOperation:  # the pattern admits only decimals, but be safe with any text
        raise BadValue(f"不是有效金额：{_quote(shown)}") from None
    integer_part, _, decimals = format(amount, "f").partition(".")
    if len(integer_part.lstrip("0")) > _MAX_INTEGER_DIGITS:
        raise BadValue(f"金额过大：{_quote(shown)}（单位为万元）")
    if len(decimals.rstrip("0")) > _MAX_DECIMALS:
        raise BadValue(f"小数位数过多：{_quote(shown)}（最多 {_MAX_DECIMALS} 位，单位为万元）")
    return amount


def amount_text(amount: Decimal) -> str:
    """The canonical text of an amount: plain notation, no trailing zeros (``1234.50`` → ``1234.5``)."""
    text = format(amount.normalize(), "f")
    return "0" if text in ("-0", "") else text


# ---------------------------------------------------------------------------------------------------------------
# Code lists

# Names found in department files for the same categories (older standards and the wording of the law).
_PENALTY_ALIASES = {
    "吊销许可证件": "05",
    "吊销执照": "05",
    "吊销营业执照": "05",
    "吊销许可证或执照": "05",
    "暂扣许可证件": "11",
    "暂扣执照": "11",
    "暂扣许可证或执照": "11",
    "拘留": "06",
    "其他行政处罚": "07",
    "法律、行政法规规定的其他行政处罚": "07",
    "责令停业": "04",
    "责令停产": "04",
    "没收非法财物": "09",
    "限制开展生产经营": "12",
}
_PENALTY_BY_NAME = {name: code for code, name in PENALTY_CATEGORIES.items()} | _PENALTY_ALIASES
_LIST_SEPARATORS = re.compile(r"[;；、,，/|]+")
_CODE_WITH_NAME = re.compile(r"(\d{1,2})\s*[-.:：、 ]?\s*(.*)")


def parse_penalty_categories(text: str) -> list[str]:
    """One or several 处罚类别 by code or name (``02``, ``罚款``, ``01;02``, ``警告、罚款``) → codes, in order, once."""
    codes: list[str] = []
    for part in _LIST_SEPARATORS.split(fast_clean(text)):
        item = part.strip()
        if not item:
            continue
        code = _penalty_code(item)
        if code is None:
            raise BadValue(f"无法识别：{_quote(item)}（应为 01–14 的代码或名称，如 02 或 罚款，多个用分号分隔）")
        if code not in codes:
            codes.append(code)
    if not codes:
        raise BadValue("为空")
    return codes


def _penalty_code(item: str) -> str | None:
    compact = item.replace(" ", "")
    if found := _PENALTY_BY_NAME.get(compact):
        return found
    if m := _CODE_WITH_NAME.fullmatch(item):
        code, name = m.group(1).zfill(2), m.group(2).replace(" ", "")
        if code in PENALTY_CATEGORIES and (not name or _PENALTY_BY_NAME.get(name) == code):
            return code
    return None


def parse_license_category(text: str) -> str:
    """许可类别: 普通/特许/认可/核准/登记/其他 (``普通许可`` and ``其他（…）`` accepted)."""
    value = fast_clean(text).replace(" ", "")
    for label in LICENSE_CATEGORIES:
        if value in (label, label + "许可") or (label == "其他" and value.startswith("其他")):
            return label
    raise BadValue(f"无法识别：{_quote(value)}（应为 {'、'.join(LICENSE_CATEGORIES)} 之一）")


_SUBJECT_KIND_ALIASES = {
    SubjectKind.LEGAL_PERSON: (
        "法人及非法人组织",
        "法人和非法人组织",
        "法人或非法人组织",
        "法人及其他组织",
        "法人和其他组织",
        "法人或其他组织",
        "法人",
        "非法人组织",
        "其他组织",
        "企业",
        "企业法人",
        "单位",
        "组织",
    ),
    SubjectKind.NATURAL_PERSON: ("自然人", "个人", "公民"),
    SubjectKind.INDIVIDUAL_BUSINESS: ("个体工商户", "个体户", "个体", "个体经营户", "个体工商业户"),
}
_SUBJECT_KIND_BY_TEXT = {alias: kind for kind, aliases in _SUBJECT_KIND_ALIASES.items() for alias in aliases}
_SUBJECT_KIND_BY_TEXT |= {kind.value.upper(): kind for kind in SubjectKind}


def parse_subject_kind(text: str) -> SubjectKind:
    """行政相对人类别 → SubjectKind (法人及非法人组织 / 自然人 / 个体工商户, and variants such as 法人, 个体户)."""
    value = fast_clean(text).replace(" ", "")
    if found := _SUBJECT_KIND_BY_TEXT.get(value) or _SUBJECT_KIND_BY_TEXT.get(value.upper()):
        return found
    order = (SubjectKind.LEGAL_PERSON, SubjectKind.NATURAL_PERSON, SubjectKind.INDIVIDUAL_BUSINESS)  # as in §3.3
    labels = "、".join(SUBJECT_KIND_LABELS[k] for k in order)
    raise BadValue(f"无法识别：{_quote(value)}（应为 {labels} 之一）")


_SEVERITY_BY_TEXT: dict[str, Severity] = {}
for _sev, _label in SEVERITY_LABELS.items():
    _SEVERITY_BY_TEXT |= {_label: _sev, _label + "失信": _sev, _sev.value.upper(): _sev}


def parse_severity(text: str) -> Severity:
    """失信程度: 轻微 / 一般 / 严重 (also 严重失信, or the English values)."""
    value = fast_clean(text).replace(" ", "")
    if found := _SEVERITY_BY_TEXT.get(value) or _SEVERITY_BY_TEXT.get(value.upper()):
        return found
    raise BadValue(f"无法识别：{_quote(value)}（应为 轻微、一般 或 严重）")


# Document types whose numbers are 公民身份号码 and get the GB 11643 check. Anything else (护照, 港澳居民来往内地通行证,
# 外国人永久居留身份证 …) is accepted as written.
CITIZEN_ID_TYPES = frozenset(
    (
        "身份证",
        "居民身份证",
        "中华人民共和国居民身份证",
        "公民身份号码",
        "身份证号",
        "身份证号码",
        "二代身份证",
        "第二代居民身份证",
    )
)
MAX_OTHER_ID_LENGTH = 40


# Full-width digits and Latin letters (and the ideographic space) only: Chinese prose keeps its own punctuation
# (，；：（）), which the full conversion of ``clean`` would turn into ASCII.
_ALNUM_TO_HALF: dict[int, int | None] = {
    cp: cp - 0xFEE0 for r in ((0xFF10, 0xFF1A), (0xFF21, 0xFF3B), (0xFF41, 0xFF5B)) for cp in range(*r)
}
_ALNUM_TO_HALF |= {0x3000: 0x20, 0x00A0: 0x20} | dict.fromkeys([0xFEFF, 0x200B, 0x200C, 0x200D, 0x2060, *CONTROL_CODES])
_TO_TRANSLATE = re.compile(
    f"[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\u3000\u00a0\ufeff\u200b-\u200d\u2060{CONTROL_CLASS}]"
)
_BLANKS = re.compile(r"\s+")
_BLANK_CELL = re.compile(f"[\\s\u3000\u00a0\ufeff\u200b-\u200d\u2060{CONTROL_CLASS}]*")


def clean_text(text: str) -> str:
    """Free text (违法事实, 处罚内容 …): full-width digits and letters to half-width, blanks collapsed, trimmed."""
    if _TO_TRANSLATE.search(text):  # most cells have nothing to translate; a scan is much cheaper than translate
        text = text.translate(_ALNUM_TO_HALF)
    return _BLANKS.sub(" ", text).strip()


def is_blank(text: str) -> bool:
    """True when the cell holds nothing but white space and invisible characters (what ``clean`` reduces to "")."""
    return _BLANK_CELL.fullmatch(text) is not None


def normalise_id_type(text: str) -> str:
    return fast_clean(text).replace(" ", "")


def is_citizen_id_type(id_type: str) -> bool:
    """True for a blank type (a bare number is taken to be a citizen ID) and for the names of the citizen ID card."""
    return not id_type or id_type in CITIZEN_ID_TYPES


def normalise_identifier(text: str) -> str:
    """Codes and document numbers as compared: half-width, no spaces, upper case (so a trailing ``x`` becomes ``X``)."""
    return fast_clean(text).replace(" ", "").upper()  # = core.text.normalise_code, on the fast path


def normalise_legacy_code(text: str) -> str:
    """工商注册号, 组织机构代码 …: as a code, without the hyphen of the printed 组织机构代码 (``12345678-9``)."""
    return normalise_identifier(text).replace("-", "")


def normalise_doc_no(text: str) -> str:
    """A decision document number: half-width, all white space removed, so a resend with other spacing matches."""
    return fast_clean(text).replace(" ", "")
