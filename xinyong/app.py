"""The web application: every domain's routes, one error mapping, no stack traces for users."""

from __future__ import annotations

import importlib

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from xinyong import __version__
from xinyong.core.database import get_engine
from xinyong.core.errors import XinyongError
from xinyong.core.logging import configure_logging, get_logger
from xinyong.core.settings import get_settings

log = get_logger(__name__)

# Domains that serve HTTP, in the order their routes are mounted; each has ``routes.router``.
DOMAINS = ("subjects", "ingest", "evaluation")


def create_app(engine: Engine | None = None) -> FastAPI:
    configure_logging()
    settings = get_settings()
    app = FastAPI(
        title=f"{settings.site_name} — 公共信用信息平台 API",
        version=__version__,
        description="xinyong 公共信用信息平台的公开与政务接口。错误信息均为中文，字段名为国家标准字段代码。",
    )
    app.state.engine = engine or get_engine()
    for domain in DOMAINS:
        module = importlib.import_module(f"xinyong.{domain}.routes")
        app.include_router(module.router)
    app.mount("/static", StaticFiles(packages=[("xinyong.web", "static")]), name="static")
    _install_error_handlers(app)
    return app


def error_body(code: str, message: str, **detail: object) -> dict[str, object]:
    return {"error": code, "message": message, **({"detail": detail} if detail else {})}


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(XinyongError)
    async def _domain_error(_request: Request, exc: XinyongError) -> Response:
        return JSONResponse(error_body(exc.code, exc.message, **exc.detail), status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> Response:
        problems = [
            f"{'.'.join(str(p) for p in err.get('loc', ()) if p != 'body')}：{_zh(err)}" for err in exc.errors()
        ]
        return JSONResponse(
            error_body("invalid_input", "请求参数有误：" + "；".join(problems), problems=problems),
            status_code=422,
        )

    @app.exception_handler(OperationalError)
    async def _database_unavailable(_request: Request, exc: OperationalError) -> Response:
        log.error("database unavailable", error=str(exc.orig))
        return JSONResponse(
            error_body("unavailable", "数据库暂时不可用，请稍后重试"),
            status_code=503,
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(DBAPIError)
    async def _database_error(_request: Request, exc: DBAPIError) -> Response:
        log.exception("database error", error=str(exc.orig))
        return JSONResponse(error_body("internal", "服务器内部错误，已记录，请稍后重试"), status_code=500)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> Response:
        log.exception("unhandled error", error=repr(exc))
        return JSONResponse(error_body("internal", "服务器内部错误，已记录，请稍后重试"), status_code=500)


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
