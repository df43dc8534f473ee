"""The property tests' checks, each worded as the requirement it proves.

Schemathesis generates the cases; the verdict on each answer is ours, because schemathesis'
built-in checks are stricter or looser than the catalog in places (`positive_data_acceptance`
wants a 2xx where ROB-003 also allows a 4xx with the documented error body, for one). Every
difference, and how it is closed here, is in `docs/property-checks.md`.

Each observation is judged by exactly one requirement: a 4xx to a schema-valid case by ROB-003
(its wording includes the body), a 4xx to a schema-invalid case by VAL-015.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..contract import Contract, is_charge
from ..transport import NOT_JSON, Exchange

REQUEST_SCHEMA = "CreateCheckoutSessionRequest"
RESPONSE_SCHEMA = "CreateSessionResponse"
JSON_CONTENT_TYPE = re.compile(r"^application/([a-z0-9.+-]+\+)?json\b", re.IGNORECASE)
SHOWN_BODY = 500
# ROB-005 (SHOULD) is the one rule for a method /checkouts does not serve, in scenarios and
# generated cases alike: the methods it names get 405 or 404 (rob-other-methods in
# suites/robustness/hostile.yaml expects the same); any other method (OPTIONS, a CORS
# preflight; HEAD; TRACE; an unknown one) may get any answer but a crash, 501 Not Implemented
# included (RFC 9110 §15.6.2). Never ROB-001's: that one is about POST requests.
ROB_005_METHODS = ("GET", "PUT", "PATCH", "DELETE")
ROB_005_STATUSES = (405, 404)


def unsupported_method_problem(method: str, status: int | None, error: str | None) -> str | None:
    """What is wrong with the answer to a method /checkouts does not serve (ROB-005), if any."""
    if status is None:
        return f"{method} /checkouts got no response ({error})"
    if method in ROB_005_METHODS:
        if status in ROB_005_STATUSES:
            return None
        return f"{method} /checkouts got status {status}, not 405 (or 404)"
    if status >= 500 and status != 501:
        return f"{method} /checkouts got status {status}"
    return None


# Every requirement a property check may judge (plus the overlay's limit requirements, which
# ROB-002 failures are attributed to when that limit is all a case breaks).
JUDGED = (
    "ROB-001",
    "ROB-002",
    "ROB-003",
    "ROB-005",
    "RESP-001",
    "RESP-004",
    "VAL-015",
    "CURL-001",
    "CURL-003",
)


@dataclass(frozen=True)
class Verdict:
    """One requirement's verdict on one answer: it applied, and held or not (`problem`)."""

    requirement: str
    problem: str | None = None


def is_documented_error(body: Any) -> bool:
    return (
        isinstance(body, dict)
        and isinstance(body.get("code"), str)
        and isinstance(body.get("message"), str)
    )


def _body(exchange: Exchange) -> str:
    text = exchange.text
    return text if len(text) <= SHOWN_BODY else text[:SHOWN_BODY] + " …"


def _fields_set(body: Any) -> str:
    """What a generated valid body sets beyond the minimal request: where to look first."""
    extra = sorted(set(body) - {"product_cart"}) if isinstance(body, dict) else []
    return "fields set beyond product_cart: " + (", ".join(extra) or "none")


def judge(
    exchange: Exchange,
    body: Any,
    positive: bool,
    contract: Contract,
    negative_requirement: Callable[[], str],
) -> list[Verdict]:
    """Every requirement that applied to this answer, each with its problem or None."""
    status = exchange.status
    method = exchange.request.method
    if method != "POST":  # schemathesis' unexpected methods: ROB-005 decides, whatever came
        return [Verdict("ROB-005", unsupported_method_problem(method, status, exchange.error))]
    if status is None:
        return [Verdict("ROB-001", f"no response: {exchange.error}")]
    if status >= 500:
        return [Verdict("ROB-001", f"status {status}: {_body(exchange)}")]
    verdicts = [Verdict("ROB-001")]
    if positive:
        verdicts += _positive(exchange, body, contract)
    elif not contract.is_valid(REQUEST_SCHEMA, body):
        verdicts += _negative(exchange, body, contract, negative_requirement)
    return verdicts


def _positive(exchange: Exchange, body: Any, contract: Contract) -> list[Verdict]:
    status = exchange.status
    assert status is not None
    if 400 <= status < 500:
        # ROB-003 judges the class of the answer and that the refusal is JSON; the documented
        # error format ({code, message}) is VAL-015's alone (one deviation, one requirement).
        answer = exchange.json
        return [
            Verdict(
                "ROB-003",
                None
                if isinstance(answer, dict)
                else f"schema-valid request ({_fields_set(body)}) rejected with {status} and a"
                f" body that is not a JSON object: {_body(exchange)}",
            ),
            Verdict(
                "VAL-015",
                None
                if is_documented_error(answer)
                else f"{status} without the documented JSON error body (string code and"
                f" message): {_body(exchange)}",
            ),
        ]
    if not 200 <= status < 300:
        return [Verdict("ROB-003", f"schema-valid request answered {status}, not accepted")]
    verdicts = [Verdict("ROB-003")]
    content_type = exchange.headers.get("content-type", "")
    answer = exchange.json
    if not JSON_CONTENT_TYPE.match(content_type) or not isinstance(answer, dict):
        shape = "a JSON object" if isinstance(answer, dict) else "not a JSON object"
        return [
            *verdicts,
            Verdict(
                "RESP-001",
                f"{status} with Content-Type {content_type or '(none)'!r} and a body that is"
                f" {shape}: {_body(exchange)}",
            ),
        ]
    verdicts.append(Verdict("RESP-001"))
    errors = contract.errors(RESPONSE_SCHEMA, answer)
    verdicts.append(
        Verdict(
            "RESP-004",
            f"the body does not validate against {RESPONSE_SCHEMA}: " + "; ".join(map(str, errors))
            if errors
            else None,
        )
    )
    url = answer.get("checkout_url")
    if is_charge(body):
        problem = (
            f"checkout_url must be null or absent when payment_method_id is given; got {url!r}"
            if isinstance(url, str)
            else None
        )
        verdicts.append(Verdict("CURL-001", problem))
    else:
        problem = (
            None
            if isinstance(url, str) and url
            else f"without payment_method_id, checkout_url must be a non-empty string; got {url!r}"
        )
        verdicts.append(Verdict("CURL-003", problem))
    return verdicts


def _negative(
    exchange: Exchange, body: Any, contract: Contract, negative_requirement: Callable[[], str]
) -> list[Verdict]:
    status = exchange.status
    assert status is not None
    answer = exchange.json
    requirement = negative_requirement()

    def invalid() -> str:
        """What makes the request schema-invalid: the one thing that differs from a valid one."""
        errors = contract.errors(REQUEST_SCHEMA, body, limit=1)
        return f"schema-invalid request ({errors[0]})" if errors else "schema-invalid request"

    if not 400 <= status < 500:
        return [Verdict(requirement, f"{invalid()} answered {status}, not rejected")]
    if isinstance(answer, dict) and answer.get("session_id") is not None:
        return [Verdict(requirement, f"{invalid()} answered {status} with a session_id")]
    error_body = (
        None
        if is_documented_error(answer)
        else f"{status} without the documented JSON error body (string code and message):"
        f" {_body(exchange)}"
        if answer is not NOT_JSON
        else f"{status} with a body that is not JSON: {_body(exchange)}"
    )
    return [Verdict(requirement), Verdict("VAL-015", error_body)]
