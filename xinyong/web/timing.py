"""``Server-Timing: app;dur=…, db;dur=…, commit;dur=…, lock;dur=…`` on every response when ``XINYONG_SERVER_TIMING``
is on (a pure ASGI middleware).

``app`` is the time from the request reaching the app to its response headers, in milliseconds: what the server
spent, apart from the network and the client. The other parts are how much of it went to the database's statements,
to committing, and on SQLite to waiting for the write lock (``xinyong/core/timing.py``); the rest is Python and
waiting for a core. Browsers' developer tools show it beside each request, and ``bench/soak.py`` reads
it to tell the app's share of a latency from the load generator's (which shares the machine's cores). Off by default:
it tells any client exactly how long the server worked, which helps timing guesses (a login, a lookup).
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from xinyong.core import timing


class ServerTiming:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        tally, token = timing.open_tally()

        async def with_timing(message: Message) -> None:
            if message["type"] == "http.response.start":
                spent = (time.perf_counter() - started) * 1000
                parts = ", ".join(f"{part};dur={tally[part] * 1000:.1f}" for part in timing.PARTS)
                message["headers"] = [
                    *message.get("headers", []),
                    (b"server-timing", f"app;dur={spent:.1f}, {parts}".encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, with_timing)
        finally:
            timing.close_tally(token)
