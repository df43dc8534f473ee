"""The documented business rules of `POST /checkouts`, which the schema alone does not enforce.

Each rule is a small function of a schema-valid body and the seeded store; it returns the error
to answer with, or None. They run in the order of `RULES`, after schema validation, and the first
violation wins. Comments name the requirement each rule implements.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import _errors as errors
from ._errors import ApiError
from ._store import Store

Body = dict[str, Any]
Rule = Callable[[Body, Store], "ApiError | None"]

MAX_CART_ITEMS = 20
CONFIRM_ADDRESS_FIELDS = ("country", "street", "city", "state", "zipcode")
MINIMAL_ADDRESS_FIELDS = ("country", "zipcode")


def _present(body: Body, key: str) -> bool:
    """A field counts as given when it is there and not null (null means absent)."""
    return body.get(key) is not None


def cart_not_empty(body: Body, store: Store) -> ApiError | None:
    # RULE-013: an empty cart only makes sense in the product-collection flow.
    if not body["product_cart"] and not _present(body, "product_collection_id"):
        return ApiError.unprocessable(errors.PRODUCT_CART_EMPTY, "product_cart is empty")
    return None


def cart_size(body: Body, store: Store) -> ApiError | None:
    # RULE-014: a cart holds at most 20 items.
    if len(body["product_cart"]) > MAX_CART_ITEMS:
        return ApiError.invalid_body(f"product_cart holds at most {MAX_CART_ITEMS} items")
    return None


def quantities_at_least_one(body: Body, store: Store) -> ApiError | None:
    # RULE-007: "Quantity of the product. Must be at least 1." (the schema allows 0).
    for index, item in enumerate(body["product_cart"]):
        if item["quantity"] < 1:
            return ApiError.invalid_body(f"product_cart[{index}].quantity must be at least 1")
        for addon_index, addon in enumerate(item.get("addons") or []):
            if addon["quantity"] < 1:
                return ApiError.invalid_body(
                    f"product_cart[{index}].addons[{addon_index}].quantity must be at least 1"
                )
    return None


def products_exist(body: Body, store: Store) -> ApiError | None:
    # RULE-006: an unknown product is a 422 "Product … does not exist".
    for item in body["product_cart"]:
        if item["product_id"] not in store.products:
            return ApiError.unprocessable(
                errors.NOT_FOUND, f"Product {item['product_id']} does not exist"
            )
    collection = body.get("product_collection_id")
    if collection is not None and collection not in store.product_collections:
        return ApiError.unprocessable(
            errors.NOT_FOUND, f"Product collection {collection} does not exist"
        )
    return None


def addons_on_subscriptions(body: Body, store: Store) -> ApiError | None:
    # RULE-015: addons are "only valid if product is a subscription"; and they must exist.
    for index, item in enumerate(body["product_cart"]):
        addons = item.get("addons") or []
        if not addons:
            continue
        product = store.products[item["product_id"]]
        if not product.subscription:
            return ApiError.invalid_body(
                f"product_cart[{index}].addons: addons are only valid for subscription products"
            )
        ids = [addon["addon_id"] for addon in addons]
        if len(set(ids)) != len(ids):
            return ApiError.unprocessable(
                errors.DUPLICATE_ADDON_IDS_IN_REQUEST, "The same addon is listed twice"
            )
        unknown = sorted(set(ids) - product.addon_ids)
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


def payment_method_rules(body: Body, store: Store) -> ApiError | None:
    if not _present(body, "payment_method_id"):
        return None
    # RULE-001: "Only allowed when confirm is true."
    if body.get("confirm") is not True:
        return ApiError.invalid_body("payment_method_id is only allowed when confirm is true")
    # RULE-002: "If provided, existing customer id must also be provided."
    customer = body.get("customer")
    if not customer or "customer_id" not in customer:
        return ApiError.invalid_body(
            "payment_method_id requires an existing customer (customer.customer_id)"
        )
    # RULE-016: the payment method must exist and belong to that customer.
    owner = store.payment_method_owner.get(body["payment_method_id"])
    if owner is None:
        return ApiError.unprocessable(
            errors.NOT_FOUND, f"Payment method {body['payment_method_id']} does not exist"
        )
    if owner != customer["customer_id"]:
        return ApiError.invalid_body("payment_method_id does not belong to the given customer")
    return None


def tax_id_needs_country(body: Body, store: Store) -> ApiError | None:
    # RULE-003: "Requires billing_address with country." (country is required by the schema).
    if _present(body, "tax_id") and not _present(body, "billing_address"):
        return ApiError.invalid_body("tax_id requires billing_address with country")
    return None


def discount_codes(body: Body, store: Store) -> ApiError | None:
    # RULE-005: not both fields; every code must exist (the count is a schema limit).
    single, stacked = body.get("discount_code"), body.get("discount_codes")
    if single is not None and stacked is not None:
        return ApiError.invalid_body("discount_code cannot be used together with discount_codes")
    for code in [single] if single is not None else stacked or []:
        if code not in store.discount_codes:
            return ApiError.unprocessable(errors.INVALID_DISCOUNT_CODE, "Invalid Discount Code")
    return None


def dropdowns_have_options(body: Body, store: Store) -> ApiError | None:
    # RULE-009: `options` is "required for dropdown".
    for index, custom in enumerate(body.get("custom_fields") or []):
        if custom["field_type"] == "dropdown" and not custom.get("options"):
            return ApiError.invalid_body(f"custom_fields[{index}]: a dropdown needs options")
    return None


def phone_flags(body: Body, store: Store) -> ApiError | None:
    # RULE-011: require_phone_number "Requires allow_phone_number_collection to also be true".
    flags = body.get("feature_flags") or {}
    if (
        flags.get("require_phone_number") is True
        and flags.get("allow_phone_number_collection") is False
    ):
        return ApiError.invalid_body(
            "feature_flags.require_phone_number requires allow_phone_number_collection"
        )
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


def confirm_needs_address(body: Body, store: Store) -> ApiError | None:
    # RULE-012: with confirm, the billing address must be complete (or minimal: country+zipcode).
    if body.get("confirm") is not True:
        return None
    address = body.get("billing_address") or {}
    needed = (
        MINIMAL_ADDRESS_FIELDS if body.get("minimal_address") is True else CONFIRM_ADDRESS_FIELDS
    )
    missing = [name for name in needed if not address.get(name)]
    if missing:
        return ApiError.invalid_body(
            "confirm: true requires billing_address with " + ", ".join(missing)
        )
    return None


def default_rules() -> list[Rule]:
    """Every rule, in the order the server checks them."""
    return [
        cart_not_empty,
        cart_size,
        quantities_at_least_one,
        products_exist,
        addons_on_subscriptions,
        customer_exists,
        payment_method_rules,
        tax_id_needs_country,
        discount_codes,
        dropdowns_have_options,
        phone_flags,
        payment_method_types_fallback,
        confirm_needs_address,
    ]


def check_rules(rules: list[Rule], body: Body, store: Store) -> ApiError | None:
    for rule in rules:
        error = rule(body, store)
        if error is not None:
            return error
    return None
