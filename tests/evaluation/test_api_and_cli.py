"""Endpoints (API key, audited) and commands (in a subprocess) on a committed database of each engine."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests import factories
from tests.conftest import Database
from xinyong.accounts import service as accounts
from xinyong.accounts.models import Account, Role
from xinyong.app import create_app
from xinyong.audit.models import AuditEvent
from xinyong.audit.service import Actor
from xinyong.core.database import session_scope
from xinyong.core.settings import reset_settings
from xinyong.evaluation import service

ROOT = Path(__file__).resolve().parents[2]


def test_grades_are_shown_to_the_office_and_the_subject_only(fresh_db: Database, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with session_scope(fresh_db.engine, write=True) as session:
        firm = factories.subject(session)
        other = factories.subject(session)
        factories.record(session, subject_row=firm, severity="general")
        service.evaluate(session=session, actor=Actor.cli())
        office = accounts.create_api_key(session=session, actor=Actor.cli(), role=Role.CREDIT_OFFICE).key
        checker = accounts.create_api_key(session=session, actor=Actor.cli(), role=Role.CHECKER).key
        own = accounts.create_api_key(session=session, actor=Actor.cli(), role=Role.SUBJECT)
        session.get(Account, own.api_key.account_id).subject_id = firm.id  # type: ignore[union-attr]
        code, other_code = firm.uscc, other.uscc
    client = TestClient(create_app(fresh_db.engine))
    got = client.get(f"/api/v1/evaluation/{code}", headers={"Authorization": f"Bearer {office}"})
    assert got.status_code == 200
    body = got.json()
    assert body["current"]["grade"] == body["explanation"]["grade"] == "C"
    assert body["current"]["model_version"] == 1
    assert any(line["points"] == -40 and line["records"] for line in body["explanation"]["lines"])
    assert client.get(f"/api/v1/evaluation/{code}", headers={"Authorization": f"Bearer {checker}"}).status_code == 403
    assert client.get(f"/api/v1/evaluation/{code}", headers={"Authorization": f"Bearer {own.key}"}).status_code == 200
    refused = client.get(f"/api/v1/evaluation/{other_code}", headers={"Authorization": f"Bearer {own.key}"})
    assert refused.status_code == 403 and "本人" in refused.json()["message"]
    assert client.get(f"/api/v1/evaluation/{code}").status_code == 401
    listed = client.get("/api/v1/scenarios", headers={"Authorization": f"Bearer {checker}"}).json()
    assert len(listed["items"]) >= 4
    check = client.post(
        "/api/v1/scenarios/xinyidai/check", json={"code": code}, headers={"Authorization": f"Bearer {checker}"}
    ).json()
    assert check["eligible"] is False
    with session_scope(fresh_db.engine) as session:
        actions = list(session.scalars(sa.select(AuditEvent.action)))
        assert actions.count("evaluation.view") == 2 and "scenario.check" in actions
        assert service.public_grade(session=session, subject_id=firm.id) is None
        monkeypatch.setenv("XINYONG_PUBLIC_GRADES", "true")
        reset_settings()
        assert service.public_grade(session=session, subject_id=firm.id)["grade"] == "C"  # type: ignore[index]


def test_commands_publish_evaluate_draw_and_verify(fresh_db: Database, tmp_path: Path) -> None:
    with session_scope(fresh_db.engine, write=True) as session:
        firm = factories.subject(session)
        factories.record(session, subject_row=firm, severity="serious")
    env = {**os.environ, "XINYONG_DATABASE_URL": fresh_db.url, "PYTHONPATH": str(ROOT)}

    def xinyong(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "xinyong", *args], env=env, capture_output=True, text=True)

    done = xinyong("evaluate", "--all")
    assert done.returncode == 0, done.stderr
    assert "public v1" in done.stdout and "评价 1 个主体" in done.stdout
    model = (ROOT / "xinyong/evaluation/data/public_v1.yaml").read_text(encoding="utf-8")
    (tmp_path / "v2.yaml").write_text(model.replace("version: 1", "version: 2"), encoding="utf-8")
    (tmp_path / "bad.yaml").write_text(
        model.replace("version: 1", "version: 3").replace("weight: 10", "weight: 200"), encoding="utf-8"
    )
    assert "已发布模型 public v2" in xinyong("evaluation", "publish", str(tmp_path / "v2.yaml")).stdout
    bad = xinyong("evaluation", "publish", str(tmp_path / "bad.yaml"))
    assert bad.returncode == 2 and "weight：权重为百分比" in bad.stderr and "Traceback" not in bad.stderr
    assert "public v2" in xinyong("evaluate", "--changed").stdout
    for n in range(2):
        assert (
            xinyong(
                "inspection", "inspector-add", "--code", f"Z{n}", "--name", f"员{n}", "--department", "局"
            ).returncode
            == 0
        )
    drawn = xinyong("inspection", "draw", "--code", "C1", "--name", "抽查", "--seed", "abc")
    assert drawn.returncode == 0, drawn.stderr
    assert "随机种子 abc" in drawn.stdout
    verified = xinyong("inspection", "verify", "C1")
    assert verified.returncode == 0 and '"valid": true' in verified.stdout
