"""Tolerated variants: servers that differ from the reference where the catalog allows it.

A conformance suite must call each of them conformant (no MUST failed); some earn SHOULD (or
MAY) findings, named in `warns`, and no others. They are small rewrites of the reference server,
each one reading of `requirements.md` that a correct implementation may take.
"""

from __future__ import annotations

import email.utils
import math
import re
import threading
import time
from dataclasses import dataclass
from typing import Any

from ..server import ServerConfig
from ._rewrite import After, Answer, Before, Request, json_answer


@dataclass(frozen=True)
class Variant:
    name: str
    description: str
    after: After | None = None
    warns: frozenset[str] = frozenset()  # SHOULD or MAY requirements it is expected to fail
    before: Before | None = None
    latency_ms: float = 0.0  # every answer this late (`serve --latency-ms`, asynchronously)


def _forbidden_for_unauthorized(answer: Answer) -> None:
    if answer.status == 401:
        answer.status = 403
        answer.set_header(b"www-authenticate", None)


def _bad_request_for_unprocessable(answer: Answer) -> None:
    if answer.status == 422:
        answer.status = 400


def _checkout_url_omitted_when_null(answer: Answer) -> None:
    if isinstance(answer.body, dict) and answer.body.get("checkout_url", "") is None:
        del answer.body["checkout_url"]


def _extra_fields(answer: Answer) -> None:
    if isinstance(answer.body, dict) and "session_id" in answer.body:
        answer.body.update(
            {"expires_at": "2026-12-01T00:00:00Z", "mode": "test", "object": "checkout_session"}
        )


def _other_id_format(answer: Answer) -> None:
    if isinstance(answer.body, dict) and "session_id" in answer.body:
        new = "sess-" + str(answer.body["session_id"]).removeprefix("cks_").lower()
        answer.body["session_id"] = new
        if isinstance(answer.body.get("checkout_url"), str):
            answer.body["checkout_url"] = f"https://pay.example.com/c/{new}"


class _Slow:
    """Every answer 5 ms late, and every 20th 150 ms late: timing assumptions must not matter."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, answer: Answer) -> None:
        self.count += 1
        time.sleep(0.15 if self.count % 20 == 0 else 0.005)


class PerSecondRateLimit:
    """A fixed one-second window over every request, whatever its auth, as API gateways do:
    past the limit, 429 with Retry-After and X-RateLimit-Limit/Remaining/Reset, or (`ietf`)
    with the IETF `RateLimit-Policy` and `RateLimit` fields alone."""

    def __init__(self, per_second: int = 200, ietf: bool = False) -> None:
        self.per_second = per_second
        self.ietf = ietf
        self.window_start = 0.0
        self.count = 0
        self.lock = threading.Lock()

    def __call__(self, request: Request, config: ServerConfig) -> Answer | None:
        with self.lock:
            now = time.monotonic()
            if now - self.window_start >= 1.0:
                self.window_start, self.count = now, 0
            self.count += 1
            remaining = max(self.per_second - self.count, 0)
            reset = max(1, math.ceil(self.window_start + 1.0 - now))
        if self.count <= self.per_second:
            return None
        headers = (
            [
                (b"ratelimit-policy", f'"default";q={self.per_second};w=1'.encode()),
                (b"ratelimit", f'"default";r={remaining};t={reset}'.encode()),
            ]
            if self.ietf
            else [
                (b"retry-after", str(reset).encode()),
                (b"x-ratelimit-limit", str(self.per_second).encode()),
                (b"x-ratelimit-remaining", str(remaining).encode()),
                (b"x-ratelimit-reset", str(reset).encode()),
            ]
        )
        body = {"code": "TOO_MANY_REQUESTS", "message": "Rate limit exceeded"}
        return json_answer(request, 429, body, headers)


_NO_HOST_URL = re.compile(r"^[a-z][a-z0-9+.-]*://(/|$)", re.IGNORECASE)


def _odd_value(value: Any, key: str = "") -> str | None:
    """Why a stricter backend would refuse this schema-valid value, or None."""
    if isinstance(value, str):
        if value == "":
            return f"{key or 'a field'} must not be empty"
        if _NO_HOST_URL.match(value):
            return f"{key} is a URL with no host"
        if key in ("discount_code", "discount_codes") and not value.strip():
            return f"{key} must not be blank"
        return None
    items: list[tuple[Any, Any]]
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):
        items = [(key, item) for item in value]  # a list's items carry the list's name
    else:
        return None
    for name, item in items:
        if name == "metadata":
            continue  # free-form values: an empty string is data
        found = _odd_value(item, str(name))
        if found:
            return found
    return None


def _refuse_odd_values(request: Request, config: ServerConfig) -> Answer | None:
    """Refuse some schema-valid values with the documented 422 body, as a real backend may:
    empty strings, URLs with no host, blank discount codes."""
    if request.method != "POST" or not isinstance(request.body, dict):
        return None
    authorization = request.headers.get(b"authorization", b"").decode("latin-1")
    if authorization != f"Bearer {config.api_key}":
        return None  # authentication comes first (AUTH-007)
    reason = _odd_value(request.body)
    if reason is None:
        return None
    return json_answer(request, 422, {"code": "INVALID_REQUEST_BODY", "message": reason})


def _problem_json_errors(answer: Answer) -> None:
    """RFC 9457 problem details instead of the documented {code, message} body."""
    if answer.status >= 400 and isinstance(answer.body, dict):
        answer.body = {
            "type": "https://errors.example/" + str(answer.body.get("code", "error")).lower(),
            "title": str(answer.body.get("code", "Error")),
            "status": answer.status,
            "detail": str(answer.body.get("message", "")),
        }
        answer.set_header(b"content-type", b"application/problem+json")


def _other_permitted_codes(answer: Answer) -> None:
    """The other answers the catalog allows: 404 for other methods (ROB-005), 400 for a
    non-JSON media type (VAL-013) and for an oversized body (ROB-004), 422 for malformed JSON
    (VAL-012, VAL-014), and no WWW-Authenticate header (AUTH-010 is a MAY)."""
    answer.set_header(b"www-authenticate", None)
    if answer.status == 405:
        answer.status = 404
        answer.set_header(b"allow", None)
    elif answer.status in (413, 415):
        answer.status = 400
    elif answer.status == 400:
        answer.status = 422


class _OccasionalRateLimit:
    """Every 97th session answer becomes a 429 with Retry-After, as a busy sandbox would."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, answer: Answer) -> None:
        if answer.status != 200:
            return
        self.count += 1
        if self.count % 97 == 0:
            answer.status = 429
            answer.body = {"code": "TOO_MANY_REQUESTS", "message": "Rate limit exceeded"}
            answer.set_header(b"retry-after", b"1")


class RateLimitAtAnyPace:
    """Every Nth request, whatever the pace, answered 429 (a gateway that counts requests, a
    shared sandbox): with `Retry-After` in seconds, or as an HTTP date (`http_date`)."""

    def __init__(self, every: int, retry_after: float, http_date: bool = False) -> None:
        self.every = every
        self.retry_after = retry_after
        self.http_date = http_date
        self.count = 0
        self.lock = threading.Lock()

    def __call__(self, request: Request, config: ServerConfig) -> Answer | None:
        with self.lock:
            self.count += 1
            if self.count % self.every:
                return None
        after = (
            email.utils.formatdate(time.time() + self.retry_after, usegmt=True)
            if self.http_date
            else f"{self.retry_after:g}"
        )
        body = {"code": "TOO_MANY_REQUESTS", "message": "Rate limit exceeded"}
        return json_answer(request, 429, body, [(b"retry-after", after.encode())])


SESSION_COOKIE = b"cc_session"


def _sets_cookies(answer: Answer) -> None:
    """A session cookie on every answer, as servers behind a load balancer or a framework do."""
    answer.set_header(
        b"set-cookie", SESSION_COOKIE + b"=s" + str(id(answer)).encode() + b"; Path=/"
    )


def _refuses_cookies_sent_back(request: Request, config: ServerConfig) -> Answer | None:
    """A request that carries the cookie the server set is refused: the suite must send each
    exchange on its own, as its scenarios wrote it."""
    if SESSION_COOKIE + b"=" in request.headers.get(b"cookie", b""):
        body = {"code": "COOKIE_SENT_BACK", "message": "this request carries a session cookie"}
        return json_answer(request, 400, body)
    return None


def _other_error_shape(answer: Answer) -> None:
    if answer.status >= 400 and isinstance(answer.body, dict):
        answer.body = {
            "error": {"type": answer.body.get("code"), "detail": answer.body.get("message")}
        }


VARIANTS = {
    variant.name: variant
    for variant in (
        Variant(
            "403-for-401",
            "403 instead of 401 for authentication failures",
            _forbidden_for_unauthorized,
            frozenset({"AUTH-006"}),
        ),
        Variant(
            "400-for-422",
            "400 instead of 422 for invalid requests",
            _bad_request_for_unprocessable,
            frozenset({"VAL-014"}),
        ),
        Variant(
            "checkout-url-omitted",
            "checkout_url left out instead of null",
            _checkout_url_omitted_when_null,
            frozenset({"CURL-002"}),
        ),
        Variant("extra-fields", "additional response fields", _extra_fields),
        Variant("other-id-format", "session ids and URLs in another format", _other_id_format),
        Variant("slow", "every answer 5 ms late, every 20th 150 ms late", _Slow()),
        Variant("occasional-429", "a 429 with Retry-After now and then", _OccasionalRateLimit()),
        Variant(
            "per-second-rate-limit",
            "200 requests a second on every request, with Retry-After and X-RateLimit-*",
            before=PerSecondRateLimit(),
        ),
        Variant(
            "ietf-rate-limit",
            "200 requests a second, told only by the IETF RateLimit and RateLimit-Policy fields",
            before=PerSecondRateLimit(ietf=True),
        ),
        Variant(
            "429-at-any-pace",
            "every 10th request answered 429 (Retry-After: 0.1), whatever the pace",
            before=RateLimitAtAnyPace(every=10, retry_after=0.1),
        ),
        Variant(
            "429-http-date",
            "every 80th request answered 429, Retry-After as an HTTP date a second ahead",
            before=RateLimitAtAnyPace(every=80, retry_after=1.0, http_date=True),
        ),
        Variant(
            "far-100ms",
            "every answer 100 ms late on loopback, as a tunnel, a port-forward or a VM adds",
            latency_ms=100.0,
        ),
        Variant(
            "sets-cookies",
            "a session cookie on every answer; a request that sends it back is refused",
            _sets_cookies,
            before=_refuses_cookies_sent_back,
        ),
        Variant(
            "refuses-odd-values",
            "422 for some schema-valid values: empty strings, URLs with no host, blank codes",
            before=_refuse_odd_values,
        ),
        Variant(
            "problem-json-errors",
            "errors as application/problem+json",
            _problem_json_errors,
            frozenset({"AUTH-008", "VAL-015"}),
        ),
        Variant(
            "other-permitted-codes",
            "404 for other methods, 400 for 413/415, 422 for malformed JSON, no WWW-Authenticate",
            _other_permitted_codes,
            frozenset({"AUTH-010"}),
        ),
        Variant(
            "other-error-shape",
            "error bodies in another shape",
            _other_error_shape,
            frozenset({"AUTH-008", "VAL-015"}),
        ),
    )
}
