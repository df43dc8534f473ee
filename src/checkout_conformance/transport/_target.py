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
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Protocol

import httpx

from ..profile import Profile
from ..redact import API_KEY_ENV, Redactor, Secret
from ._http import Exchange, PreparedRequest, new_client, send

MAX_RATE_LIMIT_RETRIES = 6  # 429s at random, one in five: seven in a row about once in 80,000
MAX_RATE_LIMIT_WAIT_S = 30.0
MAX_CONSECUTIVE_TRANSPORT_ERRORS = 5
# A 429 storm: an exchange still refused after every retry (each after waiting as the server
# asked), or this long spent waiting on 429s in a row. The target is given up on.
STORM_WAIT_S = 90.0
PACE_MARGIN = 0.95  # run at 95% of the rate the server says it allows
MIN_RATE = 0.5
WINDOW = 50  # answers the pace is judged over (a 429 share of 10% seen in 50 answers: 5 ± 2)
INCREASE = 1.1  # after a window without a 429: probe upwards, a tenth at a time
HELPED = 0.5  # a slow-down helped if the 429 share fell below this part of what it was,
NO_CHANGE = 0.8  # a share back at this part of the first one: the help was chance
RISEN = 1.5  # a share that rose this much at a slower pace: still above a limit, go deeper,
RISEN_BY = 0.15  # and by this much at least (a 10% share seen in 50 answers is 0.10 ± 0.04)
UNPACED_ABOVE = 1000.0  # a recovered pace this fast is no pace at all
ROUND_TRIP_SAMPLES = 3  # answered exchanges the round trip is measured on


class Clock(Protocol):
    """What the send path reads of time; injected, so the pacer and the 429 loop are tested
    without sleeping."""

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...

    def time(self) -> float: ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def time(self) -> float:
        return time.time()


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

    The control rule: slow down only while slowing down helps.

    - `rate` starts at `--max-rps` (or unpaced). Every 429 is waited out as the server asks
      (`retry_delay`), by the exchange that got it; that does not change the pace.
    - When a 429 states the server's limit (`X-RateLimit-Limit`, or the IETF `RateLimit-Policy`
      or `RateLimit-Limit` over its window: `allowed_rate`), the pace goes to 95% of it and stays
      there: a real limit, found and held.
    - Otherwise the pace is judged per window of `WINDOW` answers (AIMD on the 429 share): after
      a window with 429s, a trial slow-down to 95% of the rate the server did accept in that
      window (its answers that were not 429, per second: what a limit lets through). In the
      next window: a share down by half means it helped, and the pace holds (undone if the
      share later comes back); a share up by half again means the pace is still above a limit,
      and a deeper trial follows; a share about the same means slowing down does not help
      (429s that come at any pace: a gateway counting requests, a shared sandbox, a flaky
      proxy), and the pace goes back to where it was and stays there while the 429 share stays
      within twice that. After a window without a 429 the pace grows by
      a tenth, up to where it started: a limit is probed, found again and held.
    """

    rate: float | None
    clock: Clock = field(default_factory=SystemClock)
    _next: float = 0.0
    _recent: collections.deque[float] = field(default_factory=lambda: collections.deque(maxlen=32))
    _start: float | None = None
    _from_figures: bool = False
    _answers: int = 0  # in the current window
    _limited: int = 0  # 429s in the current window
    _window_start: float = 0.0
    _trial_from: float | None = None  # the rate before a trial slow-down, while it is judged
    _trial_share: float = 0.0  # the 429 share that made the trial
    _trial_open: bool = False
    _indifferent_share: float | None = None  # 429s at this share come whatever the pace
    _helped_from: float | None = None  # the share a slow-down that helped brought down

    def __post_init__(self) -> None:
        self._start = self.rate

    def wait(self) -> None:
        now = self.clock.monotonic()
        if self.rate:
            if now < self._next:
                self.clock.sleep(self._next - now)
                now = self._next
            self._next = now + 1.0 / self.rate
        self._recent.append(now)

    def observed_rate(self) -> float | None:
        """Requests per second over the last few sends, or None before there are two."""
        if len(self._recent) < 2:
            return None
        span = self._recent[-1] - self._recent[0]
        return (len(self._recent) - 1) / span if span > 0 else None

    def limited(self, allowed: float | None) -> None:
        """A 429. With the server's figures (`allowed`), pace at a margin below them."""
        if allowed is not None:
            wanted = max(allowed * PACE_MARGIN, MIN_RATE)
            self._from_figures = True
            if self.rate is None or wanted < self.rate:
                self.rate = wanted
        self._count(limited=True)

    def answered(self) -> None:
        """An answer that was not a 429."""
        self._count(limited=False)

    def _count(self, limited: bool) -> None:
        if self._answers == 0:
            self._window_start = self._recent[-1] if self._recent else self.clock.monotonic()
        self._answers += 1
        self._limited += limited
        if self._answers >= WINDOW:
            share = self._limited / self._answers
            span = self.clock.monotonic() - self._window_start
            accepted = (self._answers - self._limited) / span if span > 0 else None
            self._answers = self._limited = 0
            if not self._from_figures:
                self._judge(share, accepted)

    def _judge(self, share: float, accepted: float | None) -> None:
        """The end of a window with this 429 share (the rule in the class docstring)."""
        came_back = self._helped_from is not None and share >= self._helped_from * NO_CHANGE
        if self._trial_open:
            self._trial_open = False
            if came_back:  # the 429s are back at a slower pace: the help was chance
                self._undo(share)
            elif share <= self._trial_share * HELPED:  # it helped: hold, and watch
                self._helped_from = max(self._helped_from or 0.0, self._trial_share)
                if share == 0:
                    self._speed_up()
            elif share > self._trial_share * RISEN and share - self._trial_share > RISEN_BY:
                # far more 429s at a slower pace: still above a limit (its burst is spent)
                self._trial(share, accepted, chained=True)
            else:  # the same 429s at a slower pace: slowing down does not help
                self._undo(share)
        elif came_back:
            self._undo(share)
        elif share == 0:
            self._speed_up()
        elif self._helped_from is not None:  # a limit held, just above it again: back under
            self._trial(share, accepted, chained=True)
        elif self._indifferent_share is None or share > 2 * self._indifferent_share:
            self._trial(share, accepted, chained=False)

    def _trial(self, share: float, accepted: float | None, chained: bool) -> None:
        """Slow down to 95% of what the server accepted, to see whether that helps."""
        if not chained:  # where to come back to if slowing down turns out not to help
            self._trial_from = self.rate
            self._helped_from = None
        self._indifferent_share = None
        self._trial_share = share
        self._trial_open = True
        wanted = (accepted or self.observed_rate() or 10.0) * PACE_MARGIN
        self.rate = max(min(wanted, self.rate or wanted), MIN_RATE)

    def _undo(self, share: float) -> None:
        self.rate = self._trial_from
        self._indifferent_share = max(self._trial_share, share)
        self._helped_from = None

    def _speed_up(self) -> None:
        if self.rate is None or self.rate == self._start:
            return
        grown = self.rate * INCREASE
        if self._start is None:
            self.rate = None if grown > UNPACED_ABOVE else grown
        else:
            self.rate = min(grown, self._start)


def _seconds_from(value: str, now: float) -> float | None:
    """A header's delay in seconds: a number of seconds, an epoch timestamp, or an HTTP date."""
    try:
        number = float(value)
    except ValueError:
        try:
            return email.utils.parsedate_to_datetime(value).timestamp() - now
        except (TypeError, ValueError):
            return None
    return number - now if number > 1e9 else number


_PARAM = re.compile(r"(?:^|[;,\s])([a-z]+)=\s*\"?([0-9.]+)", re.IGNORECASE)


def _params(value: str) -> dict[str, float]:
    """`q=20;w=1`, `limit=10, remaining=0, reset=5`, `"default";r=0;t=3`: numeric parameters
    of a structured rate-limit field, by name (the first of each)."""
    found: dict[str, float] = {}
    for name, number in _PARAM.findall(value):
        found.setdefault(name.lower(), float(number))
    return found


def _header(exchange: Exchange, name: str) -> str | None:
    value = exchange.headers.get(name)
    return str(value) if value is not None else None


def retry_delay(exchange: Exchange, attempt: int, now: float | None = None) -> float:
    """Seconds to wait after a 429: `Retry-After` (seconds or an HTTP date),
    `X-RateLimit-Reset`, the IETF `RateLimit-Reset` or `RateLimit`'s `t` (or `reset`), else an
    exponential backoff."""
    now = time.time() if now is None else now
    for name in ("retry-after", "x-ratelimit-reset", "ratelimit-reset"):
        value = _header(exchange, name)
        seconds = _seconds_from(value, now) if value is not None else None
        if seconds is not None:
            return max(0.0, seconds)
    combined = _params(_header(exchange, "ratelimit") or "")
    for key in ("t", "reset"):
        if key in combined:
            return max(0.0, combined[key])
    return 0.5 * 2.0**attempt


def allowed_rate(exchange: Exchange, now: float | None = None) -> float | None:
    """Requests per second a 429 says are allowed, never faster than the server's own figures:
    `X-RateLimit-Limit` (or the IETF `RateLimit-Limit`) over the window left until its reset (at
    least one second), or the IETF `RateLimit-Policy` quota over its window (`q=20;w=1`, or the
    older `20;w=1`). None when the server states no limit."""
    now = time.time() if now is None else now
    policy = _header(exchange, "ratelimit-policy")
    if policy:
        found = _params(policy)
        leading = re.match(r"\s*([0-9.]+)", policy)
        quota = found.get("q") or (float(leading.group(1)) if leading else None)
        window = found.get("w")
        if quota and quota > 0 and window and window > 0:
            return quota / window
    for limit_name, reset_names in (
        ("x-ratelimit-limit", ("x-ratelimit-reset", "retry-after")),
        ("ratelimit-limit", ("ratelimit-reset", "retry-after")),
    ):
        raw_limit = _header(exchange, limit_name)
        try:
            limit = float(raw_limit.split(",")[0].split(";")[0]) if raw_limit else None
        except ValueError:
            limit = None
        if not limit or limit <= 0:
            continue
        window = None
        for name in reset_names:
            value = _header(exchange, name)
            window = _seconds_from(value, now) if value is not None else None
            if window is not None:
                break
        return limit / max(window or 1.0, 1.0)
    return None


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
    answered: int = 0  # sends that came back (with an answer or without one)
    rate_limited: int = 0  # 429s that were waited out
    waited_s: float = 0.0
    consecutive_transport_errors: int = 0
    _consecutive_429: int = 0
    _consecutive_429_wait: float = 0.0

    concurrency: int = 1
    # What talks to the world, injected: the HTTP transport (None: the deadline transport over
    # sockets; `httpx.MockTransport` in unit tests) and the clock the pace and 429 waits read.
    transport: httpx.BaseTransport | None = field(default=None, repr=False)
    clock: Clock = field(default_factory=SystemClock, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _first_round_trips: list[float] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.redactor.add(self.api_key.reveal())
        self.client = new_client(
            self.timeout, max_connections=max(10, self.concurrency), transport=self.transport
        )
        self.pacer = Pacer(self.max_rps, clock=self.clock)

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

    def round_trip_ms(self) -> float | None:
        """The median time of the first exchanges answered (the probe, the key check): what
        overlapping requests would hide. None before any was answered."""
        with self._lock:
            times = sorted(self._first_round_trips)
        return times[len(times) // 2] if times else None

    def _note_round_trip(self, result: Exchange) -> None:
        if result.status is not None and len(self._first_round_trips) < ROUND_TRIP_SAMPLES:
            self._first_round_trips.append(result.elapsed_ms)

    def exchange(self, request: PreparedRequest) -> Exchange:
        """Send one request through every guarantee; raises BudgetExhausted or TargetGone, never
        a transport error (that is in the Exchange). A 429 never reaches a check: it is waited
        out, or, once the retries are spent, the run ends as a 429 storm."""
        for attempt in range(MAX_RATE_LIMIT_RETRIES + 1):
            self.before_request()
            result = send(
                self.client, request, deadline_s=self.deadline_s, monotonic=self.clock.monotonic
            )
            with self._lock:
                self.answered += 1  # answered or given up on: no longer in flight
            result.attempts = attempt + 1
            if result.status != 429:
                with self._lock:
                    self._note_round_trip(result)
                    self.pacer.answered()
                    self._consecutive_429 = 0
                    self._consecutive_429_wait = 0.0
                break
            now = self.clock.time()
            delay = min(retry_delay(result, attempt, now), MAX_RATE_LIMIT_WAIT_S)
            with self._lock:
                self._on_429(result, now, retries_left=MAX_RATE_LIMIT_RETRIES - attempt)
                self.rate_limited += 1
                self.waited_s += delay
                self._consecutive_429_wait += delay
            self.clock.sleep(delay)
        with self._lock:
            self._watch_transport(result)
        return result

    def _on_429(self, result: Exchange, now: float, retries_left: int) -> None:
        self._consecutive_429 += 1
        self.pacer.limited(allowed_rate(result, now))
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
        result = send(
            self.client, request, deadline_s=self.deadline_s, monotonic=self.clock.monotonic
        )
        if result.status is not None:
            with self._lock:
                self._note_round_trip(result)
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
