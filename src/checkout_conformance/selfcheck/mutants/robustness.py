"""Robustness mutants (ROB-*): crashes, clamped numbers, undocumented refusals."""

from __future__ import annotations

import json
from typing import Any

from ...server import ServerConfig
from .._rewrite import Answer, Request, json_answer
from ._helpers import json_body
from ._registry import before, edits_body


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
        return Answer(request, 500, [(b"content-type", b"text/plain")], b"UnicodeEncodeError")
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
    "ROB-003",
    "force_3ds: true is refused with an undocumented error body",
    properties_only=True,
)
def _no_3ds_override(request: Request, config: ServerConfig) -> Answer | None:
    if (json_body(request) or {}).get("force_3ds") is True:
        # Refusing a valid value with the documented body is allowed (ROB-003's wording);
        # refusing it with an undocumented one is not.
        return json_answer(request, 422, {"error": "3DS override not allowed"})
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
