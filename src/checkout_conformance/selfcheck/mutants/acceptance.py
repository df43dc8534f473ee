"""Acceptance mutants (ACC-*): valid requests refused by a server stricter than the contract."""

from __future__ import annotations

import re
from typing import Any

from ...contract import load_contract
from ...server import ServerConfig, errors
from .._rewrite import Answer, Request, json_answer
from ._helpers import json_body, refuse
from ._registry import after, before


@after("acc-201-created", "ACC-001", "sessions are created with 201")
def _created_201(answer: Answer) -> None:
    if answer.status == 200:
        answer.status = 201


@before("acc-many-fields-rejected", "ACC-002", "more than 20 fields is 'too many parameters'")
def _too_many_fields(request: Request, config: ServerConfig) -> Answer | None:
    body = json_body(request)
    if body is not None and len(body) > 20:
        return refuse(request, "too many parameters")
    return None


@before("acc-null-rejected", "ACC-003", "explicit nulls are refused on URL and tax fields")
def _null_not_allowed(request: Request, config: ServerConfig) -> Answer | None:
    body = json_body(request)
    if body is not None and any(
        body.get(k, "") is None for k in ("cancel_url", "return_url", "tax_id")
    ):
        return refuse(request, "null is not allowed")
    return None


_SUPPORTED_CURRENCIES = {"USD", "EUR", "GBP", "INR", "CAD", "AUD", "JPY", "SGD", "CHF", "SEK"}


@before("acc-currency-subset", "ACC-004", "only ten currencies are supported")
def _currency_subset(request: Request, config: ServerConfig) -> Answer | None:
    body = json_body(request)
    currency = body.get("billing_currency") if body else None
    if currency is not None and currency not in _SUPPORTED_CURRENCIES:
        return refuse(request, f"{currency} not supported", code="UNSUPPORTED_CURRENCY")
    return None


@before("acc-country-subset", "ACC-004", "some countries are refused")
def _country_subset(request: Request, config: ServerConfig) -> Answer | None:
    address = (json_body(request) or {}).get("billing_address")
    country = address.get("country") if isinstance(address, dict) else None
    if country in ("AQ", "BV", "HM", "TF", "UM", "KP", "IR", "SY", "CU"):
        return refuse(request, f"Country {country} not supported", code="UNSUPPORTED_COUNTRY")
    return None


@before("acc-unknown-fields-rejected", "ACC-005", "unknown top-level fields are refused")
def _unknown_fields_rejected(request: Request, config: ServerConfig) -> Answer | None:
    body = json_body(request)
    known = {f.dotted for f in load_contract().fields("CreateCheckoutSessionRequest")}
    if body is not None and set(body) - known:
        return refuse(request, "unknown field")
    return None


@before("acc-integer-metadata-rejected", "ACC-006", "integer metadata fails a strict oneOf")
def _strict_one_of_metadata(request: Request, config: ServerConfig) -> Answer | None:
    metadata = (json_body(request) or {}).get("metadata")
    if isinstance(metadata, dict) and any(type(v) is int for v in metadata.values()):
        return refuse(request, "metadata: oneOf failed")
    return None


@before("acc-new-customers-rejected", "ACC-007", "only existing customers are accepted")
def _existing_customers_only(request: Request, config: ServerConfig) -> Answer | None:
    customer = (json_body(request) or {}).get("customer")
    if isinstance(customer, dict) and "email" in customer:
        return refuse(request, "customer_id required")
    return None


@before("acc-custom-field-types-subset", "ACC-008", "date and url custom fields are refused")
def _custom_field_type_subset(request: Request, config: ServerConfig) -> Answer | None:
    for field in (json_body(request) or {}).get("custom_fields") or []:
        if isinstance(field, dict) and field.get("field_type") in ("date", "url"):
            return refuse(request, "unsupported field")
    return None


@before("acc-null-payment-method-present", "ACC-009", "payment_method_id: null counts as given")
def _null_payment_method_is_present(request: Request, config: ServerConfig) -> Answer | None:
    body = json_body(request)
    if body is not None and "payment_method_id" in body and body["payment_method_id"] is None:
        return refuse(request, "payment_method_id needs confirm")
    return None


@before("acc-charset-rejected", "ACC-010", "a charset parameter makes the content type unsupported")
def _exact_content_type(request: Request, config: ServerConfig) -> Answer | None:
    if request.headers.get(b"content-type", b"").lower() not in (b"application/json", b""):
        return refuse(
            request, "application/json only", code=errors.UNSUPPORTED_MEDIA_TYPE, status=415
        )
    return None


@before("acc-mixed-cart-rejected", "ACC-011", "one-time and subscription products cannot be mixed")
def _no_mixed_carts(request: Request, config: ServerConfig) -> Answer | None:
    body = json_body(request) or {}
    ids = {
        item.get("product_id") for item in body.get("product_cart") or [] if isinstance(item, dict)
    }
    data = config.profile.data
    if data.get("subscription_product_id") in ids and data.get("one_time_product_id") in ids:
        return refuse(request, "cannot mix products")
    return None


@before(
    "acc-deep-theme-null-crashes",
    "ACC-003",
    "a null colour inside customization.theme_config.light/dark is a 500",
)
def _deep_theme_null_crashes(request: Request, config: ServerConfig) -> Answer | None:
    customization = (json_body(request) or {}).get("customization")
    theme = customization.get("theme_config") if isinstance(customization, dict) else None
    for mode in ("light", "dark"):
        colours = theme.get(mode) if isinstance(theme, dict) else None
        if isinstance(colours, dict) and None in colours.values():
            return json_answer(request, 500, {"message": "Internal Server Error"})
    return None


@before(
    "rob-null-customer-name-500",
    "ROB-001",
    "a new customer's name: null crashes the server (500): ROB-001 fails wherever a 5xx is met",
)
def _null_customer_name_crashes(request: Request, config: ServerConfig) -> Answer | None:
    customer = (json_body(request) or {}).get("customer")
    if isinstance(customer, dict) and "name" in customer and customer["name"] is None:
        return json_answer(request, 500, {"message": "Internal Server Error"})
    return None


@before("acc-null-customer-name-refused", "ACC-003", "a new customer's name: null is refused")
def _null_customer_name_refused(request: Request, config: ServerConfig) -> Answer | None:
    customer = (json_body(request) or {}).get("customer")
    if isinstance(customer, dict) and "name" in customer and customer["name"] is None:
        return refuse(request, "customer.name must be a string")
    return None


@before(
    "acc-on-demand-null-price-refused",
    "ACC-003",
    "an on-demand subscription's product_price: null is refused (no price to charge)",
)
def _on_demand_null_price_refused(request: Request, config: ServerConfig) -> Answer | None:
    subscription = (json_body(request) or {}).get("subscription_data")
    on_demand = subscription.get("on_demand") if isinstance(subscription, dict) else None
    if (
        isinstance(on_demand, dict)
        and "product_price" in on_demand
        and on_demand["product_price"] is None
    ):
        return refuse(request, "subscription_data.on_demand.product_price must be an integer")
    return None


# -- valid values refused: a server stricter about free text than the contract ---------------
def _new_customer(request: Request) -> dict[str, Any] | None:
    body = json_body(request)
    customer = body.get("customer") if body is not None else None
    return customer if isinstance(customer, dict) and "email" in customer else None


@before("acc-name-ascii-only", "ACC-007", "a new customer's name outside ASCII is refused")
def _name_ascii_only(request: Request, config: ServerConfig) -> Answer | None:
    customer = _new_customer(request)
    name = customer.get("name") if customer else None
    if isinstance(name, str) and not name.isascii():
        return refuse(request, "customer.name contains invalid characters")
    return None


# The pattern hand-written validators copy: no `+`, no apostrophe, ASCII, a TLD of 2 to 6 letters.
_STRICT_EMAIL = re.compile(r"^[A-Za-z0-9._%-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,6}$")


@before("acc-email-strict-pattern", "ACC-007", "e-mail addresses are checked by a narrow pattern")
def _email_strict_pattern(request: Request, config: ServerConfig) -> Answer | None:
    customer = _new_customer(request)
    email = customer.get("email") if customer else None
    if isinstance(email, str) and not _STRICT_EMAIL.match(email):
        return refuse(request, "customer.email is not a valid e-mail address")
    return None


@before("acc-phone-digits-only", "ACC-007", "a phone number must be `+` and digits alone")
def _phone_digits_only(request: Request, config: ServerConfig) -> Answer | None:
    customer = _new_customer(request)
    phone = customer.get("phone_number") if customer else None
    if isinstance(phone, str) and not re.fullmatch(r"\+[0-9]{8,15}", phone):
        return refuse(request, "customer.phone_number must be in E.164 form")
    return None


def _address(request: Request) -> dict[str, Any] | None:
    body = json_body(request)
    address = body.get("billing_address") if body is not None else None
    return address if isinstance(address, dict) else None


@before("acc-zipcode-digits-only", "ACC-002", "a postcode with letters or a space is refused")
def _zipcode_digits_only(request: Request, config: ServerConfig) -> Answer | None:
    address = _address(request)
    zipcode = address.get("zipcode") if address else None
    if isinstance(zipcode, str) and not re.fullmatch(r"[0-9-]+", zipcode):
        return refuse(request, "billing_address.zipcode is not a valid postal code")
    return None


@before(
    "acc-address-needs-state",
    "ACC-002",
    "a billing address with a street but no state is refused, whatever the country",
)
def _address_needs_state(request: Request, config: ServerConfig) -> Answer | None:
    address = _address(request)
    if address and address.get("street") and not address.get("state"):
        return refuse(request, "billing_address.state is required")
    return None


@before("acc-metadata-int32-only", "ACC-006", "metadata integers beyond int32 are refused")
def _metadata_int32_only(request: Request, config: ServerConfig) -> Answer | None:
    body = json_body(request)
    metadata = body.get("metadata") if body is not None else None
    if isinstance(metadata, dict) and any(
        isinstance(value, int) and not isinstance(value, bool) and not -(2**31) <= value < 2**31
        for value in metadata.values()
    ):
        return refuse(request, "metadata value out of range")
    return None


@before("acc-url-ascii-only", "ACC-002", "a return_url with characters outside ASCII is refused")
def _url_ascii_only(request: Request, config: ServerConfig) -> Answer | None:
    body = json_body(request)
    url = body.get("return_url") if body is not None else None
    if isinstance(url, str) and not url.isascii():
        return refuse(request, "return_url is not a valid URL")
    return None


@before(
    "acc-custom-field-key-identifier",
    "ACC-008",
    "a custom-field key must be an ASCII identifier",
)
def _custom_field_key_identifier(request: Request, config: ServerConfig) -> Answer | None:
    body = json_body(request)
    fields = body.get("custom_fields") if body is not None else None
    if isinstance(fields, list) and any(
        isinstance(field, dict)
        and isinstance(field.get("key"), str)
        and not re.fullmatch(r"[A-Za-z0-9_]+", field["key"])
        for field in fields
    ):
        return refuse(request, "custom_fields[].key must be alphanumeric")
    return None
