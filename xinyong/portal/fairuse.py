"""Fair use of the public search and API: a token bucket per client, in process.

Each client (its IP address as the server sees it) may make XINYONG_RATE_LIMIT_PER_MINUTE requests a minute, with
bursts of XINYONG_RATE_LIMIT_BURST. Beyond that the answer is 429 with a Chinese message and Retry-After. The buckets
live in the serving process: several worker processes each count separately (so the effective limit is the per-process
limit times the workers), and a reverse proxy must pass the real client address (uvicorn --proxy-headers).
"""

from __future__ import annotations

import math
import threading
import time

from fastapi import Request

from xinyong.core.errors import RateLimited
from xinyong.core.settings import get_settings

_MAX_CLIENTS = 50_000


class RateLimiter:
    def __init__(self, per_minute: int, burst: int) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}  # client → (tokens, last refill)
        self._lock = threading.Lock()

    def retry_after(self, client: str, now: float | None = None) -> int | None:
        """Take one token for ``client``; None when allowed, else the seconds to wait."""
        if self.rate <= 0:
            return None
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1:
                self._buckets[client] = (tokens - 1, now)
                if len(self._buckets) > _MAX_CLIENTS:
                    self._forget_idle(now)
                return None
            self._buckets[client] = (tokens, now)
            return max(1, math.ceil((1 - tokens) / self.rate))

    def _forget_idle(self, now: float) -> None:
        # A client whose bucket has refilled is indistinguishable from a new one.
        full_after = self.burst / self.rate
        for client in [c for c, (_, last) in self._buckets.items() if now - last > full_after]:
            del self._buckets[client]


def limiter_of(request: Request) -> RateLimiter:
    limiter = getattr(request.app.state, "rate_limiter", None)
    if limiter is None:
        settings = get_settings()
        limiter = RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst)
        request.app.state.rate_limiter = limiter
    return limiter


async def fair_use(request: Request) -> None:
    """Dependency of the public search, subject pages and API. async: an in-memory count (its lock is held for a few
    microseconds), not worth a hop to the thread pool on every public request."""
    client = request.client.host if request.client else "unknown"
    wait = limiter_of(request).retry_after(client)
    if wait is not None:
        per_minute = get_settings().rate_limit_per_minute
        raise RateLimited(
            f"查询过于频繁：每个用户每分钟最多查询 {per_minute} 次，请 {wait} 秒后再试。", retry_after=wait
        )
