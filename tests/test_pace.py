"""The send path's pace and 429 handling, on a fake clock and `httpx.MockTransport`: servers
that rate-limit in every way a real one does, judged in milliseconds, with no sleep and no
socket (issue 22). The figures asked of a run: 429s that come at any pace cost only the waits
they ask for; a per-second limit is found and held whether or not it states its figures."""

from __future__ import annotations

import email.utils
import logging
import random
from collections.abc import Callable

import httpx
import pytest

from checkout_conformance.profile import reference_profile
from checkout_conformance.redact import RedactingLogRecords, Redactor, Secret
from checkout_conformance.transport import Exchange, Pacer, PreparedRequest, Target
from checkout_conformance.transport._target import WINDOW, allowed_rate, retry_delay

KEY = "sk_test_pace_0123456789abcdef"
LATENCY = 0.002  # each answer takes 2 ms of the fake clock


class FakeClock:
    """Time that passes only when the code under test sleeps or a request is answered."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += seconds

    def time(self) -> float:
        return 1_800_000_000.0 + self.now


Handler = Callable[[httpx.Request, FakeClock, int], httpx.Response]


def target_for(handler: Handler, clock: FakeClock, max_rps: float | None = None) -> Target:
    count = 0

    def answer(request: httpx.Request) -> httpx.Response:
        nonlocal count
        count += 1
        clock.now += LATENCY
        return handler(request, clock, count)

    return Target(
        base_url="http://sandbox.invalid",
        api_key=Secret(KEY),
        profile=reference_profile(),
        embedded=False,
        timeout=5,
        max_rps=max_rps,
        transport=httpx.MockTransport(answer),
        clock=clock,
    )


def send_many(target: Target, count: int) -> list[Exchange]:
    request = PreparedRequest("POST", "http://sandbox.invalid/checkouts", [], b"{}")
    return [target.exchange(request) for _ in range(count)]


def ok() -> httpx.Response:
    return httpx.Response(200, json={"session_id": "cks_1"})


# -- 429s that come at any pace ----------------------------------------------------------------
@pytest.mark.parametrize("as_date", [False, True])
def test_429s_at_any_pace_cost_only_the_waits_they_ask_for(as_date: bool) -> None:
    """Every 10th request answered 429 (Retry-After 0.2 s, or an HTTP date a second ahead),
    whatever the pace: the run takes the 429-free time plus the waits, plus at most 20%."""

    def every_tenth(request: httpx.Request, clock: FakeClock, n: int) -> httpx.Response:
        if n % 10:
            return ok()
        after = email.utils.formatdate(clock.time() + 1, usegmt=True) if as_date else "0.2"
        return httpx.Response(429, headers={"Retry-After": after})

    clock = FakeClock()
    target = target_for(every_tenth, clock)
    started = clock.now
    answers = send_many(target, 2000)
    assert all(a.status == 200 for a in answers)
    elapsed = clock.now - started
    free = target.sent * LATENCY  # the same requests with no 429: answered back to back
    waits = target.waited_s
    assert target.rate_limited >= 200
    assert elapsed <= (free + waits) * 1.2, (elapsed, free, waits)
    assert target.pace is None  # back to unpaced: slowing down did not help


@pytest.mark.parametrize("share", [0.05, 0.1, 0.2])
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_429s_at_random_cost_only_the_waits_they_ask_for(share: float, seed: int) -> None:
    """A flaky proxy or a shared sandbox: 429s at random, whatever the pace."""
    chance = random.Random(seed)

    def at_random(request: httpx.Request, clock: FakeClock, n: int) -> httpx.Response:
        return (
            httpx.Response(429, headers={"Retry-After": "0.2"}) if chance.random() < share else ok()
        )

    clock = FakeClock()
    target = target_for(at_random, clock)
    started = clock.now
    send_many(target, 2000)
    elapsed = clock.now - started
    assert elapsed <= (target.sent * LATENCY + target.waited_s) * 1.2


def test_a_slow_down_that_helps_is_held_and_grows_back_when_the_429s_stop() -> None:
    clock = FakeClock()
    pacer = Pacer(rate=None, clock=clock)
    for index in range(WINDOW):  # 100 requests a second, a quarter of them refused
        pacer.wait()
        clock.sleep(0.01)
        if index % 4 == 0:
            pacer.limited(None)
        else:
            pacer.answered()
    assert pacer.rate is not None and 65 < pacer.rate < 80  # 95% of the ~75/s accepted
    slowed = pacer.rate
    for _ in range(WINDOW):  # the next window: none (the slow-down helped)
        pacer.answered()
    assert pacer.rate == pytest.approx(slowed * 1.1)  # held, and probing upwards
    for _ in range(WINDOW * 100):
        pacer.answered()
    assert pacer.rate is None  # back to where it started (unpaced)


def test_figures_a_server_states_are_held() -> None:
    pacer = Pacer(rate=None, clock=FakeClock())
    pacer.limited(100)
    assert pacer.rate == 95
    pacer.limited(1000)
    assert pacer.rate == 95
    pacer.limited(10)
    assert pacer.rate == 9.5
    for _ in range(WINDOW * 10):
        pacer.answered()
    assert pacer.rate == 9.5


# -- a per-second limit ----------------------------------------------------------------------
def bucket(per_second: float, figures: str) -> Handler:
    """A token bucket of `per_second` requests a second (burst 1 s), as gateways run one;
    `figures`: "none" (Retry-After only), "x-ratelimit", or "ietf" (RateLimit fields only)."""
    tokens = per_second
    last = None

    def handler(request: httpx.Request, clock: FakeClock, n: int) -> httpx.Response:
        nonlocal tokens, last
        if last is not None:
            tokens = min(per_second, tokens + (clock.now - last) * per_second)
        last = clock.now
        if tokens >= 1:
            tokens -= 1
            return ok()
        wait = (1 - tokens) / per_second
        headers = {
            "none": {"Retry-After": f"{wait:.3f}"},
            "x-ratelimit": {
                "Retry-After": f"{wait:.3f}",
                "X-RateLimit-Limit": f"{per_second:g}",
                "X-RateLimit-Reset": "1",
            },
            "ietf": {
                "RateLimit-Policy": f'"default";q={per_second:g};w=1',
                "RateLimit": f'"default";r=0;t={max(wait, 0.001):.3f}',
            },
        }[figures]
        return httpx.Response(429, headers=headers)

    return handler


@pytest.mark.parametrize(
    ("per_second", "figures", "within"),
    [(40, "none", 1.2), (40, "x-ratelimit", 1.2), (20, "ietf", 1.25), (20, "none", 1.25)],
)
def test_a_per_second_limit_is_found_and_held(per_second: int, figures: str, within: float) -> None:
    clock = FakeClock()
    target = target_for(bucket(per_second, figures), clock)
    started = clock.now
    answers = send_many(target, 1000)
    assert all(a.status == 200 for a in answers)
    elapsed = clock.now - started
    assert elapsed <= 1000 / per_second * within, (elapsed, target.rate_limited, target.pace)
    assert target.rate_limited < 150  # held: not one 429 for every request the limit allows


def test_ietf_ratelimit_fields_give_the_rate_and_the_wait() -> None:
    request = PreparedRequest("POST", "http://x.invalid/checkouts", [], b"{}")
    told = Exchange(
        request,
        status=429,
        headers=httpx.Headers({"RateLimit-Policy": '"burst";q=100;w=5', "RateLimit": "r=0;t=3"}),
    )
    assert allowed_rate(told) == 20
    assert retry_delay(told, 0) == 3
    older = Exchange(
        request,
        status=429,
        headers=httpx.Headers({"RateLimit-Limit": "10", "RateLimit-Reset": "2"}),
    )
    assert allowed_rate(older) == 5
    assert retry_delay(older, 0) == 2
    assert allowed_rate(Exchange(request, 429, httpx.Headers({"RateLimit-Policy": "10;w=2"}))) == 5


# -- each exchange on its own ----------------------------------------------------------------------
def test_cookies_a_server_sets_are_never_sent_back() -> None:
    seen: list[str | None] = []

    def sets_cookies(request: httpx.Request, clock: FakeClock, n: int) -> httpx.Response:
        seen.append(request.headers.get("cookie"))
        return httpx.Response(
            200, json={"session_id": "cks_1"}, headers={"Set-Cookie": f"session=s{n}; Path=/"}
        )

    target = target_for(sets_cookies, FakeClock())
    send_many(target, 3)
    written = PreparedRequest(
        "POST", "http://sandbox.invalid/checkouts", [("Cookie", "api_key=mine")], b"{}"
    )
    sent = target.exchange(written)
    assert seen == [None, None, None, "api_key=mine"]  # only what the scenario wrote
    # What is printed and replayed is what went on the wire, the client's own headers included.
    shown = sent.render_request(Redactor())
    assert sent.sent_headers is not None
    for name, value in sent.sent_headers:
        assert f"{name}: {value}" in shown or name.lower() == "host"  # the URL's, line one
    assert "user-agent: python-httpx" in shown.lower() and "cookie: api_key=mine" in shown.lower()
    assert "-H 'Cookie: api_key=mine'" in sent.curl(Redactor())


def test_every_log_record_is_redacted_child_loggers_included(
    caplog: pytest.LogCaptureFixture,
) -> None:
    redactor = Redactor()
    redactor.add(KEY)
    records = RedactingLogRecords(redactor)
    before = logging.getLogRecordFactory()
    records.install()
    try:
        with caplog.at_level(logging.DEBUG):
            logging.getLogger("httpcore.http11").debug("send_request_headers %s", KEY)
            logging.getLogger("some.other.library").warning(f"Bearer {KEY}")
    finally:
        records.uninstall()
    assert KEY not in caplog.text and caplog.text.count("send_request_headers") == 1
    assert logging.getLogRecordFactory() is before  # removed at the end of the session


# -- live progress ---------------------------------------------------------------------------
def test_the_property_test_reports_progress_every_few_seconds_with_growing_counts() -> None:
    from checkout_conformance.catalog import load_catalog
    from checkout_conformance.contract import load_contract
    from checkout_conformance.properties import Progress, PropertyRun
    from checkout_conformance.properties._run import PROGRESS_SECONDS
    from checkout_conformance.records import new_record

    def slow(request: httpx.Request, clock: FakeClock, n: int) -> httpx.Response:
        clock.now += 0.5  # a far target: half a second a request
        return ok()

    clock = FakeClock()
    target = target_for(slow, clock)
    seen: list[Progress] = []
    run = PropertyRun(
        target=target,
        catalog=load_catalog(),
        contract=load_contract(),
        seed=1,
        record=new_record("property", "t", "t"),
        on_progress=seen.append,
    )
    request = PreparedRequest("POST", "http://sandbox.invalid/checkouts", [], b"{}")
    for _ in range(40):  # 20 s of requests: a mark every PROGRESS_SECONDS
        target.exchange(request)
        run._report_progress()
    assert len(seen) >= 20 / PROGRESS_SECONDS - 1
    assert [p.sent for p in seen] == sorted(p.sent for p in seen)  # it never restarts
    assert all(p.answered == p.sent and p.in_flight == 0 for p in seen)


def test_a_429_storm_ends_the_run_after_waiting_as_asked_and_no_longer() -> None:
    from checkout_conformance.transport import TargetGone
    from checkout_conformance.transport._target import MAX_RATE_LIMIT_RETRIES

    def always(request: httpx.Request, clock: FakeClock, n: int) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": "2"})

    clock = FakeClock()
    target = target_for(always, clock)
    with pytest.raises(TargetGone, match="answers 429"):
        send_many(target, 1)
    assert target.sent == MAX_RATE_LIMIT_RETRIES + 1
    assert clock.slept == pytest.approx(2 * MAX_RATE_LIMIT_RETRIES)  # each wait as it asked


def test_a_target_that_stops_answering_ends_the_run() -> None:
    from checkout_conformance.transport import TargetGone
    from checkout_conformance.transport._target import MAX_CONSECUTIVE_TRANSPORT_ERRORS

    def refuses(request: httpx.Request, clock: FakeClock, n: int) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    target = target_for(refuses, FakeClock())
    with pytest.raises(TargetGone, match="stopped answering"):
        send_many(target, MAX_CONSECUTIVE_TRANSPORT_ERRORS)


def test_the_deadline_holds_against_a_server_that_drips_a_byte_at_a_time() -> None:
    """Every read gets only the time left until the exchange's deadline: a stream that answers
    one byte a second never trips a read timeout, but runs out of deadline (fake clock)."""
    import httpcore

    from checkout_conformance.transport import _http

    clock = FakeClock()
    given: list[float | None] = []

    class Dripping(httpcore.NetworkStream):
        def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
            given.append(timeout)
            clock.sleep(1.0)  # one byte a second, always within a 5 s read timeout
            return b"x"

        def write(self, buffer: bytes, timeout: float | None = None) -> None:
            given.append(timeout)

        def close(self) -> None:
            pass

    stream = _http._DeadlineStream(Dripping())

    def read_until_the_deadline() -> None:
        while True:
            stream.read(1, timeout=5.0)

    token = _http._DEADLINE.set((clock.monotonic() + 10.0, clock.monotonic))
    try:
        stream.write(b"GET / HTTP/1.1\r\n\r\n", timeout=5.0)
        with pytest.raises(httpcore.ReadTimeout, match="deadline"):
            read_until_the_deadline()
    finally:
        _http._DEADLINE.reset(token)
    assert given[0] == 5.0  # the write had the whole timeout
    assert given[-1] is not None and given[-1] <= 1.0  # the last read, only what was left
    assert 9 <= len(given) - 1 <= 10  # about ten bytes in the ten seconds of the deadline
