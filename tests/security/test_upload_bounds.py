"""Every endpoint that takes a file or a body bounds its size and its type, refusing in Chinese (413/415/422).

Bounds are set small here through their settings (read per request), so "over-size" is a few kilobytes. Each
endpoint gets an over-size and a wrong-type file; JSON and form bodies get the app-wide body bound, declared and
chunked (no Content-Length: counted as it streams).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests import factories
from tests.security.conftest import World
from xinyong.core.settings import reset_settings
from xinyong.subjects.models import Subject

PDF = b"%PDF-1.7\n" + b"0" * 100
KB = 1024


def chinese_refusal(response: object, *statuses: int) -> None:
    status = response.status_code  # type: ignore[attr-defined]
    text = response.text  # type: ignore[attr-defined]
    assert status in statuses, (status, text[:300])
    assert any("\u4e00" <= ch <= "\u9fff" for ch in text), text[:300]
    assert "Traceback" not in text


@pytest.fixture
def small_limits(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in (
        ("XINYONG_BODY_MAX_BYTES", 4 * KB),
        ("XINYONG_UPLOAD_MAX_BYTES", 64 * KB),
        ("XINYONG_CHECK_UPLOAD_MAX_BYTES", 8 * KB),
        ("XINYONG_REPORT_UPLOAD_MAX_BYTES", 8 * KB),
        ("XINYONG_ATTACHMENT_MAX_BYTES", 8 * KB),
    ):
        monkeypatch.setenv(name, str(value))
    reset_settings()
    yield
    reset_settings()


def _objection(world: World) -> int:
    engine = world.client.app.state.engine  # type: ignore[attr-defined]
    with Session(engine) as session:
        subject = session.scalar(sa.select(Subject).where(Subject.uscc == world.code_a))
        assert subject is not None
        record_id = factories.record(session, subject_row=subject).id
        session.commit()
    made = world.client.post("/api/v1/objections", json={"record_id": record_id, "reasons": "文书号有误"},
                             headers=world.key_headers("subject"))  # fmt: skip
    assert made.status_code in (200, 201), made.text
    return int(made.json()["id"])


def test_collection_batches(world: World, small_limits: None) -> None:
    url, key = "/api/v1/batches/administrative_penalty", world.key_headers("source_unit")
    chinese_refusal(world.client.post(url, files={"file": ("rows.csv", b"x" * 70 * KB)}, headers=key), 413)
    chinese_refusal(world.client.post(url, files={"file": ("rows.exe", b"MZ\x90\x00")}, headers=key), 415)
    big_json = b"[" + b'{"CF_WSH":"x"},' * 6000 + b"{}]"
    chinese_refusal(world.client.post(url, content=big_json, headers={**key, "Content-Type": "application/json"}), 413)


def test_batch_checks_api_and_page(world: World, small_limits: None) -> None:
    api, key = "/api/v1/checks/batches", world.key_headers("checker")
    big = ("统一社会信用代码\n" + "91370303MA0000011X\n" * 600).encode()
    chinese_refusal(world.client.post(api, data={"matter": "政府采购"}, files={"file": ("a.csv", big)}, headers=key),
                    413)  # fmt: skip
    chinese_refusal(world.client.post(api, data={"matter": "政府采购"}, files={"file": ("a.pdf", PDF)}, headers=key),
                    415, 422)  # fmt: skip
    page, cookie = "/checks/batch", world.cookie_headers(world.cookies["checker"])
    form = {"matter": "政府采购"}
    chinese_refusal(world.client.post(page, data=form, files={"file": ("a.csv", big)}, headers=cookie), 413, 422)
    chinese_refusal(world.client.post(page, data=form, files={"file": ("a.pdf", PDF)}, headers=cookie), 415, 422)


def test_objection_attachments_api_and_form(world: World, small_limits: None) -> None:
    objection_id = _objection(world)
    url, key = f"/api/v1/objections/{objection_id}/attachments", world.key_headers("subject")
    chinese_refusal(world.client.post(url, files={"file": ("证明.pdf", PDF + b"0" * 9 * KB)}, headers=key), 413)
    chinese_refusal(world.client.post(url, files={"file": ("证明.exe", b"MZ\x90\x00")}, headers=key), 415, 422)
    chinese_refusal(world.client.post(url, files={"file": ("证明.pdf", b"MZ\x90\x00")}, headers=key), 415, 422)
    ok = world.client.post(url, files={"file": ("证明.pdf", PDF)}, headers=key)
    assert ok.status_code == 201, ok.text
    # the subject's own form: too many files at once, one too big, one of the wrong type
    cookie = world.cookie_headers(world.cookies["subject"])
    with Session(world.client.app.state.engine) as session:  # type: ignore[attr-defined]
        subject = session.scalar(sa.select(Subject).where(Subject.uscc == world.code_a))
        record_id = factories.record(session, subject_row=subject).id  # type: ignore[arg-type]
        session.commit()
    form = {"record_id": str(record_id), "reasons": "处罚金额有误"}
    for files in (
        [("files", (f"{i}.pdf", PDF)) for i in range(11)],
        [("files", ("大.pdf", PDF + b"0" * 9 * KB))],
        [("files", ("x.exe", b"MZ\x90\x00"))],
    ):
        chinese_refusal(world.client.post("/me/objections", data=form, files=files, headers=cookie), 413, 415, 422)


def test_repair_attachments_api(world: World, small_limits: None) -> None:
    """The route checks the application before it reads the file; the file check is the same as for objections
    (rights.attachments.check_file, property-tested in test_hostile_input)."""
    url, key = "/api/v1/repairs/999999/attachments", world.key_headers("subject")
    big = PDF + b"0" * 140 * KB  # above XINYONG_UPLOAD_MAX_BYTES and the multipart framing allowance
    response = world.client.post(url, data={"item": "x"}, files={"file": ("证明.pdf", big)}, headers=key)
    chinese_refusal(response, 413)  # over the app-wide upload bound: refused before the route runs


def test_report_verification_api_and_page(world: World, small_limits: None) -> None:
    for url, headers in (("/api/v1/reports/verify/XY0000000000", {}),
                         ("/reports/verify/XY0000000000", {"Accept": "text/html"})):  # fmt: skip
        chinese_refusal(world.client.post(url, files={"file": ("r.pdf", PDF + b"0" * 9 * KB)}, headers=headers), 413)
        chinese_refusal(world.client.post(url, files={"file": ("r.pdf", b"MZ\x90\x00")}, headers=headers), 415)


def test_json_and_form_bodies_are_bounded_declared_or_streamed(world: World, small_limits: None) -> None:
    key = {**world.key_headers("checker"), "Content-Type": "application/json"}
    body = b'{"code": "' + b"9" * 8 * KB + b'", "matter": "x"}'
    chinese_refusal(world.client.post("/api/v1/checks", content=body, headers=key), 413)

    def chunks() -> Iterator[bytes]:
        yield b'{"code": "'
        for _ in range(16):
            yield b"9" * KB
        yield b'", "matter": "x"}'

    streamed = world.client.post("/api/v1/checks", content=chunks(), headers=key)
    assert "content-length" not in {k.lower() for k in streamed.request.headers}
    chinese_refusal(streamed, 413)
    form = {"username": "x" * 8 * KB, "password": "y"}
    chinese_refusal(world.client.post("/login", data=form, headers={"Accept": "text/html"}), 413)
    # within the bound, the same endpoints answer normally
    small = world.client.post("/api/v1/checks", json={"code": world.code_a, "matter": "政府采购"},
                              headers=world.key_headers("checker"))  # fmt: skip
    assert small.status_code < 500 and small.status_code != 413, small.text


def test_nul_characters_in_parameters_and_bodies_are_refused_not_crashed(world: World) -> None:
    """Found by bench/fuzz.py on PostgreSQL (text cannot hold U+0000, psycopg refuses it): an answer, not a 500."""
    for role, url in (("subject", "/api/v1/declarations?status=%00"), ("source_unit", "/api/v1/repairs?status=a%00"),
                      ("subject", "/api/v1/objections?status=%00")):  # fmt: skip
        response = world.client.get(url, headers=world.key_headers(role))
        assert response.status_code < 500, (url, response.text)
        if response.status_code >= 400:
            chinese_refusal(response, response.status_code)
    body = {"code": "\u0000" + world.code_a, "matter": "政府\u0000采购"}
    response = world.client.post("/api/v1/checks", json=body, headers=world.key_headers("checker"))
    assert 200 <= response.status_code < 500, response.text
