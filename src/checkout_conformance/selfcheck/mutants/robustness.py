"""Robustness mutants (ROB-*): crashes, clamped numbers, undocumented refusals."""

from __future__ import annotations

import json
import threading
from typing import Any

from ...server import ServerConfig
from .._rewrite import Answer, Request, json_answer
from ._helpers import json_body
from ._registry import Mutant, before, edits_body, register


def _crash(request: Request, what: str) -> Answer:
    """The plain-text 500 a server that threw an exception sends."""
    return Answer(request, 500, [(b"content-type", b"text/plain")], what.encode())


@before(
    "rob-crash-on-non-ascii",
    "ROB-001",
    "a 500 for non-ASCII product ids or business names",
    properties_only=True,
)
def _crash_on_non_ascii(request: Request, config: ServerConfig) -> Answer | None:
    body = json_body(request) or {}
    text = json.dumps(body.get("product_cart", []), ensure_ascii=False) + str(
        body.get("customer_business_name", "")
    )
    if any(ord(char) > 127 for char in text):
        return _crash(request, "UnicodeEncodeError")
    return None


@edits_body(
    "rob-int32-overflow-clamped",
    "ROB-002",
    "quantities and amounts beyond 32 bits are clamped instead of refused",
)
def _clamp_amounts(body: dict[str, Any], config: ServerConfig) -> None:
    def clamp(holder: Any, key: str) -> None:
        value = holder.get(key) if isinstance(holder, dict) else None
        if isinstance(value, int) and not isinstance(value, bool):
            holder[key] = max(min(value, 2**31 - 1), -(2**31))

    clamp(body, "mandate_min_amount_inr_paise")
    cart = body.get("product_cart")
    for item in cart if isinstance(cart, list) else []:
        clamp(item, "amount")
        clamp(item, "quantity")
    subscription = body.get("subscription_data")
    if isinstance(subscription, dict):
        clamp(subscription.get("on_demand"), "product_price")


@before(
    "rob-no-3ds-override",
    "VAL-015",
    "force_3ds: true is refused with an undocumented JSON error body",
    properties_only=True,
)
def _no_3ds_override(request: Request, config: ServerConfig) -> Answer | None:
    if (json_body(request) or {}).get("force_3ds") is True:
        # Refusing a valid value with a 4xx and a JSON body is allowed (ROB-003's wording);
        # a body that is not the documented {code, message} is VAL-015's deviation alone.
        return json_answer(request, 422, {"error": "3DS override not allowed"})
    return None


@before(
    "rob-3ds-refused-as-text",
    "ROB-003",
    "force_3ds: true is refused with a plain-text body, not JSON",
    properties_only=True,
)
def _3ds_refused_as_text(request: Request, config: ServerConfig) -> Answer | None:
    if (json_body(request) or {}).get("force_3ds") is True:
        return Answer(request, 422, [(b"content-type", b"text/plain")], b"3DS override not allowed")
    return None


@before("rob-big-body-502", "ROB-004", "large bodies get a 502 from the proxy")
def _big_body_crashes(request: Request, config: ServerConfig) -> Answer | None:
    if len(request.raw_body) > 1_000_000:
        return Answer(request, 502, [(b"content-type", b"text/html")], b"<h1>502 Bad Gateway</h1>")
    return None


@before("rob-get-lists-sessions", "ROB-005", "GET /checkouts answers 200")
def _get_lists_sessions(request: Request, config: ServerConfig) -> Answer | None:
    if request.method == "GET":
        return json_answer(request, 200, {"data": []})
    return None


@before("rob-deep-nesting-crashes", "ROB-001", "a body nested 1000 deep blows the parser's stack")
def _deep_nesting_crashes(request: Request, config: ServerConfig) -> Answer | None:
    if b"[" * 1000 in request.raw_body or b'{"x":' * 1000 in request.raw_body:
        return _crash(request, "RecursionError: maximum recursion depth exceeded")
    return None


@before("rob-invalid-utf8-crashes", "ROB-001", "bytes that are not UTF-8 are a 500")
def _invalid_utf8_crashes(request: Request, config: ServerConfig) -> Answer | None:
    try:
        request.raw_body.decode("utf-8")
    except UnicodeDecodeError:
        return _crash(request, "UnicodeDecodeError")
    return None


class _StopsAfterAHugeBody:
    """Answers a 300 KB body, then (a worker that ran out of memory) 503s the next requests."""

    def __init__(self) -> None:
        self.down_for = 0
        self.lock = threading.Lock()

    def __call__(self, request: Request, config: ServerConfig) -> Answer | None:
        with self.lock:
            if self.down_for > 0:
                self.down_for -= 1
                return json_answer(request, 503, {"message": "Service Unavailable"})
            if len(request.raw_body) > 250_000:
                self.down_for = 3
        return None


register(
    Mutant(
        "rob-stops-after-a-huge-body",
        "ROB-001",
        "after a body of 250 KB or more it answers 503 to the next three requests",
        before=_StopsAfterAHugeBody(),
    )
)


@before("rob-chunked-crashes", "ROB-001", "a chunked request body (no Content-Length) is a 500")
def _chunked_crashes(request: Request, config: ServerConfig) -> Answer | None:
    if b"chunked" in request.headers.get(b"transfer-encoding", b"").lower():
        return _crash(request, "KeyError: 'content-length'")
    return None


@before(
    "rob-cut-off-body-crashes",
    "ROB-002",
    "a JSON body that ends early (as a Content-Length shorter than the body leaves it) is a 500",
)
def _cut_off_body_crashes(request: Request, config: ServerConfig) -> Answer | None:
    try:
        json.loads(request.raw_body)
    except json.JSONDecodeError as error:
        ends_early = error.msg.startswith("Unterminated") or error.pos >= len(
            request.raw_body.rstrip()
        )
        if request.raw_body and ends_early:
            return _crash(request, f"JSONDecodeError: {error.msg}")
    except (ValueError, RecursionError):
        return None
    return None


# -- strings that break a layer below: each crashes where a real storage or runtime would ------
def _strings(value: Any, keys: bool = True) -> list[str]:
    """Every string inside a JSON value (object keys too, when `keys`)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        found = [key for key in value if keys and isinstance(key, str)]
        return found + [text for item in value.values() for text in _strings(item, keys)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item, keys)]
    return []


@before(
    "rob-crash-on-nul-in-text",
    "ROB-001",
    "a 500 for U+0000 inside a free-text field (PostgreSQL text refuses NUL)",
)
def _crash_on_nul(request: Request, config: ServerConfig) -> Answer | None:
    body = json_body(request) or {}
    texts = _strings({key: value for key, value in body.items() if key != "product_cart"})
    if any("\x00" in text for text in texts):
        return _crash(request, "psycopg.DataError: PostgreSQL text fields cannot contain NUL")
    return None


@before(
    "rob-crash-on-astral-characters",
    "ROB-001",
    "a 500 for a character outside the Basic Multilingual Plane in a customer's name or address"
    " (MySQL utf8mb3 holds three bytes per character)",
)
def _crash_on_astral(request: Request, config: ServerConfig) -> Answer | None:
    body = json_body(request) or {}
    texts = _strings([body.get("customer"), body.get("billing_address")])
    if any(ord(char) > 0xFFFF for text in texts for char in text):
        return _crash(request, "OperationalError: (1366, Incorrect string value)")
    return None


@before(
    "rob-crash-on-special-metadata-keys",
    "ROB-001",
    "a 500 for metadata keys a JavaScript runtime treats specially (`__proto__`, `constructor`)",
)
def _crash_on_special_keys(request: Request, config: ServerConfig) -> Answer | None:
    body = json_body(request) or {}
    metadata = body.get("metadata")
    if isinstance(metadata, dict) and {"__proto__", "constructor"} & set(metadata):
        return _crash(request, "TypeError: Cannot convert object to primitive value")
    return None


@before(
    "rob-crash-on-long-text",
    "ROB-001",
    "a 500 for a customer name, street or business name over 255 characters (VARCHAR(255))",
)
def _crash_on_long_text(request: Request, config: ServerConfig) -> Answer | None:
    body = json_body(request) or {}
    customer, address = body.get("customer"), body.get("billing_address")
    texts = [
        customer.get("name") if isinstance(customer, dict) else None,
        address.get("street") if isinstance(address, dict) else None,
        body.get("customer_business_name"),
    ]
    if any(isinstance(text, str) and len(text) > 255 for text in texts):
        return _crash(request, "DataError: value too long for type character varying(255)")
    return None


@before(
    "rob-crash-on-sql-quote",
    "ROB-001",
    "a 500 for a quote followed by SQL in a text field (a query built by string formatting)",
)
def _crash_on_sql_quote(request: Request, config: ServerConfig) -> Answer | None:
    body = json_body(request) or {}
    texts = _strings({key: value for key, value in body.items() if key != "product_cart"})
    if any("'" in text and ("--" in text or ";" in text) for text in texts):
        return _crash(request, "ProgrammingError: syntax error at or near")
    return None
