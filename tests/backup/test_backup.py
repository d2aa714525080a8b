"""``xinyong backup`` / ``backup verify`` / ``restore``: a round trip on both engines, tampering caught, the manifest
true to the dump even while the app writes, and a restored database that the app reads exactly as before."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests import factories
from tests.conftest import Database, pg_create_database, pg_drop_database
from xinyong.accounts import service as accounts
from xinyong.accounts.models import Role
from xinyong.app import create_app
from xinyong.audit import service as audit
from xinyong.audit.service import Actor
from xinyong.backup import service as backup
from xinyong.core import crypto
from xinyong.core.database import create_db_engine, session_scope
from xinyong.core.errors import Conflict, InvalidInput
from xinyong.core.settings import get_settings
from xinyong.subjects.models import Subject, SubjectKind

REPO = Path(__file__).resolve().parents[2]
PERSON_ID = factories.citizen_id(71)


@pytest.fixture(autouse=True)
def _no_rate_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XINYONG_RATE_LIMIT_PER_MINUTE", "0")


def build_world(engine: Engine) -> dict[str, Any]:
    """Units, companies, a natural person (encrypted ID), records, accounts, an API key and audit entries."""
    with session_scope(engine, write=True) as session:
        factories.unit(session)
        company = factories.subject(session, name="备份测试有限公司")
        person = factories.subject(session, kind=SubjectKind.NATURAL_PERSON, name="王备份", id_number=PERSON_ID)
        for _ in range(3):
            factories.record(session, subject_row=company, payload={"CF_NR": "罚款人民币壹万元整", "金额": 1.5})
        factories.record(session, subject_row=person)
        accounts.create_account(session=session, username="office", role=Role.CREDIT_OFFICE, password="pw-123456")
        accounts.create_api_key(session=session, actor=Actor.cli(), role=Role.CHECKER, label="备份测试")
        for i in range(5):
            audit.record(session=session, actor=Actor.cli(), action="test.backup", target_id=i, detail={"i": i})
        audited = session.scalar(sa.text("SELECT count(*) FROM audit_event"))
        return {"code": str(company.uscc), "person_id": person.id, "audited": audited}


@contextmanager
def empty_database(kind: str, directory: Path) -> Iterator[Database]:
    """A database with nothing in it (not even migrations): where a restore goes on a new server."""
    if kind == "sqlite":
        url = f"sqlite:///{directory / f'restored-{uuid.uuid4().hex[:6]}.db'}"
        engine = create_db_engine(url)
        yield Database("sqlite", url, engine)
        engine.dispose()
        return
    name = f"xinyong_r_{uuid.uuid4().hex[:10]}"
    url = pg_create_database(name)
    engine = create_db_engine(url)
    try:
        yield Database("postgresql", url, engine)
    finally:
        engine.dispose()
        pg_drop_database(name)


def profile(engine: Engine, code: str) -> tuple[Any, Any, str]:
    with TestClient(create_app(engine)) as client:
        api = client.get(f"/api/v1/subjects/{code}")
        search = client.get("/api/v1/subjects", params={"q": "备份测试"})
        page = client.get(f"/subjects/{code}", headers={"Accept": "text/html"})
    assert api.status_code == search.status_code == page.status_code == 200
    return api.json(), search.json(), page.text.split("<main", 1)[-1]


def test_round_trip_into_a_fresh_database_reads_the_same_data(fresh_db: Database, tmp_path: Path) -> None:
    world = build_world(fresh_db.engine)
    before = profile(fresh_db.engine, world["code"])
    manifest = backup.create_backup(engine=fresh_db.engine, out=tmp_path / "b")

    assert manifest["engine"] == fresh_db.kind
    assert manifest["tables"]["record"]["rows"] == 4
    assert manifest["tables"]["audit_event"]["rows"] == world["audited"] >= 5
    assert manifest["alembic_revisions"] == backup.code_heads()
    assert manifest["pii_key_ids"] == [f"{crypto.key_id(crypto.current_key()):02x}"]
    with session_scope(fresh_db.engine) as session:
        assert audit.verify(session=session).ok
        heads = session.execute(sa.text("SELECT id, last_id, last_hash FROM audit_chain_head ORDER BY id")).all()
    assert len(heads) == audit.STRIPES
    assert manifest["audit_chain_heads"] == {str(c): {"last_id": i, "last_hash": h} for c, i, h in heads}
    text = (tmp_path / "b" / "manifest.json").read_text(encoding="utf-8")
    settings = get_settings()
    for secret in (settings.pii_key, settings.hash_key, settings.secret_key):
        assert secret not in text  # key ids only, never keys
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no partial directory left

    checked = backup.verify_backup(path=tmp_path / "b", scratch_url=fresh_db.url)
    assert checked.ok, checked.problems
    assert checked.audit_checked == world["audited"]

    with empty_database(fresh_db.kind, tmp_path) as target:
        restored = backup.restore_backup(engine=target.engine, path=tmp_path / "b")
        assert restored.ok, restored.problems
        assert profile(target.engine, world["code"]) == before
        with session_scope(target.engine) as session:
            person = session.get_one(Subject, world["person_id"])
            assert person.id_cipher is not None and crypto.decrypt(person.id_cipher) == PERSON_ID
            assert audit.verify(session=session).checked == world["audited"]
        with TestClient(create_app(target.engine)) as client:
            login = client.post("/login", data={"username": "office", "password": "pw-123456"}, follow_redirects=False)
            assert login.status_code == 303  # the password hash came back too


def test_restore_refuses_a_database_with_tables_unless_forced(fresh_db: Database, tmp_path: Path) -> None:
    world = build_world(fresh_db.engine)
    backup.create_backup(engine=fresh_db.engine, out=tmp_path / "b")
    with empty_database(fresh_db.kind, tmp_path) as target:
        with session_scope(target.engine, write=True) as session:
            session.execute(sa.text("CREATE TABLE something_else (id INTEGER PRIMARY KEY)"))
            session.execute(sa.text("INSERT INTO something_else VALUES (1)"))
        with pytest.raises(Conflict, match=r"目标数据库不为空（已有 1 张表）.*--force"):
            backup.restore_backup(engine=target.engine, path=tmp_path / "b")
        restored = backup.restore_backup(engine=target.engine, path=tmp_path / "b", force=True)
        assert restored.ok, restored.problems
        assert profile(target.engine, world["code"]) == profile(fresh_db.engine, world["code"])
        with target.engine.connect() as conn:
            assert "something_else" not in sa.inspect(conn).get_table_names()


def test_a_damaged_backup_file_is_refused(fresh_db: Database, tmp_path: Path) -> None:
    build_world(fresh_db.engine)
    backup.create_backup(engine=fresh_db.engine, out=tmp_path / "b")
    dump = next(p for p in (tmp_path / "b").iterdir() if p.name != backup.MANIFEST)
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))

    checked = backup.verify_backup(path=tmp_path / "b", scratch_url=fresh_db.url)
    assert checked.problems == [f"备份文件 {dump.name} 的 SHA-256 与清单不符：文件已损坏或被改动，不能用于恢复"]
    with empty_database(fresh_db.kind, tmp_path) as target, pytest.raises(InvalidInput, match="SHA-256 与清单不符"):
        backup.restore_backup(engine=target.engine, path=tmp_path / "b")


def _rewrite_dump(kind: str, path: Path, scratch_url: str, *statements: str) -> None:
    """Someone who can rewrite the dump AND its recorded file hash edits the data: only the restore-and-compare step
    can tell."""
    dump = path / backup.DUMP_FILES[kind]
    if kind == "sqlite":
        with sqlite3.connect(dump) as conn:
            conn.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
            for statement in statements:
                conn.execute(statement)
        conn.close()
    else:
        name = f"xinyong_tamper_{uuid.uuid4().hex[:8]}"
        url = pg_create_database(name)
        try:
            env = backup._libpq_env(url)
            subprocess.run(["pg_restore", "--no-owner", f"--dbname={name}", str(dump)], env=env, check=True)
            engine = sa.create_engine(url)
            with engine.begin() as conn:
                conn.exec_driver_sql("ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_change")
                for statement in statements:
                    conn.exec_driver_sql(statement)
                conn.exec_driver_sql("ALTER TABLE audit_event ENABLE TRIGGER audit_event_no_change")
            engine.dispose()
            subprocess.run(["pg_dump", "--format=custom", "--no-owner", f"--file={dump}"], env=env, check=True)
        finally:
            pg_drop_database(name)
    manifest = json.loads((path / backup.MANIFEST).read_text(encoding="utf-8"))
    manifest["file_sha256"] = backup._sha256_file(dump)
    (path / backup.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")


def test_edited_data_inside_the_backup_fails_verification(fresh_db: Database, tmp_path: Path) -> None:
    build_world(fresh_db.engine)
    backup.create_backup(engine=fresh_db.engine, out=tmp_path / "b")
    _rewrite_dump(
        fresh_db.kind,
        tmp_path / "b",
        fresh_db.url,
        "UPDATE record SET subject_name = '改过的名称' WHERE id = (SELECT min(id) FROM record)",
        "UPDATE audit_event SET detail = '{\"i\": 99}' WHERE id = (SELECT max(id) FROM audit_event)",
    )
    checked = backup.verify_backup(path=tmp_path / "b", scratch_url=fresh_db.url)
    assert "表 record：内容校验和与清单不符——数据被改动" in checked.problems
    assert "表 audit_event：内容校验和与清单不符——数据被改动" in checked.problems
    assert any(p.startswith("审计链：审计记录") and "该记录被修改" in p for p in checked.problems)


def test_edited_manifest_fails_verification(fresh_db: Database, tmp_path: Path) -> None:
    build_world(fresh_db.engine)
    backup.create_backup(engine=fresh_db.engine, out=tmp_path / "b")
    path = tmp_path / "b" / backup.MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["tables"]["record"]["rows"] = 3
    manifest["alembic_revisions"] = ["0001_foundation"]
    path.write_text(json.dumps(manifest), encoding="utf-8")
    checked = backup.verify_backup(path=tmp_path / "b", scratch_url=fresh_db.url)
    assert "表 record：4 行，清单记载 3 行" in checked.problems
    assert any(p.startswith("数据库版本（Alembic）为") and "清单记载 0001_foundation" in p for p in checked.problems)


def test_backup_while_the_app_writes_is_consistent(fresh_db: Database, tmp_path: Path) -> None:
    build_world(fresh_db.engine)
    stop = threading.Event()
    written = 0

    def writer() -> None:
        nonlocal written
        while not stop.is_set():
            with session_scope(fresh_db.engine, write=True) as session:
                audit.record(session=session, actor=Actor.cli(), action="test.during_backup", target_id=written)
            written += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while written < 3:  # the writer is really running before the backup starts
            stop.wait(0.01)
        manifest = backup.create_backup(engine=fresh_db.engine, out=tmp_path / "b")
    finally:
        stop.set()
        thread.join()
    assert manifest["tables"]["audit_event"]["rows"] >= 6 + 3
    checked = backup.verify_backup(path=tmp_path / "b", scratch_url=fresh_db.url)
    assert checked.ok, checked.problems


def _cli(db: Database, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "xinyong", *args],
        env={**os.environ, "XINYONG_DATABASE_URL": db.url, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_backup_verify_restore(fresh_db: Database, tmp_path: Path) -> None:
    world = build_world(fresh_db.engine)
    out = tmp_path / "nightly"
    made = _cli(fresh_db, "backup", "--out", str(out))
    assert made.returncode == 0, made.stderr
    assert "张表" in made.stdout and "备份不含密钥" in made.stdout
    again = _cli(fresh_db, "backup", "--out", str(out))
    assert again.returncode == 2 and "已存在且不为空" in again.stderr

    verified = _cli(fresh_db, "backup", "verify", str(out))
    assert verified.returncode == 0, verified.stderr
    assert (
        verified.stdout.startswith("备份校验通过：")
        and f"审计链完整（{audit.STRIPES} 条链共 {world['audited']} 条记录）" in verified.stdout
    )

    refused = _cli(fresh_db, "restore", str(out))
    assert refused.returncode == 2 and "目标数据库不为空" in refused.stderr
    forced = _cli(fresh_db, "restore", str(out), "--force")
    assert forced.returncode == 0, forced.stderr
    assert "并校验通过" in forced.stdout

    damaged = tmp_path / "damaged"
    shutil.copytree(out, damaged)
    dump = damaged / backup.DUMP_FILES[fresh_db.kind]
    dump.write_bytes(dump.read_bytes()[:-100])
    failed = _cli(fresh_db, "backup", "verify", str(damaged))
    assert failed.returncode == 1
    assert "SHA-256 与清单不符" in failed.stderr and "备份校验失败：发现 1 处问题" in failed.stderr
    assert "Traceback" not in failed.stderr


def test_a_manifest_from_before_the_striped_chains_is_read_as_chain_1() -> None:
    old = {"audit_chain_head": {"last_id": 7, "last_hash": "ab" * 32}}
    assert backup.manifest_heads(old) == {"1": {"last_id": 7, "last_hash": "ab" * 32}}
    assert backup.manifest_heads({"audit_chain_head": {}}) == {}
    new = {"audit_chain_heads": {"1": {"last_id": 9, "last_hash": "cd" * 32}}}
    assert backup.manifest_heads(new) == new["audit_chain_heads"]
