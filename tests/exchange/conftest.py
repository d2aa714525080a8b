"""Fixtures for exchange tests: a second empty instance next to ``fresh_db``, and an instance loaded with collected
records (penalties of every kind of subject, licences, list entries) through the real pipeline."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Database, new_database
from tests.ingest.fixtures import (
    UNIT_NAME,
    UNIT_USCC,
    company_uscc,
    individual_business_row,
    natural_person_penalty_row,
    valid_license_row,
    valid_penalty_row,
    write_csv,
)
from xinyong.audit.service import Actor
from xinyong.catalog import service as catalog
from xinyong.core.database import session_scope
from xinyong.ingest.pipeline import ingest_file

RESOURCES = ["administrative_penalty", "administrative_license", "serious_dishonesty_list"]


@pytest.fixture
def second_db(fresh_db: Database, _templates: dict[str, Database], tmp_path: Path) -> Iterator[Database]:
    """Another new, empty, migrated database of the same engine as ``fresh_db``."""
    with new_database(fresh_db.kind, _templates, tmp_path, "s") as second:
        yield second


def list_row(i: int, **overrides: str) -> dict[str, str]:
    row = {
        "SX_XDR_MC": f"淄博恒达{i}号建筑工程有限公司",
        "SX_XDR_LB": "法人及非法人组织",
        "SX_XDR_SHXYM": company_uscc(900 + i),
        "SX_FRDB": "王伟",
        "SX_MDMC": "政府采购严重违法失信行为记录名单",
        "SX_WSH": f"淄财采认〔2026〕{i}号",
        "SX_LRSY": "提供虚假材料谋取中标",
        "SX_LRYJ": "《中华人民共和国政府采购法》第七十七条",
        "SX_RDJG": "淄博市财政局",
        "SX_LRRQ": "2026-05-20",
        "SX_YXQZ": "2029-05-19",
        "SX_SJLY": UNIT_NAME,
        "SX_SJLYDM": UNIT_USCC,
    }
    return row | overrides


def penalty(i: int, **overrides: str | None) -> dict[str, str]:
    """A general penalty decided this year, so it is published on 2026-06-15."""
    recent = {"CF_JDRQ": f"2026-0{1 + i % 5}-1{i % 10}", "CF_YXQ": "2027-06-30"}
    return valid_penalty_row(i, **(recent | overrides))


def register_unit(db: Database) -> None:
    with session_scope(db.engine, write=True) as session:
        catalog.register_unit(session=session, uscc=UNIT_USCC, name=UNIT_NAME, region="370300", resources=RESOURCES)


def ingest_rows(db: Database, tmp_path: Path, resource: str, rows: list[dict[str, str]], name: str) -> None:
    path = write_csv(tmp_path / f"{name}.csv", rows)
    summary = ingest_file(engine=db.engine, path=path, resource=resource, unit_uscc=None, actor=Actor.cli())
    assert summary.rejected == 0, summary.errors


def load_instance(db: Database, tmp_path: Path) -> None:
    """Penalties (companies incl. a serious and a minor one, a person, an individual business), licences, a list."""
    register_unit(db)
    penalties = [penalty(i) for i in range(6)]
    penalties.append(
        penalty(6, CF_CFLB="警告", CF_NR="警告", CF_NR_FK=None, CF_JDRQ="2026-05-10")
    )  # minor: not published
    penalties.append(valid_penalty_row(7, CF_CFLB="吊销许可证", CF_NR="吊销排污许可证", CF_NR_FK=None,
                                       CF_NR_ZKDX="排污许可证 91370303"))  # fmt: skip
    penalties.append(valid_penalty_row(8, CF_JDRQ="2023-01-05", CF_YXQ="2024-01-05"))  # expired
    penalties += [
        natural_person_penalty_row(20, CF_JDRQ="2026-05-04", CF_YXQ="2026-11-04"),
        individual_business_row(30, CF_JDRQ="2026-02-03", CF_YXQ="2027-02-03"),
    ]
    ingest_rows(db, tmp_path, "administrative_penalty", penalties, "penalties")
    ingest_rows(db, tmp_path, "administrative_license", [valid_license_row(i) for i in range(3)], "licences")
    ingest_rows(db, tmp_path, "serious_dishonesty_list", [list_row(1), list_row(2)], "lists")
