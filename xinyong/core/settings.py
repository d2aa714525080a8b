"""One settings object for the whole platform (environment prefix ``XINYONG_``)."""

from __future__ import annotations

import base64
import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Development keys: fine on a laptop with demo data, refused when XINYONG_ENV=production.
DEV_SECRET_KEY = "dev-secret-key-change-me"
DEV_PII_KEY = base64.b64encode(b"xinyong-dev-pii-key-32-bytes!!!!").decode()
DEV_HASH_KEY = "dev-hash-key-change-me"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="XINYONG_", env_file=".env", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    database_url: str = Field(
        default="sqlite:///var/xinyong.db",
        description="SQLAlchemy URL; a SQLite file by default, postgresql+psycopg://… in production.",
    )
    sqlite_busy_timeout: float = Field(
        default=30.0,
        gt=0,
        description="Seconds a SQLite writer waits for the lock held by another writer before the request is "
        "answered 503 系统繁忙.",
    )
    today: dt.date | None = Field(default=None, description="Fix 'today' (YYYY-MM-DD) for tests and demos.")
    secret_key: str = Field(default=DEV_SECRET_KEY, description="Signs sessions and tokens.")
    pii_key: str = Field(
        default=DEV_PII_KEY,
        description="Base64 of the 32-byte AES-GCM key that encrypts personal identifiers at rest.",
    )
    pii_keys_old: str = Field(
        default="",
        description="Comma-separated base64 keys that encrypted personal identifiers before a rotation "
        "(still accepted for decryption until `xinyong keys rotate` has re-encrypted every row).",
    )
    hash_key: str = Field(
        default=DEV_HASH_KEY, description="Key of the keyed hash through which identifiers are looked up."
    )
    site_name: str = Field(default="信用示范", description="The portal's name, e.g. 信用淄博.")
    region: str = Field(default="370300", description="行政区划代码 of the platform's own region.")
    holidays_file: Path | None = Field(
        default=None,
        description="YAML of holidays and 调休 workdays for years chinesecalendar does not know.",
    )
    data_dir: Path = Field(default=Path("var"), description="Where rejects files and uploads are kept.")
    ingest_chunk_size: int = Field(default=2000, ge=1, description="Rows per transaction during collection.")
    sqlite_api_chunk_size: int = Field(
        default=20,
        ge=1,
        description="At most this many rows per transaction for batches sent through the API on SQLite: there one "
        "write lock serves every writer, so a batch collected during service hours holds it briefly and checks wait "
        "less.",
    )
    ingest_processes: int = Field(
        default=1,
        ge=0,
        description="Processes per web worker that collect API batches (0: in the web worker's own threads).",
    )
    ingest_prestart: bool = Field(
        default=True,
        description="Start a web worker's collection processes with the worker, rather than on its first batch: a "
        "process's start-up (about a second of CPU) then neither delays that batch nor competes with the requests "
        "being served.",
    )
    warm_connections: int = Field(
        default=4,
        ge=0,
        description="Database connections a web worker opens before it serves (xinyong/web/warmup.py), so its first "
        "requests do not wait for the pool to open them; the pool keeps at most its size.",
    )
    ingest_priority: Literal["idle", "normal"] = Field(
        default="idle",
        description="CPU priority of the collection processes. idle: they get only the CPU time no web request "
        "wants (Linux SCHED_IDLE; nice 19 elsewhere), so a batch does not slow the searches and checks served "
        "beside it; normal: the web workers' own priority.",
    )
    gc_freeze: bool = Field(
        default=True,
        description="Each web worker hands what it holds once started (modules, routes, mappings) to the garbage "
        "collector's permanent generation (gc.freeze), so no full collection walks it again: one took 45 ms idle and "
        "up to 200 ms under load, a stall of every request the worker held.",
    )
    server_timing: bool = Field(
        default=False,
        description="Add Server-Timing: app;dur=<ms> to every response, with the parts spent in database statements, "
        "the commit and SQLite's write lock (for measuring; it tells clients how long the server worked, so it is off "
        "by default).",
    )
    disclosure_rules: Path | None = Field(
        default=None,
        description="YAML merged over the built-in publication rules (xinyong/disclosure/data/rules.yaml).",
    )
    portal_region_only: bool = Field(
        default=False,
        description="The public portal shows only subjects and records of XINYONG_REGION (a district's own portal).",
    )
    rate_limit_per_minute: int = Field(
        default=120, ge=0, description="Public search and API requests per client and minute (0 = no limit)."
    )
    rate_limit_burst: int = Field(default=30, ge=1, description="Requests a client may make at once above the rate.")
    # Each candidate of a broad query is one random read of a name and of its subject: 1,000 of them took 30 ms of
    # disk reads once the database outgrew memory (docs/benchmarks.md, Growth). 200 is ten pages of 20 results.
    search_max_results: int = Field(
        default=200, ge=10, description="Name search counts and ranks at most this many matches (then says 'N+')."
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="The portal's public address; report QR codes point at {public_url}/reports/verify/….",
    )
    report_domains: Path | None = Field(
        default=None,
        description="YAML merged over the domains of the 无违法违规记录 report (xinyong/reports/data/domains.yaml).",
    )
    objection_accept_days: int = Field(default=1, ge=0, description="异议受理期限（工作日，自提交）。")
    objection_verify_days: int = Field(default=5, ge=0, description="信息提供单位核实异议期限（工作日，自转办）。")
    objection_answer_days: int = Field(default=10, ge=0, description="异议答复期限（工作日，自受理）。")
    repair_accept_days: int = Field(default=2, ge=0, description="信用修复申请受理期限（工作日，自提交）。")
    repair_decide_days: int = Field(default=5, ge=0, description="信用修复决定期限（工作日，自受理）。")
    repair_reapply_days: int = Field(
        default=30, ge=0, description="不予修复或不予受理后，同一信息再次申请须间隔的天数（自然日）。"
    )
    attachment_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1, description="单个附件的最大字节数。")
    attachment_types: str = Field(
        default="pdf,jpg,jpeg,png", description="允许的附件类型（扩展名，逗号分隔；内容须与扩展名相符）。"
    )
    identity_verifier: str = Field(
        default="development",
        description="主体身份核验方式：development（开发用，页面显示验证码）或 模块:类 （如电子营业执照核验）。",
    )
    notify_sender: Literal["log", "smtp"] = Field(default="log", description="通知发送方式：log（写日志）或 smtp。")
    smtp_host: str = Field(default="", description="SMTP 服务器（notify_sender=smtp 时）。")
    smtp_port: int = Field(default=465, description="SMTP 端口（465 为 SSL，587/25 为 STARTTLS）。")
    smtp_user: str = Field(default="", description="SMTP 用户名。")
    smtp_password: str = Field(default="", description="SMTP 密码。")
    smtp_from: str = Field(default="", description="通知发件人地址。")
    office_email: str = Field(default="", description="信用办接收超期提醒的邮箱（可空）。")
    log_level: str = "INFO"
    log_json: bool = Field(default=False, description="Log one JSON object per line (for log shippers).")
    upload_max_bytes: int = Field(default=200 * 1024 * 1024, description="Largest file a unit may upload.")
    body_max_bytes: int = Field(
        default=1024 * 1024, ge=1024, description="Largest JSON or form request body (uploads have their own bounds)."
    )
    check_upload_max_bytes: int = Field(
        default=20 * 1024 * 1024, ge=1, description="Largest batch-check file (CSV/XLSX of up to 50,000 rows)."
    )
    report_upload_max_bytes: int = Field(
        default=20 * 1024 * 1024, ge=1, description="Largest credit report file uploaded for verification."
    )
    publicity_workdays: int = Field(
        default=7, ge=1, description="双公示: working days after the decision within which a record must be published."
    )
    worker_interval: int = Field(default=300, ge=1, description="Seconds `xinyong worker` sleeps between rounds.")
    evaluation_model: str = Field(
        default="public", description="Code of the evaluation model whose grade checks and profiles show."
    )
    public_grades: bool = Field(default=False, description="Show evaluation grades on the public profile.")
    sampling_ratios: dict[str, float] = Field(
        default={"A": 0.03, "B": 0.05, "C": 0.10, "D": 0.20, "-": 0.05},
        description="Inspection sampling ratio per grade (JSON); '-' is for subjects not yet evaluated.",
    )
    scenarios_file: Path | None = Field(
        default=None, description="YAML of 信易+ scenarios replacing the shipped scenarios.yaml."
    )
    webhook_allow_loopback: bool = Field(
        default=True, description="Webhooks may target 127.0.0.0/8 (never when XINYONG_ENV=production)."
    )
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, description="Time a webhook receiver has to answer.")
    webhook_backoff_seconds: float = Field(
        default=30.0, gt=0, description="First retry delay of a failed webhook; doubles per failure."
    )
    webhook_backoff_max_seconds: float = Field(default=3600.0, gt=0, description="Longest delay between retries.")
    webhook_lease_seconds: float = Field(
        default=300.0,
        gt=0,
        description="How long a worker owns a subscriber's deliveries before another may take over it.",
    )

    def old_pii_keys(self) -> list[str]:
        return [k.strip() for k in self.pii_keys_old.split(",") if k.strip()]

    @model_validator(mode="after")
    def _refuse_default_secrets_in_production(self) -> Settings:
        if self.env == "production":
            for name, default in (
                ("secret_key", DEV_SECRET_KEY),
                ("pii_key", DEV_PII_KEY),
                ("hash_key", DEV_HASH_KEY),
            ):
                if getattr(self, name) == default:
                    raise ValueError(f"XINYONG_{name.upper()} must be set to a secret value in production")
        for name, value in (
            ("XINYONG_PII_KEY", self.pii_key),
            *(("XINYONG_PII_KEYS_OLD", k) for k in self.old_pii_keys()),
        ):
            if len(base64.b64decode(value)) != 32:
                raise ValueError(f"{name} must be the base64 encoding of exactly 32 bytes")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    """Forget the cached settings (after the environment changed, e.g. in a test)."""
    get_settings.cache_clear()
