"""Domain errors. Each carries its HTTP status and a message in Chinese; the app maps them in one place."""

from __future__ import annotations

from typing import Any


class XinyongError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, **detail: Any) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


class NotFound(XinyongError):
    status_code = 404
    code = "not_found"


class InvalidInput(XinyongError):
    status_code = 422
    code = "invalid_input"


class Unauthenticated(XinyongError):
    status_code = 401
    code = "unauthenticated"


class Forbidden(XinyongError):
    status_code = 403
    code = "forbidden"


class Conflict(XinyongError):
    status_code = 409
    code = "conflict"


class TooLarge(XinyongError):
    status_code = 413
    code = "too_large"


class RateLimited(XinyongError):
    status_code = 429
    code = "rate_limited"


class ConfigurationError(XinyongError):
    status_code = 500
    code = "configuration"
