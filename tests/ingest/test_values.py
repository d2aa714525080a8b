"""Value parsers and normalisers: the forms departments write, the reasons given, and properties over any text."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from xinyong.core.text import clean, normalise_code, normalise_name
from xinyong.ingest import values as v
from xinyong.records.models import Severity
from xinyong.subjects.codes import (
    USCC_ALPHABET,
    id_check_char,
    id_number_error,
    is_valid_uscc,
    make_uscc,
    uscc_error,
)
from xinyong.subjects.models import SubjectKind

# -- dates ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "2021-03-05",
        "2021/3/5",
        "20210305",
        "2021年3月5日",
        "2021.3.5",
        "2021-3-5",
        " 2021-03-05 ",
        "２０２１－０３－０５",  # full-width digits and dash
        "2021年03月05日",
        "2021-03-05 00:00:00",
        "2021-03-05T14:30:00",
        "2021/3/5 8:05",
        "2021-03-05 00:00:00.0",
        "20210305 10:00:00",
        "2021年3月5日 14时30分",
        "44260",  # Excel serial day number of 2021-03-05
        "44260.5",  # serial with a time of day
    ],
)
def test_parse_date_accepts_department_forms(text: str) -> None:
    assert v.parse_date(text) == dt.date(2021, 3, 5)


def test_parse_date_keeps_long_term_end() -> None:
    assert v.parse_date("2099-12-31") == v.LONG_TERM


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2021-02-30", "不是有效日期：“2021-02-30”"),
        ("20211305", "不是有效日期：“20211305”"),
        ("1850-01-01", "年份超出范围（1900–2100）：“1850-01-01”"),
        ("明天", "格式无法识别：“明天”"),
        ("2021-03", "格式无法识别：“2021-03”"),
        ("5/3/2021", "格式无法识别：“5/3/2021”"),
        ("123", "格式无法识别：“123”"),  # too small to be a plausible serial
        ("99999", "格式无法识别：“99999”"),  # beyond 2100 as a serial
    ],
)
def test_parse_date_rejects_with_reason(text: str, reason: str) -> None:
    with pytest.raises(v.BadValue) as caught:
        v.parse_date(text)
    assert caught.value.reason.startswith(reason)


def test_eight_digit_dates_are_never_serials() -> None:
    # 20210305 as a serial would be a date in the year 57 000-something; it must be read as 2021-03-05.
    assert v.parse_date("20210305") == dt.date(2021, 3, 5)
    with pytest.raises(v.BadValue):
        v.parse_date("20211332")


# -- amounts -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2", "2"),
        ("1,234.50", "1234.5"),
        ("１，２３４．５０", "1234.5"),  # full-width digits, comma and point
        (" 0.5 ", "0.5"),
        ("12万元", "12"),
        ("3.2万", "3.2"),
        ("1 234", "1234"),
        ("0", "0"),
        ("0.000001", "0.000001"),
        ("+5", "5"),
        (".5", "0.5"),
        ("1000000", "1000000"),
    ],
)
def test_parse_amount(text: str, expected: str) -> None:
    assert v.amount_text(v.parse_amount(text)) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("-1", "不能为负数：“-1”"),
        ("－２", "不能为负数：“-2”"),
        ("abc", "不是有效金额：“abc”"),
        ("1,23.5", "不是有效金额：“1,23.5”"),  # misplaced thousands separator
        ("1.2.3", "不是有效金额：“1.2.3”"),
        ("2元", "不是有效金额：“2元”"),  # the field is in 万元; a sum in 元 must not slip in
        ("1e5", "不是有效金额：“1e5”"),
        ("0.0000001", "小数位数过多"),
        ("1234567890123", "金额过大"),
    ],
)
def test_parse_amount_rejects(text: str, reason: str) -> None:
    with pytest.raises(v.BadValue) as caught:
        v.parse_amount(text)
    assert caught.value.reason.startswith(reason)


# -- code lists ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("02", ["02"]),
        ("2", ["02"]),
        ("罚款", ["02"]),
        ("01;02", ["01", "02"]),
        ("警告；罚款", ["01", "02"]),
        ("警告、罚款", ["01", "02"]),
        ("警告,罚款", ["01", "02"]),
        ("02 罚款", ["02"]),
        ("02-罚款;03-没收违法所得", ["02", "03"]),
        ("没收违法所得、没收非法财物", ["03", "09"]),
        ("罚款;罚款", ["02"]),
        ("吊销许可证件", ["05"]),
        ("责令关闭 ; 限制从业", ["14", "13"]),
        ("１４", ["14"]),
    ],
)
def test_parse_penalty_categories(text: str, codes: list[str]) -> None:
    assert v.parse_penalty_categories(text) == codes


@pytest.mark.parametrize("text", ["15", "00", "罚金", "02 警告", "；；", "罚款;其它处罚x"])
def test_parse_penalty_categories_rejects(text: str) -> None:
    with pytest.raises(v.BadValue) as caught:
        v.parse_penalty_categories(text)
    assert "无法识别" in caught.value.reason or caught.value.reason == "为空"


@pytest.mark.parametrize(
    ("text", "label"),
    [("普通", "普通"), ("普通许可", "普通"), ("特许", "特许"), ("登记", "登记"), ("其他（备案）", "其他")],
)
def test_parse_license_category(text: str, label: str) -> None:
    assert v.parse_license_category(text) == label


def test_parse_license_category_rejects() -> None:
    with pytest.raises(v.BadValue) as caught:
        v.parse_license_category("临时")
    assert caught.value.reason == "无法识别：“临时”（应为 普通、特许、认可、核准、登记、其他 之一）"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("法人及非法人组织", SubjectKind.LEGAL_PERSON),
        ("法人", SubjectKind.LEGAL_PERSON),
        ("法人和其他组织", SubjectKind.LEGAL_PERSON),
        (" 法人及非法人组织 ", SubjectKind.LEGAL_PERSON),
        ("自然人", SubjectKind.NATURAL_PERSON),
        ("个人", SubjectKind.NATURAL_PERSON),
        ("个体工商户", SubjectKind.INDIVIDUAL_BUSINESS),
        ("个体户", SubjectKind.INDIVIDUAL_BUSINESS),
        ("legal_person", SubjectKind.LEGAL_PERSON),
    ],
)
def test_parse_subject_kind(text: str, kind: SubjectKind) -> None:
    assert v.parse_subject_kind(text) is kind


def test_parse_subject_kind_rejects() -> None:
    with pytest.raises(v.BadValue) as caught:
        v.parse_subject_kind("外国人")
    assert caught.value.reason == "无法识别：“外国人”（应为 法人及非法人组织、自然人、个体工商户 之一）"


@pytest.mark.parametrize(
    ("text", "severity"),
    [
        ("轻微", Severity.MINOR),
        ("一般", Severity.GENERAL),
        ("严重失信", Severity.SERIOUS),
        ("serious", Severity.SERIOUS),
    ],
)
def test_parse_severity(text: str, severity: Severity) -> None:
    assert v.parse_severity(text) is severity


def test_parse_severity_rejects() -> None:
    with pytest.raises(v.BadValue, match="应为 轻微、一般 或 严重"):
        v.parse_severity("较重")


def test_citizen_id_types() -> None:
    assert v.is_citizen_id_type("")
    assert v.is_citizen_id_type(v.normalise_id_type(" 居民身份证 "))
    assert not v.is_citizen_id_type("护照")
    assert not v.is_citizen_id_type("外国人永久居留身份证")


def test_clean_text_keeps_chinese_punctuation() -> None:
    assert v.clean_text("  罚款１万元，没收　违法所得（ＡＢ）\n 合计 ") == "罚款1万元，没收 违法所得（AB） 合计"


def test_doc_no_and_legacy_code_normalisation() -> None:
    assert v.normalise_doc_no(" 淄环罚〔2025〕 15 号 ") == "淄环罚〔2025〕15号"
    assert v.normalise_legacy_code("１２３４５６７８－９") == "123456789"
    assert v.normalise_identifier(" 370303 19600101 001x ") == "37030319600101001X"


# -- properties ------------------------------------------------------------------------------------------------------

_PARSERS = [
    v.parse_date,
    v.parse_amount,
    v.parse_penalty_categories,
    v.parse_license_category,
    v.parse_subject_kind,
    v.parse_severity,
]
_MESSY = st.text(alphabet=st.characters(codec="utf-8"), max_size=40) | st.text(
    alphabet="0123456789０１２３４５６７８９-/.年月日,，;；、 :万元+-eE罚款警告法人个体", max_size=25
)


@settings(max_examples=300, deadline=None)
@given(text=_MESSY, parser=st.sampled_from(_PARSERS))
def test_parsers_give_a_value_or_a_reason_never_crash(text: str, parser: Callable[[str], object]) -> None:
    try:
        result = parser(text)
    except v.BadValue as bad:
        assert bad.reason and isinstance(bad.reason, str)
    else:
        assert result is not None


@settings(max_examples=200, deadline=None)
@given(day=st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2100, 12, 31)), form=st.integers(0, 5))
def test_parse_date_round_trips_every_form(day: dt.date, form: int) -> None:
    texts = [
        day.isoformat(),
        f"{day.year}/{day.month}/{day.day}",
        f"{day:%Y%m%d}",
        f"{day.year}年{day.month}月{day.day}日",
        f"{day.year}.{day.month}.{day.day}",
        str((day - dt.date(1899, 12, 30)).days),
    ]
    assert v.parse_date(texts[form]) == day
    assert v.parse_date(v.parse_date(texts[form]).isoformat()) == day  # idempotent through its ISO form


@settings(max_examples=200, deadline=None)
@given(amount=st.decimals(min_value=0, max_value=10**9, places=4, allow_nan=False, allow_infinity=False))
def test_parse_amount_round_trips(amount: Decimal) -> None:
    grouped = f"{amount:,f}"
    parsed = v.parse_amount(grouped)
    assert parsed == amount
    assert v.parse_amount(v.amount_text(parsed)) == parsed
    assert v.amount_text(v.parse_amount(v.amount_text(parsed))) == v.amount_text(parsed)


@settings(max_examples=200, deadline=None)
@given(text=_MESSY)
def test_normalisers_are_idempotent(text: str) -> None:
    for normalise in (normalise_code, normalise_name, v.clean_text, v.normalise_doc_no, v.normalise_legacy_code):
        once = normalise(text)
        assert normalise(once) == once


@settings(max_examples=100, deadline=None)
@given(text=_MESSY)
def test_code_list_parsers_are_idempotent(text: str) -> None:
    try:
        codes = v.parse_penalty_categories(text)
    except v.BadValue:
        return
    assert v.parse_penalty_categories(";".join(codes)) == codes


_USCC_CHARS = st.sampled_from(USCC_ALPHABET)
_ORG_BODY = st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=8, max_size=8)


@settings(max_examples=200, deadline=None)
@given(
    dept=st.sampled_from("123456789ANY"),
    kind=st.sampled_from("123459"),
    region=st.from_regex(r"[0-9]{6}", fullmatch=True),
    body=_ORG_BODY,
    position=st.integers(0, 17),
    replacement=_USCC_CHARS,
)
def test_uscc_built_validates_and_any_single_change_is_caught(
    dept: str, kind: str, region: str, body: str, position: int, replacement: str
) -> None:
    code = make_uscc(dept, kind, region, body)
    assert uscc_error(code) is None
    assume(code[position] != replacement)
    changed = code[:position] + replacement + code[position + 1 :]
    assert not is_valid_uscc(changed)


@settings(max_examples=200, deadline=None)
@given(
    born=st.dates(min_value=dt.date(1920, 1, 1), max_value=dt.date(2020, 12, 31)),
    seq=st.integers(0, 999),
    position=st.integers(0, 16),
    digit=st.sampled_from("0123456789"),
)
def test_citizen_id_check_catches_any_single_digit_change(born: dt.date, seq: int, position: int, digit: str) -> None:
    first17 = f"370303{born:%Y%m%d}{seq:03d}"
    number = first17 + id_check_char(first17)
    assert id_number_error(number) is None
    assume(number[position] != digit)
    changed = number[:position] + digit + number[position + 1 :]
    assert id_number_error(changed) is not None


@settings(max_examples=300, deadline=None)
@given(text=_MESSY | st.text(alphabet=" \t\r\n\u3000\u00a0\ufeff\u200b\u2060x", max_size=8))
def test_blank_test_agrees_with_clean(text: str) -> None:
    assert v.is_blank(text) == (clean(text) == "")
    assert v.is_blank(v.clean_text(text)) == (v.clean_text(text) == "")


@settings(max_examples=400, deadline=None)
@given(text=_MESSY | st.text(alphabet=" \t\r\n\x1c\x85\u2028\u3000\u00a0\ufeff\u200b\u2060xＡ（(", max_size=10))
def test_fast_paths_equal_the_core_normalisers(text: str) -> None:
    assert v.fast_clean(text) == clean(text)
    assert v.normalise_name(text) == normalise_name(text)
    assert v.normalise_identifier(text) == normalise_code(text)
