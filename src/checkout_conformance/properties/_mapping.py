"""Turn generated bodies into requests that mean something on the target.

Schemathesis generates schema-valid bodies full of random ids, which any real implementation
rejects as unknown (RULE-006). Positive cases are rewritten to be business-valid too, using the
profile's ids and honouring every documented rule, so that acceptance and the checkout_url rule
are tested on requests the server must accept; optionally the case becomes a charge with the
profile's saved payment method (CURL-001). Negative cases only get their id strings replaced
(never a type or a constrained value), so they stay invalid for the reason they were generated,
and a server that checks ids but not the schema cannot hide behind unknown-id rejections.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from ..rules import Unsatisfiable, satisfy_all


def _small_quantity(value: Any) -> int:
    """A quantity of 1 to 5 (the generated one when it is one already: the rewrite is
    idempotent), so that amounts stay ordinary."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        return 1
    return value if 1 <= value <= 5 else 1 + (value % 5)


def _before_the_rules(body: dict[str, Any], ids: Mapping[str, str], charge: bool) -> None:
    """What no rule's decision says, but a target needs: generated ids replaced by the profile's
    (customers, discount codes, addons exist), fields a profile names nothing for left out, the
    charge set up (the rules then require its confirm and customer), an address started with
    the country the schema requires when a confirmed session will need one."""
    for item in body.get("product_cart") or []:
        if isinstance(item, dict):
            item["quantity"] = _small_quantity(item.get("quantity"))  # amounts stay ordinary
            item.pop("credit_entitlements", None)  # a profile names no entitlement
            item.pop("amount", None)  # nor a pay-what-you-want product
    customer = body.get("customer")
    if isinstance(customer, dict) and "customer_id" in customer:
        if ids.get("customer_id"):
            body["customer"] = {"customer_id": ids["customer_id"]}
        else:
            body.pop("customer")
    code = ids.get("discount_code")
    for key in ("discount_code", "discount_codes"):
        value = body.get(key)
        if value is not None and not code:
            body.pop(key)
        elif value is not None:
            body[key] = code if key == "discount_code" else [code] * len(value)
    types = body.get("allowed_payment_method_types")
    if types is not None and not {"credit", "debit"} & set(types):
        types.append("credit")  # the documented fallback
    subscription = body.get("subscription_data")
    if isinstance(subscription, dict):
        subscription.pop("on_demand", None)  # a profile names no on-demand product
    body.pop("payment_method_id", None)  # generated ids name no saved payment method
    if charge and ids.get("customer_id") and ids.get("payment_method_id"):
        body["payment_method_id"] = ids["payment_method_id"]
        body["confirm"] = True  # RULE-001 and RULE-002 would ask for these two anyway
        body["customer"] = {"customer_id": ids["customer_id"]}
    if body.get("confirm") is True and body.get("billing_address") is None:
        body["billing_address"] = {"country": "US"}  # the schema's required country


def _after_the_rules(body: dict[str, Any], ids: Mapping[str, str]) -> None:
    """Addons, which the rules leave only on subscription products (RULE-015), become the
    profile's one addon (addon ids exist per product, and once each)."""
    addon = ids.get("addon_id")
    for item in body.get("product_cart") or []:
        addons = item.get("addons") if isinstance(item, dict) else None
        if not addons:
            continue
        if addon and item.get("product_id") == ids.get("subscription_product_id"):
            item["addons"] = [
                {"addon_id": addon, "quantity": _small_quantity(addons[0].get("quantity"))}
            ]
        else:
            item.pop("addons")


def business_valid(body: Any, ids: Mapping[str, str], charge: bool) -> Any:
    """A schema-valid body rewritten to honour every documented rule with the profile's ids:
    the rules' own decisions (contracts/rules.yaml, which the reference server evaluates too)
    make it comply, with the smallest change each allows."""
    if not isinstance(body, dict):
        return body
    body = copy.deepcopy(body)
    _before_the_rules(body, ids, charge)
    try:
        satisfy_all(body, ids)
    except Unsatisfiable as error:
        raise RuntimeError(
            f"suite error: a generated positive case cannot comply: {error}"
        ) from None
    _after_the_rules(body, ids)
    return body


def real_ids(body: Any, ids: Mapping[str, str]) -> Any:
    """Replace id strings (and only strings) by the profile's ids; nothing else changes."""
    if not isinstance(body, dict):
        return body
    body = copy.deepcopy(body)
    cart = body.get("product_cart")
    if isinstance(cart, list):
        for item in cart:
            if isinstance(item, dict) and isinstance(item.get("product_id"), str):
                item["product_id"] = ids["one_time_product_id"]
    customer = body.get("customer")
    if (
        isinstance(customer, dict)
        and isinstance(customer.get("customer_id"), str)
        and ids.get("customer_id")
    ):
        customer["customer_id"] = ids["customer_id"]
    if isinstance(body.get("product_collection_id"), str) and ids.get("product_collection_id"):
        body["product_collection_id"] = ids["product_collection_id"]
    return body
