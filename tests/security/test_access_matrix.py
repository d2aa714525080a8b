"""The access matrix (xinyong/accounts/access.py) against the live application, every route × every role."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import create_engine

from tests.security.conftest import World
from xinyong.accounts.access import ACCESS, ANONYMOUS, ROLES, Channel, app_routes, rule_for
from xinyong.app import create_app

# A value for every path parameter; unknown ids are fine (an allowed caller then gets 404/422, never 401/403).
FILL = {
    "resource": "administrative_penalty", "batch_id": "20260615nothere0000", "kind": "penalties", "category": "news",
    "article_id": "999999", "entry_id": "999999", "check_id": "CK-NONE", "batch_no": "NONE", "check_no": "CK-NONE",
    "format": "csv", "unit_id": "999999", "item_id": "999999", "prefix": "nothere", "row_id": "999999",
    "record_id": "999999", "subject_id": "999999", "merge_id": "999999", "issue_id": "999999", "key": "volume",
    "fmt": "csv", "scenario": "xyd", "campaign": "NONE", "report_no": "NONE", "authorisation_id": "999999",
}  # fmt: skip


def test_every_route_is_in_the_matrix_and_nothing_else() -> None:
    """A new domain's routes (objections, repair, commitments…) fail here until they get their row."""
    app = create_app(create_engine("sqlite://"))
    routes = set(app_routes(app))
    missing = sorted(routes - ACCESS.keys())
    stale = sorted(ACCESS.keys() - routes)
    assert not missing, f"routes without a row in xinyong/accounts/access.py ACCESS: {missing}"
    assert not stale, f"rows of ACCESS for routes that no longer exist: {stale}"


def _url(path: str, world: World) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        return world.code_a if name == "code" else FILL.get(name, "x")

    return re.sub(r"\{(\w+)\}", value, path)


def _call(world: World, method: str, path: str, role: str) -> tuple[int, str]:
    rule = rule_for(method, path)
    assert rule is not None
    url = _url(path, world)
    api = path.startswith("/api/")
    headers: dict[str, str] = {}
    if role != ANONYMOUS:
        use_key = rule.channel in (Channel.KEY, Channel.ANY) or (rule.channel is Channel.PUBLIC and api)
        headers = world.key_headers(role) if use_key else world.cookie_headers(world.cookies[role])
    kwargs: dict[str, object] = {"headers": headers, "follow_redirects": False}
    if method in ("POST", "PUT", "PATCH"):
        kwargs["json" if api else "data"] = {} if api else {"noise": "1"}
    response = world.client.request(method, url, **kwargs)  # type: ignore[arg-type]
    return response.status_code, response.headers.get("location", "")


def _denied(status: int, location: str) -> bool:
    return status in (401, 403) or (status in (302, 303) and location.startswith("/login"))


def test_matrix_holds_for_every_route_and_role(world: World) -> None:
    problems = []
    for method, path in sorted(ACCESS):
        if path in ("/docs/oauth2-redirect",):
            continue
        rule = ACCESS[(method, path)]
        for role in ROLES:
            status, location = _call(world, method, path, role)
            if rule.allows(role):
                if _denied(status, location) or status >= 500:
                    problems.append(f"{method} {path} as {role}: expected allowed, got {status} {location}")
            elif not _denied(status, location):
                problems.append(f"{method} {path} as {role}: expected denied, got {status}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("role", ["source_unit", "checker"])
def test_a_role_gets_no_more_through_the_other_channel(world: World, role: str) -> None:
    """A page for staff stays closed to a key of a lower role, and a staff key does not open the console."""
    denied = world.client.get("/console", headers=world.key_headers("admin"), follow_redirects=False)
    assert _denied(denied.status_code, denied.headers.get("location", ""))
    page = world.client.get("/console", headers=world.cookie_headers(world.cookies[role]), follow_redirects=False)
    assert page.status_code == 403


def test_unit_scope_on_batches(world: World) -> None:
    unit_a = world.key_headers("source_unit")
    unit_b = {"Authorization": f"Bearer {world.unit_b_key}"}
    client = world.client
    own = {b["batch_id"] for b in client.get("/api/v1/batches", headers=unit_a).json()["items"]}
    assert own == {world.batch_a}
    assert client.get(f"/api/v1/batches/{world.batch_a}", headers=unit_a).status_code == 200
    assert client.get(f"/api/v1/batches/{world.batch_b}", headers=unit_a).status_code == 404
    assert client.get(f"/api/v1/batches/{world.batch_b}/rejects", headers=unit_a).status_code == 404
    assert client.get(f"/api/v1/batches/{world.batch_b}/rejects", headers=unit_b).status_code == 200
    office = {b["batch_id"] for b in client.get("/api/v1/batches", headers=world.key_headers("admin")).json()["items"]}
    assert {world.batch_a, world.batch_b} <= office


def test_subject_scope(world: World) -> None:
    client = world.client
    a = world.cookie_headers(world.cookies["subject"])
    b = world.cookie_headers(world.subject_b_cookie)
    assert client.get("/api/v1/me", headers=a).json()["name"] == "甲公司"
    assert client.get("/api/v1/me", headers=b).json()["name"] == "乙公司"
    # A subject's key explains its own evaluation, not another's.
    key = world.key_headers("subject")
    assert client.get(f"/api/v1/evaluation/{world.code_b}", headers=key).status_code == 403
    assert client.get(f"/api/v1/evaluation/{world.code_a}", headers=key).status_code not in (401, 403)
    # Issuing a full report: for itself yes, for another subject no.
    report = {"kind": "full", "format": "html"}
    assert client.post("/api/v1/reports", json={"code": world.code_a, **report}, headers=b).status_code == 403
    assert client.post("/api/v1/reports", json={"code": world.code_b, **report}, headers=b).status_code == 200
