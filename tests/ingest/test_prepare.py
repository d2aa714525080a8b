"""prepare_row: each rule rejects with its Chinese reason and field; messy-but-valid rows pass, normalised."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.ingest.fixtures import (
    LICENSE,
    UNIT_USCC,
    citizen_id,
    company_uscc,
    individual_business_row,
    natural_person_penalty_row,
    spec,
    valid_license_row,
    valid_penalty_row,
)
from xinyong.catalog.service import builtin_specs
from xinyong.ingest.prepare import prepare_row
from xinyong.ingest.types import PreparedRow, Problem, RawRow
from xinyong.subjects.codes import USCC_PLACEHOLDER, mask_id_number

TODAY = dt.date(2026, 6, 15)


def prepare(row: dict[str, str], resource: str = "administrative_penalty", row_no: int = 2) -> PreparedRow:
    result = prepare_row(spec(resource), RawRow(row_no, dict(row), row), today=TODAY)
    assert isinstance(result, PreparedRow), result
    return result


def problems(row: dict[str, str], resource: str = "administrative_penalty") -> list[tuple[str, str]]:
    result = prepare_row(spec(resource), RawRow(2, dict(row), row), today=TODAY)
    assert isinstance(result, list), "the row was accepted"
    return [(p.field, p.message) for p in result]


def with_full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


# -- valid rows ------------------------------------------------------------------------------------------------------


def test_valid_fixture_rows_are_accepted() -> None:
    for row in (valid_penalty_row(1), natural_person_penalty_row(2), individual_business_row(3)):
        prepare(row)
    prepare(valid_license_row(4), LICENSE)


def test_prepared_penalty_roles_and_payload() -> None:
    row = valid_penalty_row(7, CF_CFLB="警告;罚款", CF_NR_FK="1,234.50", CF_GSJZQ="2026年1月9日")
    out = prepare(row, row_no=12)
    assert out.row_no == 12
    assert out.subject.kind == "legal_person"
    assert out.subject.uscc == company_uscc(7)
    assert out.subject.legal_rep == row["CF_FRDB"]
    assert out.unit_code == UNIT_USCC
    assert out.doc_no == "淄环罚〔2025〕7号"
    assert out.decision_date == dt.date.fromisoformat(row["CF_JDRQ"])
    assert out.valid_to == dt.date.fromisoformat(row["CF_YXQ"])
    assert out.publish_until == dt.date(2026, 1, 9)
    assert out.valid_from is None
    assert out.status == "active"
    assert out.payload["CF_CFLB"] == ["01", "02"]
    assert out.payload["CF_NR_FK"] == "1234.5"
    assert out.amounts == {"CF_NR_FK": Decimal("1234.50")}
    assert out.payload["CF_JDRQ"] == row["CF_JDRQ"]
    assert out.payload["CF_GSJZQ"] == "2026-01-09"
    assert out.payload["CF_XDR_LB"] == "法人及非法人组织"
    assert out.pii == {}


def test_messy_but_valid_row_is_accepted_and_normalised() -> None:
    code = company_uscc(31)
    row = valid_penalty_row(
        31,
        CF_XDR_MC="  淄博齐盛化工有限公司(张店分公司)  ",
        CF_XDR_LB=" 法人 ",
        CF_XDR_SHXYM=" " + with_full_width(code[:9].lower()) + " " + code[9:].lower() + "  ",
        CF_WSH=" 淄环罚〔2025〕 31 号 ",
        CF_CFLB="警告、罚款",
        CF_NR_FK="１，２００．００万元",
        CF_JDRQ="２０２５年３月５日",
        CF_YXQ="2026/3/4 00:00:00",
        CF_CFJGDM=with_full_width(UNIT_USCC),
        CF_SJLYDM=" " + UNIT_USCC.lower() + "\t",
        CF_NR="罚款１２００万元，警告 ",
    )
    out = prepare(row)
    assert out.subject.name == "淄博齐盛化工有限公司（张店分公司）"
    assert out.subject.uscc == code
    assert out.doc_no == "淄环罚〔2025〕31号"
    assert out.decision_date == dt.date(2025, 3, 5)
    assert out.valid_to == dt.date(2026, 3, 4)
    assert out.unit_code == UNIT_USCC
    assert out.payload["CF_CFJGDM"] == UNIT_USCC
    assert out.payload["CF_NR_FK"] == "1200"
    assert out.payload["CF_NR"] == "罚款1200万元，警告"  # Chinese punctuation kept, digits half-width


def test_excel_serial_dates_are_accepted() -> None:
    out = prepare(valid_penalty_row(1, CF_JDRQ="45721", CF_YXQ="46086"))
    assert out.decision_date == dt.date(2025, 3, 5)
    assert out.valid_to == dt.date(2026, 3, 5)


def test_natural_person_id_is_masked_in_payload_and_kept_in_pii() -> None:
    number = citizen_id(3)
    out = prepare(natural_person_penalty_row(3, CF_XDR_ZJHM=number[:-1] + number[-1].lower()))
    assert out.subject.kind == "natural_person"
    assert out.subject.uscc is None
    assert out.subject.id_number == number
    assert out.pii == {"CF_XDR_ZJHM": number}
    assert out.payload["CF_XDR_ZJHM"] == mask_id_number(number)
    assert number not in str(out.payload)


def test_legal_representative_id_is_pii_too() -> None:
    number = citizen_id(8)
    out = prepare(valid_penalty_row(8, CF_FR_ZJLX="居民身份证", CF_FR_ZJHM=number))
    assert out.pii == {"CF_FR_ZJHM": number}
    assert out.payload["CF_FR_ZJHM"] == mask_id_number(number)
    assert out.subject.id_number is None  # a company is not identified by its representative's ID


def test_other_document_types_are_not_checked_as_citizen_ids() -> None:
    out = prepare(natural_person_penalty_row(4, CF_XDR_ZJLX="护照", CF_XDR_ZJHM="E12345678"))
    assert out.pii == {"CF_XDR_ZJHM": "E12345678"}


def test_individual_business_with_placeholder_and_registration_number() -> None:
    row = individual_business_row(5, CF_XDR_LB="个体户")
    out = prepare(row)
    assert out.subject.kind == "individual_business"
    assert out.subject.uscc is None
    assert out.subject.legacy_codes == {"gszc": row["CF_XDR_GSZC"]}
    assert out.payload["CF_XDR_SHXYM"] == USCC_PLACEHOLDER


def test_legacy_codes_are_normalised() -> None:
    out = prepare(valid_penalty_row(6, CF_XDR_ZZJG=" ma00000６-x ", CF_XDR_GSZC=" 370303 600000064 "))
    assert out.subject.legacy_codes == {"zzjg": "MA000006X", "gszc": "370303600000064"}


def test_licence_long_term_and_default_status() -> None:
    out = prepare(valid_license_row(2, XK_YXQZI="2099-12-31", XK_ZT="", XK_XKLB="特许许可"), LICENSE)
    assert out.valid_to == dt.date(2099, 12, 31)
    assert out.valid_from == dt.date.fromisoformat(valid_license_row(2)["XK_YXQZ"])
    assert out.payload["XK_ZT"] == "有效"
    assert out.payload["XK_XKLB"] == "特许"
    assert out.severity is None


# -- severity ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "severity"),
    [
        ({}, "general"),  # a fine
        ({"CF_CFLB": "警告", "CF_NR_FK": None}, "minor"),  # only a warning
        ({"CF_CFLB": "01;08", "CF_NR_FK": None}, "minor"),  # warning and 通报批评
        ({"CF_CFLB": "警告;罚款"}, "general"),
        ({"CF_CFLB": "罚款;吊销许可证", "CF_NR_ZKDX": "排污许可证 91370303001P"}, "serious"),
        ({"CF_CFLB": "责令关闭"}, "serious"),
        ({"CF_CFLB": "13"}, "serious"),
        ({"CF_NR": "适用简易程序，罚款二百元"}, "minor"),
        ({"BZ": "简易程序"}, "minor"),
        ({"CF_CFLB": "责令关闭", "BZ": "简易程序"}, "serious"),  # a closure is never minor
        ({"CF_SXCD": "严重"}, "serious"),  # the unit's own judgement wins
        ({"CF_SXCD": "轻微", "CF_CFLB": "责令关闭"}, "minor"),
        ({"CF_SXCD": "一般失信", "CF_CFLB": "警告", "CF_NR_FK": None}, "general"),
    ],
)
def test_severity(overrides: dict[str, str | None], severity: str) -> None:
    assert prepare(valid_penalty_row(1, **overrides)).severity == severity


def test_severity_of_other_resources() -> None:
    specs = builtin_specs()
    assert specs["serious_dishonesty_list"].severity_rules == {"default": "serious"}
    assert prepare(valid_license_row(1), LICENSE).severity is None


def test_explicit_severity_label_is_kept_in_payload() -> None:
    assert prepare(valid_penalty_row(1, CF_SXCD="严重失信")).payload["CF_SXCD"] == "严重"


# -- each rule rejecting ---------------------------------------------------------------------------------------------

REJECTIONS = [
    # required (always)
    ({"CF_WSH": ""}, "CF_WSH", "行政处罚决定书文号不能为空"),
    ({"CF_WSH": None}, "CF_WSH", "行政处罚决定书文号不能为空"),
    ({"CF_XDR_MC": "   "}, "CF_XDR_MC", "行政相对人名称不能为空"),
    ({"CF_CFJGDM": ""}, "CF_CFJGDM", "处罚机关统一社会信用代码不能为空"),
    # required by subject category
    ({"CF_XDR_SHXYM": ""}, "CF_XDR_SHXYM", "法人及非法人组织的统一社会信用代码不能为空"),
    ({"CF_FRDB": ""}, "CF_FRDB", "法人及非法人组织的法定代表人不能为空"),
    # required if another field holds a value
    ({"CF_NR_FK": ""}, "CF_NR_FK", "处罚类别含“罚款”时罚款金额（万元）不能为空"),
    (
        {"CF_CFLB": "罚款;没收违法所得"},
        "CF_NR_WFFF",
        "处罚类别含“没收违法所得”时没收违法所得、没收非法财物的金额（万元）不能为空",
    ),
    ({"CF_CFLB": "暂扣许可证"}, "CF_NR_ZKDX", "处罚类别含“暂扣许可证”时暂扣或吊销证照名称及编号不能为空"),
    # max_length
    ({"CF_XDR_MC": "淄" * 201}, "CF_XDR_MC", "行政相对人名称超过 200 个字符（实为 201 个）"),
    ({"CF_WSH": "号" * 201}, "CF_WSH", "行政处罚决定书文号超过 200 个字符（实为 201 个）"),
    # subject category
    (
        {"CF_XDR_LB": "外国企业"},
        "CF_XDR_LB",
        "行政相对人类别无法识别：“外国企业”（应为 法人及非法人组织、自然人、个体工商户 之一）",
    ),
    # USCC, both checks and the form
    ({"CF_XDR_SHXYM": "91370303MA00000079"}, "CF_XDR_SHXYM", "统一社会信用代码校验位错误"),
    ({"CF_XDR_SHXYM": "91370303MA0000007"}, "CF_XDR_SHXYM", "统一社会信用代码应为 18 位，实为 17 位"),
    (
        {"CF_XDR_SHXYM": "91370303MA0000I078"},
        "CF_XDR_SHXYM",
        "统一社会信用代码含非法字符“I”（不使用 I、O、S、V、Z）",
    ),
    ({"CF_XDR_SHXYM": "Z1370303MA00000078"}, "CF_XDR_SHXYM", "统一社会信用代码含非法字符“Z”（不使用 I、O、S、V、Z）"),
    # placeholder only for individual businesses
    (
        {"CF_XDR_SHXYM": USCC_PLACEHOLDER},
        "CF_XDR_SHXYM",
        "统一社会信用代码 00000000000000000X 仅适用于没有统一社会信用代码的个体工商户",
    ),
    # unit code
    ({"CF_SJLYDM": "113703000042570142"}, "CF_SJLYDM", "数据来源单位统一社会信用代码无效：统一社会信用代码校验位错误"),
    # penalty category
    (
        {"CF_CFLB": "罚金"},
        "CF_CFLB",
        "处罚类别无法识别：“罚金”（应为 01–14 的代码或名称，如 02 或 罚款，多个用分号分隔）",
    ),
    ({"CF_CFLB": "；"}, "CF_CFLB", "处罚类别为空"),
    # amounts
    ({"CF_NR_FK": "-2"}, "CF_NR_FK", "罚款金额（万元）不能为负数：“-2”"),
    ({"CF_NR_FK": "两万"}, "CF_NR_FK", "罚款金额（万元）不是有效金额：“两万”（以万元为单位的数字，如 1,234.50）"),
    # dates
    ({"CF_JDRQ": "2026-06-16"}, "CF_JDRQ", "处罚决定日期不能晚于今天（2026-06-15），实为 2026-06-16"),
    ({"CF_JDRQ": "2025-02-29"}, "CF_JDRQ", "处罚决定日期不是有效日期：“2025-02-29”"),
    (
        {"CF_JDRQ": "去年"},
        "CF_JDRQ",
        "处罚决定日期格式无法识别：“去年”（应为 2021-03-05、2021/3/5、20210305 或 2021年3月5日）",
    ),
    (
        {"CF_JDRQ": "2025-05-01", "CF_YXQ": "2025-04-30"},
        "CF_YXQ",
        "处罚有效期（2025-04-30）不能早于处罚决定日期（2025-05-01）",
    ),
    (
        {"CF_JDRQ": "2025-05-01", "CF_GSJZQ": "2025-01-01"},
        "CF_GSJZQ",
        "公示截止期（2025-01-01）不能早于处罚决定日期（2025-05-01）",
    ),
    # severity label
    ({"CF_SXCD": "很严重"}, "CF_SXCD", "失信程度无法识别：“很严重”（应为 轻微、一般 或 严重）"),
    # the legal representative's ID, checked when its type is blank or 身份证
    ({"CF_FR_ZJHM": "370303196001010011"}, "CF_FR_ZJHM", "法定代表人证件号码无效：公民身份号码校验位错误"),
    (
        {"CF_FR_ZJLX": "身份证", "CF_FR_ZJHM": "37030319600101001"},
        "CF_FR_ZJHM",
        "法定代表人证件号码无效：公民身份号码应为 18 位，实为 17 位",
    ),
]


@pytest.mark.parametrize(("overrides", "field", "message"), REJECTIONS)
def test_each_rule_rejects_with_its_reason(overrides: dict[str, str | None], field: str, message: str) -> None:
    assert problems(valid_penalty_row(9, **overrides)) == [(field, message)]


NATURAL_PERSON_REJECTIONS = [
    ({"CF_XDR_ZJHM": ""}, "CF_XDR_ZJHM", "自然人的证件号码不能为空"),
    ({"CF_XDR_ZJLX": ""}, "CF_XDR_ZJLX", "自然人的证件类型不能为空"),
    ({"CF_XDR_ZJHM": "370303196001010012"}, "CF_XDR_ZJHM", "证件号码无效：公民身份号码校验位错误"),
    ({"CF_XDR_ZJHM": "370303203001010012"}, "CF_XDR_ZJHM", "证件号码无效：公民身份号码中的出生日期无效"),
    (
        {"CF_XDR_ZJHM": "37030319600101001A"},
        "CF_XDR_ZJHM",
        "证件号码无效：公民身份号码格式错误（前 17 位应为数字，末位为数字或 X）",
    ),
    ({"CF_XDR_ZJLX": "护照", "CF_XDR_ZJHM": "E" * 41}, "CF_XDR_ZJHM", "证件号码超过 40 个字符"),
]


@pytest.mark.parametrize(("overrides", "field", "message"), NATURAL_PERSON_REJECTIONS)
def test_natural_person_rules(overrides: dict[str, str | None], field: str, message: str) -> None:
    assert problems(natural_person_penalty_row(9, **overrides)) == [(field, message)]


def test_placeholder_requires_registration_number() -> None:
    assert problems(individual_business_row(3, CF_XDR_GSZC="")) == [
        ("CF_XDR_GSZC", "个体工商户的统一社会信用代码为 00000000000000000X 时，工商注册号不能为空")
    ]


def test_individual_business_needs_a_code() -> None:
    assert problems(individual_business_row(3, CF_XDR_SHXYM="")) == [
        ("CF_XDR_SHXYM", "个体工商户的统一社会信用代码不能为空")
    ]


LICENCE_REJECTIONS = [
    (
        {"XK_XKLB": "临时"},
        "XK_XKLB",
        "许可类别无法识别：“临时”（应为 普通、特许、认可、核准、登记、其他 之一）",
    ),
    ({"XK_ZT": "过期"}, "XK_ZT", "当前状态“过期”不是可选值（应为 有效、无效、撤销、注销、吊销、其他 之一）"),
    (
        {"XK_YXQZ": "2025-06-01", "XK_YXQZI": "2025-05-31"},
        "XK_YXQZI",
        "有效期至（2025-05-31）不能早于有效期自（2025-06-01）",
    ),
    ({"XK_XKJGDM": "12345"}, "XK_XKJGDM", "许可机关统一社会信用代码无效：统一社会信用代码应为 18 位，实为 5 位"),
    ({"XK_JDRQ": "2030-01-01"}, "XK_JDRQ", "许可决定日期不能晚于今天（2026-06-15），实为 2030-01-01"),
]


@pytest.mark.parametrize(("overrides", "field", "message"), LICENCE_REJECTIONS)
def test_licence_rules(overrides: dict[str, str | None], field: str, message: str) -> None:
    assert problems(valid_license_row(4, **overrides), LICENSE) == [(field, message)]


def test_pattern_rule() -> None:
    row = {
        "NS_XDR_MC": "淄博恒达化工有限公司",
        "NS_XDR_LB": "法人及非法人组织",
        "NS_XDR_SHXYM": company_uscc(1),
        "NS_FRDB": "王伟",
        "NS_PDND": "二〇二五",
        "NS_WSH": "淄税公告〔2025〕1号",
        "NS_PJJG": "国家税务总局淄博市税务局",
        "NS_FBRQ": "2025-04-20",
        "NS_SJLY": "国家税务总局淄博市税务局",
        "NS_SJLYDM": UNIT_USCC,
    }
    assert problems(row, "tax_credit_a") == [("NS_PDND", "评价年度“二〇二五”格式不正确")]
    row["NS_PDND"] = "2024"
    assert prepare(row, "tax_credit_a").severity is None


def test_all_problems_of_a_row_are_reported_together_in_field_order() -> None:
    row = valid_penalty_row(
        9, CF_XDR_SHXYM="91370303MA00000079", CF_WSH="", CF_JDRQ="2027-01-01", CF_NR_FK="-1", CF_SJLYDM=""
    )
    assert problems(row) == [
        ("CF_XDR_SHXYM", "统一社会信用代码校验位错误"),
        ("CF_WSH", "行政处罚决定书文号不能为空"),
        ("CF_NR_FK", "罚款金额（万元）不能为负数：“-1”"),
        ("CF_JDRQ", "处罚决定日期不能晚于今天（2026-06-15），实为 2027-01-01"),
        ("CF_SJLYDM", "数据来源单位统一社会信用代码不能为空"),
    ]


def test_read_time_problems_reject_the_row() -> None:
    row = valid_penalty_row(1)
    raw = RawRow(5, dict(row), row, problems=(Problem("", "本行有 19 个单元格，多于表头的 17 列"),))
    result = prepare_row(spec(), raw, today=TODAY)
    assert result == [Problem("", "本行有 19 个单元格，多于表头的 17 列")]


def test_problem_renders_row_and_field() -> None:
    [problem] = prepare_row(
        spec(), RawRow(12, {}, valid_penalty_row(1, CF_XDR_SHXYM="91370303MA00000079")), today=TODAY
    )  # type: ignore[misc]
    assert problem.render(12) == "第 12 行 CF_XDR_SHXYM：统一社会信用代码校验位错误"


def test_unknown_subject_category_skips_category_rules_but_still_rejects() -> None:
    row = valid_penalty_row(1, CF_XDR_LB="未知", CF_XDR_SHXYM="", CF_FRDB="")
    assert [field for field, _ in problems(row)] == ["CF_XDR_LB"]


# -- properties ------------------------------------------------------------------------------------------------------

_PENALTY_CODES = [f.code for f in spec().fields]
_CELL = st.text(max_size=30) | st.text(
    alphabet="0123456789０１２-/年月日;；、,. XxＡ罚款警告法人个体自然人", max_size=20
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(i=st.integers(0, 10**6), overrides=st.dictionaries(st.sampled_from(_PENALTY_CODES), _CELL, max_size=6))
def test_prepare_never_crashes_whatever_the_cells(i: int, overrides: dict[str, str]) -> None:
    row = valid_penalty_row(i, **overrides)
    result = prepare_row(spec(), RawRow(2, dict(row), row), today=TODAY)
    if isinstance(result, list):
        assert result and all(isinstance(p, Problem) and p.message for p in result)
        assert all(p.field in _PENALTY_CODES for p in result)
    else:
        assert isinstance(result, PreparedRow)


def _row_from_payload(out: PreparedRow) -> dict[str, str]:
    row = {code: ";".join(value) if isinstance(value, list) else str(value) for code, value in out.payload.items()}
    return row | out.pii


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    i=st.integers(0, 10**6),
    maker=st.sampled_from([valid_penalty_row, natural_person_penalty_row, individual_business_row]),
    spaces=st.sampled_from(["", " ", "　", "\t"]),
    full_width=st.booleans(),
)
def test_prepare_is_idempotent(i: int, maker: Callable[..., dict[str, str]], spaces: str, full_width: bool) -> None:
    messy = {
        code: spaces
        + (with_full_width(text) if full_width and code.endswith(("DM", "SHXYM", "JDRQ")) else text)
        + spaces
        for code, text in maker(i).items()
    }
    once = prepare(messy)
    twice = prepare(_row_from_payload(once))
    assert twice.payload == once.payload
    assert (twice.subject, twice.severity, twice.doc_no, twice.pii) == (
        once.subject,
        once.severity,
        once.doc_no,
        once.pii,
    )
