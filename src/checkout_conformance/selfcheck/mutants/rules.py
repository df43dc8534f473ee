"""Business-rule mutants (RULE-*): a documented rule skipped or repaired silently."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...server import MAX_CART_ITEMS, ServerConfig
from .._rewrite import Answer, Request
from ._helpers import BodyEdit, contract_max_items, edit_body, json_body, refuse
from ._registry import Mutant, before, edits_body, register


@edits_body("rule-confirm-implied", "RULE-001", "a payment method implies confirm")
def _confirm_when_charging(body: dict[str, Any], config: ServerConfig) -> None:
    if body.get("payment_method_id") is not None:
        body["confirm"] = True


@edits_body("rule-customer-implied", "RULE-002", "a payment method implies its customer")
def _customer_from_payment_method(body: dict[str, Any], config: ServerConfig) -> None:
    if body.get("payment_method_id") is not None and "customer_id" not in (
        body.get("customer") or {}
    ):
        body["customer"] = {"customer_id": config.profile.data.get("customer_id", "")}


@edits_body("rule-tax-id-alone", "RULE-003", "tax_id without billing address is accepted")
def _tax_id_alone(body: dict[str, Any], config: ServerConfig) -> None:
    if body.get("tax_id") is not None and body.get("billing_address") is None:
        body["billing_address"] = {"country": "US"}


def _truncate(key: str, limit: int) -> BodyEdit:
    def edit(body: dict[str, Any], config: ServerConfig) -> None:
        if isinstance(body.get(key), list):
            body[key] = body[key][:limit]

    return edit


_REQUEST = "CreateCheckoutSessionRequest"
_CUSTOM_FIELDS = contract_max_items(_REQUEST, "custom_fields")
_DISCOUNT_CODES = contract_max_items(_REQUEST, "discount_codes")
register(
    Mutant(
        "rule-custom-fields-truncated",
        "RULE-004",
        f"custom fields beyond {_CUSTOM_FIELDS} are dropped",
        before=edit_body(_truncate("custom_fields", _CUSTOM_FIELDS)),
    )
)
register(
    Mutant(
        "rule-discount-codes-truncated",
        "RULE-005",
        f"discount codes beyond {_DISCOUNT_CODES} are dropped",
        before=edit_body(_truncate("discount_codes", _DISCOUNT_CODES)),
    )
)
register(
    Mutant(
        "rule-long-cart-truncated",
        "RULE-014",
        f"a cart beyond {MAX_CART_ITEMS} items is cut",
        before=edit_body(_truncate("product_cart", MAX_CART_ITEMS)),
    )
)


@edits_body(
    "rule-both-discount-fields", "RULE-005", "discount_code is ignored next to discount_codes"
)
def _prefer_discount_codes(body: dict[str, Any], config: ServerConfig) -> None:
    if body.get("discount_code") is not None and body.get("discount_codes") is not None:
        del body["discount_code"]


@edits_body(
    "rule-unknown-products-accepted",
    "RULE-006",
    "unknown products are sold as the one-time product",
)
def _unknown_products_as_known(body: dict[str, Any], config: ServerConfig) -> None:
    known = {
        config.profile.data.get("one_time_product_id"),
        config.profile.data.get("subscription_product_id"),
    }
    for item in body.get("product_cart") or []:
        if (
            isinstance(item, dict)
            and isinstance(item.get("product_id"), str)
            and item["product_id"] not in known
        ):
            item["product_id"] = config.profile.data["one_time_product_id"]


@edits_body("rule-zero-quantity", "RULE-007", "a quantity of 0 is taken as 1")
def _zero_quantity_as_one(body: dict[str, Any], config: ServerConfig) -> None:
    for item in body.get("product_cart") or []:
        if isinstance(item, dict) and item.get("quantity") == 0:
            item["quantity"] = 1


@edits_body("rule-trial-clamped", "RULE-008", "trial days are clamped into 0..10000")
def _clamp_trial(body: dict[str, Any], config: ServerConfig) -> None:
    data = body.get("subscription_data")
    if isinstance(data, dict) and isinstance(data.get("trial_period_days"), int):
        data["trial_period_days"] = min(max(data["trial_period_days"], 0), 10000)


@edits_body(
    "rule-dropdown-default-options", "RULE-009", "a dropdown without options gets a default"
)
def _dropdown_default_options(body: dict[str, Any], config: ServerConfig) -> None:
    for field in body.get("custom_fields") or []:
        if (
            isinstance(field, dict)
            and field.get("field_type") == "dropdown"
            and not field.get("options")
        ):
            field["options"] = ["Default"]


@edits_body("rule-theme-limits-dropped", "RULE-010", "theme values over the limits are dropped")
def _strip_theme_limits(body: dict[str, Any], config: ServerConfig) -> None:
    customization = body.get("customization")
    theme = customization.get("theme_config") if isinstance(customization, dict) else None
    if isinstance(theme, dict):
        for key in ("font_primary_url", "font_secondary_url", "pay_button_text", "radius"):
            theme.pop(key, None)


@edits_body("rule-phone-requirement-dropped", "RULE-011", "require_phone_number is ignored")
def _ignore_phone_requirement(body: dict[str, Any], config: ServerConfig) -> None:
    flags = body.get("feature_flags")
    if isinstance(flags, dict):
        flags.pop("require_phone_number", None)


@edits_body("rule-address-filled", "RULE-012", "missing address fields are filled with 'unknown'")
def _fill_address(body: dict[str, Any], config: ServerConfig) -> None:
    if body.get("confirm") is True:
        address = body.setdefault("billing_address", {"country": "US"}) or {"country": "US"}
        for key in ("street", "city", "state", "zipcode"):
            address.setdefault(key, "unknown")
            address[key] = address[key] or "unknown"
        body["billing_address"] = address


@before("rule-minimal-address-ignored", "RULE-012", "minimal_address still needs a full address")
def _minimal_address_ignored(request: Request, config: ServerConfig) -> Answer | None:
    body = json_body(request)
    if body and body.get("confirm") is True and body.get("minimal_address") is True:
        address = body.get("billing_address") or {}
        if not all(address.get(k) for k in ("street", "city", "state")):
            return refuse(request, "address incomplete")
    return None


@edits_body("rule-empty-cart-accepted", "RULE-013", "an empty cart falls back to the collection")
def _empty_cart_ok(body: dict[str, Any], config: ServerConfig) -> None:
    if body.get("product_cart") == []:
        body["product_collection_id"] = config.profile.data.get("product_collection_id")


@edits_body("rule-addons-dropped", "RULE-015", "addons on one-time products are dropped silently")
def _drop_addons_of_one_time(body: dict[str, Any], config: ServerConfig) -> None:
    subscription = config.profile.data.get("subscription_product_id")
    for item in body.get("product_cart") or []:
        if isinstance(item, dict) and item.get("product_id") != subscription:
            item.pop("addons", None)


@edits_body("rule-foreign-card-accepted", "RULE-016", "another customer's card is charged")
def _any_card_of_any_customer(body: dict[str, Any], config: ServerConfig) -> None:
    if body.get("payment_method_id") == config.profile.data.get("other_payment_method_id"):
        body["payment_method_id"] = config.profile.data.get("payment_method_id")


@before(
    "rule-tax-id-compact-only",
    "RULE-003",
    "a tax id written with spaces (as GB VAT numbers are) is refused",
)
def _tax_id_compact_only(request: Request, config: ServerConfig) -> Answer | None:
    body = json_body(request)
    tax_id = body.get("tax_id") if body is not None else None
    if isinstance(tax_id, str) and " " in tax_id:
        return refuse(request, "tax_id is not valid")
    return None


# -- decisions read wrongly: a presence check, a first-element check, an extra condition,
# an off-by-one at a limit (each caught by a case derived from contracts/rules.yaml) ----------
@before(
    "rule-payment-method-key-presence",
    "RULE-001",
    "`payment_method_id` counts when the key is there, null included",
)
def _payment_method_key_presence(request: Request, config: ServerConfig) -> Answer | None:
    body = json_body(request)
    if body is not None and "payment_method_id" in body and body.get("confirm") is not True:
        return refuse(request, "payment_method_id is only allowed when confirm is true")
    return None


@before(
    "rule-phone-flags-key-presence",
    "RULE-011",
    "require_phone_number is refused whenever allow_phone_number_collection is given at all",
)
def _phone_flags_key_presence(request: Request, config: ServerConfig) -> Answer | None:
    body = json_body(request)
    flags = body.get("feature_flags") if body is not None else None
    if (
        isinstance(flags, dict)
        and flags.get("require_phone_number") is True
        and "allow_phone_number_collection" in flags
    ):
        return refuse(request, "require_phone_number requires allow_phone_number_collection")
    return None


@edits_body(
    "rule-quantity-first-item-only",
    "RULE-007",
    "only the first cart item's quantity is checked",
)
def _quantity_first_item_only(body: dict[str, Any], config: ServerConfig) -> None:
    cart = body.get("product_cart")
    if isinstance(cart, list):
        for item in cart[1:]:
            if isinstance(item, dict) and item.get("quantity") == 0:
                item["quantity"] = 1


@edits_body(
    "rule-dropdown-first-field-only",
    "RULE-009",
    "only the first custom field is checked for a dropdown without options",
)
def _dropdown_first_field_only(body: dict[str, Any], config: ServerConfig) -> None:
    fields = body.get("custom_fields")
    if isinstance(fields, list):
        for custom in fields[1:]:
            if isinstance(custom, dict) and custom.get("field_type") == "dropdown":
                custom.setdefault("options", None)
                custom["options"] = custom["options"] or ["(any)"]


@before(
    "rule-tax-id-needs-street",
    "RULE-003",
    "tax_id is refused unless the billing address also has a street (an extra condition)",
)
def _tax_id_needs_street(request: Request, config: ServerConfig) -> Answer | None:
    body = json_body(request)
    if body is None or body.get("tax_id") is None:
        return None
    address = body.get("billing_address")
    if not isinstance(address, dict) or not address.get("street"):
        return refuse(request, "tax_id requires a complete billing address")
    return None


@edits_body(
    "rule-address-empty-string-counts",
    "RULE-012",
    "an empty street counts as given when confirm is true (a None check, not a value check)",
)
def _address_empty_string_counts(body: dict[str, Any], config: ServerConfig) -> None:
    address = body.get("billing_address")
    if body.get("confirm") is True and isinstance(address, dict):
        for name in ("street", "city", "state", "zipcode"):
            if address.get(name) == "":
                address[name] = "x"


@before(
    "rule-trial-upper-bound-exclusive",
    "RULE-008",
    "a trial of exactly 10000 days is refused (< instead of <=)",
)
def _trial_upper_bound_exclusive(request: Request, config: ServerConfig) -> Answer | None:
    body = json_body(request)
    subscription = body.get("subscription_data") if body is not None else None
    if isinstance(subscription, dict) and subscription.get("trial_period_days") == 10000:
        return refuse(request, "trial_period_days must be below 10000")
    return None


@before(
    "rule-tax-id-only-for-guests",
    "RULE-003",
    "tax_id without a billing address is refused only when no customer is given",
)
def _tax_id_only_for_guests(request: Request, config: ServerConfig) -> Answer | Request | None:
    body = json_body(request)
    if (
        body is not None
        and body.get("tax_id") is not None
        and body.get("customer")
        and body.get("billing_address") is None
    ):
        request.body = {**body, "billing_address": {"country": "US"}}
        return request
    return None


@before(
    "rule-cart-limit-skipped-for-collections",
    "RULE-014",
    "the 20-item limit is not checked when a product collection is given",
)
def _cart_limit_skipped_for_collections(
    request: Request, config: ServerConfig
) -> Answer | Request | None:
    body = json_body(request)
    cart = body.get("product_cart") if body is not None else None
    if body is not None and body.get("product_collection_id") and isinstance(cart, list):
        request.body = {**body, "product_cart": cart[:MAX_CART_ITEMS]}
        return request
    return None


# -- a rule proven at one value of the fields it reads (value classes, contracts/rules.yaml) ------
@edits_body(
    "rule-address-checked-for-us-only",
    "RULE-012",
    "confirm: true needs a complete billing address only when the country is US",
)
def _address_checked_for_us_only(body: dict[str, Any], config: ServerConfig) -> None:
    address = body.get("billing_address")
    if body.get("confirm") is True and isinstance(address, dict) and address.get("country") != "US":
        for name in ("street", "city", "state", "zipcode"):
            address[name] = address.get(name) or "-"


@edits_body(
    "rule-quantity-checked-for-one-time-only",
    "RULE-007",
    "a quantity of 0 is taken as 1 on subscription products",
)
def _quantity_checked_for_one_time_only(body: dict[str, Any], config: ServerConfig) -> None:
    subscription = config.profile.data.get("subscription_product_id")
    for item in body.get("product_cart") or []:
        if (
            isinstance(item, dict)
            and item.get("product_id") == subscription
            and item.get("quantity") == 0
        ):
            item["quantity"] = 1


@edits_body(
    "rule-named-customer-owns-the-card",
    "RULE-002",
    "a new customer with a name is taken as the saved payment method's owner",
)
def _named_customer_owns_the_card(body: dict[str, Any], config: ServerConfig) -> None:
    customer = body.get("customer")
    if (
        body.get("payment_method_id") is not None
        and isinstance(customer, dict)
        and "customer_id" not in customer
        and customer.get("name")
    ):
        body["customer"] = {"customer_id": config.profile.data.get("customer_id", "")}


@before(
    "rule-options-needed-for-every-type-but-text",
    "RULE-009",
    "a custom field of any type but text needs options (as if each were a choice)",
)
def _options_for_every_type_but_text(request: Request, config: ServerConfig) -> Answer | None:
    body = json_body(request)
    for custom in (body.get("custom_fields") if body is not None else None) or []:
        if (
            isinstance(custom, dict)
            and custom.get("field_type") != "text"
            and not custom.get("options")
        ):
            return refuse(request, "custom_fields[]: options are required")
    return None


def _limit_counting_only(
    key: str, limit: int, counted: Callable[[dict[str, Any], ServerConfig], bool]
) -> Callable[[Request, ServerConfig], Answer | Request | None]:
    """A list limit that counts only some kinds of element: a longer list whose counted
    elements stay within the limit is cut to it and accepted."""

    def hook(request: Request, config: ServerConfig) -> Answer | Request | None:
        body = json_body(request)
        items = body.get(key) if body is not None else None
        if body is None or not isinstance(items, list) or len(items) <= limit:
            return None
        if sum(1 for item in items if isinstance(item, dict) and counted(item, config)) > limit:
            return None
        request.body = {**body, key: items[:limit]}
        return request

    return hook


register(
    Mutant(
        "rule-cart-limit-counts-one-time-only",
        "RULE-014",
        f"only one-time products count toward the {MAX_CART_ITEMS}-item limit",
        before=_limit_counting_only(
            "product_cart",
            MAX_CART_ITEMS,
            lambda item, config: (
                item.get("product_id") == config.profile.data.get("one_time_product_id")
            ),
        ),
    )
)
register(
    Mutant(
        "rule-custom-field-limit-counts-text-only",
        "RULE-004",
        f"only text custom fields count toward the limit of {_CUSTOM_FIELDS}",
        before=_limit_counting_only(
            "custom_fields", _CUSTOM_FIELDS, lambda item, config: item.get("field_type") == "text"
        ),
    )
)
