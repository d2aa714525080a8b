"""Conditional responses: an ETag over the body, and 304 Not Modified when the client already has it."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import Response

# Public pages may be cached briefly by browsers and proxies; the ETag makes revalidation cheap.
PUBLIC_CACHE = "public, max-age=60"


def _etag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def _not_modified(request: Request, etag: str) -> bool:
    header = request.headers.get("if-none-match", "")
    return any(tag.strip().removeprefix("W/") == etag for tag in header.split(",")) if header else False


def conditional(
    request: Request, body: bytes, media_type: str, *, status_code: int = 200, cache: str = PUBLIC_CACHE
) -> Response:
    etag = _etag(body)
    headers = {"ETag": etag, "Cache-Control": cache, "Vary": "Accept, Cookie"}
    if status_code == 200 and _not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    return Response(body, status_code=status_code, media_type=media_type, headers=headers)


def conditional_json(request: Request, content: Any, *, cache: str = PUBLIC_CACHE) -> Response:
    body = json.dumps(jsonable_encoder(content), ensure_ascii=False, separators=(",", ":")).encode()
    return conditional(request, body, "application/json", cache=cache)
