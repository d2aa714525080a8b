"""统一社会信用代码 and 公民身份号码 validation (DESIGN §3.1, §3.2)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xinyong.subjects.codes import (
    USCC_ALPHABET,
    id_check_char,
    id_number_error,
    make_uscc,
    mask_id_number,
    org_code_check_char,
    uscc_error,
)

REAL_USCCS = ["914403001922038216", "91110000802100433B"]


@pytest.mark.parametrize("code", REAL_USCCS)
def test_real_codes_pass_both_checks(code: str) -> None:
    assert uscc_error(code) is None


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("91440300192203821", "应为 18 位"),
        ("91440300192203821I", "非法字符“I”"),
        ("914403001922038217", "统一社会信用代码校验位错误"),
        ("B14403001922038216", "登记管理部门码"),
    ],
)
def test_each_rule_names_its_reason(code: str, message: str) -> None:
    error = uscc_error(code)
    assert error is not None and message in error


def test_org_code_check_is_verified_separately() -> None:
    # Change the organisation-code check digit and recompute the USCC check so only the GB 11714 check fails.
    good = make_uscc("9", "1", "370302", "MA3C8X12")
    body = good[:16] + ("1" if good[16] != "1" else "2")
    from xinyong.subjects.codes import uscc_check_char

    forged = body + uscc_check_char(body)
    assert uscc_error(forged) == "统一社会信用代码中组织机构代码校验位错误"


@pytest.mark.parametrize("first", list("12345679ANY"))
def test_codes_may_start_with_letters_and_digits(first: str) -> None:
    assert uscc_error(make_uscc(first, "1", "370302", "00000001")) is None


def test_org_code_check_values() -> None:
    # GB 11714 worked example: 12345678 → check 8 (3+14+27+40+25+48+28+16=201; 201 mod 11 = 3; 11-3 = 8)
    assert org_code_check_char("12345678") == "8"


org_bodies = st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=8, max_size=8)


@given(org_bodies, st.integers(min_value=0, max_value=17), st.sampled_from(list(USCC_ALPHABET)))
def test_any_single_character_change_is_caught(body: str, position: int, replacement: str) -> None:
    code = make_uscc("9", "1", "370302", body)
    assert uscc_error(code) is None
    if code[position] == replacement:
        return
    changed = code[:position] + replacement + code[position + 1 :]
    assert uscc_error(changed) is not None


def test_citizen_id_rules() -> None:
    assert id_number_error("11010519491231002X") is None
    assert "校验位" in (id_number_error("110105194912310021") or "")
    assert "出生日期" in (id_number_error("110105194913310025") or "")
    assert "18 位" in (id_number_error("1101051949123100") or "")
    future = "110105" + "20991231" + "002"
    assert "出生日期" in (id_number_error(future + id_check_char(future), today=dt.date(2026, 6, 15)) or "")


def test_masking_keeps_only_the_ends() -> None:
    assert mask_id_number("360403198001010071") == "3604**********0071"
