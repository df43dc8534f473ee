"""The implementation under test: a base URL, its key and profile, and the one send path.

Every request a run causes, scenario steps and generated cases alike, goes through
`Target.exchange`: within the request budget, paced, with 429s waited out and the pace lowered
to what the server says it allows, within one deadline per exchange, with the response-size cap,
never following a redirect. A target that stops answering, or that answers 429 to everything
even after waiting, ends the session (`TargetGone`, exit 3).
"""

from __future__ import annotations

import collections
import email.utils
import json
import threading
import time
from dataclasses import dataclass, field

import httpx

from ..profile import Profile
from ..redact import API_KEY_ENV, Redactor, Secret
from ._http import Exchange, PreparedRequest, new_client, send

MAX_RATE_LIMIT_RETRIES = 3
MAX_RATE_LIMIT_WAIT_S = 30.0
MAX_CONSECUTIVE_TRANSPORT_ERRORS = 5
# A 429 storm: an exchange still refused after every retry (each after waiting as the server
# asked), or this long spent waiting on 429s in a row. The target is given up on.
STORM_WAIT_S = 90.0
PACE_MARGIN = 0.95  # run at 95% of the rate the server says it allows
MIN_RATE = 0.5
RECOVER_AFTER = 50  # answers in a row without a 429 before a guessed pace doubles back
UNPACED_ABOVE = 1000.0  # a recovered pace this fast is no pace at all


class TargetUnreachable(Exception):
    """The target did not answer at all; one session-level error, not one failure per test."""


class KeyRefused(Exception):
    """The configured key is refused on a request a correct server accepts: the key is wrong,
    not the server (one session error, exit 3, instead of hundreds of misattributed failures)."""


class TargetGone(BaseException):
    """The target stopped answering, or answers 429 to everything: the session ends (exit 3).

    A BaseException so that Hypothesis, inside a property test, neither shrinks nor replays on
    it (it would send more requests to a target that is gone); the plugin turns it into one
    session error.
    """


class BudgetExhausted(Exception):
    """`--max-requests` is spent: later tests are not tested."""


@dataclass
class Pacer:
    """At most `rate` requests per second from this process (a simple spacing, no bursts).

    `rate` starts at `--max-rps` (or unpaced). After a 429 it goes down (`slow_to`): to a margin
    below what the server's `X-RateLimit-*` figures allow, for the rest of the run; or, when the
    server gives no figures, to half the observed rate, which doubles back towards the start
    after `RECOVER_AFTER` answers in a row that were not 429 (so that a 429 now and then does
    not slow a long run to a crawl, and a real limit is still found again).
    """

    rate: float | None
    _next: float = 0.0
    _recent: collections.deque[float] = field(default_factory=lambda: collections.deque(maxlen=32))
    _start: float | None = None
    _from_figures: bool = False
    _answers_since_slow: int = 0

    def __post_init__(self) -> None:
        self._start = self.rate

    def wait(self) -> None:
        now = time.monotonic()
        if self.rate:
            if now < self._next:
                time.sleep(self._next - now)
                now = self._next
            self._next = now + 1.0 / self.rate
        self._recent.append(now)

    def observed_rate(self) -> float | None:
        """Requests per second over the last few sends, or None before there are two."""
        if len(self._recent) < 2:
            return None
        span = self._recent[-1] - self._recent[0]
        return (len(self._recent) - 1) / span if span > 0 else None

    def slow_to(self, allowed: float | None) -> None:
        """After a 429: pace at a margin below `allowed`, or at half the observed rate."""
        self._answers_since_slow = 0
        if allowed is not None:
            wanted = allowed * PACE_MARGIN
            self._from_figures = True
        else:
            observed = self.observed_rate()
            wanted = (observed / 2) if observed else (self.rate or 10.0) / 2
        wanted = max(wanted, MIN_RATE)
        if self.rate is None or wanted < self.rate:
            self.rate = wanted

    def answered(self) -> None:
        """An answer that was not a 429: a guessed slow-down is undone step by step."""
        if self._from_figures or self.rate is None or self.rate == self._start:
            return
        self._answers_since_slow += 1
        if self._answers_since_slow < RECOVER_AFTER:
            return
        self._answers_since_slow = 0
        doubled = self.rate * 2
        self.rate = None if self._start is None and doubled > UNPACED_ABOVE else doubled
        if self._start is not None:
            self.rate = min(doubled, self._start)


def _seconds_from(value: str) -> float | None:
    """A header's delay in seconds: a number of seconds, an epoch timestamp, or an HTTP date."""
    try:
        number = float(value)
    except ValueError:
        try:
            return email.utils.parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return number - time.time() if number > 1e9 else number


def retry_delay(exchange: Exchange, attempt: int) -> float:
    """Seconds to wait after a 429: Retry-After (seconds or a date), X-RateLimit-Reset, backoff."""
    for header in ("retry-after", "x-ratelimit-reset"):
        value = exchange.headers.get(header)
        seconds = _seconds_from(str(value)) if value is not None else None
        if seconds is not None:
            return max(0.0, seconds)
    return 0.5 * 2.0**attempt


def allowed_rate(exchange: Exchange) -> float | None:
    """Requests per second a 429 says are allowed: X-RateLimit-Limit over the window left.

    The window is taken as the time until `X-RateLimit-Reset` (or `Retry-After`), at least one
    second: never faster than the server's own figures allow. None when it gives no limit.
    """
    raw_limit = exchange.headers.get("x-ratelimit-limit")
    try:
        limit = float(str(raw_limit).split(",")[0].split(";")[0]) if raw_limit else None
    except ValueError:
        limit = None
    if not limit or limit <= 0:
        return None
    window = None
    for header in ("x-ratelimit-reset", "retry-after"):
        value = exchange.headers.get(header)
        window = _seconds_from(str(value)) if value is not None else None
        if window is not None:
            break
    return limit / max(window or 1.0, 1.0)


@dataclass
class Target:
    """Where requests go, with what key, and the ids that exist there.

    Every request goes through `exchange`: counted (`--max-requests`), paced (`--max-rps`, and
    slower after a 429), retried after a 429 within bounds, within one deadline (three times
    `--request-timeout`), and watched for a target that stopped answering. `exchange` may be
    called from several threads at once (`--concurrency`): the budget, the pace and the
    counters are kept under one lock, and request starts stay paced.
    """

    base_url: str
    api_key: Secret
    profile: Profile
    embedded: bool
    timeout: float
    redactor: Redactor = field(default_factory=Redactor)
    max_rps: float | None = None
    max_requests: int | None = None
    client: httpx.Client = field(init=False)
    sent: int = 0
    rate_limited: int = 0  # 429s that were waited out
    waited_s: float = 0.0
    consecutive_transport_errors: int = 0
    _consecutive_429: int = 0
    _consecutive_429_wait: float = 0.0

    concurrency: int = 1
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.redactor.add(self.api_key.reveal())
        self.client = new_client(self.timeout, max_connections=max(10, self.concurrency))
        self.pacer = Pacer(self.max_rps)

    @property
    def deadline_s(self) -> float:
        return self.timeout * 3

    @property
    def pace(self) -> float | None:
        """The pace in force now (requests per second), None when unpaced."""
        return self.pacer.rate

    def before_request(self) -> None:
        """Count against the budget (raises BudgetExhausted), then pace."""
        with self._lock:  # request starts are spaced one after the other, whatever the thread
            if self.max_requests is not None and self.sent >= self.max_requests:
                raise BudgetExhausted(
                    f"the request budget (--max-requests {self.max_requests}) is spent"
                )
            self.pacer.wait()
            self.sent += 1

    def exchange(self, request: PreparedRequest) -> Exchange:
        """Send one request through every guarantee; raises BudgetExhausted or TargetGone, never
        a transport error (that is in the Exchange). A 429 never reaches a check: it is waited
        out, or, once the retries are spent, the run ends as a 429 storm."""
        for attempt in range(MAX_RATE_LIMIT_RETRIES + 1):
            self.before_request()
            result = send(self.client, request, deadline_s=self.deadline_s)
            result.attempts = attempt + 1
            if result.status != 429:
                with self._lock:
                    self.pacer.answered()
                    self._consecutive_429 = 0
                    self._consecutive_429_wait = 0.0
                break
            delay = min(retry_delay(result, attempt), MAX_RATE_LIMIT_WAIT_S)
            with self._lock:
                self._on_429(result, retries_left=MAX_RATE_LIMIT_RETRIES - attempt)
                self.rate_limited += 1
                self.waited_s += delay
                self._consecutive_429_wait += delay
            time.sleep(delay)
        with self._lock:
            self._watch_transport(result)
        return result

    def _on_429(self, result: Exchange, retries_left: int) -> None:
        self._consecutive_429 += 1
        self.pacer.slow_to(allowed_rate(result))
        if retries_left == 0 or self._consecutive_429_wait >= STORM_WAIT_S:
            where = f"{result.request.method} {self.redactor.text(result.request.url)}"
            raise TargetGone(
                f"the target answers 429 (rate limited) to every request, even after waiting as"
                f" it asked ({self._consecutive_429} in a row, {self._consecutive_429_wait:.0f} s"
                f" waited, the last to {where}); lower the pace with --max-rps, or check the"
                " key's rate limit"
            )

    def _watch_transport(self, result: Exchange) -> None:
        if result.status is not None:
            self.consecutive_transport_errors = 0
            return
        self.consecutive_transport_errors += 1
        if self.consecutive_transport_errors >= MAX_CONSECUTIVE_TRANSPORT_ERRORS:
            raise TargetGone(
                "the target stopped answering"
                f" ({self.consecutive_transport_errors} requests in a row got no response;"
                f" last: {self.redactor.text(str(result.error))})"
            )

    def check_key(self) -> None:
        """One minimal valid request with the key: a 401 or 403 to it means the key is refused.

        Sent through `exchange` (paced, 429s waited out); any other answer, right or wrong, is
        left to the tests. Without a one-time product in the profile there is nothing to send.
        """
        product = self.profile.get("one_time_product_id")
        if product is None:
            return
        url = self.base_url.rstrip("/") + "/checkouts"
        body = json.dumps({"product_cart": [{"product_id": product, "quantity": 1}]}).encode()
        headers = [
            ("Content-Type", "application/json"),
            ("Accept", "application/json"),
            ("Authorization", f"Bearer {self.api_key.reveal()}"),
        ]
        try:
            result = self.exchange(PreparedRequest("POST", url, headers, body))
        except BudgetExhausted:
            return  # --max-requests 1: the tests report the budget
        if result.status in (401, 403):
            shown = self.redactor.text(result.text[:300])
            raise KeyRefused(
                f"the API key in ${API_KEY_ENV} was refused: the minimal valid request (one"
                f" {product!r}, quantity 1) to {self.redactor.text(url)} got {result.status}"
                f" {shown}; check the key (a test-mode key for test.dodopayments.com, a live key"
                " for live.dodopayments.com) and that it belongs to the profile's business"
            )

    def probe(self) -> None:
        """One credential-less OPTIONS request: any HTTP answer proves the target is there."""
        url = self.base_url.rstrip("/") + "/checkouts"
        request = PreparedRequest("OPTIONS", url, [], None)
        result = send(self.client, request, deadline_s=self.deadline_s)
        if result.status is not None:
            return
        if result.timed_out:
            raise TargetUnreachable(
                f"{url} did not answer within {self.timeout:g} s (raise --request-timeout if"
                " the server is slow, or check --base-url)"
            )
        raise TargetUnreachable(
            f"cannot reach {url}: {self.redactor.text(str(result.error))}"
            " (check --base-url and that the server is running)"
        )

    def close(self) -> None:
        self.client.close()
