"""Response-shape mutants (RESP-*): a session that comes back in the wrong shape."""

from __future__ import annotations

from .._rewrite import Answer
from ._helpers import ok_body
from ._registry import after


@after("resp-text-plain", "RESP-001", "sessions come back as text/plain")
def _text_plain_success(answer: Answer) -> None:
    if answer.status == 200:
        answer.set_header(b"content-type", b"text/plain")


@after("resp-id-renamed", "RESP-002", "session_id is called id")
def _renamed_session_id(answer: Answer) -> None:
    body = ok_body(answer)
    if body is not None:
        body["id"] = body.pop("session_id")


@after("resp-numeric-payment-id", "RESP-003", "payment_id is a number")
def _numeric_payment_id(answer: Answer) -> None:
    body = ok_body(answer)
    if body is not None and body.get("payment_id"):
        body["payment_id"] = 123456789


@after("resp-client-secret-object", "RESP-004", "client_secret is an object")
def _client_secret_object(answer: Answer) -> None:
    body = ok_body(answer)
    if body is not None and body.get("client_secret"):
        body["client_secret"] = {"secret": body["client_secret"]}


@after("resp-constant-session-id", "RESP-005", "every session has the same id")
def _constant_session_id(answer: Answer) -> None:
    body = ok_body(answer)
    if body is not None:
        body["session_id"] = "cks_0000000000000000000000"
        if isinstance(body.get("checkout_url"), str):
            body["checkout_url"] = (
                "https://test.checkout.dodopayments.com/session/cks_0000000000000000000000"
            )


@after("resp-http-checkout-url", "RESP-006", "checkout_url is plain http")
def _http_checkout_url(answer: Answer) -> None:
    body = ok_body(answer)
    if body is not None and isinstance(body.get("checkout_url"), str):
        body["checkout_url"] = body["checkout_url"].replace("https://", "http://")
