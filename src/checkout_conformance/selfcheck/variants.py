"""Tolerated variants: servers that differ from the reference where the catalog allows it.

A conformance suite must call each of them conformant (no MUST failed); some earn SHOULD
warnings, named in `warns`. They are small rewrites of the reference server.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ._rewrite import After, Answer


@dataclass(frozen=True)
class Variant:
    name: str
    description: str
    after: After
    warns: frozenset[str] = frozenset()  # SHOULD requirements it is expected to fail


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


def _slow(answer: Answer) -> None:
    time.sleep(0.005)


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
        Variant("slow", "every answer 5 ms late", _slow),
        Variant("occasional-429", "a 429 with Retry-After now and then", _OccasionalRateLimit()),
        Variant(
            "other-error-shape",
            "error bodies in another shape",
            _other_error_shape,
            frozenset({"AUTH-008", "VAL-015"}),
        ),
    )
}
