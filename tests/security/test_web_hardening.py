"""CSRF on every cookie-authenticated write, security headers, cookie flags, lockout, expiry, key revocation."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.security.conftest import World
from tests.security.test_access_matrix import FILL
from xinyong.accounts.access import ACCESS, Channel
from xinyong.accounts.web import MAX_FAILURES
from xinyong.app import create_app
from xinyong.core.settings import reset_settings


def _url(path: str, world: World) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: world.code_a if m.group(1) == "code" else FILL.get(m.group(1), "x"), path)


def test_every_cookie_write_refuses_a_missing_or_wrong_token(world: World) -> None:
    writes = [(m, p, r) for (m, p), r in ACCESS.items() if m != "GET" and r.channel in (Channel.COOKIE, Channel.ANY)]
    assert len(writes) >= 20
    for method, path, rule in writes:
        role = sorted(rule.roles - {"anonymous"})[0]
        cookie = {"Cookie": f"xy_session={world.cookies[role]}"}
        for token in (None, "0" * 64):
            data = {"csrf": token} if token else {"noise": "1"}
            sent = world.client.request(method, _url(path, world), data=data, headers=cookie, follow_redirects=False)
            assert sent.status_code == 403 and "CSRF" in sent.json()["message"], (method, path, token)


def test_security_headers_on_pages_api_and_errors(world: World) -> None:
    for url in ("/", "/api/v1/subjects?q=甲", "/no-such-page", "/static/site.css"):
        headers = world.client.get(url).headers
        assert "script-src 'self'" in headers["content-security-policy"]
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert "strict-transport-security" not in headers


def test_server_timing_only_when_switched_on(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    # Off by default: it would tell every client how long a login or a lookup took.
    assert "server-timing" not in world.client.get("/api/v1/subjects?q=甲").headers
    monkeypatch.setenv("XINYONG_SERVER_TIMING", "1")
    reset_settings()
    client = TestClient(create_app(world.client.app.state.engine))  # type: ignore[attr-defined]
    for url in ("/", "/api/v1/subjects?q=甲", "/no-such-page"):
        timing = client.get(url).headers["server-timing"]
        assert re.fullmatch(r"app;dur=[0-9]+\.[0-9](, (db|commit|lock);dur=[0-9]+\.[0-9]){3}", timing), timing
        parts = {name: float(ms) for name, ms in re.findall(r"(\w+);dur=([0-9.]+)", timing)}
        assert list(parts) == ["app", "db", "commit", "lock"]
        # The parts are inside the app's time (each rounded to 0.1 ms), and a search is not free of statements.
        assert parts["db"] + parts["commit"] + parts["lock"] <= parts["app"] + 0.2, timing
        if url.startswith("/api/v1/subjects"):
            assert parts["db"] > 0, timing


def test_templates_have_no_inline_script() -> None:
    from pathlib import Path

    package = Path(__file__).resolve().parents[2] / "xinyong"
    for template in package.glob("*/templates/**/*.html"):
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template
        assert not re.search(r"\son[a-z]+=", text), template


def test_https_gives_hsts_and_secure_cookie(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XINYONG_PUBLIC_URL", "https://credit.example.gov.cn")
    reset_settings()
    client = TestClient(create_app(world.client.app.state.engine))  # type: ignore[attr-defined]
    assert "max-age" in client.get("/").headers["strict-transport-security"]
    signed_in = client.post("/login", data={"username": "web-admin", "password": "pw-123456"}, follow_redirects=False)
    cookie = signed_in.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" in cookie


def test_lockout_through_http(world: World) -> None:
    client = world.client
    for _ in range(MAX_FAILURES):
        assert client.post("/login", data={"username": "web-checker", "password": "wrong"}).status_code == 401
    locked = client.post("/login", data={"username": "web-checker", "password": "pw-123456"})
    assert locked.status_code == 401 and "锁定" in locked.text


def test_expired_session_is_anonymous(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XINYONG_TODAY", "2026-06-17")  # two days after the cookies were signed (8 hours' validity)
    reset_settings()
    page = world.client.get("/console", headers={"Cookie": f"xy_session={world.cookies['admin']}"},
                            follow_redirects=False)  # fmt: skip
    assert page.status_code == 303 and page.headers["location"].startswith("/login")


def test_revoked_key_is_refused(world: World) -> None:
    client = world.client
    admin = {"Cookie": f"xy_session={world.cookies['admin']}"}
    page = client.get("/console/accounts", headers=admin).text
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert token is not None
    checker = world.key_headers("checker")
    assert client.get("/api/v1/matters", headers=checker).status_code == 200
    prefix = world.keys["checker"].split("_")[1]
    revoked = client.post(f"/console/apikeys/{prefix}/revoke", data={"csrf": token.group(1)}, headers=admin,
                          follow_redirects=False)  # fmt: skip
    assert revoked.status_code == 303
    refused = client.get("/api/v1/matters", headers=checker)
    assert refused.status_code == 401 and "吊销" in refused.json()["message"]
