"""Identifier standards: 统一社会信用代码 (GB 32100-2015) and 公民身份号码 (GB 11643-1999).

Each validator returns ``None`` for a valid value or a reason in Chinese, so the ingest pipeline can quote it
verbatim in a quarantine entry ("第 12 行 CF_XDR_SHXYM：统一社会信用代码校验位错误").
"""

from __future__ import annotations

import datetime as dt

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {ch: i for i, ch in enumerate(USCC_ALPHABET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
# 登记管理部门码: 1–9, A (中央军委改革和编制办公室), N (农业), Y (其他).
_USCC_FIRST = set("123456789ANY")
# An individual business without a code is reported with this placeholder; its 工商注册号 is then required.
USCC_PLACEHOLDER = "00000000000000000X"

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def _org_char_value(ch: str) -> int:
    # GB 11714: digits are their value, letters A=10 … Z=35.
    return int(ch) if ch.isdigit() else ord(ch) - ord("A") + 10


def uscc_check_char(first17: str) -> str:
    """The 18th character for a 17-character USCC prefix."""
    total = sum(_USCC_VALUE[ch] * w for ch, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def org_code_check_char(first8: str) -> str:
    """The 9th character of a GB 11714 organisation code."""
    total = sum(_org_char_value(ch) * w for ch, w in zip(first8, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def uscc_error(code: str) -> str | None:
    """Why ``code`` (already normalised) is not a valid USCC, or None."""
    if len(code) != 18:
        return f"统一社会信用代码应为 18 位，实为 {len(code)} 位"
    bad = [ch for ch in code if ch not in _USCC_VALUE]
    if bad:
        return f"统一社会信用代码含非法字符“{bad[0]}”（不使用 I、O、S、V、Z）"
    if code[0] not in _USCC_FIRST:
        return f"统一社会信用代码登记管理部门码“{code[0]}”无效"
    if not code[2:8].isdigit():
        return "统一社会信用代码第 3–8 位应为行政区划代码（数字）"
    if uscc_check_char(code[:17]) != code[17]:
        return "统一社会信用代码校验位错误"
    if org_code_check_char(code[8:16]) != code[16]:
        return "统一社会信用代码中组织机构代码校验位错误"
    return None


def is_valid_uscc(code: str) -> bool:
    return uscc_error(code) is None


def make_uscc(dept: str, kind: str, region: str, org_body8: str) -> str:
    """Build a valid USCC from its parts (used by the data generator and tests)."""
    org = org_body8 + org_code_check_char(org_body8)
    first17 = dept + kind + region + org
    return first17 + uscc_check_char(first17)


def uscc_region(code: str) -> str | None:
    """登记管理机关行政区划码 (positions 3–8)."""
    region = code[2:8]
    return region if len(code) == 18 and region.isdigit() else None


def org_code_of(uscc: str) -> str:
    """The GB 11714 organisation code embedded in a USCC (positions 9–17)."""
    return uscc[8:17]


def id_number_error(number: str, *, today: dt.date | None = None) -> str | None:
    """Why ``number`` (normalised, upper case) is not a valid 18-digit citizen ID, or None."""
    if len(number) != 18:
        return f"公民身份号码应为 18 位，实为 {len(number)} 位"
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        return "公民身份号码格式错误（前 17 位应为数字，末位为数字或 X）"
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return "公民身份号码中的出生日期无效"
    if born.year < 1900 or (today is not None and born > today):
        return "公民身份号码中的出生日期无效"
    total = sum(int(ch) * w for ch, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != number[17]:
        return "公民身份号码校验位错误"
    return None


def id_check_char(first17: str) -> str:
    total = sum(int(ch) * w for ch, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def mask_id_number(number: str) -> str:
    """Show the first 4 and last 4 characters only (e.g. 3604**********0071)."""
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]
