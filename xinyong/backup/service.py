"""Backup, verification and restore of the whole database, engine-native.

A backup is a directory: the database itself — ``database.pgdump`` (``pg_dump`` custom format) or ``database.sqlite3``
(SQLite's online backup API) — and ``manifest.json``, which describes what the dump must contain: every table's row
count and content checksum, the schema revision (Alembic), the ids of the personal-data keys the ciphertexts were
written under (never the keys), the audit chain's head, and the dump file's own SHA-256.

Consistency while the app runs: on PostgreSQL the summary is computed in a REPEATABLE READ transaction whose snapshot
``pg_dump --snapshot`` shares, so manifest and dump see the very same rows; on SQLite the backup API copies a consistent
snapshot and the summary is computed from that copy.

A table's checksum is the sum modulo 2^256 of the SHA-256 of each row in a canonical form: independent of row order
(so of collations and physical layout), and any changed, added or removed row changes it.

Verification restores the dump into a scratch database and compares it with the manifest, then walks the audit chain
(``xinyong audit verify``). Restore refuses a non-empty target unless forced, and verifies the target afterwards.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from xinyong import __version__
from xinyong.audit import service as audit
from xinyong.core import clock
from xinyong.core.crypto import key_id, known_keys
from xinyong.core.database import Base, create_db_engine
from xinyong.core.errors import Conflict, InvalidInput, NotFound, XinyongError
from xinyong.core.migrate import code_heads

MANIFEST = "manifest.json"
DUMP_FILES = {"postgresql": "database.pgdump", "sqlite": "database.sqlite3"}
FORMAT = 1
KEYS_NOTE = (
    "本备份不含任何密钥。XINYONG_PII_KEY（及轮换期间的 XINYONG_PII_KEYS_OLD）、XINYONG_HASH_KEY、XINYONG_SECRET_KEY "
    "须另行备份并与数据分开保管；恢复后须配置 pii_key_ids 所列编号对应的密钥，否则个人标识无法解密。"
)
_ROW_SUM_MOD = 1 << 256
_LIBPQ_PARAMS = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "application_name": "PGAPPNAME",
    "host": "PGHOST",
    "port": "PGPORT",
}


class BackupError(XinyongError):
    status_code = 500
    code = "backup"


# ---------------------------------------------------------------------------------------------------------------
# What a database holds: counts, checksums, revision, key ids, audit head


def _tables(conn: sa.Connection) -> list[sa.Table]:
    import xinyong.models  # noqa: F401  (every domain's tables in Base.metadata)

    present = set(sa.inspect(conn).get_table_names())
    tables = [t for t in Base.metadata.sorted_tables if t.name in present]
    if "alembic_version" in present:
        tables.append(sa.Table("alembic_version", sa.MetaData(), sa.Column("version_num", sa.String(32))))
    return sorted(tables, key=lambda t: t.name)


def _canonical(value: Any) -> Any:
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat() if value.tzinfo else value.isoformat()
    raise TypeError(type(value))


@dataclass
class Summary:
    """What a database holds, as written to (and compared with) the manifest."""

    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    revisions: list[str] = field(default_factory=list)
    key_ids: list[str] = field(default_factory=list)
    audit_heads: dict[str, dict[str, Any]] = field(default_factory=dict)  # chain -> its last entry

    @property
    def content_sha256(self) -> str:
        body = json.dumps(self.tables, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(body.encode()).hexdigest()


def summarise(conn: sa.Connection) -> Summary:
    summary = Summary()
    key_ids: set[str] = set()
    for table in _tables(conn):
        ciphers = [i for i, c in enumerate(table.columns) if c.name.endswith("_cipher")]
        rows, total = 0, 0
        result = conn.execution_options(yield_per=5000).execute(sa.select(*table.columns))
        for row in result:
            rows += 1
            body = orjson.dumps(list(row), default=_canonical, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
            total = (total + int.from_bytes(hashlib.sha256(body).digest())) % _ROW_SUM_MOD
            for i in ciphers:
                blob = row[i]
                if blob:
                    key_ids.add(f"{blob[1]:02x}" if blob[0] == 2 else "legacy")
        summary.tables[table.name] = {"rows": rows, "sha256": f"{total:064x}"}
    present = {t.name for t in _tables(conn)}
    if "alembic_version" in present:
        summary.revisions = sorted(conn.scalars(sa.text("SELECT version_num FROM alembic_version")))
    if "audit_chain_head" in present:
        heads = conn.execute(sa.text("SELECT id, last_id, last_hash FROM audit_chain_head ORDER BY id"))
        summary.audit_heads = {str(chain): {"last_id": int(last_id), "last_hash": h} for chain, last_id, h in heads}
    summary.key_ids = sorted(key_ids)
    return summary


def manifest_heads(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The audit chains' heads a manifest records; a manifest from before the chains were striped has one."""
    if "audit_chain_heads" in manifest:
        return dict(manifest["audit_chain_heads"])
    old = manifest.get("audit_chain_head")
    return {"1": old} if old else {}


def configured_key_ids() -> set[str]:
    return {f"{key_id(k):02x}" for k in known_keys()}


# ---------------------------------------------------------------------------------------------------------------
# PostgreSQL tools


def _libpq_env(url: str) -> dict[str, str]:
    """The connection of ``url`` as libpq environment variables: no password on a command line (``ps`` shows it)."""
    parsed = sa.engine.make_url(url)
    env = {**os.environ}
    for name, value in (
        ("PGHOST", parsed.host),
        ("PGPORT", str(parsed.port) if parsed.port else None),
        ("PGUSER", parsed.username),
        ("PGPASSWORD", parsed.password),
        ("PGDATABASE", parsed.database),
    ):
        if value:
            env[name] = value
    for key, given in parsed.query.items():
        if key in _LIBPQ_PARAMS:
            env[_LIBPQ_PARAMS[key]] = given if isinstance(given, str) else given[0]
    return env


def _tool(name: str, engine: Engine) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"未找到 {name}：请安装与数据库服务器同一大版本（或更新）的 PostgreSQL 客户端")
    output = subprocess.run([path, "--version"], capture_output=True, text=True, check=False).stdout
    found = re.search(r"(\d+)(?:\.\d+)?", output)
    with engine.connect() as conn:
        server = int(conn.exec_driver_sql("SHOW server_version_num").scalar_one()) // 10000
    if found is None or int(found.group(1)) < server:
        raise BackupError(
            f"{name} 版本（{output.strip()}）低于数据库服务器（{server}）：请安装版本不低于服务器的客户端"
        )
    return path


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        detail = "；".join(line for line in done.stderr.strip().splitlines()[:5])
        raise BackupError(f"{what}失败：{detail or f'退出码 {done.returncode}'}")


# ---------------------------------------------------------------------------------------------------------------
# Backup


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def create_backup(*, engine: Engine, out: Path) -> dict[str, Any]:
    """Write a backup of ``engine``'s database to the directory ``out``; returns the manifest.

    Written into a hidden sibling directory and renamed when complete, so an interrupted backup never looks like one.
    """
    out = out.resolve()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise Conflict(f"备份目录 {out} 已存在且不为空：请指定新的目录")
    kind = engine.dialect.name
    if kind not in DUMP_FILES:
        raise BackupError(f"不支持备份 {kind} 数据库")
    out.parent.mkdir(parents=True, exist_ok=True)
    work = out.parent / f".{out.name}.{uuid.uuid4().hex[:8]}.partial"
    work.mkdir()
    try:
        dump = work / DUMP_FILES[kind]
        summary = _backup_postgresql(engine, dump) if kind == "postgresql" else _backup_sqlite(engine, dump)
        manifest = {
            "format": FORMAT,
            "created_at": clock.now().isoformat(),
            "xinyong_version": __version__,
            "engine": kind,
            "file": dump.name,
            "file_bytes": dump.stat().st_size,
            "file_sha256": _sha256_file(dump),
            "alembic_revisions": summary.revisions,
            "tables": summary.tables,
            "content_sha256": summary.content_sha256,
            "total_rows": sum(t["rows"] for t in summary.tables.values()),
            "pii_key_ids": summary.key_ids,
            "audit_chain_heads": summary.audit_heads,
            "keys": KEYS_NOTE,
        }
        (work / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        for path in work.iterdir():
            with path.open("rb") as fh:
                os.fsync(fh.fileno())
        if out.exists():
            out.rmdir()
        os.replace(work, out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return manifest


def _backup_postgresql(engine: Engine, dump: Path) -> Summary:
    pg_dump = _tool("pg_dump", engine)
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
        # pg_dump reads exactly this transaction's snapshot, so the manifest describes exactly what it dumps.
        snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
        _run(
            [pg_dump, "--format=custom", "--no-owner", f"--snapshot={snapshot}", f"--file={dump}"],
            _libpq_env(engine.url.render_as_string(hide_password=False)),
            "pg_dump 导出",
        )
        return summarise(conn)


def _sqlite_path(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:":
        raise BackupError("内存数据库无法备份")
    return Path(database)


def _backup_sqlite(engine: Engine, dump: Path) -> Summary:
    source = engine.raw_connection()
    try:
        target = sqlite3.connect(dump)
        try:
            # One step (pages=-1) under a read lock: a consistent snapshot while the app keeps writing.
            source.driver_connection.backup(target)  # type: ignore[union-attr]
            target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        finally:
            target.close()
    finally:
        source.close()
    with _read_only_sqlite(dump) as copy, copy.connect() as conn:
        return summarise(conn)


@contextmanager
def _read_only_sqlite(path: Path) -> Iterator[Engine]:
    engine = sa.create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    try:
        yield engine
    finally:
        engine.dispose()


# ---------------------------------------------------------------------------------------------------------------
# Verification


@dataclass
class Verification:
    manifest: dict[str, Any]
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    audit_checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def read_manifest(path: Path) -> dict[str, Any]:
    file = path / MANIFEST
    if not file.is_file():
        raise NotFound(f"{path} 不是备份目录：缺少 {MANIFEST}")
    try:
        manifest: dict[str, Any] = json.loads(file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput(f"备份清单 {file} 无法读取（不是有效的 JSON）") from None
    if manifest.get("format") != FORMAT or manifest.get("engine") not in DUMP_FILES:
        raise InvalidInput(f"备份清单 {file} 的格式不受支持")
    return manifest


def _check_file(path: Path, manifest: dict[str, Any]) -> list[str]:
    dump = path / DUMP_FILES[manifest["engine"]]
    if not dump.is_file():
        return [f"备份文件 {dump.name} 不存在"]
    if _sha256_file(dump) != manifest.get("file_sha256"):
        return [f"备份文件 {dump.name} 的 SHA-256 与清单不符：文件已损坏或被改动，不能用于恢复"]
    return []


def compare(engine: Engine, manifest: dict[str, Any], result: Verification) -> None:
    """Compare the database of ``engine`` with ``manifest``; walk its audit chain."""
    with engine.connect() as conn:
        found = summarise(conn)
    if found.content_sha256 != manifest.get("content_sha256") or found.tables != manifest.get("tables"):
        expected: dict[str, dict[str, Any]] = manifest.get("tables", {})
        for name in sorted(set(expected) | set(found.tables)):
            want, got = expected.get(name), found.tables.get(name)
            if want is None:
                result.problems.append(f"表 {name}：清单中没有这张表")
            elif got is None:
                result.problems.append(f"表 {name}：恢复后的数据库中缺少这张表")
            elif want["rows"] != got["rows"]:
                result.problems.append(f"表 {name}：{got['rows']} 行，清单记载 {want['rows']} 行")
            elif want["sha256"] != got["sha256"]:
                result.problems.append(f"表 {name}：内容校验和与清单不符——数据被改动")
        if not result.problems:
            result.problems.append("内容校验和与清单不符：清单被改动")
    if found.revisions != manifest.get("alembic_revisions"):
        result.problems.append(
            f"数据库版本（Alembic）为 {'、'.join(found.revisions) or '无'}，清单记载 "
            f"{'、'.join(manifest.get('alembic_revisions', [])) or '无'}"
        )
    if found.audit_heads != manifest_heads(manifest):
        result.problems.append("审计链头与清单记载不符")
    with Session(engine) as session:
        chain = audit.verify(session=session)
    result.audit_checked = chain.checked
    result.problems.extend(f"审计链：{problem}" for problem in chain.problems)
    heads = code_heads()
    if found.revisions and found.revisions != heads:
        result.notes.append(
            f"备份的数据库版本（{'、'.join(found.revisions)}）与当前程序（{'、'.join(heads)}）不同："
            "恢复后请运行 xinyong db upgrade"
        )
    missing = sorted(set(manifest.get("pii_key_ids", [])) - configured_key_ids() - {"legacy"})
    if missing:
        result.notes.append(
            f"备份中的个人标识由编号 {'、'.join(missing)} 的密钥加密，当前配置（XINYONG_PII_KEY、XINYONG_PII_KEYS_OLD）"
            "中没有：恢复后须配置这些密钥，否则无法解密"
        )


def verify_backup(*, path: Path, scratch_url: str) -> Verification:
    """Check the dump file, restore it into a scratch database (created on the server of ``scratch_url``, dropped
    afterwards) and compare the result with the manifest."""
    manifest = read_manifest(path)
    result = Verification(manifest)
    result.problems.extend(_check_file(path, manifest))
    if result.problems:
        return result
    with _scratch_database(manifest["engine"], scratch_url) as scratch:
        try:
            _restore_into(scratch, path, manifest)
        except BackupError as exc:
            result.problems.append(exc.message)
            return result
        compare(scratch, manifest, result)
    return result


@contextmanager
def _scratch_database(kind: str, url: str) -> Iterator[Engine]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="xinyong-verify-") as folder:
            engine = create_db_engine(f"sqlite:///{Path(folder) / 'verify.db'}")
            try:
                yield engine
            finally:
                engine.dispose()
        return
    if not url.startswith("postgresql"):
        raise InvalidInput("PostgreSQL 备份的校验需要一个 PostgreSQL 服务器：请把 XINYONG_DATABASE_URL 指向它")
    name = f"xinyong_verify_{uuid.uuid4().hex[:12]}"
    server = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with server.connect() as conn:
            ctype = conn.exec_driver_sql("SELECT datctype FROM pg_database WHERE datname = current_database()").scalar()
            conn.exec_driver_sql(
                f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE '{ctype}' LC_CTYPE '{ctype}'"
            )
        engine = create_db_engine(sa.engine.make_url(url).set(database=name).render_as_string(hide_password=False))
        try:
            yield engine
        finally:
            engine.dispose()
            with server.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        server.dispose()


# ---------------------------------------------------------------------------------------------------------------
# Restore


def _is_empty(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(sa.inspect(conn).get_table_names())


def restore_backup(*, engine: Engine, path: Path, force: bool = False) -> Verification:
    """Restore the backup at ``path`` into ``engine``'s database, then verify it there against the manifest.

    Refuses a damaged backup, a backup of the other engine, and a database that already has tables (unless ``force``:
    then everything in it is replaced).
    """
    manifest = read_manifest(path)
    if manifest["engine"] != engine.dialect.name:
        raise InvalidInput(f"备份来自 {manifest['engine']} 数据库，不能恢复到 {engine.dialect.name} 数据库")
    result = Verification(manifest)
    result.problems.extend(_check_file(path, manifest))
    if result.problems:
        raise InvalidInput(result.problems[0])
    tables = _is_empty(engine)
    if tables and not force:
        raise Conflict(
            f"目标数据库不为空（已有 {len(tables)} 张表）：恢复将替换其中的全部数据。确认无误后加 --force 再执行"
        )
    _restore_into(engine, path, manifest, replace=bool(tables))
    compare(engine, manifest, result)
    return result


def _restore_into(engine: Engine, path: Path, manifest: dict[str, Any], *, replace: bool = False) -> None:
    dump = path / DUMP_FILES[manifest["engine"]]
    engine.dispose()
    if manifest["engine"] == "postgresql":
        pg_restore = _tool("pg_restore", engine)
        if replace:
            with engine.begin() as conn:
                conn.exec_driver_sql("DROP SCHEMA public CASCADE")
                conn.exec_driver_sql("CREATE SCHEMA public")
            engine.dispose()
        # One transaction: a restore that fails half-way leaves the database as it was.
        _run(
            [pg_restore, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
             f"--dbname={engine.url.database}", str(dump)],
            _libpq_env(engine.url.render_as_string(hide_password=False)),
            "pg_restore 恢复",
        )  # fmt: skip
        return
    target_path = _sqlite_path(engine)
    target_path.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{dump}?mode=ro", uri=True)
    try:
        target = sqlite3.connect(target_path)
        try:
            source.backup(target)  # replaces every page of the target in one write transaction
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"SQLite 恢复失败：{exc}") from None
        finally:
            target.close()
    finally:
        source.close()
