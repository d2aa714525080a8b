"""Write generated records as department files: CSV (UTF-8 or GB18030, CRLF, like Excel) or JSON Lines.

Streaming: rows go straight to their file; memory holds only the open file handles. Files are split by resource, or by
resource and source unit (what each department would send on its own). With many units the number of open handles is
capped: the least recently used file is closed and reopened for appending when its next row comes.
"""

from __future__ import annotations

import csv
import json
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from xinyong.catalog.service import builtin_specs
from xinyong.demo.generator import GeneratedRecord, Unit

Format = Literal["csv", "jsonl"]
Headers = Literal["codes", "names"]
MAX_OPEN_FILES = 64


@dataclass(frozen=True)
class DataFile:
    """One written file: which resource it holds and, when split by unit, which unit sends it."""

    path: Path
    resource: str
    unit_uscc: str | None
    rows: int


def field_codes(resource: str) -> list[str]:
    """The resource's columns in catalog order: the header of its files."""
    return [f.code for f in builtin_specs()[resource].fields]


@dataclass
class _Open:
    handle: IO[str]
    writer: Any  # a csv writer; None for JSON Lines
    rows: int = 0


@dataclass
class DatasetWriter:
    out: Path
    fmt: Format = "csv"
    encoding: str = "utf-8"
    headers: Headers = "codes"
    per_unit: bool = False
    _open: OrderedDict[tuple[str, str | None], _Open] = field(default_factory=OrderedDict)
    _rows: dict[tuple[str, str | None], int] = field(default_factory=dict)
    _paths: dict[tuple[str, str | None], Path] = field(default_factory=dict)
    _columns: dict[str, list[str]] = field(default_factory=dict)

    def path_for(self, resource: str, unit: Unit | None) -> Path:
        suffix = "csv" if self.fmt == "csv" else "jsonl"
        if unit is None:
            return self.out / f"{resource}.{suffix}"
        return self.out / resource / f"{unit.uscc}.{suffix}"

    def write(self, record: GeneratedRecord) -> None:
        unit_key = record.unit.uscc if self.per_unit else None
        key = (record.resource, unit_key)
        entry = self._open.get(key)
        if entry is None:
            entry = self._start(record.resource, record.unit if self.per_unit else None)
            self._open[key] = entry
            if len(self._open) > MAX_OPEN_FILES:
                _, oldest = self._open.popitem(last=False)
                oldest.handle.close()
        else:
            self._open.move_to_end(key)
        columns = self._columns[record.resource]
        if entry.writer is not None:
            entry.writer.writerow([record.fields.get(c, "") for c in columns])
        else:
            entry.handle.write(json.dumps(record.fields, ensure_ascii=False) + "\n")
        self._rows[key] = self._rows.get(key, 0) + 1

    def _start(self, resource: str, unit: Unit | None) -> _Open:
        path = self.path_for(resource, unit)
        key = (resource, unit.uscc if unit else None)
        self._paths[key] = path
        first = key not in self._rows
        if resource not in self._columns:
            self._columns[resource] = field_codes(resource)
        path.parent.mkdir(parents=True, exist_ok=True)
        # newline="" lets the csv module write CRLF line ends, as Excel and most department tools do.
        handle = path.open("w" if first else "a", encoding=self.encoding, newline="")
        if self.fmt == "jsonl":
            return _Open(handle, None)
        writer = csv.writer(handle)
        if first:
            columns = self._columns[resource]
            if self.headers == "names":
                names = {f.code: f.name for f in builtin_specs()[resource].fields}
                writer.writerow([names[c] for c in columns])
            else:
                writer.writerow(columns)
        return _Open(handle, writer)

    def close(self) -> list[DataFile]:
        for entry in self._open.values():
            entry.handle.close()
        self._open.clear()
        ordered = sorted(self._rows.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))
        return [DataFile(self._paths[key], key[0], key[1], n) for key, n in ordered]


def write_dataset(
    records: Iterable[GeneratedRecord],
    out: Path,
    *,
    fmt: Format = "csv",
    encoding: str = "utf-8",
    headers: Headers = "codes",
    per_unit: bool = False,
    on_row: Callable[[GeneratedRecord], None] | None = None,
) -> list[DataFile]:
    """Write every record to its file under ``out``; returns the files written with their row counts."""
    writer = DatasetWriter(out=out, fmt=fmt, encoding=encoding, headers=headers, per_unit=per_unit)
    try:
        for record in records:
            writer.write(record)
            if on_row is not None:
                on_row(record)
    finally:
        files = writer.close()
    return files


def write_units(units: Iterable[Unit], path: Path, *, encoding: str = "utf-8") -> Path:
    """The source units as a CSV, one row per unit with the resources it may push (';'-separated)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["统一社会信用代码", "单位名称", "简称", "行政区划代码", "层级", "可报送信息资源"])
        for unit in units:
            writer.writerow([unit.uscc, unit.name, unit.short_name, unit.region, unit.level, ";".join(unit.resources)])
    return path
