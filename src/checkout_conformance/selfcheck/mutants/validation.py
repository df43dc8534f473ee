"""Validation mutants (VAL-*): malformed input coerced, defaulted or dropped instead of refused."""

from __future__ import annotations

import contextlib
import copy
import re
import unicodedata
from typing import Any

from ...contract import load_contract
from ...server import ServerConfig
from .._rewrite import Answer, Request
from ._helpers import json_body
from ._registry import after, before, edits_body


@edits_body("val-default-cart", "VAL-001", "a missing product_cart becomes a default cart")
def _default_cart(body: dict[str, Any], config: ServerConfig) -> None:
    if "product_cart" not in body:
        body["product_cart"] = [
            {"product_id": config.profile.data["one_time_product_id"], "quantity": 1}
        ]


@edits_body("val-cart-object-wrapped", "VAL-002", "a product_cart object is wrapped in a list")
def _wrap_cart_object(body: dict[str, Any], config: ServerConfig) -> None:
    if isinstance(body.get("product_cart"), dict):
        body["product_cart"] = [body["product_cart"]]


@edits_body("val-default-quantity", "VAL-003", "a cart item without quantity gets 1")
def _default_quantity(body: dict[str, Any], config: ServerConfig) -> None:
    for item in body.get("product_cart") or []:
        if isinstance(item, dict):
            item.setdefault("quantity", 1)


@edits_body("val-coerced-quantity", "VAL-004", "quantities are coerced (abs, int, from strings)")
def _coerce_quantity(body: dict[str, Any], config: ServerConfig) -> None:
    for item in body.get("product_cart") or []:
        if isinstance(item, dict) and not isinstance(item.get("quantity"), bool):
            with contextlib.suppress(TypeError, ValueError, KeyError):
                item["quantity"] = abs(int(float(item["quantity"])))


@edits_body(
    "val-unknown-payment-types-dropped", "VAL-005", "unknown and repeated payment types are dropped"
)
def _drop_unknown_payment_types(body: dict[str, Any], config: ServerConfig) -> None:
    known = load_contract().enum_values("PaymentMethodTypes")
    types = body.get("allowed_payment_method_types")
    if isinstance(types, list):
        body["allowed_payment_method_types"] = list(dict.fromkeys(t for t in types if t in known))


@edits_body(
    "val-currency-upper-cased", "VAL-006", "billing_currency is upper-cased and cut to 3 letters"
)
def _uppercase_currency(body: dict[str, Any], config: ServerConfig) -> None:
    if isinstance(body.get("billing_currency"), str):
        body["billing_currency"] = body["billing_currency"].upper()[:3]


@edits_body("val-country-defaulted", "VAL-007", "a missing or unknown country becomes US")
def _default_country(body: dict[str, Any], config: ServerConfig) -> None:
    address = body.get("billing_address")
    if isinstance(address, dict) and address.get("country") not in load_contract().enum_values(
        "CountryCodeAlpha2"
    ):
        address["country"] = "US"


@edits_body(
    "val-bad-customer-dropped", "VAL-008", "a customer with neither id nor email is ignored"
)
def _drop_bad_customer(body: dict[str, Any], config: ServerConfig) -> None:
    customer = body.get("customer")
    if isinstance(customer, dict) and "customer_id" not in customer and "email" not in customer:
        del body["customer"]


_TRUE, _FALSE = ("true", "1", 1), ("false", "0", 0)


@edits_body("val-booleans-coerced", "VAL-009", '"true", "1", 1 are taken as booleans')
def _coerce_booleans(body: dict[str, Any], config: ServerConfig) -> None:
    for key in (
        "confirm",
        "minimal_address",
        "short_link",
        "show_saved_payment_methods",
        "force_3ds",
    ):
        value = body.get(key)
        if not isinstance(value, bool) and value in _TRUE + _FALSE:
            body[key] = value in _TRUE


@edits_body("val-custom-field-type-defaulted", "VAL-010", "an unknown field_type becomes text")
def _text_for_unknown_field_type(body: dict[str, Any], config: ServerConfig) -> None:
    for field in body.get("custom_fields") or []:
        if isinstance(field, dict) and field.get("field_type") not in (
            "text",
            "number",
            "email",
            "url",
            "date",
            "dropdown",
            "boolean",
        ):
            field["field_type"] = "text"


@edits_body("val-theme-unchecked", "VAL-011", "an unknown theme is ignored")
def _drop_unknown_theme(body: dict[str, Any], config: ServerConfig) -> None:
    customization = body.get("customization")  # a dict, or left alone
    if isinstance(customization, dict) and customization.get("theme") not in (
        None,
        "dark",
        "light",
        "system",
    ):
        del customization["theme"]


@before("val-malformed-json-crashes", "VAL-012", "malformed JSON is a 500 HTML page")
def _malformed_json_crashes(request: Request, config: ServerConfig) -> Answer | None:
    if (
        request.raw_body
        and request.body is None
        and b"json" in request.headers.get(b"content-type", b"")
    ):
        return Answer(
            request, 500, [(b"content-type", b"text/html")], b"<h1>Internal Server Error</h1>"
        )
    return None


@before("val-any-content-type", "VAL-013", "any Content-Type is parsed as JSON")
def _any_content_type(request: Request, config: ServerConfig) -> Request | None:
    if request.body is not None:
        request.headers[b"content-type"] = b"application/json"
        return request
    return None


@after("val-409-for-rules", "VAL-014", "business-rule violations are 409")
def _conflict_for_rules(answer: Answer) -> None:
    if (
        answer.status == 422
        and isinstance(answer.body, dict)
        and answer.body.get("code") != "INVALID_REQUEST_BODY"
    ):
        answer.status = 409


@after("val-plain-text-errors", "VAL-015", "errors are text/plain")
def _plain_text_errors(answer: Answer) -> None:
    if answer.status >= 400:
        answer.set_header(b"content-type", b"text/plain")
        answer.body = b"Bad Request"


@before("val-dark-theme-unchecked", "VAL-009", "the dark theme colours are not validated")
def _unchecked_dark_theme(request: Request, config: ServerConfig) -> Request | None:
    customization = (json_body(request) or {}).get("customization")
    theme = customization.get("theme_config") if isinstance(customization, dict) else None
    if isinstance(theme, dict) and isinstance(theme.get("dark"), dict):
        assert isinstance(request.body, dict)
        request.body = copy.deepcopy(request.body)
        request.body["customization"]["theme_config"]["dark"] = {}
        return request
    return None


@edits_body("val-later-cart-items-unchecked", "VAL-004", "only the first cart item is validated")
def _repair_later_items(body: dict[str, Any], config: ServerConfig) -> None:
    cart = body.get("product_cart")
    if not isinstance(cart, list):
        return
    for index in range(1, len(cart)):
        item = cart[index]
        if not isinstance(item, dict):
            cart[index] = {"product_id": config.profile.data["one_time_product_id"], "quantity": 1}
            continue
        if not isinstance(item.get("product_id"), str):
            item["product_id"] = config.profile.data["one_time_product_id"]
        quantity = item.get("quantity")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            item["quantity"] = 1
        if item.get("addons") is not None and not isinstance(item.get("addons"), list):
            del item["addons"]


@edits_body("val-country-case-folded", "VAL-007", "a country code in any letter case is folded")
def _fold_country_case(body: dict[str, Any], config: ServerConfig) -> None:
    address = body.get("billing_address")
    country = address.get("country") if isinstance(address, dict) else None
    if isinstance(country, str) and country.upper() in load_contract().enum_values(
        "CountryCodeAlpha2"
    ):
        address["country"] = country.upper()  # type: ignore[index]


# -- look-alikes accepted: a server that reads a neighbouring standard's code as the right one --
def _set_nested(body: dict[str, Any], path: tuple[str, ...], fold: Any) -> None:
    """Apply `fold` to the string at `path` in `body`, when it is there."""
    parent: Any = body
    for key in path[:-1]:
        parent = parent.get(key) if isinstance(parent, dict) else None
    if isinstance(parent, dict) and isinstance(parent.get(path[-1]), str):
        parent[path[-1]] = fold(parent[path[-1]])


@edits_body(
    "val-country-alpha-3-accepted",
    "VAL-007",
    "a three-letter country code is taken for a country (alpha-3 read as alpha-2)",
)
def _country_alpha_3(body: dict[str, Any], config: ServerConfig) -> None:
    _set_nested(
        body,
        ("billing_address", "country"),
        lambda code: "US" if re.fullmatch(r"[A-Z]{3}", code) else code,
    )


@edits_body(
    "val-country-name-accepted",
    "VAL-007",
    "a country's name is looked up and taken for its code",
)
def _country_name(body: dict[str, Any], config: ServerConfig) -> None:
    _set_nested(
        body,
        ("billing_address", "country"),
        lambda code: "US" if re.fullmatch(r"[A-Z][a-z]+( [A-Za-z]+)*", code) else code,
    )


@edits_body(
    "val-country-nfkc-folded",
    "VAL-007",
    "the country is NFKC-normalised before the check (full-width letters folded)",
)
def _country_nfkc(body: dict[str, Any], config: ServerConfig) -> None:
    _set_nested(
        body, ("billing_address", "country"), lambda code: unicodedata.normalize("NFKC", code)
    )


@edits_body(
    "val-currency-numeric-accepted",
    "VAL-006",
    "an ISO 4217 numeric code is taken for its currency",
)
def _currency_numeric(body: dict[str, Any], config: ServerConfig) -> None:
    _set_nested(
        body, ("billing_currency",), lambda code: "USD" if re.fullmatch(r"[0-9]{3}", code) else code
    )


@edits_body(
    "val-currency-any-iso-code",
    "VAL-006",
    "any three capital letters pass as a currency (no check against the documented list)",
)
def _currency_any_code(body: dict[str, Any], config: ServerConfig) -> None:
    _set_nested(
        body,
        ("billing_currency",),
        lambda code: "USD" if re.fullmatch(r"[A-Z]{3}", code) else code,
    )


def _snake(text: str) -> str:
    """`Apple Pay`, `apple-pay`, `applePay`, `APPLE_PAY` -> `apple_pay`."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", text)
    return re.sub(r"[\s-]+", "_", spaced).lower()


@edits_body(
    "val-payment-types-normalised",
    "VAL-005",
    "payment types are normalised (case, hyphens, spaces, camelCase) before the check",
)
def _payment_types_normalised(body: dict[str, Any], config: ServerConfig) -> None:
    types = body.get("allowed_payment_method_types")
    if isinstance(types, list):
        body["allowed_payment_method_types"] = [
            _snake(value) if isinstance(value, str) else value for value in types
        ]


@edits_body(
    "val-font-weight-separators-ignored",
    "VAL-011",
    "font_weight is compared without separators or case (`extra-bold` is `extraBold`)",
)
def _font_weight_separators(body: dict[str, Any], config: ServerConfig) -> None:
    known = {value.lower(): value for value in load_contract().enum_values("FontWeight")}
    _set_nested(
        body,
        ("customization", "theme_config", "font_weight"),
        lambda value: known.get(re.sub(r"[\s_-]", "", value).lower(), value),
    )
