"""One bound on every request body, before any route (or the CSRF check, or FastAPI's JSON parsing) reads it.

A JSON or form body may be at most ``XINYONG_BODY_MAX_BYTES``; a file upload (multipart) and a collection batch at
most ``XINYONG_UPLOAD_MAX_BYTES`` — each upload route then applies its own, smaller bound (attachments, batch checks,
report files) and its type check. A declared Content-Length above the bound is refused at once; a body without one
(chunked) is counted as it streams and cut off at the bound, so nothing unbounded is ever held in memory.
"""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from xinyong.core.settings import get_settings

# Collection streams its body to disk under XINYONG_UPLOAD_MAX_BYTES (xinyong/ingest/routes.py).
_STREAMED_PREFIXES = ("/api/v1/batches/",)
_FRAMING = 64 * 1024


def _message(limit: int) -> str:
    size = f"{limit / 1024 / 1024:.0f} MB" if limit >= 1024 * 1024 else f"{max(limit // 1024, 1)} KB"
    return f"请求内容过大：上限为 {size}"


class BodyTooLarge(HTTPException):
    """Raised into whatever reads past the bound. An HTTPException, because FastAPI turns any other error while it
    reads a JSON body into a generic 400; the app's handler answers 413 with the Chinese message."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=_message(limit))


def limit_for(path: str, content_type: str) -> int:
    settings = get_settings()
    if content_type.startswith("multipart/form-data") or path.startswith(_STREAMED_PREFIXES):
        # room for the multipart framing, so a route's own bound (and its more precise message) speaks first
        return settings.upload_max_bytes + _FRAMING
    return settings.body_max_bytes


class BodyLimit:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        limit = limit_for(scope["path"], headers.get("content-type", "").lower())
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _refuse(send, limit)
            return
        seen = 0
        started = False

        async def bounded_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, bounded_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await _refuse(send, limit)


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps({"error": "too_large", "message": _message(limit)}, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})
