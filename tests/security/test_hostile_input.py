"""Hostile input, property by property: every parser, normaliser and validator that reads what a user or a department
sends either returns a value or raises the platform's own validation error with a Chinese message — never anything
else (which the app would turn into a 500). Normalisers are idempotent; parsers that have a written form round-trip
through it; text that reaches a LIKE pattern is escaped so a typed % or _ is a character, not a wildcard.

The value parsers of collection (dates, amounts, code lists), the USCC/ID checks and ``prepare`` have their own
properties in tests/ingest and tests/subjects; these cover the rest.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from tests import factories
from xinyong.accounts.service import parse_role
from xinyong.checks.upload import CODE_HEADERS, NAME_HEADERS, read_upload
from xinyong.core.errors import ConfigurationError, InvalidInput, TooLarge, XinyongError
from xinyong.core.text import clean, name_key, normalise_code, normalise_name
from xinyong.disclosure.rules import parse_rules
from xinyong.evaluation import spec as evaluation_spec
from xinyong.exchange import subscribers
from xinyong.portal.articles import parse_category
from xinyong.reports import service as reports
from xinyong.reports.domains import domain_catalog
from xinyong.rights.attachments import check_file
from xinyong.subjects import search
from xinyong.subjects.codes import id_number_error, mask_id_number, uscc_error

_CJK = re.compile("[\u4e00-\u9fff]")
# Any Unicode (surrogates excluded: they cannot reach us through UTF-8), plus text that looks like what people type.
ANY_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=60)
TYPED = st.text(alphabet="0123456789ABCXYZabc%_\\\"'*():-—，。、 　（）()有限公司淄博张三\x00\t\n", max_size=30)
TEXT = ANY_TEXT | TYPED
FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def chinese(exc: XinyongError) -> None:
    """The message a user sees names the problem in Chinese."""
    assert _CJK.search(exc.message), exc.message


def only_validation_error(call: Callable[[], Any], *allowed: type[XinyongError]) -> Any:
    try:
        return call()
    except allowed or (InvalidInput,) as exc:  # noqa: B030 - a tuple of exception classes either way
        chinese(exc)
        return None


# ---- text normalisers (core.text): idempotent, and what they produce is safe to store ----------------------------


@FAST
@given(text=TEXT)
def test_text_normalisers_are_idempotent_and_drop_control_characters(text: str) -> None:
    for normalise in (clean, normalise_code, normalise_name, name_key, reports.normalise_code):
        once = normalise(text)
        assert normalise(once) == once, normalise.__name__
        # NUL cannot be stored in PostgreSQL; no C0/C1 control character survives normalisation
        assert not re.search("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f]", once), (normalise.__name__, once)


# ---- codes (subjects.codes): validators answer with a reason, never an exception ---------------------------------


@FAST
@given(text=TEXT | st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXYIOSVZ", min_size=17, max_size=19))
def test_code_validators_give_a_chinese_reason_or_none(text: str) -> None:
    for validate in (uscc_error, id_number_error):
        reason = validate(text)
        assert reason is None or _CJK.search(reason), (validate.__name__, reason)
    masked = mask_id_number(text)
    assert isinstance(masked, str)


# ---- small code-list parsers: the documented error, with the choices in Chinese -----------------------------------


@FAST
@given(text=TEXT)
def test_enumeration_parsers_accept_a_choice_or_refuse_in_chinese(text: str) -> None:
    for parse in (parse_role, subscribers.parse_kind, parse_category, reports.parse_kind):
        only_validation_error(lambda parse=parse: parse(text))  # type: ignore[misc]


# ---- report parameters (reports.domains): keys or labels, comma lists, nothing else -------------------------------


@FAST
@given(keys=st.lists(TEXT | st.sampled_from(sorted(domain_catalog().domains)), max_size=4))
def test_report_domains_pick_known_ones_or_refuse(keys: list[str]) -> None:
    catalog = domain_catalog()
    chosen = only_validation_error(lambda: catalog.pick(keys))
    if chosen is not None:
        assert all(d in catalog.domains.values() for d in chosen)
        assert len({d.key for d in chosen}) == len(chosen)
        # picking again by the keys it chose gives the same domains (round trip through the keys)
        assert catalog.pick([d.key for d in chosen] or []) == (chosen or list(catalog.domains.values()))


@FAST
@given(code=st.text(alphabet="ABCDEFGHJKMNPQRSTUVWXYZ23456789", min_size=8, max_size=8), noise=st.sampled_from(
    ["", " ", "-", "　", "－"]))  # fmt: skip
def test_report_verification_code_normalises_back_from_its_printed_form(code: str, noise: str) -> None:
    printed = reports.format_code(code)
    assert reports.normalise_code(printed.replace("-", noise)) == code
    assert reports.normalise_code(printed.lower()) == code


# ---- batch-check upload parser (checks.upload) -------------------------------------------------------------------


@FAST
@given(
    filename=st.sampled_from(["a.csv", "a.txt", "a.xlsx", "a.xls", "a.pdf", "a", "A.CSV", ".csv", "a.csv.exe"]),
    content=st.binary(max_size=400)
    | TEXT.map(lambda t: t.encode("utf-8"))
    | TEXT.map(lambda t: ("统一社会信用代码,名称\n" + t).encode("gb18030")),
)
def test_check_upload_reads_rows_or_refuses_in_chinese(filename: str, content: bytes) -> None:
    rows = only_validation_error(lambda: read_upload(filename, content))
    if rows is not None:
        for row in rows:
            assert row.code or row.name
            assert row.code == clean(row.code) and row.name == clean(row.name)
            assert row.row_no >= 2


_CELL = st.text(alphabet=st.characters(codec="gb18030", exclude_characters="\r\n\x00"), max_size=20)


@FAST
@given(
    rows=st.lists(st.tuples(_CELL, _CELL), max_size=12),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]),
    code_header=st.sampled_from(sorted(CODE_HEADERS)),
    name_header=st.sampled_from(sorted(NAME_HEADERS)),
)
def test_check_upload_round_trips_a_written_csv(
    rows: list[tuple[str, str]], encoding: str, code_header: str, name_header: str
) -> None:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([code_header, name_header])
    writer.writerows(rows)
    content = out.getvalue().encode(encoding)
    if encoding == "gb18030":
        assume(not content.startswith(codecs.BOM_UTF8))
        try:  # a GB18030 file that happens to be valid UTF-8 is read as UTF-8 (as a person would expect)
            content.decode("utf-8")
            assume(all(c.isascii() for r in rows for cell in r for c in cell))
        except UnicodeDecodeError:
            pass
    read = read_upload("名单.csv", content)
    expected = [(n, clean(c), clean(m)) for n, (c, m) in enumerate(rows, start=2) if clean(c) or clean(m)]
    assert [(r.row_no, r.code, r.name) for r in read] == expected


def test_check_upload_with_a_giant_csv_field_is_refused_in_chinese() -> None:
    content = ("统一社会信用代码,名称\n" + "9" * 200_000 + ",甲\n").encode()
    with pytest.raises(InvalidInput) as caught:
        read_upload("a.csv", content)
    chinese(caught.value)


# ---- attachments (rights.attachments) ----------------------------------------------------------------------------


@FAST
@given(
    filename=TEXT | st.sampled_from(["证明.pdf", "a.PNG", "x.jpg", "../../etc/passwd.pdf", "a.exe", "", ".pdf"]),
    content=st.binary(max_size=64) | st.sampled_from([b"%PDF-1.7\n", b"\x89PNG\r\n\x1a\n....", b"\xff\xd8\xff\xe0"]),
)
def test_attachment_check_accepts_only_allowed_types_whose_content_matches(filename: str, content: bytes) -> None:
    ext = only_validation_error(lambda: check_file(filename, content), InvalidInput, TooLarge)
    if ext is not None:
        assert ext in ("pdf", "png", "jpg", "jpeg")
        magic = {"pdf": b"%PDF-", "png": b"\x89PNG", "jpg": b"\xff\xd8\xff", "jpeg": b"\xff\xd8\xff"}[ext]
        assert content.startswith(magic)


# ---- webhook URL validation (exchange.subscribers) ---------------------------------------------------------------

_HOSTS = st.sampled_from(
    ["example.org", "127.0.0.1", "10.0.0.8", "192.168.1.1", "169.254.169.254", "[::1]", "[fe80::1]", "0.0.0.0",
     "[::ffff:10.0.0.1]", "224.0.0.1", "8.8.8.8", "[2001:4860::8888]", "", "[", "a b", "127.1", "localhost"]
)  # fmt: skip
_URLS = st.builds(
    lambda scheme, host, port, path: f"{scheme}://{host}{port}{path}",
    st.sampled_from(["https", "http", "ftp", "javascript", "HTTPS", ""]),
    _HOSTS,
    st.sampled_from(["", ":443", ":0", ":99999", ":-1", ":abc", ":"]),
    st.sampled_from(["", "/", "/hook?x=1", "/%00", "#frag"]),
)


@FAST
@given(url=_URLS | TEXT)
def test_webhook_url_validation_answers_with_a_chinese_reason(url: str) -> None:
    problem = subscribers.endpoint_problem(url, resolve=False)
    assert problem is None or _CJK.search(problem), problem
    if problem is None:
        # only https, or http to the loopback interface in development
        assert url.lower().startswith("https://") or re.match(r"(?i)http://(127\.|\[::1\])", url), url


@FAST
@given(host=st.sampled_from(["10.0.0.8", "192.168.1.1", "169.254.169.254", "[fe80::1]", "0.0.0.0", "172.16.5.4",
                             "[::ffff:10.0.0.1]", "[fd00::1]", "224.0.0.1"]))  # fmt: skip
def test_webhook_urls_to_private_addresses_are_always_refused(host: str) -> None:
    assert subscribers.endpoint_problem(f"https://{host}/hook", resolve=False) is not None


# ---- configuration files read from YAML: only a configuration/validation error --------------------------------------

_JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5000) | st.floats(allow_nan=True) | TYPED,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TYPED | st.sampled_from(
        ["default_severity", "minor", "general", "serious", "min_months", "max_months", "dimensions", "grades",
         "indicators", "code", "name", "weight", "overrides", "resources"]), inner, max_size=5),
    max_leaves=20,
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(raw=_JSONISH)
def test_configuration_parsers_refuse_nonsense_with_their_own_error(raw: Any) -> None:
    only_validation_error(lambda: evaluation_spec.parse(raw), InvalidInput)
    if isinstance(raw, dict):
        only_validation_error(lambda: parse_rules(raw), ConfigurationError)


# ---- search query normalisation (subjects.search, the portal and the API) ----------------------------------------


@FAST
@given(term=TEXT.filter(lambda t: t != ""))
def test_like_escape_matches_the_term_literally(term: str) -> None:
    escaped = search._like_escape(term)
    pattern = re.escape("%") + "|" + re.escape("_")
    # every % and _ left in the pattern is preceded by the escape character
    stripped = escaped.replace("\\\\", "")
    assert not re.search(rf"(?<!\\)({pattern})", stripped), escaped


@pytest.fixture
def searchable(session: Session) -> Session:
    for name in ("淄博100%纯净水有限公司", "淄博_下划线有限公司", "张店区甲乙丙商店", 'x"y有限公司'):
        factories.subject(session, name=name)
    return session


@FAST
@given(q=TEXT)
def test_search_never_fails_whatever_the_query(searchable: Session, q: str) -> None:
    result = search.search(session=searchable, q=q[:100])
    assert result.total >= len(result.items)
    assert result.terms == [t for t in normalise_name(q[:100]).split(" ") if t]


@pytest.mark.parametrize(("q", "expected"), [("100%", ["淄博100%纯净水有限公司"]), ("%", ["淄博100%纯净水有限公司"]),
                                             ("_", ["淄博_下划线有限公司"]), ('"y', ['x"y有限公司'])])  # fmt: skip
def test_search_wildcards_are_literal(searchable: Session, q: str, expected: list[str]) -> None:
    result = search.search(session=searchable, q=q)
    assert [hit.subject.name for hit in result.items] == expected


def test_like_escaping_agrees_with_the_database(searchable: Session) -> None:
    """The escape the code writes is the escape the database reads (both engines)."""
    for term in ("100%", "_", "a\\b", "%_%"):
        pattern = f"%{search._like_escape(term)}%"
        hit = searchable.scalar(sa.select(sa.literal(f"x{term}y").like(pattern, escape="\\")))
        miss = searchable.scalar(sa.select(sa.literal("xzzzy").like(pattern, escape="\\")))
        assert hit and not miss, term
