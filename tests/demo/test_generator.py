"""The demo data generator: deterministic, valid identifiers, realistic document numbers and severity mix."""

from __future__ import annotations

import collections
import datetime as dt
import re

import pytest

from xinyong.catalog.codelists import PENALTY_CATEGORIES
from xinyong.catalog.service import builtin_specs
from xinyong.core import clock
from xinyong.demo.generator import DemoData, GeneratedRecord, build_units, wan_yuan, yuan_in_words
from xinyong.demo.vocabulary import PENALTY
from xinyong.subjects.codes import USCC_PLACEHOLDER, id_number_error, uscc_error

DECISION_FIELDS = ("CF_JDRQ", "XK_JDRQ", "SX_LRRQ", "YC_LRRQ", "BZX_FBRQ", "NS_FBRQ", "ZW_RDRQ")


def _records(subjects: int = 400, **kwargs: object) -> list[GeneratedRecord]:
    return list(DemoData(subjects=subjects, seed=7, **kwargs).records())  # type: ignore[arg-type]


def test_same_seed_same_rows_and_other_seed_other_rows() -> None:
    first = [(r.resource, r.unit.uscc, r.fields) for r in _records(150)]
    again = [(r.resource, r.unit.uscc, r.fields) for r in _records(150)]
    other = [(r.resource, r.unit.uscc, r.fields) for r in DemoData(subjects=150, seed=8).records()]
    assert first == again
    assert first != other
    # Random access gives the same subject as the full pass did.
    data = DemoData(subjects=150, seed=7)
    assert data.subject(42) == list(data.subjects())[42]


def test_every_code_and_id_number_is_valid() -> None:
    today = clock.today()
    seen_ids: dict[str, str] = {}
    for unit in build_units("370300"):
        assert uscc_error(unit.uscc) is None, unit
    records = _records(600)
    assert records
    for record in records:
        for code, value in record.fields.items():
            if code.endswith("_SHXYM") or code.endswith("DM"):
                if value == USCC_PLACEHOLDER:
                    prefix = code.split("_")[0]
                    assert re.fullmatch(r"\d{15}", record.fields[f"{prefix}_XDR_GSZC"])
                else:
                    assert uscc_error(value) is None, (code, value)
            if code.endswith("_ZJHM"):
                assert id_number_error(value, today=today) is None, (code, value)
        if record.fields.get("CF_XDR_LB") == "自然人":
            number = record.fields["CF_XDR_ZJHM"]
            # One person, one ID: no two generated persons share a number.
            assert seen_ids.setdefault(number, record.fields["CF_XDR_MC"]) == record.fields["CF_XDR_MC"]


def test_subject_kinds_include_businesses_persons_and_placeholders() -> None:
    data = DemoData(subjects=3000, seed=3)
    people = list(data.subjects())
    kinds = collections.Counter(p.kind for p in people)
    assert kinds["legal_person"] > kinds["individual_business"] > 0
    assert kinds["natural_person"] > 0
    assert any(p.uscc == USCC_PLACEHOLDER for p in people)
    assert any(p.former_name for p in people)
    assert any(p.registration_no and p.uscc != USCC_PLACEHOLDER for p in people)
    usccs = [p.uscc for p in people if p.uscc and p.uscc != USCC_PLACEHOLDER]
    assert len(usccs) == len(set(usccs))


def test_penalty_document_numbers_are_sequential_per_unit_and_year() -> None:
    pattern = re.compile(r"^(?P<unit>.+?)(处罚|罚)〔(?P<year>\d{4})〕(?P<seq>\d+)号$")
    numbers: dict[tuple[str, int], list[int]] = collections.defaultdict(list)
    for record in _records(800):
        if record.resource != PENALTY:
            continue
        found = pattern.match(record.fields["CF_WSH"])
        assert found, record.fields["CF_WSH"]
        assert found["unit"] == record.unit.short_name
        assert int(found["year"]) == dt.date.fromisoformat(record.fields["CF_JDRQ"]).year
        numbers[(record.unit.uscc, int(found["year"]))].append(int(found["seq"]))
    assert numbers
    for seqs in numbers.values():
        assert sorted(seqs) == list(range(1, len(seqs) + 1))


def test_severity_mix_is_mostly_warnings_and_fines() -> None:
    rules = builtin_specs()[PENALTY].severity_rules
    serious, minor_only = set(rules["serious_categories"]), set(rules["minor_only_categories"])
    names = {name: code for code, name in PENALTY_CATEGORIES.items()}
    counts: collections.Counter[str] = collections.Counter()
    penalties = [r for r in _records(2500) if r.resource == PENALTY]
    assert len(penalties) > 1000
    for record in penalties:
        cats = {names.get(c, c) for c in record.fields["CF_CFLB"].split(";")}
        simple = "简易程序" in record.fields.get("BZ", "")
        level = "serious" if cats & serious else "minor" if simple or cats <= minor_only else "general"
        counts[level] += 1
        if "CF_SXCD" in record.fields:
            assert record.fields["CF_SXCD"] == {"serious": "严重", "minor": "轻微", "general": "一般"}[level]
        if "02" in cats:
            assert float(record.fields["CF_NR_FK"]) > 0
    share = {k: n / len(penalties) for k, n in counts.items()}
    assert 0.01 < share["serious"] < 0.10
    assert 0.10 < share["minor"] < 0.40
    assert share["general"] > 0.5


def test_no_decision_after_today_and_validity_not_before_decision() -> None:
    today = clock.today()
    for record in _records(600):
        fields = record.fields
        decided = next(dt.date.fromisoformat(fields[c]) for c in DECISION_FIELDS if c in fields)
        assert decided <= today
        assert decided >= today - dt.timedelta(days=5 * 365)
        for end in ("CF_YXQ", "CF_GSJZQ", "XK_YXQZI", "SX_YXQZ", "YC_YCRQ", "BZX_YXQZ", "NS_YXQZ"):
            if end in fields:
                assert dt.date.fromisoformat(fields[end]) >= decided
        if "YC_YCRQ" in fields:
            assert dt.date.fromisoformat(fields["YC_YCRQ"]) <= today


def test_records_are_skewed_over_subjects() -> None:
    per_subject = collections.Counter(r.subject_index for r in _records(2000) if r.subject_index >= 0)
    few = sum(1 for n in per_subject.values() if n <= 3)
    assert few / len(per_subject) > 0.5
    assert max(per_subject.values()) >= 30


def test_messy_rows_differ_only_in_form() -> None:
    clean = _records(200)
    messy = _records(200, messy=1.0)
    assert len(clean) == len(messy)
    changed = sum(1 for a, b in zip(clean, messy, strict=True) if a.fields != b.fields)
    assert changed > len(clean) // 2
    assert any(re.search(r"\d{4}年\d{1,2}月\d{1,2}日|\d{4}/\d{1,2}/\d{1,2}", str(r.fields)) for r in messy)


@pytest.mark.parametrize(
    ("yuan", "words", "wan"),
    [
        (20000, "贰万元整", "2"),
        (5000, "伍仟元整", "0.5"),
        (10500, "壹万零伍佰元整", "1.05"),
        (3650, "叁仟陆佰伍拾元整", "0.365"),
    ],
)
def test_amounts_in_words_and_ten_thousands(yuan: int, words: str, wan: str) -> None:
    assert yuan_in_words(yuan) == words
    assert wan_yuan(yuan) == wan


def test_limit_and_resource_filter() -> None:
    rows = list(DemoData(subjects=5000, seed=1, resources=(PENALTY,), limit=777).records())
    assert len(rows) == 777
    assert {r.resource for r in rows} == {PENALTY}
