"""Added latency: the reference server as a remote target feels (`serve --latency-ms`).

Each HTTP request waits this long before the app sees it, without blocking the event loop, so
that requests in flight together overlap as they would against a sandbox seen from CI. Used by
the benchmarks (`bench/concurrency.py`) and the tests of `--concurrency`.
"""

from __future__ import annotations

import asyncio
from typing import Any


class Delayed:
    """An ASGI app that answers like `app`, `seconds` later."""

    def __init__(self, app: Any, seconds: float) -> None:
        self.app = app
        self.seconds = seconds
        self.config = getattr(app, "config", None)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and self.seconds > 0:
            await asyncio.sleep(self.seconds)
        await self.app(scope, receive, send)
