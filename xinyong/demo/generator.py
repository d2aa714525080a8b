"""Synthetic credit data at any scale: source units, subjects and the records departments would send about them.

Deterministic by seed: subject ``i`` is a pure function of (seed, i) — so a benchmark can pick any subject again without
keeping the population — and records come out in one pass over the subjects, holding only the per-unit, per-year
document counters. Memory stays constant however many subjects are asked for.

Each record is a dict of field code → text, exactly as a department's file carries it (DESIGN §3.3), tagged with the
source unit that sends it. Dates are relative to the clock's today: nothing is ever decided after today.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources as package_files
from string import Formatter

from xinyong.catalog.codelists import PENALTY_CATEGORIES
from xinyong.core import clock
from xinyong.demo import vocabulary as v
from xinyong.subjects.codes import USCC_ALPHABET, USCC_PLACEHOLDER, id_check_char, make_uscc
from xinyong.subjects.models import SUBJECT_KIND_LABELS, SubjectKind

ALL_RESOURCES = (v.PENALTY, v.LICENSE, v.SERIOUS_LIST, v.ABNORMAL, v.DEBTOR, v.TAX_A, v.GOVERNMENT)
PREFIX = {
    v.PENALTY: "CF",
    v.LICENSE: "XK",
    v.SERIOUS_LIST: "SX",
    v.ABNORMAL: "YC",
    v.DEBTOR: "BZX",
    v.TAX_A: "NS",
    v.GOVERNMENT: "ZW",
}
LONG_TERM = dt.date(2099, 12, 31)
HISTORY_DAYS = 4 * 365  # decisions spread over the last ~4 years
_BIRTH_DAYS = 17_987  # a prime: birth dates of natural persons are a bijection of their index (see _citizen_id)
_MA_SPACE = 31**6
_DIGIT_SPACE = 7 * 10**7


# ---------------------------------------------------------------------------------------------------------------
# Regions and source units


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    parent: str | None


@lru_cache
def regions() -> dict[str, Region]:
    """行政区划 from the package's copy of the reference list."""
    text = package_files.files("xinyong.demo").joinpath("data/regions.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(text.splitlines())
    return {r["code"]: Region(r["code"], r["name"], r["parent"] or None) for r in rows}


def children(code: str) -> list[Region]:
    return [r for r in regions().values() if r.parent == code]


def _city_short(city: Region) -> str:
    return city.name.removesuffix("市")


def _city_abbr(city: Region) -> str:
    return {"上海市": "沪", "北京市": "京"}.get(city.name, city.name[0])


def _district_short(district: Region) -> str:
    name = district.name
    return name[:-1] if len(name) > 2 else name


@dataclass(frozen=True)
class Unit:
    """A source unit (信息提供单位): a department of the city or of a district."""

    uscc: str
    name: str
    short_name: str  # the prefix of its document numbers: 淄市监, 淄环, 张店应急 …
    region: str
    department: str  # key in vocabulary.DEPARTMENTS
    level: str  # city / district
    resources: tuple[str, ...]
    court_code: str = ""  # courts: 鲁03, 鲁0303 (in case numbers)


def build_units(region: str) -> list[Unit]:
    """The departments of ``region`` (a city with its districts, or one district) that push records."""
    known = regions()
    if region not in known:
        raise ValueError(f"行政区划代码 {region} 不在区划表中")
    home = known[region]
    subordinate = children(region)
    city = home if subordinate or home.parent is None else known[home.parent]
    places: list[tuple[str, Region]] = []
    if subordinate:
        places.append(("city", home))
        places.extend(("district", d) for d in subordinate)
    else:
        places.append(("district", home))
    units: list[Unit] = []
    for level, place in places:
        for dept in v.DEPARTMENTS:
            if level not in dept.levels and not (level == "district" and len(places) == 1):
                continue
            name, short = _unit_names(dept, level, city, place)
            court = ""
            if dept.key == "court":
                province = v.PROVINCE_ABBR.get(place.code[:2], "")
                court = province + (place.code[2:4] if level == "city" else place.code[2:6])
            units.append(
                Unit(
                    uscc=make_uscc("1", "1", place.code, f"004{len(units) + 1:05d}"),
                    name=name,
                    short_name=short,
                    region=place.code,
                    department=dept.key,
                    level=level,
                    resources=dept.resources,
                    court_code=court,
                )
            )
    return units


def _unit_names(dept: v.Department, level: str, city: Region, place: Region) -> tuple[str, str]:
    abbr = _city_abbr(city)
    if level == "city":
        if dept.key == "tax":
            return f"国家税务总局{city.name}税务局", f"{abbr}税"
        if dept.key == "court":
            return f"{city.name}中级人民法院", f"{abbr}中法"
        return f"{city.name}{dept.name}", f"{abbr}{dept.abbr}"
    short = _district_short(place)
    # A 区 is named under its city (淄博市张店区…); a 县 or 县级市 stands on its own (桓台县…).
    full = f"{city.name}{place.name}" if place.name.endswith("区") and city.code != place.code else place.name
    if dept.key == "ecology" and city.code != place.code:
        return f"{city.name}生态环境局{short}分局", f"{abbr}环{short}"
    if dept.key == "tax":
        return f"国家税务总局{full}税务局", f"{short}税"
    return f"{full}{dept.name}", f"{short}{dept.abbr}"


# ---------------------------------------------------------------------------------------------------------------
# Subjects


@dataclass(frozen=True)
class SubjectProfile:
    """One generated 信用主体 and everything its records repeat about it."""

    index: int
    kind: str  # SubjectKind value
    name: str
    region: str
    uscc: str | None  # None for natural persons; USCC_PLACEHOLDER for an individual business without a code
    legal_rep: str | None = None
    id_number: str | None = None  # natural persons
    registration_no: str | None = None  # 工商注册号 (legacy, or the only code of a placeholder business)
    org_code: str | None = None  # 组织机构代码 (legacy, for companies registered before 2015)
    former_name: str | None = None
    renamed_on: dt.date | None = None
    industry: v.Industry | None = None
    tax_a: bool = False

    @property
    def label(self) -> str:
        return SUBJECT_KIND_LABELS[SubjectKind(self.kind)]

    def name_on(self, day: dt.date) -> str:
        if self.former_name and self.renamed_on and day < self.renamed_on:
            return self.former_name
        return self.name


_SOCIAL_ORG = v.Industry(
    "社会服务",
    ("幼儿园", "职业培训学校", "养老服务中心"),
    (("health", 2), ("market", 1), ("hrss", 1)),
    (("health", v.PUBLIC_HYGIENE),),
    0,
)
_COOPERATIVE = v.Industry("农业", (), (("market", 2), ("ecology", 1)), (), 0)
_SHOP = v.Industry("个体", v.SHOP_KINDS, v.SHOP_PENALTIES, v.SHOP_LICENCES, 0)
_PERSON = v.Industry("自然人", (), v.PERSON_PENALTIES, (), 0)


def _weighted(rng: random.Random, items: tuple[tuple[str, float], ...], total: float | None = None) -> str:
    if total is None:
        total = sum(w for _, w in items)
    point = rng.random() * total
    for item, weight in items:
        point -= weight
        if point < 0:
            return item
    return items[-1][0]


_SURNAME_WEIGHTS = tuple((s, float(w)) for s, w in v.SURNAMES)
_SURNAME_TOTAL = sum(w for _, w in _SURNAME_WEIGHTS)  # summed once: person_name runs for every subject
_INDUSTRY_TOTAL = sum(i.weight for i in v.INDUSTRIES)


def person_name(rng: random.Random) -> str:
    surname = _weighted(rng, _SURNAME_WEIGHTS, _SURNAME_TOTAL)
    pool = v.GIVEN_CHARS_MALE if rng.random() < 0.55 else v.GIVEN_CHARS_FEMALE
    given = rng.choice(pool) + (rng.choice(pool) if rng.random() < 0.7 else "")
    return surname + given


def _trade_name(rng: random.Random) -> str:
    chars = v.TRADE_NAME_CHARS
    return rng.choice(chars) + rng.choice(chars)


def _industry(rng: random.Random) -> v.Industry:
    point = rng.random() * _INDUSTRY_TOTAL
    for industry in v.INDUSTRIES:
        point -= industry.weight
        if point < 0:
            return industry
    return v.INDUSTRIES[-1]


def _org_code_body(index: int, seed: int, modern: bool) -> str:
    """8 characters of a GB 11714 organisation code, distinct for every index (a bijection, not a random draw)."""
    if modern:  # issued since 2015 with the USCC: MA + 6 characters of the USCC alphabet
        n = (index * 387_420_489 + seed * 7_777) % _MA_SPACE
        chars = []
        for _ in range(6):
            n, r = divmod(n, 31)
            chars.append(USCC_ALPHABET[r])
        return "MA" + "".join(reversed(chars))
    n = (index * 28_629_151 + seed * 3_331) % _DIGIT_SPACE  # 31**5: coprime with 2, 5 and 7
    return f"{1 + n // 10**7}{n % 10**7:07d}"


def registration_number(region: str, index: int, individual: bool) -> str:
    """15-digit 工商注册号: region, 0–3 for enterprises / 6–9 for individual businesses, serial, ISO 7064 check."""
    serial = index % 10**7
    kind = 6 + (index // 10**7) % 4 if individual else (index // 10**7) % 4
    body = f"{region}{kind}{serial:07d}"
    p = 10
    for ch in body:
        s = (p + int(ch)) % 10 or 10
        p = (s * 2) % 11
    return body + str((11 - p) % 10)


def citizen_id(region: str, born: dt.date, serial: int) -> str:
    first17 = f"{region}{born:%Y%m%d}{serial % 1000:03d}"
    return first17 + id_check_char(first17)


# ---------------------------------------------------------------------------------------------------------------
# Records


@dataclass(frozen=True)
class GeneratedRecord:
    resource: str
    unit: Unit
    fields: dict[str, str]
    subject_index: int


@dataclass
class _Event:
    resource: str
    day: dt.date
    dept: str
    extra: dict[str, object] = field(default_factory=dict)


_FORMATTER = Formatter()


@lru_cache(maxsize=256)
def _placeholders(template: str) -> tuple[str, ...]:
    return tuple(name for _, name, _, _ in _FORMATTER.parse(template) if name)


def yuan_in_words(amount: int) -> str:
    """人民币大写 for whole yuan, as written in decisions: 20000 → 贰万元整, 10500 → 壹万零伍佰元整."""
    units = ("", "拾", "佰", "仟")

    def four(n: int) -> str:
        text, zero = "", False
        for power in range(3, -1, -1):
            digit = n // 10**power % 10
            if digit == 0:
                zero = bool(text)
            else:
                if zero:
                    text += "零"
                    zero = False
                text += v.CHINESE_DIGITS[digit] + units[power]
        return text

    high, low = divmod(amount, 10_000)
    text = ""
    if high:
        text = (four(high // 10_000) + "亿" if high >= 10_000 else "") + four(high % 10_000) + "万"
    if low:
        if high and low < 1000:
            text += "零"
        text += four(low)
    return (text or "零") + "元整"


def wan_yuan(amount: int) -> str:
    """Yuan as 万元 text without trailing zeros: 5000 → 0.5, 20000 → 2, 3650 → 0.365."""
    whole, rest = divmod(amount, 10_000)
    return f"{whole}.{rest:04d}".rstrip("0").rstrip(".")


_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def derived_severity(categories: tuple[str, ...], simple_procedure: bool) -> str:
    """轻微/一般/严重 as the built-in catalog's rules derive it (DESIGN §4.1), for the explicit CF_SXCD column."""
    if set(categories) & {"05", "13", "14"}:
        return "严重"
    if simple_procedure or set(categories) <= {"01", "08"}:
        return "轻微"
    return "一般"


class DemoData:
    """A deterministic population of subjects and their records. Iterate ``records()`` once per pass."""

    def __init__(
        self,
        *,
        subjects: int,
        seed: int = 20250101,
        records_per_subject: float = 5.0,
        region: str = "370300",
        today: dt.date | None = None,
        messy: float = 0.0,
        resources: tuple[str, ...] | None = None,
        limit: int | None = None,
    ) -> None:
        if subjects < 1:
            raise ValueError("subjects must be at least 1")
        if records_per_subject < 1:
            raise ValueError("records_per_subject must be at least 1")
        self.subject_count = subjects
        self.seed = seed
        self.records_per_subject = records_per_subject
        self.region = region
        self.today = today or clock.today()
        self.messy = messy
        self.resources = tuple(resources or ALL_RESOURCES)
        self.limit = limit
        self.units = build_units(region)
        self._by_dept_region: dict[tuple[str, str], Unit] = {(u.department, u.region): u for u in self.units}
        self._city_unit: dict[str, Unit] = {}
        for unit in self.units:
            if unit.level == "city" or unit.department not in self._city_unit:
                self._city_unit.setdefault(unit.department, unit)
                if unit.level == "city":
                    self._city_unit[unit.department] = unit
        home = regions()[region]
        self._home_districts = [d.code for d in children(region)] or [region]
        self._city = home if children(region) or home.parent is None else regions()[home.parent]
        self._province = regions().get(self._city.parent or "") if self._city.parent else None
        self._elsewhere = [
            r.code
            for r in regions().values()
            if r.parent and r.parent != region and not children(r.code) and r.code not in self._home_districts
        ]

    # -- subjects --------------------------------------------------------------------------------------------

    def _rng(self, index: int) -> random.Random:
        return random.Random(self.seed * 1_000_000_007 + index)

    def subject(self, index: int) -> SubjectProfile:
        """Subject ``index`` (0-based): the same for the same seed, whatever else was generated."""
        return self._subject(index, self._rng(index))

    def _subject(self, index: int, rng: random.Random) -> SubjectProfile:
        home = rng.random() < 0.9 or not self._elsewhere
        region = rng.choice(self._home_districts) if home else rng.choice(self._elsewhere)
        draw = rng.random()
        if draw < 0.72:
            return self._legal_person(index, rng, region)
        if draw < 0.88:
            return self._individual_business(index, rng, region)
        return self._natural_person(index, rng, region)

    def _place_words(self, region: str) -> tuple[str, str, str]:
        """(city short, city + district, district) name parts for names registered in ``region``."""
        place = regions()[region]
        city = regions()[place.parent] if place.parent and regions()[place.parent].parent else place
        city_short = _city_short(city)
        if place.code == city.code:
            return city_short, city.name, city.name
        full = f"{city.name}{place.name}" if place.name.endswith("区") else place.name
        return city_short, full, place.name

    def _company_name(self, rng: random.Random, region: str, industry: v.Industry) -> str:
        city_short, full, district = self._place_words(region)
        trade = _trade_name(rng)
        suffix = rng.choice(industry.suffixes)
        draw = rng.random()
        if draw < 0.5:
            return f"{city_short}{trade}{suffix}"
        if draw < 0.75:
            return f"{city_short}{district}{trade}{suffix}" if district.endswith("区") else f"{district}{trade}{suffix}"
        if draw < 0.9:
            return f"{full}{trade}{suffix}"
        province = regions().get(region[:2] + "0000")
        prefix = province.name.removesuffix("省").removesuffix("市") if province else city_short
        return f"{prefix}{trade}{suffix}"

    def _legal_person(self, index: int, rng: random.Random, region: str) -> SubjectProfile:
        draw = rng.random()
        modern = rng.random() < 0.7
        if draw < 0.93:
            industry = _industry(rng)
            name = self._company_name(rng, region, industry)
            dept, kind = "9", "1"
        elif draw < 0.97:
            industry = _COOPERATIVE
            _, _, district = self._place_words(region)
            name = f"{district}{_trade_name(rng)}{rng.choice(v.COOPERATIVE_KINDS)}"
            dept, kind = "9", "3"
        else:
            industry = _SOCIAL_ORG
            _, full, _ = self._place_words(region)
            name = f"{full}{_trade_name(rng)}{rng.choice(industry.suffixes)}"
            dept, kind = "5", "2"
        org_body = _org_code_body(index, self.seed, modern)
        uscc = make_uscc(dept, kind, region, org_body)
        legacy = not modern and dept == "9" and rng.random() < 0.25
        former_name = renamed_on = None
        if dept == "9" and kind == "1" and rng.random() < 0.03:
            former_name = self._company_name(rng, region, industry)
            renamed_on = self.today - dt.timedelta(days=rng.randrange(60, HISTORY_DAYS - 60))
        return SubjectProfile(
            index=index,
            kind=SubjectKind.LEGAL_PERSON.value,
            name=name,
            region=region,
            uscc=uscc,
            legal_rep=person_name(rng),
            registration_no=registration_number(region, index, individual=False) if legacy else None,
            org_code=uscc[8:17] if legacy else None,
            former_name=former_name if former_name != name else None,
            renamed_on=renamed_on if former_name != name else None,
            industry=industry,
            tax_a=rng.random() < 0.06,
        )

    def _individual_business(self, index: int, rng: random.Random, region: str) -> SubjectProfile:
        _, full, district = self._place_words(region)
        owner = person_name(rng)
        shop = rng.choice(v.SHOP_KINDS)
        draw = rng.random()
        if draw < 0.35:
            name = f"{district}{owner[0]}记{shop}"
        elif draw < 0.6:
            name = f"{district}老{owner[0]}{shop}"
        else:
            name = f"{full}{_trade_name(rng)}{shop}"
        if rng.random() < 0.5:
            name += "（个体工商户）"
        placeholder = rng.random() < 0.15
        return SubjectProfile(
            index=index,
            kind=SubjectKind.INDIVIDUAL_BUSINESS.value,
            name=name,
            region=region,
            uscc=USCC_PLACEHOLDER
            if placeholder
            else make_uscc("9", "2", region, _org_code_body(index, self.seed, True)),
            legal_rep=owner,
            registration_no=registration_number(region, index, individual=True) if placeholder else None,
            industry=_SHOP,
        )

    def _natural_person(self, index: int, rng: random.Random, region: str) -> SubjectProfile:
        # (birth day, serial) is a bijection of the index, so no two generated persons share a citizen ID.
        youngest = self.today.replace(month=1, day=1) - dt.timedelta(days=20 * 365)
        day = (index * 7_919 + self.seed) % _BIRTH_DAYS
        born = youngest - dt.timedelta(days=day)
        serial = (index // _BIRTH_DAYS * 389 + index % _BIRTH_DAYS * 7 + self.seed) % 1000
        return SubjectProfile(
            index=index,
            kind=SubjectKind.NATURAL_PERSON.value,
            name=person_name(rng),
            region=region,
            uscc=None,
            id_number=citizen_id(region, born, serial),
            industry=_PERSON,
        )

    def subjects(self) -> Iterator[SubjectProfile]:
        for index in range(self.subject_count):
            yield self.subject(index)

    # -- records ---------------------------------------------------------------------------------------------

    def records(self) -> Iterator[GeneratedRecord]:
        """Every record of every subject, subject by subject, each subject's records in date order."""
        counters: dict[tuple[str, str, int], int] = {}
        emitted = 0
        if v.GOVERNMENT in self.resources:
            for record in self._government_records(counters):
                yield record
                emitted += 1
        for index in range(self.subject_count):
            rng = self._rng(index)
            subject = self._subject(index, rng)
            for record in self._subject_records(subject, rng, counters):
                if self.limit is not None and emitted >= self.limit:
                    return
                yield record
                emitted += 1

    def _record_count(self, rng: random.Random) -> int:
        # Skewed: a lognormal "activity" feeding a Poisson count — most subjects get 1–3 records, a few get dozens.
        sigma = 1.3
        activity = rng.lognormvariate(-sigma * sigma / 2, sigma)
        return 1 + min(_poisson(rng, (self.records_per_subject - 1) * activity), 400)

    def _weights(self, subject: SubjectProfile) -> tuple[tuple[str, float], ...]:
        if subject.kind == SubjectKind.NATURAL_PERSON.value:
            table: tuple[tuple[str, float], ...] = ((v.PENALTY, 0.85), (v.DEBTOR, 0.15))
        elif subject.kind == SubjectKind.INDIVIDUAL_BUSINESS.value:
            table = ((v.LICENSE, 0.55), (v.PENALTY, 0.40), (v.ABNORMAL, 0.05))
        else:
            table = (
                (v.LICENSE, 0.60),
                (v.PENALTY, 0.10 if subject.tax_a else 0.32),
                (v.ABNORMAL, 0.01 if subject.tax_a else 0.045),
                (v.DEBTOR, 0.0 if subject.tax_a else 0.015),
                (v.TAX_A, 0.35 if subject.tax_a else 0.0),
            )
        if subject.industry is not None and not subject.industry.licences:
            table = tuple((r, 0.0 if r == v.LICENSE else w) for r, w in table)
        return tuple((r, w) for r, w in table if w > 0 and r in self.resources)

    def _day(self, rng: random.Random) -> dt.date:
        # More recent years carry more records (collection got better), hence the power.
        return self.today - dt.timedelta(days=int(HISTORY_DAYS * rng.random() ** 1.25))

    def _subject_records(
        self, subject: SubjectProfile, rng: random.Random, counters: dict[tuple[str, str, int], int]
    ) -> Iterator[GeneratedRecord]:
        weights = self._weights(subject)
        if not weights:
            return
        events: list[_Event] = []
        tax_years: set[int] = set()
        abnormal = 0
        for _ in range(self._record_count(rng)):
            resource = _weighted(rng, weights)
            if resource == v.TAX_A:
                year = self._tax_year(rng)
                if year in tax_years or year is None:
                    resource = v.PENALTY
                else:
                    tax_years.add(year)
                    published = dt.date(year + 1, 4, 1) + dt.timedelta(days=rng.randrange(0, 29))
                    events.append(_Event(v.TAX_A, min(published, self.today), "tax", {"year": year}))
                    continue
            if resource == v.ABNORMAL:
                abnormal += 1
                if abnormal > 2:
                    resource = v.PENALTY
            if resource not in self.resources:
                continue
            if resource == v.PENALTY:
                events.append(_Event(v.PENALTY, self._day(rng), _weighted(rng, _penalty_depts(subject))))
            elif resource == v.LICENSE:
                dept, licence = rng.choice(subject.industry.licences if subject.industry else v.SHOP_LICENCES)
                events.append(_Event(v.LICENSE, self._day(rng), dept, {"licence": licence}))
            elif resource == v.ABNORMAL:
                events.append(_Event(v.ABNORMAL, self._abnormal_day(rng), "market"))
            elif resource == v.DEBTOR:
                events.append(_Event(v.DEBTOR, self._day(rng), "court"))
        events.sort(key=lambda e: e.day)
        for event in events:
            unit = self._unit_for(event.dept, subject, rng)
            if unit is None:
                continue
            if event.resource == v.PENALTY:
                yield from self._penalty(subject, unit, event, rng, counters)
            elif event.resource == v.LICENSE:
                yield self._licence(subject, unit, event, rng, counters)
            elif event.resource == v.ABNORMAL:
                yield self._abnormal(subject, unit, event, rng, counters)
            elif event.resource == v.DEBTOR:
                yield self._debtor(subject, unit, event, rng, counters)
            elif event.resource == v.TAX_A:
                yield self._tax_a(subject, unit, event, rng, counters)

    def _tax_year(self, rng: random.Random) -> int | None:
        # A-grade lists of year Y are published in April of Y+1; only years already published can appear.
        latest = self.today.year - 1 if self.today >= dt.date(self.today.year, 4, 30) else self.today.year - 2
        return latest - rng.randrange(0, 3)

    def _abnormal_day(self, rng: random.Random) -> dt.date:
        # Most listings follow the 30 June annual-report deadline, in July.
        if rng.random() < 0.7:
            year = self.today.year - rng.randrange(0, 4)
            day = dt.date(year, 7, 1) + dt.timedelta(days=rng.randrange(5, 40))
            if day <= self.today:
                return day
        return self._day(rng)

    def _unit_for(self, dept: str, subject: SubjectProfile, rng: random.Random) -> Unit | None:
        local = self._by_dept_region.get((dept, subject.region))
        if local is not None and (rng.random() < 0.75 or dept not in self._city_unit):
            return local
        return self._city_unit.get(dept) or local

    def _doc_seq(self, counters: dict[tuple[str, str, int], int], unit: Unit, resource: str, year: int) -> int:
        key = (unit.uscc, resource, year)
        counters[key] = counters.get(key, 0) + 1
        return counters[key]

    # -- subject columns ---------------------------------------------------------------------------------------

    def _subject_fields(self, prefix: str, subject: SubjectProfile, day: dt.date, rng: random.Random) -> dict[str, str]:
        p = prefix
        row = {f"{p}_XDR_MC": subject.name_on(day), f"{p}_XDR_LB": subject.label}
        if subject.kind == SubjectKind.NATURAL_PERSON.value:
            assert subject.id_number is not None
            row[f"{p}_XDR_ZJLX"] = "身份证"
            row[f"{p}_XDR_ZJHM"] = subject.id_number
            return row
        assert subject.uscc is not None
        row[f"{p}_XDR_SHXYM"] = subject.uscc
        if subject.uscc == USCC_PLACEHOLDER:
            assert subject.registration_no is not None
            row[f"{p}_XDR_GSZC"] = subject.registration_no
        elif subject.registration_no and rng.random() < 0.5:
            row[f"{p}_XDR_GSZC"] = subject.registration_no
            if subject.org_code:
                row[f"{p}_XDR_ZZJG"] = subject.org_code
        if subject.legal_rep:
            row[f"{p}_FRDB"] = subject.legal_rep
            if subject.kind == SubjectKind.LEGAL_PERSON.value and rng.random() < 0.15:
                row[f"{p}_FR_ZJLX"] = "身份证"
                born = dt.date(1960, 1, 1) + dt.timedelta(days=rng.randrange(0, 12_000))
                row[f"{p}_FR_ZJHM"] = citizen_id(subject.region, born, rng.randrange(1000))
        return row

    def _finish(self, record: GeneratedRecord, rng: random.Random) -> GeneratedRecord:
        if self.messy and rng.random() < self.messy:
            _make_messy(record, rng)
        return record

    # -- one record of each resource -------------------------------------------------------------------------

    def _penalty(
        self,
        subject: SubjectProfile,
        unit: Unit,
        event: _Event,
        rng: random.Random,
        counters: dict[tuple[str, str, int], int],
    ) -> Iterator[GeneratedRecord]:
        dept = v.DEPARTMENT_BY_KEY[unit.department]
        person = subject.kind == SubjectKind.NATURAL_PERSON.value
        choices = [x for x in dept.violations if x.persons] if person else list(dept.violations)
        violation = rng.choice(choices or list(dept.violations))
        outcomes = v.OUTCOMES_PERSON if person else v.OUTCOMES_ORGANISATION
        total = sum(w for _, w in outcomes)
        point, categories = rng.random() * total, outcomes[0][0]
        for cats, weight in outcomes:
            point -= weight
            if point < 0:
                categories = cats
                break
        categories = _fit_categories(categories, dept)
        day = event.day
        low, high = violation.fine
        if person:
            low, high = max(100, low // 10), max(500, high // 10)
        fine = _round_amount(rng.uniform(low, high) if rng.random() < 0.8 else rng.uniform(low, low * 2))
        gain = _round_amount(rng.uniform(200, fine)) if fine > 200 else 200
        simple = categories in (("01",), ("02",)) and fine <= (200 if person else 3000) and rng.random() < 0.5
        content: list[str] = []
        row: dict[str, str] = {}
        licence = dept.licences[0] if dept.licences else None
        for code in categories:
            if code == "01":
                content.append("警告")
            elif code == "02":
                content.append(("并处" if content else "") + f"罚款人民币{yuan_in_words(fine)}")
                row["CF_NR_FK"] = wan_yuan(fine)
            elif code == "03":
                content.append(f"没收违法所得人民币{yuan_in_words(gain)}")
                row["CF_NR_WFFF"] = wan_yuan(gain)
            elif code == "09":
                content.append(f"没收非法财物（{rng.choice(v.GOODS)}{rng.randrange(5, 200)}件）")
                row["CF_NR_WFFF"] = wan_yuan(gain)
            elif code == "04":
                content.append(f"责令停产停业{rng.choice(('十五日', '三十日', '三个月'))}")
            elif code in ("05", "11"):
                name = licence.certificate if licence and licence.certificate else "许可证"
                number = _licence_number(licence, unit, subject, rng.randrange(1, 9999), day.year)
                term = "" if code == "05" else rng.choice(("三个月", "六个月"))
                content.append(f"{'吊销' if code == '05' else '暂扣'}{name}{term}")
                row["CF_NR_ZKDX"] = f"{name}（编号：{number}）" if number else name
            elif code == "08":
                content.append("通报批评")
            elif code == "10":
                content.append("降低资质等级（由贰级降为叁级）")
            elif code == "12":
                content.append("限制开展生产经营活动六个月")
            elif code == "13":
                content.append(f"法定代表人{rng.choice(('五年', '十年'))}内不得从事相关生产经营活动")
            elif code == "14":
                content.append("责令关闭")
        severity = derived_severity(categories, simple)
        span = {"轻微": 91, "一般": 365, "严重": 3 * 365}[severity]
        seq = self._doc_seq(counters, unit, v.PENALTY, day.year)
        names = [PENALTY_CATEGORIES[c] for c in categories]
        row = {
            **self._subject_fields("CF", subject, day, rng),
            "CF_WSH": f"{unit.short_name}{dept.penalty_word}〔{day.year}〕{seq}号",
            "CF_WFXW": violation.kind,
            "CF_SY": _fill(violation.facts, rng, fine, day),
            "CF_YJ": violation.basis,
            "CF_CFLB": ";".join(categories if rng.random() < 0.1 else names),
            "CF_NR": "，".join(content),
            **row,
            "CF_JDRQ": day.isoformat(),
            "CF_YXQ": (day + dt.timedelta(days=span)).isoformat(),
            "CF_CFJG": unit.name,
            "CF_CFJGDM": unit.uscc,
            "CF_SJLY": unit.name,
            "CF_SJLYDM": unit.uscc,
        }
        if rng.random() < 0.06:
            row["CF_GSJZQ"] = (day + dt.timedelta(days=rng.randrange(90, span + 1))).isoformat()
        if rng.random() < 0.15:
            row["CF_SXCD"] = severity
        if simple:
            row["BZ"] = "适用简易程序，当场作出处罚决定"
        yield self._finish(GeneratedRecord(v.PENALTY, unit, row, subject.index), rng)
        # A serious penalty often puts the subject on the department's 严重失信主体名单 a few weeks later.
        if severity == "严重" and dept.list_name and v.SERIOUS_LIST in self.resources and rng.random() < 0.6:
            listed = day + dt.timedelta(days=rng.randrange(20, 90))
            if listed <= self.today and subject.kind != SubjectKind.NATURAL_PERSON.value:
                yield self._serious_entry(subject, unit, dept, listed, row["CF_WSH"], rng, counters)

    def _serious_entry(
        self,
        subject: SubjectProfile,
        unit: Unit,
        dept: v.Department,
        day: dt.date,
        penalty_doc: str,
        rng: random.Random,
        counters: dict[tuple[str, str, int], int],
    ) -> GeneratedRecord:
        seq = self._doc_seq(counters, unit, v.SERIOUS_LIST, day.year)
        row = {
            **self._subject_fields("SX", subject, day, rng),
            "SX_MDMC": dept.list_name,
            "SX_WSH": f"{unit.short_name}失信〔{day.year}〕{seq}号",
            "SX_LRSY": f"因{penalty_doc}行政处罚决定所涉违法行为情节严重，依法列入{dept.list_name}",
            "SX_LRYJ": dept.list_basis,
            "SX_RDJG": unit.name,
            "SX_LRRQ": day.isoformat(),
            "SX_YXQZ": (day + dt.timedelta(days=3 * 365)).isoformat(),
            "SX_SJLY": unit.name,
            "SX_SJLYDM": unit.uscc,
        }
        return self._finish(GeneratedRecord(v.SERIOUS_LIST, unit, row, subject.index), rng)

    def _licence(
        self,
        subject: SubjectProfile,
        unit: Unit,
        event: _Event,
        rng: random.Random,
        counters: dict[tuple[str, str, int], int],
    ) -> GeneratedRecord:
        licence = event.extra["licence"]
        assert isinstance(licence, v.LicenceType)
        day = event.day
        seq = self._doc_seq(counters, unit, v.LICENSE, day.year)
        start = day + dt.timedelta(days=rng.choice((0, 0, 0, 1, 3)))
        end = LONG_TERM if licence.years == 0 else _add_years(start, licence.years) - dt.timedelta(days=1)
        row = {
            **self._subject_fields("XK", subject, day, rng),
            "XK_XKWS": f"准予{licence.certificate or licence.content}决定书",
            "XK_WSH": f"{unit.short_name}{licence.code}字〔{day.year}〕第{seq}号",
            "XK_XKLB": licence.category,
            "XK_XKZS": licence.certificate,
            "XK_XKBH": _licence_number(licence, unit, subject, seq, day.year),
            "XK_NR": licence.content,
            "XK_JDRQ": day.isoformat(),
            "XK_YXQZ": start.isoformat(),
            "XK_YXQZI": end.isoformat(),
            "XK_XKJG": unit.name,
            "XK_XKJGDM": unit.uscc,
            "XK_ZT": "注销" if rng.random() < 0.01 else "有效",
            "XK_LYDW": unit.name,
            "XK_LYDWDM": unit.uscc,
        }
        return self._finish(GeneratedRecord(v.LICENSE, unit, _drop_empty(row), subject.index), rng)

    def _abnormal(
        self,
        subject: SubjectProfile,
        unit: Unit,
        event: _Event,
        rng: random.Random,
        counters: dict[tuple[str, str, int], int],
    ) -> GeneratedRecord:
        day = event.day
        seq = self._doc_seq(counters, unit, v.ABNORMAL, day.year)
        row = {
            **self._subject_fields("YC", subject, day, rng),
            "YC_WSH": f"{unit.short_name}经异列字〔{day.year}〕第{seq}号",
            "YC_LRYY": rng.choice(v.ABNORMAL_REASONS),
            "YC_LRRQ": day.isoformat(),
            "YC_ZCJG": unit.name,
            "YC_SJLY": unit.name,
            "YC_SJLYDM": unit.uscc,
        }
        removed = day + dt.timedelta(days=rng.randrange(30, 400))
        if rng.random() < 0.4 and removed <= self.today:
            row["YC_YCRQ"] = removed.isoformat()
            row["YC_YCYY"] = rng.choice(v.ABNORMAL_EXIT)
        return self._finish(GeneratedRecord(v.ABNORMAL, unit, row, subject.index), rng)

    def _debtor(
        self,
        subject: SubjectProfile,
        unit: Unit,
        event: _Event,
        rng: random.Random,
        counters: dict[tuple[str, str, int], int],
    ) -> GeneratedRecord:
        day = event.day
        seq = self._doc_seq(counters, unit, v.DEBTOR, day.year)
        judged = day - dt.timedelta(days=rng.randrange(90, 700))
        row = {
            **self._subject_fields("BZX", subject, day, rng),
            "BZX_AH": f"（{day.year}）{unit.court_code}执{seq}号",
            "BZX_ZXFY": unit.name,
            "BZX_YJWH": f"（{judged.year}）{unit.court_code}民初{rng.randrange(1, 9000)}号",
            "BZX_LXQK": rng.choice(v.DEBTOR_PERFORMANCE),
            "BZX_SXQX": rng.choice(v.DEBTOR_BEHAVIOURS),
            "BZX_FBRQ": day.isoformat(),
            "BZX_SJLY": unit.name,
            "BZX_SJLYDM": unit.uscc,
        }
        if rng.random() < 0.5:
            row["BZX_YXQZ"] = (day + dt.timedelta(days=2 * 365)).isoformat()
        return self._finish(GeneratedRecord(v.DEBTOR, unit, row, subject.index), rng)

    def _tax_a(
        self,
        subject: SubjectProfile,
        unit: Unit,
        event: _Event,
        rng: random.Random,
        counters: dict[tuple[str, str, int], int],
    ) -> GeneratedRecord:
        day = event.day
        year = int(str(event.extra["year"]))
        seq = self._doc_seq(counters, unit, v.TAX_A, day.year)
        row = {
            **self._subject_fields("NS", subject, day, rng),
            "NS_PDND": str(year),
            "NS_WSH": f"{unit.short_name}A级〔{year}〕{seq}号",
            "NS_PJJG": unit.name,
            "NS_FBRQ": day.isoformat(),
            "NS_YXQZ": f"{year + 1}-12-31",  # valid until the next list is due
            "NS_SJLY": unit.name,
            "NS_SJLYDM": unit.uscc,
        }
        return self._finish(GeneratedRecord(v.TAX_A, unit, row, subject.index), rng)

    def _government_records(self, counters: dict[tuple[str, str, int], int]) -> Iterator[GeneratedRecord]:
        """政务失信记录 about a few of the departments themselves, reported by the 发展和改革委员会."""
        reporter = self._city_unit.get("development")
        if reporter is None:
            return
        rng = random.Random(self.seed * 7 + 3)
        for unit in self.units:
            if unit.department == "development" or rng.random() > 0.08:
                continue
            day = self._day(rng)
            kind, template = rng.choice(v.GOVERNMENT_CASES)
            facts = template.format(
                what=rng.choice(v.GOVERNMENT_WHAT), value=rng.randrange(50, 900) * 1000, days=rng.randrange(60, 400)
            )
            seq = self._doc_seq(counters, reporter, v.GOVERNMENT, day.year)
            row = {
                "ZW_XDR_MC": unit.name,
                "ZW_XDR_LB": SUBJECT_KIND_LABELS[SubjectKind.LEGAL_PERSON],
                "ZW_XDR_SHXYM": unit.uscc,
                "ZW_FRDB": person_name(rng),
                "ZW_SXLX": kind,
                "ZW_WSH": f"{reporter.short_name}政务失信〔{day.year}〕{seq}号",
                "ZW_SXSS": facts,
                "ZW_RDJG": reporter.name,
                "ZW_RDRQ": day.isoformat(),
                "ZW_SXCD": "一般",
                "ZW_SJLY": reporter.name,
                "ZW_SJLYDM": reporter.uscc,
            }
            yield GeneratedRecord(v.GOVERNMENT, reporter, row, -1)


def _penalty_depts(subject: SubjectProfile) -> tuple[tuple[str, float], ...]:
    industry = subject.industry or _SHOP
    return tuple((d, float(w)) for d, w in industry.penalties)


def _fit_categories(categories: tuple[str, ...], dept: v.Department) -> tuple[str, ...]:
    # Only a department that grants licences can revoke or suspend one; only housing grades qualifications.
    if ("05" in categories or "11" in categories) and not dept.licences:
        return ("02",)
    if "10" in categories and dept.key != "housing":
        return ("01", "02")
    return categories


def _licence_number(licence: v.LicenceType | None, unit: Unit, subject: SubjectProfile, seq: int, year: int) -> str:
    if licence is None or not licence.number:
        return ""
    return licence.number.format(region=unit.region, seq=seq, year=year, uscc=subject.uscc or "")


def _round_amount(yuan: float) -> int:
    step = 100 if yuan < 10_000 else 1000
    return max(step, round(yuan / step) * step)


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _drop_empty(row: dict[str, str]) -> dict[str, str]:
    return {k: val for k, val in row.items() if val != ""}


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 40:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def _fill(template: str, rng: random.Random, fine: int, day: dt.date) -> str:
    values: dict[str, object] = {}
    for name in _placeholders(template):
        values[name] = _placeholder_value(name, rng, fine, day)
    return template.format(**values)


def _placeholder_value(name: str, rng: random.Random, fine: int, day: dt.date) -> object:
    simple: dict[str, tuple[str, ...]] = {
        "place": v.PLACES,
        "goods": v.GOODS,
        "claim": v.CLAIMS,
        "material": v.MATERIALS,
        "waste": v.WASTES,
        "process": v.PROCESSES,
        "standard": v.STANDARDS,
        "hazard": v.HAZARDS,
        "chemical": v.CHEMICALS,
        "tax": v.TAXES,
        "road": v.ROADS,
        "street": v.STREETS,
        "work": v.WORKS,
        "role": v.ROLES,
        "project": v.PROJECTS,
        "area": v.AREAS,
        "place_in": v.AREAS,
    }
    if name in simple:
        return rng.choice(simple[name])
    if name == "value":
        return max(100, fine * rng.randrange(1, 5) // 2)
    if name == "gain":
        return max(100, fine // rng.randrange(2, 10))
    if name == "count":
        return rng.randrange(2, 30)
    if name == "times":
        return round(rng.uniform(0.2, 3.5), 1)
    if name == "tons":
        return rng.randrange(30, 80)
    if name == "over":
        return rng.randrange(3, 25)
    if name == "plate":
        return f"鲁C{rng.choice(v.PLATE_LETTERS)}{rng.randrange(10000, 99999)}"
    if name == "since":
        earlier = day - dt.timedelta(days=rng.randrange(10, 300))
        return f"{earlier.year}年{earlier.month}月{earlier.day}日"
    if name == "period":
        month = day.month - 1 or 12
        return f"{day.year if day.month > 1 else day.year - 1}年{month}月"
    return ""


_DATE_SUFFIXES = ("_JDRQ", "_YXQ", "_GSJZQ", "_YXQZ", "_YXQZI", "_LRRQ", "_YCRQ", "_FBRQ", "_RDRQ")


def _make_messy(record: GeneratedRecord, rng: random.Random) -> None:
    """Rewrite some values the way real department files carry them; each stays valid after normalisation."""
    row = record.fields
    for code, value in list(row.items()):
        if code.endswith(_DATE_SUFFIXES) and len(value) == 10 and value[4] == "-" and rng.random() < 0.6:
            day = dt.date.fromisoformat(value)
            row[code] = rng.choice(
                (f"{day.year}/{day.month}/{day.day}", f"{day:%Y%m%d}", f"{day.year}年{day.month}月{day.day}日")
            )
        elif code.endswith("_SHXYM") and rng.random() < 0.5:
            row[code] = rng.choice((value.translate(_FULL_WIDTH), f" {value.lower()} ", value[:8] + " " + value[8:]))
        elif code.endswith("_XDR_MC") and rng.random() < 0.3:
            row[code] = value.replace("（", "(").replace("）", ")") + "  "
        elif code in ("CF_NR_FK", "CF_NR_WFFF") and rng.random() < 0.5:
            row[code] = value.translate(_FULL_WIDTH)
