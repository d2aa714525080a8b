"""The rejects file: the rows a unit must fix, in the format it sent, with a reason column it can read.

Rebuilt from the quarantine table at the end of every run (so it is complete after a resume too): the original
values under the original headers, plus ``错误原因`` with every reason rendered as ``第 12 行 CF_XDR_SHXYM：…``.
CSV keeps the input's encoding (GBK is written as its superset GB18030) and CRLF line ends, as Excel expects; XLSX and
XLS input both come back as XLSX (nothing maintained can write the old XLS format); JSON and JSON Lines come back as
the same, each object with the reason added.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import cast

import orjson
import sqlalchemy as sa
from sqlalchemy.orm import Session

from xinyong.core.crypto import decrypt
from xinyong.ingest.faults import Fault
from xinyong.ingest.models import QuarantinedRow
from xinyong.ingest.types import Problem

REASON_COLUMN = "错误原因"
_EXTENSIONS = {"csv": "csv", "xlsx": "xlsx", "xls": "xlsx", "json": "json", "jsonl": "jsonl"}
_quarantine = cast(sa.Table, QuarantinedRow.__table__)


def output_extension(file_format: str) -> str:
    return _EXTENSIONS.get(file_format, "csv")


def path_next_to(source: Path) -> Path:
    """``penalties.csv`` → ``penalties.rejects.csv`` (``.xls`` → ``.rejects.xlsx``)."""
    fmt = source.suffix.lower().lstrip(".")
    fmt = "csv" if fmt == "txt" else fmt
    return source.with_name(f"{source.stem}.rejects.{output_extension(fmt)}")


def _rows(session: Session, batch_id: str, fault: Fault | None = None) -> Iterator[tuple[dict[str, str], str]]:
    """(original values, rendered reasons) of every quarantined row, in file order."""
    query = (
        sa.select(_quarantine.c.row_no, _quarantine.c.raw_cipher, _quarantine.c.reasons)
        .where(_quarantine.c.batch_id == batch_id)
        .order_by(_quarantine.c.row_no)
        .execution_options(yield_per=2000)
    )
    for written, (row_no, cipher, reasons) in enumerate(session.execute(query)):
        if fault is not None:
            fault("rejects_row", written)
        values = orjson.loads(decrypt(cipher))
        text = "；".join(Problem(r["field"], r["message"]).render(row_no) for r in reasons)
        yield values, text


def write_rejects(
    *,
    session: Session,
    batch_id: str,
    file_format: str,
    encoding: str | None,
    headers: Sequence[str],
    path: Path,
    fault: Fault | None = None,
) -> Path | None:
    """Write the rejects file of ``batch_id`` to ``path``; None (and no file) when nothing was rejected.

    ``headers``: the input's header line, for the column order (empty: taken from the quarantined rows).
    """
    has_rows = session.execute(sa.select(_quarantine.c.id).where(_quarantine.c.batch_id == batch_id).limit(1)).first()
    if has_rows is None:
        path.unlink(missing_ok=True)
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    columns = [h for h in headers if h != REASON_COLUMN]
    if not columns:
        # Rebuilt without the file's header line (a later download): the keys of the rows, in order of appearance.
        seen: dict[str, None] = {}
        for values, _ in _rows(session, batch_id):
            seen.update(dict.fromkeys(values))
        columns = [c for c in seen if c != REASON_COLUMN]
    rows = _rows(session, batch_id, fault)
    if file_format == "csv":
        _write_csv(partial, rows, columns, encoding)
    elif file_format in ("xlsx", "xls"):
        _write_xlsx(partial, rows, columns)
    elif file_format == "json":
        _write_json(partial, rows)
    elif file_format == "jsonl":
        _write_jsonl(partial, rows)
    else:
        raise ValueError(f"unknown format {file_format}")
    # Written aside and renamed only once complete and on disk: a crash half-way leaves the previous file (or none),
    # never a truncated one under the real name; the next run writes it again from the quarantine table.
    with partial.open("rb") as fh:
        os.fsync(fh.fileno())
    os.replace(partial, path)
    return path


def _csv_encoding(encoding: str | None) -> str:
    if not encoding:
        return "utf-8-sig"
    normal = encoding.lower().replace("_", "-")
    # GB18030 is a superset of GBK and GB2312 that encodes every character a reason may hold.
    return "gb18030" if normal in ("gbk", "gb2312", "cp936", "gb18030") else encoding


def _write_csv(
    path: Path, rows: Iterator[tuple[dict[str, str], str]], columns: list[str], encoding: str | None
) -> None:
    with path.open("w", encoding=_csv_encoding(encoding), errors="replace", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow([*columns, REASON_COLUMN])
        for values, reason in rows:
            writer.writerow([*(values.get(c, "") for c in columns), reason])


def _write_xlsx(path: Path, rows: Iterator[tuple[dict[str, str], str]], columns: list[str]) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("拒收数据")
    sheet.append([*columns, REASON_COLUMN])
    for values, reason in rows:
        sheet.append([*(values.get(c, "") for c in columns), reason])
    book.save(str(path))


def _write_json(path: Path, rows: Iterator[tuple[dict[str, str], str]]) -> None:
    with path.open("wb") as fh:
        fh.write(b"[\n")
        for i, (values, reason) in enumerate(rows):
            if i:
                fh.write(b",\n")
            fh.write(orjson.dumps({**values, REASON_COLUMN: reason}))
        fh.write(b"\n]\n")


def _write_jsonl(path: Path, rows: Iterator[tuple[dict[str, str], str]]) -> None:
    with path.open("wb") as fh:
        for values, reason in rows:
            fh.write(orjson.dumps({**values, REASON_COLUMN: reason}) + b"\n")
