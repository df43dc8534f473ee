"""The documented business rules of `POST /checkouts`, which the schema alone does not enforce.

Each rule is a small function of a schema-valid body and the seeded store; it returns the error
to answer with, or None. They run in the order of `default_rules`, after schema validation, and
the first violation wins. The rules a body alone decides are data (`contracts/rules.yaml`, the
same decisions the suite derives its cases from: `data_rule`, with the store as the facts
its conditions about existing ids read); the checks no decision in the data covers yet (addon
ids, customers and discount codes exist, the payment-method fallback) are written here.
Comments name the requirement each rule implements.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import rules as data
from . import _errors as errors
from ._errors import ApiError
from ._store import Store

Body = dict[str, Any]
Rule = Callable[[Body, Store], "ApiError | None"]

MAX_CART_ITEMS = data.cart_limit()  # RULE-014, from contracts/rules.yaml


def addon_quantities_at_least_one(body: Body, store: Store) -> ApiError | None:
    # RULE-007 for addons: "Quantity ... Must be at least 1" (the schema allows 0).
    for index, item in enumerate(body["product_cart"]):
        for addon_index, addon in enumerate(item.get("addons") or []):
            if addon["quantity"] < 1:
                return ApiError.invalid_body(
                    f"product_cart[{index}].addons[{addon_index}].quantity must be at least 1"
                )
    return None


def addon_ids_exist(body: Body, store: Store) -> ApiError | None:
    # RULE-015's addons must exist for their product, each once (after RULE-006 and RULE-015,
    # which the data rules check first: the product exists and is a subscription).
    for item in body["product_cart"]:
        ids = [addon["addon_id"] for addon in item.get("addons") or []]
        if not ids:
            continue
        if len(set(ids)) != len(ids):
            return ApiError.unprocessable(
                errors.DUPLICATE_ADDON_IDS_IN_REQUEST, "The same addon is listed twice"
            )
        unknown = sorted(set(ids) - store.products[item["product_id"]].addon_ids)
        if unknown:
            return ApiError.unprocessable(
                errors.MISSING_ADDON_IDS, f"Addon {unknown[0]} does not exist for this product"
            )
    return None


def customer_exists(body: Body, store: Store) -> ApiError | None:
    customer = body.get("customer")
    if customer and "customer_id" in customer and customer["customer_id"] not in store.customers:
        return ApiError.unprocessable(
            errors.NOT_FOUND, f"Customer {customer['customer_id']} does not exist"
        )
    return None


def discount_codes_exist(body: Body, store: Store) -> ApiError | None:
    # RULE-005: every code must exist (not both fields, and the count, are data and schema).
    single, stacked = body.get("discount_code"), body.get("discount_codes")
    for code in [single] if single is not None else stacked or []:
        if code not in store.discount_codes:
            return ApiError.unprocessable(errors.INVALID_DISCOUNT_CODE, "Invalid Discount Code")
    return None


def payment_method_types_fallback(body: Body, store: Store) -> ApiError | None:
    # "Always provide 'credit' and 'debit' as a fallback. If all payment methods are
    # unavailable, checkout session will fail." A list without either has no eligible method.
    types = body.get("allowed_payment_method_types")
    if types is not None and not {"credit", "debit"} & set(types):
        return ApiError.unprocessable(
            errors.NO_ELIGIBLE_PAYMENT_METHODS, "No eligible payment methods found"
        )
    return None


def data_rule(rule_id: str) -> Rule:
    """The server's check for one rule of contracts/rules.yaml: its decision, its error."""
    found = data.rule(rule_id)

    def check(body: Body, store: Store) -> ApiError | None:
        if not found.violated(body, store):
            return None
        if found.error_code == errors.INVALID_REQUEST_BODY:
            return ApiError.invalid_body(found.error_message)
        return ApiError(found.error_status, found.error_code, found.error_message)

    check.__name__ = check.__qualname__ = f"data_rule_{rule_id}"
    return check


def default_rules() -> list[Rule]:
    """Every rule, in the order the server checks them."""
    return [
        data_rule("RULE-013"),
        data_rule("RULE-014"),
        data_rule("RULE-007"),
        addon_quantities_at_least_one,
        data_rule("RULE-006"),
        data_rule("RULE-006-collection"),
        data_rule("RULE-015"),
        addon_ids_exist,
        customer_exists,
        data_rule("RULE-001"),
        data_rule("RULE-002"),
        data_rule("RULE-016-unknown"),
        data_rule("RULE-016-owner"),
        data_rule("RULE-003"),
        data_rule("RULE-005-both"),
        discount_codes_exist,
        data_rule("RULE-009"),
        data_rule("RULE-011"),
        payment_method_types_fallback,
        data_rule("RULE-012-street"),
        data_rule("RULE-012-city"),
        data_rule("RULE-012-state"),
        data_rule("RULE-012-zipcode"),
    ]


def check_rules(rules: list[Rule], body: Body, store: Store) -> ApiError | None:
    for rule in rules:
        error = rule(body, store)
        if error is not None:
            return error
    return None
