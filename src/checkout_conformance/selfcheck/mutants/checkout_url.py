"""checkout_url mutants (CURL-*): the URL where it must be null, or missing where it must be."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._rewrite import Answer
from ._helpers import ok_body, requested_body
from ._registry import after


def _leak_url(answer: Answer, when: Callable[[dict[str, Any]], bool]) -> None:
    body = ok_body(answer)
    requested = requested_body(answer)
    if body is not None and requested.get("payment_method_id") is not None and when(requested):
        body["checkout_url"] = (
            f"https://test.checkout.dodopayments.com/session/{body['session_id']}"
        )


@after("curl-url-with-payment-method", "CURL-001", "checkout_url is set even with a payment method")
def _url_with_payment_method(answer: Answer) -> None:
    _leak_url(answer, lambda requested: True)


@after(
    "curl-url-with-minimal-address-and-metadata",
    "CURL-001",
    "checkout_url leaks for charges with a minimal address and metadata",
    properties_only=True,
)
def _url_with_minimal_address_and_metadata(answer: Answer) -> None:
    _leak_url(answer, lambda r: r.get("minimal_address") is True and bool(r.get("metadata")))


@after(
    "curl-url-with-short-link",
    "CURL-001",
    "checkout_url leaks for charges with short_link true",
    properties_only=True,
)
def _url_with_short_link(answer: Answer) -> None:
    _leak_url(answer, lambda r: r.get("short_link") is True)


@after("curl-url-omitted", "CURL-002", "checkout_url is left out instead of null")
def _url_omitted(answer: Answer) -> None:
    body = ok_body(answer)
    if body is not None and body.get("checkout_url", "") is None:
        del body["checkout_url"]


@after("curl-null-url-when-confirmed", "CURL-003", "confirm without a payment method gives no URL")
def _null_url_when_confirmed(answer: Answer) -> None:
    body = ok_body(answer)
    if body is not None and requested_body(answer).get("confirm") is True:
        body["checkout_url"] = None


@after("curl-no-payment-id", "CURL-004", "no payment_id for a charge")
def _no_payment_id(answer: Answer) -> None:
    body = ok_body(answer)
    if body is not None:
        body["payment_id"] = None


@after(
    "curl-url-with-three-fields",
    "CURL-001",
    "checkout_url leaks for charges that set metadata, short_link and a discount code together",
    properties_only=True,  # three fields: beyond the pairwise rows, found by the property tests
)
def _url_with_three_fields(answer: Answer) -> None:
    _leak_url(
        answer,
        lambda r: (
            bool(r.get("metadata"))
            and r.get("short_link") is True
            and bool(r.get("discount_codes"))
        ),
    )
