"""Optional emulation of the documented rate limits, for testing clients' retry logic.

Docs (api-reference/introduction.mdx): Tier 0 keys get 40 requests/s burst and 240/min
sustained; unauthenticated callers 20/s and 100/min per IP. Exceeding a limit gives 429 with
`Retry-After` and the `X-RateLimit-Limit/Remaining/Reset` headers.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Limits:
    per_second: int
    per_minute: int


TIER_0 = Limits(per_second=40, per_minute=240)
UNAUTHENTICATED = Limits(per_second=20, per_minute=100)


@dataclass
class _Window:
    start: float
    count: int = 0


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int

    def headers(self) -> list[tuple[bytes, bytes]]:
        out = [
            (b"x-ratelimit-limit", str(self.limit).encode()),
            (b"x-ratelimit-remaining", str(self.remaining).encode()),
            (b"x-ratelimit-reset", str(self.reset_seconds).encode()),
        ]
        if not self.allowed:
            out.append((b"retry-after", str(self.reset_seconds).encode()))
        return out


@dataclass
class RateLimiter:
    """Fixed one-second and one-minute windows per caller; memory bounded by `max_callers`."""

    clock: Callable[[], float] = time.monotonic
    max_callers: int = 10_000
    _windows: dict[tuple[str, int], _Window] = field(default_factory=dict)

    def check(self, caller: str, limits: Limits) -> Decision:
        now = self.clock()
        if len(self._windows) > self.max_callers:
            self._windows = {k: w for k, w in self._windows.items() if now - w.start < k[1]}
        worst: Decision | None = None
        for span, limit in ((1, limits.per_second), (60, limits.per_minute)):
            window = self._windows.get((caller, span))
            if window is None or now - window.start >= span:
                window = self._windows[(caller, span)] = _Window(now)
            reset = max(1, math.ceil(window.start + span - now))
            if window.count >= limit:
                return Decision(False, limit, 0, reset)
            decision = Decision(True, limit, limit - window.count - 1, reset)
            if worst is None or decision.remaining < worst.remaining:
                worst = decision
        for span in (1, 60):
            self._windows[(caller, span)].count += 1
        assert worst is not None
        return worst
