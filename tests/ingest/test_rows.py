"""open_rows: every format and encoding departments send, header mapping, row numbering, and the file-level errors."""

from __future__ import annotations

import datetime as dt
import json
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import Workbook

from tests.ingest.fixtures import (
    LICENSE,
    columns,
    individual_business_row,
    natural_person_penalty_row,
    spec,
    valid_license_row,
    valid_penalty_row,
    write_csv,
    write_json,
    write_jsonl,
    write_xls,
    write_xlsx,
)
from xinyong.core.errors import InvalidInput
from xinyong.ingest import rows as rows_module
from xinyong.ingest.prepare import prepare_row
from xinyong.ingest.rows import open_rows, rows_from_objects
from xinyong.ingest.types import PreparedRow, RawRow, SourceInfo

TODAY = dt.date(2026, 6, 15)


def mixed_rows() -> list[dict[str, str]]:
    return [
        valid_penalty_row(1),
        natural_person_penalty_row(2),
        individual_business_row(3, CF_SY='第一行事实\r\n第二行，含逗号, 和"引号"'),
        valid_penalty_row(4, CF_CFLB="警告;罚款"),
    ]


def read(path: Path, resource: str = "administrative_penalty", **kwargs: str) -> tuple[SourceInfo, list[RawRow]]:
    info, rows = open_rows(path, spec(resource), **kwargs)  # type: ignore[arg-type]
    return info, list(rows)


def assert_all_accepted(
    raw_rows: list[RawRow], expected: list[dict[str, str]], resource: str = "administrative_penalty"
):
    """Every row survives the round trip file → RawRow → PreparedRow with the same document number and subject name."""
    assert len(raw_rows) == len(expected)
    for raw, row in zip(raw_rows, expected, strict=True):
        prepared = prepare_row(spec(resource), raw, today=TODAY)
        assert isinstance(prepared, PreparedRow), (raw.row_no, prepared)
        doc_field = spec(resource).role("doc_no")
        assert prepared.doc_no == row[doc_field]  # type: ignore[index]
        assert prepared.subject.name == next(v for k, v in row.items() if k.endswith("_XDR_MC"))


# -- CSV encodings ----------------------------------------------------------------------------------------------------


def test_gb18030_csv_with_chinese_headers_and_crlf(tmp_path: Path) -> None:
    data = mixed_rows()
    path = write_csv(tmp_path / "处罚.csv", data, encoding="gb18030", headers="names", crlf=True)
    assert b"\r\n" in path.read_bytes()
    info, raw = read(path)
    assert info.format == "csv"
    assert info.encoding == "gb18030"
    assert info.headers[:3] == ("行政相对人名称", "行政相对人类别", "统一社会信用代码")
    assert info.field_codes[:3] == ("CF_XDR_MC", "CF_XDR_LB", "CF_XDR_SHXYM")
    assert [r.row_no for r in raw] == [2, 3, 4, 5]
    assert raw[2].fields["CF_SY"] == '第一行事实\r\n第二行，含逗号, 和"引号"'
    assert raw[0].values["行政相对人名称"] == data[0]["CF_XDR_MC"]
    assert_all_accepted(raw, data)


def test_gbk_csv_is_read_as_gb18030(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "gbk.csv", mixed_rows(), encoding="gbk", headers="names")
    info, raw = read(path)
    assert info.encoding == "gb18030"
    assert_all_accepted(raw, mixed_rows())


def test_gb18030_characters_outside_gbk(tmp_path: Path) -> None:
    # 𠮷 (U+20BB7) and 䶮 exist only in GB18030's four-byte range; a GBK decoder would fail on them.
    data = [valid_penalty_row(1, CF_XDR_MC="淄博𠮷祥䶮化工有限公司")]
    path = write_csv(tmp_path / "gb18030.csv", data, encoding="gb18030", headers="names")
    info, raw = read(path)
    assert info.encoding == "gb18030"
    assert raw[0].fields["CF_XDR_MC"] == "淄博𠮷祥䶮化工有限公司"


def test_utf8_bom_csv_with_field_codes(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "bom.csv", mixed_rows(), bom=True)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    info, raw = read(path)
    assert info.encoding == "utf-8-sig"
    assert info.headers[0] == "CF_XDR_MC"  # no BOM left on the first header
    assert_all_accepted(raw, mixed_rows())


def test_plain_utf8_csv(tmp_path: Path) -> None:
    info, raw = read(write_csv(tmp_path / "utf8.csv", mixed_rows()))
    assert info.encoding == "utf-8"
    assert_all_accepted(raw, mixed_rows())


def test_utf16_tab_separated_text(tmp_path: Path) -> None:
    # Excel's "Unicode text" export: UTF-16 with BOM, tab separated, .txt.
    path = write_csv(tmp_path / "unicode.txt", mixed_rows(), encoding="utf-16", delimiter="\t", crlf=True)
    info, raw = read(path)
    assert info.encoding == "utf-16"
    assert_all_accepted(raw, mixed_rows())


def _ascii_then(tail: str, encoding: str, tmp_path: Path) -> Path:
    """A file whose first ~200 KB is plain ASCII and whose last row alone holds Chinese in ``encoding``."""
    head_row = valid_penalty_row(0)
    ascii_row = {k: (v if v.isascii() else "x") for k, v in head_row.items()}
    cols = list(head_row)
    lines = [",".join(cols)] + [",".join(ascii_row[c] for c in cols)] * 1500
    last = dict(head_row, CF_XDR_MC=tail)
    lines.append(",".join(last[c] for c in cols))
    path = tmp_path / f"late-{encoding}.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    assert path.stat().st_size > 128 * 1024
    return path


def test_encoding_is_decided_on_the_whole_file_not_a_sample(tmp_path: Path) -> None:
    info, raw = read(_ascii_then("淄博后来化工有限公司", "gbk", tmp_path))
    assert info.encoding == "gb18030"
    assert raw[-1].fields["CF_XDR_MC"] == "淄博后来化工有限公司"
    info, raw = read(_ascii_then("淄博后来化工有限公司", "utf-8", tmp_path))
    assert info.encoding == "utf-8"
    assert raw[-1].fields["CF_XDR_MC"] == "淄博后来化工有限公司"


def test_undecodable_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(b"CF_WSH,CF_XDR_MC\n\x81\x20\xff\xff\n")
    with pytest.raises(InvalidInput, match="无法识别文件编码"):
        open_rows(path, spec())


# -- CSV shape -----------------------------------------------------------------------------------------------------


def test_header_variants_map_to_fields(tmp_path: Path) -> None:
    data = [valid_penalty_row(1)]
    names = {f.code: f.name for f in spec().fields}
    cols = columns(data)
    headers = []
    for i, code in enumerate(cols):
        if i % 3 == 0:
            headers.append(code.lower())  # codes in any case
        elif i % 3 == 1:
            headers.append(" *" + names[code] + " ")  # required mark and blanks
        else:
            headers.append("".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in code))
    path = tmp_path / "headers.csv"
    path.write_text(",".join(headers) + "\n" + ",".join(data[0][c] for c in cols) + "\n", encoding="utf-8")
    info, raw = read(path)
    assert info.field_codes == tuple(cols)
    assert info.headers[1] == "*" + names[cols[1]]
    assert raw[0].fields == data[0]


def test_unknown_headers_are_kept_but_not_fields(tmp_path: Path) -> None:
    data = [dict(valid_penalty_row(1), 内部编号="A-001")]
    info, raw = read(write_csv(tmp_path / "extra.csv", data))
    assert info.headers[-1] == "内部编号"
    assert info.field_codes[-1] is None
    assert raw[0].values["内部编号"] == "A-001"
    assert "内部编号" not in raw[0].fields


def test_title_row_blank_rows_short_and_long_rows(tmp_path: Path) -> None:
    data = [valid_penalty_row(i) for i in range(3)]
    cols = columns(data)
    lines = [
        "淄博市生态环境局行政处罚信息表" + "," * (len(cols) - 1),  # row 1: a title
        ",".join(cols),  # row 2: the header
        ",".join(data[0][c] for c in cols),  # row 3
        "",  # row 4: blank
        "," * (len(cols) - 1),  # row 5: only separators
        ",".join(data[1][c] for c in cols[:-2]),  # row 6: two cells short
        ",".join(data[2][c] for c in cols) + ",多出来的,,",  # row 7: one extra non-empty cell
    ]
    path = tmp_path / "shape.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    info, raw = read(path)
    assert info.field_codes == tuple(cols)
    assert [r.row_no for r in raw] == [3, 6, 7]
    assert raw[1].fields[cols[-1]] == ""
    assert raw[0].problems == () and raw[1].problems == ()
    [extra] = raw[2].problems
    assert extra.field == ""
    assert extra.message.startswith(f"本行有 {len(cols) + 1} 个单元格，多于表头的 {len(cols)} 列")
    assert isinstance(prepare_row(spec(), raw[2], today=TODAY), list)


def test_trailing_empty_header_columns_are_dropped(tmp_path: Path) -> None:
    data = [valid_penalty_row(1)]
    cols = columns(data)
    path = tmp_path / "trailing.csv"
    path.write_text(",".join(cols) + ",,\n" + ",".join(data[0][c] for c in cols) + ",,\n", encoding="utf-8")
    info, raw = read(path)
    assert len(info.headers) == len(cols)
    assert raw[0].problems == ()


def test_tab_separated_csv(tmp_path: Path) -> None:
    info, raw = read(write_csv(tmp_path / "tabs.txt", mixed_rows(), delimiter="\t"))
    assert info.format == "csv"
    assert_all_accepted(raw, mixed_rows())


# -- file-level errors ---------------------------------------------------------------------------------------------


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(InvalidInput, match="文件为空"):
        open_rows(path, spec())
    path.write_text("\n\n ,,\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="文件为空"):
        open_rows(path, spec())


def test_header_only_file(tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_text(",".join(valid_penalty_row(1)) + "\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="文件只有表头，没有数据行"):
        open_rows(path, spec())


def test_file_of_another_resource_is_refused(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "licences.csv", [valid_license_row(1)], headers="names")
    with pytest.raises(InvalidInput) as caught:
        open_rows(path, spec())
    # The subject columns share their Chinese names across resources; the others are missing.
    assert caught.value.message.startswith("表头缺少必填字段 CF_WSH（行政处罚决定书文号）、CF_WFXW（违法行为类型）")
    assert caught.value.message.endswith("请确认文件与信息资源“行政处罚信息”相符")


def test_unrecognised_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("编号,名称,金额\n1,甲,2\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        open_rows(path, spec())
    assert caught.value.message.startswith(
        "无法识别表头：缺少必填字段 CF_XDR_MC（行政相对人名称）、CF_XDR_LB（行政相对人类别）、CF_WSH（"
    )


def test_missing_required_column_is_refused(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "no-doc.csv", [valid_penalty_row(1, CF_WSH=None, CF_JDRQ=None)])
    with pytest.raises(InvalidInput) as caught:
        open_rows(path, spec())
    assert caught.value.message == "表头缺少必填字段 CF_WSH（行政处罚决定书文号）、CF_JDRQ（处罚决定日期）"


def test_one_field_under_two_headers_is_refused(tmp_path: Path) -> None:
    row = valid_penalty_row(1)
    path = tmp_path / "dup.csv"
    path.write_text(
        ",".join([*row, "行政处罚决定书文号"]) + "\n" + ",".join([*row.values(), "x"]) + "\n", encoding="utf-8"
    )
    with pytest.raises(InvalidInput) as caught:
        open_rows(path, spec())
    assert caught.value.message == (
        f"表头重复：第 5 列“CF_WSH”与第 {len(row) + 1} 列“行政处罚决定书文号”都对应字段 CF_WSH（行政处罚决定书文号）"
    )


@pytest.mark.parametrize("suffix", [".xlsx", ".xls"])
def test_corrupt_excel_file(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"broken{suffix}"
    path.write_bytes(b"PK\x03\x04" + b"\x00garbage" * 50 if suffix == ".xlsx" else b"\x00\x01garbage" * 50)
    with pytest.raises(InvalidInput, match="Excel"):
        open_rows(path, spec())


def test_html_saved_as_xls_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "export.xls"
    path.write_text("<html><table><tr><td>CF_WSH</td></tr></table></html>", encoding="utf-8")
    with pytest.raises(InvalidInput, match="网页（HTML）"):
        open_rows(path, spec())


def test_csv_with_nul_bytes_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "nul.csv"
    row = valid_penalty_row(1)
    path.write_text(",".join(row) + "\n" + ",".join(row.values()) + "\n" + "a\x00b\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="空字符"):
        open_rows(path, spec())


def test_unknown_format_is_refused(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", [valid_penalty_row(1)])
    with pytest.raises(InvalidInput, match="不支持的文件格式"):
        open_rows(path, spec(), format="pdf")


# -- Excel ---------------------------------------------------------------------------------------------------------


def test_xlsx_with_real_date_cells_and_chinese_headers(tmp_path: Path) -> None:
    data = mixed_rows()
    path = write_xlsx(tmp_path / "处罚.xlsx", data, headers="names", date_cells=True)
    info, raw = read(path)
    assert info.format == "xlsx"
    assert info.encoding is None
    assert [r.row_no for r in raw] == [2, 3, 4, 5]
    assert raw[0].fields["CF_JDRQ"] == data[0]["CF_JDRQ"]  # a date cell comes back as ISO text
    assert_all_accepted(raw, data)


def test_xlsx_numbers_never_become_floats(tmp_path: Path) -> None:
    data = [
        valid_penalty_row(1, CF_WSH=123, CF_NR_FK=2.0, CF_XDR_GSZC=370303600000064),  # type: ignore[arg-type]
        valid_penalty_row(2, CF_NR_FK=1.25, CF_JDRQ=45721, CF_YXQ=46086.0),  # type: ignore[arg-type]
    ]
    _, raw = read(write_xlsx(tmp_path / "numbers.xlsx", data))
    assert raw[0].fields["CF_WSH"] == "123"
    assert raw[0].fields["CF_NR_FK"] == "2"
    assert raw[0].fields["CF_XDR_GSZC"] == "370303600000064"
    assert raw[1].fields["CF_NR_FK"] == "1.25"
    assert raw[1].fields["CF_JDRQ"] == "45721"  # an unformatted serial: text of the number, read as a date later
    prepared = prepare_row(spec(), raw[1], today=TODAY)
    assert isinstance(prepared, PreparedRow)
    assert prepared.decision_date == dt.date(2025, 3, 5)
    assert prepared.valid_to == dt.date(2026, 3, 5)


def test_xlsx_rows_are_numbered_like_the_spreadsheet(tmp_path: Path) -> None:
    data = [valid_penalty_row(i) for i in range(3)]
    cols = columns(data)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.cell(row=3, column=1, value="行政处罚信息表")  # rows 1–2 empty, a title in row 3
    for j, code in enumerate(cols, start=1):
        sheet.cell(row=4, column=j, value=code)
    for i, row_no in enumerate((5, 8, 9)):  # rows 6 and 7 empty
        for j, code in enumerate(cols, start=1):
            sheet.cell(row=row_no, column=j, value=data[i][code])
    path = tmp_path / "gaps.xlsx"
    book.save(path)
    _, raw = read(path)
    assert [r.row_no for r in raw] == [5, 8, 9]


def test_xls(tmp_path: Path) -> None:
    data = mixed_rows()
    info, raw = read(write_xls(tmp_path / "old.xls", data, headers="names", date_cells=True))
    assert info.format == "xls"
    assert raw[0].fields["CF_JDRQ"] == data[0]["CF_JDRQ"]
    assert_all_accepted(raw, data)


def test_excel_file_with_the_wrong_extension(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "really-xlsx.xls", mixed_rows())
    info, raw = read(path)
    assert info.format == "xlsx"
    assert_all_accepted(raw, mixed_rows())


def test_format_is_sniffed_without_an_extension(tmp_path: Path) -> None:
    xlsx = write_xlsx(tmp_path / "upload", mixed_rows())
    assert read(xlsx)[0].format == "xlsx"
    js = write_json(tmp_path / "upload2", mixed_rows())
    assert read(js)[0].format == "json"


def test_licence_xlsx(tmp_path: Path) -> None:
    data = [valid_license_row(i) for i in range(3)]
    _, raw = read(write_xlsx(tmp_path / "xk.xlsx", data, headers="names", date_cells=True), LICENSE)
    assert_all_accepted(raw, data, LICENSE)


# -- JSON ----------------------------------------------------------------------------------------------------------


def test_json_array_with_codes(tmp_path: Path) -> None:
    info, raw = read(write_json(tmp_path / "rows.json", mixed_rows()))
    assert info.format == "json"
    assert [r.row_no for r in raw] == [1, 2, 3, 4]
    assert_all_accepted(raw, mixed_rows())


def test_jsonl_with_chinese_keys_and_blank_lines(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "rows.jsonl", mixed_rows(), headers="names")
    path.write_text(path.read_text(encoding="utf-8").replace("\n", "\n\n", 1), encoding="utf-8")
    info, raw = read(path)
    assert info.format == "jsonl"
    assert [r.row_no for r in raw] == [1, 3, 4, 5]  # line numbers
    assert_all_accepted(raw, mixed_rows())


def test_json_values_that_are_not_strings(tmp_path: Path) -> None:
    item = dict(valid_penalty_row(1), CF_NR_FK=2.0, CF_WSH=123, CF_CFLB=["01", "02"], BZ=None, CF_XDR_SWDJ=1.5)
    _, raw = read(write_json(tmp_path / "typed.json", [item]))
    fields = raw[0].fields
    assert (fields["CF_NR_FK"], fields["CF_WSH"], fields["CF_CFLB"], fields["BZ"]) == ("2", "123", "01;02", "")
    assert fields["CF_XDR_SWDJ"] == "1.5"


def test_json_split_across_read_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rows_module, "_CHUNK", 37)  # forces objects, strings and numbers to straddle chunks
    data = [dict(valid_penalty_row(i), CF_NR_FK=12345.5) for i in range(20)]
    _, raw = read(write_json(tmp_path / "chunks.json", data))
    assert [r.fields["CF_WSH"] for r in raw] == [d["CF_WSH"] for d in data]
    assert {r.fields["CF_NR_FK"] for r in raw} == {"12345.5"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"CF_WSH": "1"}', "JSON 文件应为对象数组"),
        ("[1, 2]", "JSON 中的每一条数据应为对象"),
        ('[{"CF_WSH": "x"', "JSON 格式错误"),
        ("[]", "文件中没有数据"),
        (json.dumps([valid_penalty_row(1)])[:-1] + ', {"CF_WSH": ', "JSON 格式错误（第 2 条附近）"),
    ],
)
def test_bad_json(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInput, match=message):
        _, rows = open_rows(path, spec())
        list(rows)


def test_json_object_not_array_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "obj.json"
    path.write_text(json.dumps({"rows": [valid_penalty_row(1)]}), encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"JSON 文件应为对象数组"):
        open_rows(path, spec(), format="json")


def test_json_field_given_twice_rejects_the_row() -> None:
    row = valid_penalty_row(1)
    _, rows = rows_from_objects(spec(), [row, dict(row, 行政处罚决定书文号="x")])
    first, second = list(rows)
    assert first.problems == ()
    assert [p.field for p in second.problems] == ["CF_WSH"]
    assert "出现了两次" in second.problems[0].message


def test_json_object_lacking_a_required_key_rejects_that_row_not_the_batch() -> None:
    """Found by the soak: a bad first object made the whole HTTP batch a 422 "表头缺少必填字段"."""
    good = valid_penalty_row(2)
    bad = {k: v for k, v in valid_penalty_row(1).items() if k != "CF_WSH"}
    _, rows = rows_from_objects(spec(), [bad, good])
    first, second = list(rows)
    problems = prepare_row(spec(), first, today=TODAY)
    assert isinstance(problems, list) and [p.field for p in problems] == ["CF_WSH"]
    assert isinstance(prepare_row(spec(), second, today=TODAY), PreparedRow)


def test_json_of_another_resource_is_refused_as_a_whole() -> None:
    with pytest.raises(InvalidInput, match="请确认文件与信息资源“行政处罚信息”相符"):
        rows_from_objects(spec(), [valid_license_row(1)])


def test_json_objects_may_each_spell_their_keys_their_own_way(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each key's field is worked out once per file (``_keyed_rows``): a later object that writes the same field
    another way (code, Chinese name, a required mark), or keys beyond those remembered, is still read right."""
    monkeypatch.setattr(rows_module, "_KEYS_REMEMBERED", 40)
    names = {f.code: f.name for f in spec().fields}
    objects = []
    for i, spelling in enumerate(["code", "name", "marked", "code", "name"], start=1):
        row = valid_penalty_row(i)
        if spelling == "name":
            row = {names[k]: v for k, v in row.items()}
        elif spelling == "marked":
            row = {f"*{names[k]}（必填）": v for k, v in row.items()}
        objects.append(row | {f"备注{i}_{n}": "x" for n in range(30)})  # unknown keys, 150 in all: ignored
    _, rows = rows_from_objects(spec(), objects)
    read = list(rows)
    assert [r.problems for r in read] == [()] * 5
    assert [r.fields for r in read] == [{k: str(v) for k, v in valid_penalty_row(i).items()} for i in range(1, 6)]


def test_rows_from_objects_for_the_http_body() -> None:
    info, rows = rows_from_objects(spec(), mixed_rows())
    assert info.format == "json"
    assert_all_accepted(list(rows), mixed_rows())


# -- streaming -----------------------------------------------------------------------------------------------------


def _peak_while_reading(path: Path) -> tuple[int, int]:
    tracemalloc.start()
    try:
        _, rows = open_rows(path, spec())
        count = sum(1 for _ in rows)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return count, peak


@pytest.mark.parametrize("writer", [write_csv, write_jsonl, write_json])
def test_reading_is_streamed_with_bounded_memory(tmp_path: Path, writer: Callable[..., Path]) -> None:
    """Memory while reading does not grow with the file: four times the rows, (about) the same peak."""
    base = [valid_penalty_row(i) for i in range(250)]
    small = writer(tmp_path / "small", base * 4)
    large = writer(tmp_path / "large", base * 16)
    assert large.stat().st_size > 3 * small.stat().st_size
    small_count, small_peak = _peak_while_reading(small)
    large_count, large_peak = _peak_while_reading(large)
    assert (small_count, large_count) == (1000, 4000)
    assert large_peak < small_peak * 1.3 + 100_000, (small_peak, large_peak)


def test_only_the_first_sheet_is_read(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "with-notes.xlsx", mixed_rows(), leading_sheets=["填报说明"])
    with pytest.raises(InvalidInput, match="文件为空"):
        open_rows(path, spec())
