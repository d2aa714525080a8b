"""End to end: a source unit pushes a serious-dishonesty list file; the list entry exists and a check punishes."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from tests.conftest import Database
from tests.ingest.fixtures import UNIT_NAME, UNIT_USCC, company_uscc, write_csv
from xinyong.accounts import service as accounts
from xinyong.accounts.models import Role
from xinyong.app import create_app
from xinyong.audit.service import Actor
from xinyong.catalog import service as catalog
from xinyong.core.database import session_scope
from xinyong.ingest.pipeline import ingest_file


def _list_row(i: int, list_name: str) -> dict[str, str]:
    return {
        "SX_XDR_MC": f"淄博恒达{i}号建筑工程有限公司",
        "SX_XDR_LB": "法人及非法人组织",
        "SX_XDR_SHXYM": company_uscc(900 + i),
        "SX_FRDB": "王伟",
        "SX_MDMC": list_name,
        "SX_WSH": f"淄财采认〔2026〕{i}号",
        "SX_LRSY": "提供虚假材料谋取中标",
        "SX_LRYJ": "《中华人民共和国政府采购法》第七十七条",
        "SX_RDJG": "淄博市财政局",
        "SX_LRRQ": "2026-05-20",
        "SX_YXQZ": "2029-05-19",
        "SX_SJLY": UNIT_NAME,
        "SX_SJLYDM": UNIT_USCC,
    }


def test_collected_list_entry_produces_measures(fresh_db: Database, tmp_path: Path) -> None:
    with session_scope(fresh_db.engine, write=True) as session:
        catalog.register_unit(
            session=session, uscc=UNIT_USCC, name=UNIT_NAME, region="370300", resources=["serious_dishonesty_list"]
        )
        key = accounts.create_api_key(session=session, actor=Actor.cli(), role=Role.CHECKER).key
    path = write_csv(tmp_path / "list.csv", [_list_row(1, "政府采购严重违法失信行为记录名单")], encoding="gb18030")
    summary = ingest_file(
        engine=fresh_db.engine, path=path, resource="serious_dishonesty_list", unit_uscc=None, actor=Actor.cli()
    )
    assert (summary.accepted, summary.rejected) == (1, 0)
    # Sending the same file again changes nothing, including the list entry.
    again = ingest_file(
        engine=fresh_db.engine, path=path, resource="serious_dishonesty_list", unit_uscc=None, actor=Actor.cli()
    )
    assert (again.accepted, again.duplicates) == (0, 1)

    client = TestClient(create_app(fresh_db.engine))
    result = client.post(
        "/api/v1/checks",
        json={"code": company_uscc(901), "matter": "政府采购"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert result.status_code == 200, result.text
    body = result.json()
    assert [e["list_type"]["name"] for e in body["entries"]] == ["政府采购严重违法失信行为记录名单"]
    assert {m["code"] for m in body["measures"]} >= {"M01", "M02"}
