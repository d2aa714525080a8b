"""The web application: every domain's routes, one error mapping, no stack traces for users."""

from __future__ import annotations

import importlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from xinyong import __version__, hooks
from xinyong.accounts import access
from xinyong.core import timing
from xinyong.core.database import get_engine, unavailable_reason
from xinyong.core.errors import XinyongError
from xinyong.core.heap import freeze_heap
from xinyong.core.logging import configure_logging, get_logger
from xinyong.core.migrate import SchemaOutdated, require_current
from xinyong.core.settings import get_settings
from xinyong.ingest.offload import IngestProcesses
from xinyong.web import csrf, warmup
from xinyong.web.headers import SecurityHeaders
from xinyong.web.limits import BodyLimit
from xinyong.web.templating import render, wants_html
from xinyong.web.timing import ServerTiming

log = get_logger(__name__)

# Domains that serve HTTP, in the order their routes are mounted; each has ``routes.router``.
DOMAINS = (
    "subjects",
    "ingest",
    "portal",
    "lists",
    "checks",
    "console",
    "monitoring",
    "evaluation",
    "reports",
    "exchange",
    "rights",
    "objections",
    "repair",
    "commitments",
    "declarations",
)


def create_app(engine: Engine | None = None) -> FastAPI:
    configure_logging()
    settings = get_settings()
    collector = IngestProcesses(settings.ingest_processes, freeze=settings.gc_freeze, priority=settings.ingest_priority)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        connections = settings.warm_connections
        try:
            await run_in_threadpool(require_current, app.state.engine)
        except SchemaOutdated as exc:
            log.error("schema outdated", error=exc.message)
            raise
        except DBAPIError as exc:
            # Down at start: serve anyway; requests get the clean 503 until it is back, and the revision is the one
            # the last start saw.
            log.warning("database unavailable at start, schema not checked", error=str(exc.orig).splitlines()[0:1])
            connections = 0
        # Before the heap is frozen, so what the warm-up builds is frozen with the rest.
        await run_in_threadpool(warmup.warm, app, connections=connections)
        if settings.gc_freeze:
            freeze_heap()
        if settings.ingest_prestart:
            await collector.prestart(app.state.engine)
        yield
        collector.shutdown()

    app = FastAPI(
        lifespan=lifespan,
        title=f"{settings.site_name} — 公共信用信息平台 API",
        version=__version__,
        description="xinyong 公共信用信息平台的公开与政务接口。错误信息均为中文，字段名为国家标准字段代码。",
        # The access matrix (xinyong/accounts/access.py) is checked before every route, before its body is read.
        dependencies=[Depends(access.enforce), Depends(csrf.verify)],
    )
    app.state.engine = engine or get_engine()
    app.state.ingest = collector  # started with the app (ingest_prestart), else on the first batch
    for domain in DOMAINS:
        module = importlib.import_module(f"xinyong.{domain}.routes")
        app.include_router(module.router)
    hooks.install(app)
    app.mount("/static", StaticFiles(packages=[("xinyong.web", "static")]), name="static")
    _install_error_handlers(app)
    _document_error_body(app)
    app.add_middleware(BodyLimit)  # every request body bounded before anything reads it (xinyong/web/limits.py)
    app.add_middleware(SecurityHeaders, https=settings.public_url.startswith("https://"))
    if settings.server_timing:
        timing.instrument(app.state.engine)
        app.add_middleware(ServerTiming)  # outermost: the whole of the app's time
    return app


# What every error response looks like (``error_body``); FastAPI's default 422 schema (``{"detail": [...]}``) is not
# what the handlers below send, so the generated schema is corrected to this shape (clients and schemathesis read it).
ERROR_SCHEMA: dict[str, object] = {
    "title": "ErrorBody",
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "title": "错误代码"},
        "message": {"type": "string", "title": "中文错误信息"},
        "detail": {"type": "object", "title": "详情（如 problems：逐项的问题）"},
    },
}


def _document_error_body(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            components = schema.get("components", {}).get("schemas", {})
            if "HTTPValidationError" in components:
                components["HTTPValidationError"] = ERROR_SCHEMA
                if '"#/components/schemas/ValidationError"' not in json.dumps(schema):
                    components.pop("ValidationError", None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def error_body(code: str, message: str, **detail: object) -> dict[str, object]:
    return {"error": code, "message": message, **({"detail": detail} if detail else {})}


_HTML_HEADINGS = {
    401: "需要登录",
    403: "无权访问",
    404: "页面不存在",
    405: "不支持的请求方式",
    422: "请求有误",
    429: "查询过于频繁",
    500: "服务器内部错误",
    503: "服务暂时不可用",
}


def _error_response(
    request: Request, status: int, code: str, message: str, headers: dict[str, str] | None = None, **detail: object
) -> Response:
    """JSON for API clients; a Chinese HTML page for browsers (never a stack trace), except under /api/."""
    if wants_html(request) and not request.url.path.startswith("/api/"):
        if status == 401 and request.method == "GET":
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        page = render(
            request,
            "error.html",
            {
                "heading": _HTML_HEADINGS.get(status, "出错了"),
                "message": message,
                "retry_after": (headers or {}).get("Retry-After"),
            },
            status_code=status,
        )
        page.headers.update(headers or {})
        return page
    return JSONResponse(error_body(code, message, **detail), status_code=status, headers=headers)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(XinyongError)
    async def _domain_error(request: Request, exc: XinyongError) -> Response:
        headers = {"Retry-After": str(exc.detail["retry_after"])} if "retry_after" in exc.detail else None
        return _error_response(request, exc.status_code, exc.code, exc.message, headers, **exc.detail)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        messages = {404: "您访问的页面不存在，请检查地址", 405: "不支持该请求方式"}
        message = messages.get(exc.status_code, str(exc.detail))
        code = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(exc.status_code, "http_error")
        return _error_response(request, exc.status_code, code, message, dict(exc.headers or {}) or None)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        problems = [
            f"{'.'.join(str(p) for p in err.get('loc', ()) if p != 'body')}：{_zh(err)}" for err in exc.errors()
        ]
        return _error_response(request, 422, "invalid_input", "请求参数有误：" + "；".join(problems), problems=problems)

    @app.exception_handler(DBAPIError)
    async def _database_error(request: Request, exc: DBAPIError) -> Response:
        # The database went away (restart, terminated connection) or SQLite stayed locked: 503, the client may retry.
        # The pool has already dropped the dead connection, and tests the others before they are reused
        # (``core.database._still_connected``), so the next request gets a working connection.
        reason = unavailable_reason(exc)
        if reason is not None:
            log.error("database unavailable", error=str(exc.orig).splitlines()[0] if str(exc.orig) else repr(exc))
            return _error_response(request, 503, "unavailable", reason, {"Retry-After": "5"})
        if "cannot contain NUL" in str(exc.orig):
            # PostgreSQL text cannot hold U+0000; psycopg refuses it before sending. It came from the request.
            return _error_response(request, 422, "invalid_input", "请求内容含有空字符（U+0000），无法处理")
        log.exception("database error", error=str(exc.orig))
        return _error_response(request, 500, "internal", "服务器内部错误，已记录，请稍后重试")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error", error=repr(exc))
        return _error_response(request, 500, "internal", "服务器内部错误，已记录，请稍后重试")


_ZH_MESSAGES = {
    "missing": "必填",
    "string_type": "应为文本",
    "int_parsing": "应为整数",
    "json_invalid": "不是有效的 JSON",
    "list_type": "应为数组",
    "dict_type": "应为对象",
    "greater_than_equal": "数值过小",
    "less_than_equal": "数值过大",
    "string_too_long": "过长",
    "string_too_short": "过短",
}


def _zh(err: dict[str, object]) -> str:
    return _ZH_MESSAGES.get(str(err.get("type")), str(err.get("msg")))
