"""``POST /api/v1/batches/{resource}`` and batch history over HTTP, on both engines."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from tests.conftest import Database
from tests.ingest.fixtures import PENALTY, UNIT_USCC, penalty_rows, valid_penalty_row, write_xlsx
from xinyong.accounts import service as accounts
from xinyong.accounts.models import Role
from xinyong.app import create_app
from xinyong.audit.service import Actor
from xinyong.catalog import service as catalog
from xinyong.core.database import session_scope
from xinyong.core.settings import reset_settings
from xinyong.subjects.codes import make_uscc

OTHER_UNIT = make_uscc("1", "1", "370300", "00425702")


@dataclass
class Keys:
    unit: str
    other_unit: str
    office: str
    checker: str


@pytest.fixture
def keys(fresh_db: Database) -> Keys:
    with session_scope(fresh_db.engine, write=True) as session:
        unit = catalog.register_unit(
            session=session, uscc=UNIT_USCC, name="淄博市生态环境局", region="370300", resources=[PENALTY]
        )
        other = catalog.register_unit(
            session=session, uscc=OTHER_UNIT, name="淄博市市场监督管理局", region="370300", resources=[PENALTY]
        )

        def key(role: Role, unit_row: object = None) -> str:
            return accounts.create_api_key(session=session, actor=Actor.cli(), role=role, unit=unit_row).key  # type: ignore[arg-type]

        return Keys(
            unit=key(Role.SOURCE_UNIT, unit),
            other_unit=key(Role.SOURCE_UNIT, other),
            office=key(Role.CREDIT_OFFICE),
            checker=key(Role.CHECKER),
        )


@pytest.fixture
def client(fresh_db: Database) -> Iterator[TestClient]:
    with TestClient(create_app(fresh_db.engine)) as test_client:
        yield test_client


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_json_array_is_collected_and_resent_as_duplicates(client: TestClient, keys: Keys) -> None:
    rows = [*penalty_rows(3), valid_penalty_row(5, CF_XDR_SHXYM="91370303MA0000031X")]
    response = client.post(f"/api/v1/batches/{PENALTY}", json=rows, headers=auth(keys.unit))
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["received"], body["accepted"], body["duplicates"], body["rejected"], body["linked"]) == (4, 3, 0, 1, 3)
    assert body["rejects"] == [{"row_no": 4, "reasons": ["第 4 行 CF_XDR_SHXYM：统一社会信用代码校验位错误"]}]
    assert body["rejects_file"] == f"/api/v1/batches/{body['batch_id']}/rejects"

    download = client.get(body["rejects_file"], headers=auth(keys.unit))
    assert download.status_code == 200
    (returned,) = orjson.loads(download.content)
    assert returned["CF_XDR_SHXYM"] == "91370303MA0000031X"
    assert returned["错误原因"] == "第 4 行 CF_XDR_SHXYM：统一社会信用代码校验位错误"

    again = client.post(f"/api/v1/batches/{PENALTY}", json=rows, headers=auth(keys.unit)).json()
    assert (again["accepted"], again["duplicates"], again["rejected"]) == (0, 3, 1)
    assert again["batch_id"] != body["batch_id"]


def test_multipart_upload_and_batch_history(client: TestClient, keys: Keys, tmp_path: Path) -> None:
    rows = [*penalty_rows(2), valid_penalty_row(3, CF_CFLB="没收")]
    path = write_xlsx(tmp_path / "三月处罚.xlsx", rows, headers="names")
    with path.open("rb") as fh:
        response = client.post(
            f"/api/v1/batches/{PENALTY}", files={"file": ("三月处罚.xlsx", fh)}, headers=auth(keys.unit)
        )
    assert response.status_code == 201, response.text
    batch_id = response.json()["batch_id"]
    assert response.json()["accepted"] == 2

    listing = client.get("/api/v1/batches", headers=auth(keys.unit)).json()
    assert listing["total"] == 1
    assert listing["items"][0]["filename"] == "三月处罚.xlsx"
    assert listing["items"][0]["channel"] == "api"
    assert client.get(f"/api/v1/batches/{batch_id}", headers=auth(keys.unit)).json()["state"] == "completed"
    # Another unit sees none of it; the credit office sees everything.
    assert client.get("/api/v1/batches", headers=auth(keys.other_unit)).json()["total"] == 0
    assert client.get(f"/api/v1/batches/{batch_id}", headers=auth(keys.other_unit)).status_code == 404
    assert client.get("/api/v1/batches", headers=auth(keys.office)).json()["total"] == 1
    assert client.get("/api/v1/batches", headers=auth(keys.checker)).status_code == 403

    download = client.get(f"/api/v1/batches/{batch_id}/rejects", headers=auth(keys.office))
    assert download.status_code == 200
    sheet = load_workbook(io.BytesIO(download.content), read_only=True).worksheets[0]
    table = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert table[0][-1] == "错误原因"
    assert str(table[1][-1]).startswith("第 4 行 CF_CFLB：")
    saved = list((tmp_path / "data" / "uploads").iterdir())
    assert len(saved) == 1 and saved[0].suffix == ".xlsx"


def test_submissions_are_refused_with_chinese_reasons(
    client: TestClient, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = penalty_rows(1)
    url = f"/api/v1/batches/{PENALTY}"
    cases = [
        (401, client.post(url, json=rows)),
        (401, client.post(url, json=rows, headers=auth("xy_nothere_secret"))),
        (403, client.post(url, json=rows, headers=auth(keys.checker))),
        (404, client.post("/api/v1/batches/no_such_resource", json=rows, headers=auth(keys.unit))),
        (415, client.post(url, files={"file": ("rows.pdf", b"%PDF")}, headers=auth(keys.unit))),
    ]
    for status, response in cases:
        assert response.status_code == status, response.text
        assert any("\u4e00" <= ch <= "\u9fff" for ch in response.json()["message"])
    wrong_type = client.post(url, content=b"a,b", headers={**auth(keys.unit), "Content-Type": "text/plain"})
    assert wrong_type.status_code == 415
    unreadable = client.post(url, content=b"[{", headers={**auth(keys.unit), "Content-Type": "application/json"})
    assert unreadable.status_code == 422
    assert unreadable.json()["detail"]["batch_id"]

    monkeypatch.setenv("XINYONG_UPLOAD_MAX_BYTES", "100")
    reset_settings()
    too_large = client.post(url, json=penalty_rows(5), headers=auth(keys.unit))
    assert too_large.status_code == 413
    assert "文件过大" in too_large.json()["message"]
    streamed = client.post(url, files={"file": ("big.csv", b"x" * 5000)}, headers={**auth(keys.unit)})
    assert streamed.status_code == 413


def test_a_unit_not_granted_the_resource_is_refused(client: TestClient, keys: Keys) -> None:
    response = client.post("/api/v1/batches/administrative_license", json=[{"XK_WSH": "x"}], headers=auth(keys.unit))
    assert response.status_code == 403
    assert "未获准报送" in response.json()["message"]


def test_openapi_documents_the_batch_endpoints(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    submit = spec["paths"]["/api/v1/batches/{resource}"]["post"]
    assert set(submit["requestBody"]["content"]) == {"application/json", "multipart/form-data"}
    assert {"201", "401", "403", "404", "413", "415", "422"} <= set(submit["responses"])
    assert "/api/v1/batches/{batch_id}/rejects" in spec["paths"]


def test_api_batches_commit_in_small_transactions_on_sqlite(
    fresh_db: Database, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On SQLite a batch from the API holds the one write lock for at most XINYONG_SQLITE_API_CHUNK_SIZE rows at a
    time, so checks get in between its transactions; PostgreSQL keeps the collection chunk size."""
    from xinyong.ingest import pipeline

    monkeypatch.setenv("XINYONG_INGEST_PROCESSES", "0")  # in this process, where the chunks can be seen
    monkeypatch.setenv("XINYONG_SQLITE_API_CHUNK_SIZE", "2")
    reset_settings()
    chunks: list[int] = []
    store_chunk = pipeline._store_chunk

    def counted(**options: Any) -> int:
        chunks.append(len(options["chunk"]))
        return store_chunk(**options)

    monkeypatch.setattr(pipeline, "_store_chunk", counted)
    with TestClient(create_app(fresh_db.engine)) as client:
        response = client.post(f"/api/v1/batches/{PENALTY}", json=penalty_rows(5), headers=auth(keys.unit))
    assert response.status_code == 201, response.text
    assert (response.json()["received"], response.json()["accepted"]) == (5, 5)
    assert chunks == ([2, 2, 1] if fresh_db.kind == "sqlite" else [5])
