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

from ..rules import cart_limit, confirm_address

# The limits and the address `confirm: true` needs, from the rules' decisions
# (contracts/rules.yaml), which the reference server evaluates too.
MAX_CART_ITEMS = cart_limit()
COMPLETE_ADDRESS, MINIMAL_ADDRESS = confirm_address()


def _small_quantity(value: Any) -> int:
    return (
        1 + (value % 5)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0
        else 1
    )


def _cart(body: dict[str, Any], ids: Mapping[str, str]) -> None:
    one_time = ids["one_time_product_id"]
    subscription, addon = ids.get("subscription_product_id"), ids.get("addon_id")
    cart = [item for item in body.get("product_cart") or [] if isinstance(item, dict)][
        :MAX_CART_ITEMS
    ]
    for item in cart:
        wants_addons = bool(item.get("addons"))
        item["quantity"] = _small_quantity(item.get("quantity"))
        if wants_addons and subscription and addon:
            item["product_id"] = subscription
            item["addons"] = [
                {"addon_id": addon, "quantity": _small_quantity(item["addons"][0].get("quantity"))}
            ]
        else:
            item["product_id"] = one_time
            item.pop("addons", None)  # RULE-015: addons only on subscriptions
        item.pop("credit_entitlements", None)  # a profile names no entitlement
        item.pop("amount", None)  # nor a pay-what-you-want product
    collection = ids.get("product_collection_id")
    if body.get("product_collection_id") is not None and collection:
        body["product_collection_id"] = collection
    else:
        body.pop("product_collection_id", None)
    if not cart and "product_collection_id" not in body:  # RULE-013
        cart = [{"product_id": one_time, "quantity": 1}]
    body["product_cart"] = cart


def _customer(body: dict[str, Any], ids: Mapping[str, str]) -> None:
    customer = body.get("customer")
    if isinstance(customer, dict) and "customer_id" in customer:
        if ids.get("customer_id"):
            body["customer"] = {"customer_id": ids["customer_id"]}
        else:
            body.pop("customer")


def _discounts(body: dict[str, Any], ids: Mapping[str, str]) -> None:
    code = ids.get("discount_code")
    if body.get("discount_code") is not None and body.get("discount_codes") is not None:
        body.pop("discount_code")  # RULE-005: not both
    for key in ("discount_code", "discount_codes"):
        value = body.get(key)
        if value is None:
            continue
        if not code:
            body.pop(key)
        elif key == "discount_code":
            body[key] = code
        else:
            body[key] = [code] * len(value)


def _options_and_flags(body: dict[str, Any]) -> None:
    for field in body.get("custom_fields") or []:
        if field.get("field_type") == "dropdown" and not field.get("options"):
            field["options"] = ["Option A", "Option B"]  # RULE-009
    flags = body.get("feature_flags")
    if isinstance(flags, dict) and flags.get("require_phone_number") is True:
        flags["allow_phone_number_collection"] = True  # RULE-011
    types = body.get("allowed_payment_method_types")
    if types is not None and not {"credit", "debit"} & set(types):
        types.append("credit")  # the documented fallback
    subscription = body.get("subscription_data")
    if isinstance(subscription, dict):
        subscription.pop("on_demand", None)  # a profile names no on-demand product
    if body.get("tax_id") is not None and body.get("billing_address") is None:
        body["billing_address"] = {"country": "US"}  # RULE-003


def _confirm_and_charge(body: dict[str, Any], ids: Mapping[str, str], charge: bool) -> None:
    body.pop("payment_method_id", None)  # generated ids name no saved payment method (RULE-016)
    if charge and ids.get("customer_id") and ids.get("payment_method_id"):
        body["payment_method_id"] = ids["payment_method_id"]
        body["confirm"] = True  # RULE-001
        body["customer"] = {"customer_id": ids["customer_id"]}  # RULE-002
    if body.get("confirm") is True:  # RULE-012: a complete (or minimal) billing address
        address = body.get("billing_address") or {"country": "US"}
        needed = MINIMAL_ADDRESS if body.get("minimal_address") is True else tuple(COMPLETE_ADDRESS)
        for name in needed:
            if not address.get(name):
                address[name] = COMPLETE_ADDRESS[name]
        body["billing_address"] = address


def business_valid(body: Any, ids: Mapping[str, str], charge: bool) -> Any:
    """A schema-valid body rewritten to honour every documented rule with the profile's ids."""
    if not isinstance(body, dict):
        return body
    body = copy.deepcopy(body)
    _cart(body, ids)
    _customer(body, ids)
    _discounts(body, ids)
    _options_and_flags(body)
    _confirm_and_charge(body, ids, charge)
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
