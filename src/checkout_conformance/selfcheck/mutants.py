"""Mutants: the reference server, each broken in one realistic way.

Every mutant names the requirement it breaks (`target`) and does so the way a hand-written mock
or a buggy backend would: a check skipped, a value coerced, a status changed, a field renamed.
Some faults only show for some combinations of fields or some string contents; only the property
tests can find those. The suite must kill every mutant: a non-zero exit (with `--fail-on-should`)
and a certificate that marks the target requirement failed.
"""

from __future__ import annotations

import contextlib
import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..server import ServerConfig
from ._rewrite import After, Answer, Before, Request, json_answer


@dataclass(frozen=True)
class Mutant:
    name: str
    target: str  # the requirement it breaks
    description: str
    before: Before | None = None
    after: After | None = None
    properties_only: bool = False  # no hand-written scenario names the triggering input


# -- helpers -------------------------------------------------------------------------------------
def _auth(request: Request) -> str:
    return request.headers.get(b"authorization", b"").decode("latin-1")


def _with_valid_auth(request: Request, config: ServerConfig) -> Request:
    request.headers[b"authorization"] = f"Bearer {config.api_key}".encode()
    return request


def _body(request: Request) -> dict[str, Any] | None:
    return request.body if isinstance(request.body, dict) else None


def _edit_body(edit: Callable[[dict[str, Any], ServerConfig], None]) -> Before:
    """A `before` hook that rewrites an authenticated JSON object body before validation."""

    def before(request: Request, config: ServerConfig) -> Request | None:
        body = _body(request)
        if body is None or _auth(request) != f"Bearer {config.api_key}":
            return None
        request.body = copy.deepcopy(body)
        edit(request.body, config)
        return request

    return before


def _ok(answer: Answer) -> dict[str, Any] | None:
    return answer.body if answer.status == 200 and isinstance(answer.body, dict) else None


def _requested(answer: Answer) -> dict[str, Any]:
    return answer.request.body if isinstance(answer.request.body, dict) else {}


# -- authentication ------------------------------------------------------------------------------
def _no_header_is_anonymous_ok(request: Request, config: ServerConfig) -> Request | None:
    return _with_valid_auth(request, config) if b"authorization" not in request.headers else None


def _any_scheme(request: Request, config: ServerConfig) -> Request | None:
    token = _auth(request).split(" ")[-1]
    if token == config.api_key or token == _b64(config.api_key):
        return _with_valid_auth(request, config)
    return None


def _b64(text: str) -> str:
    import base64

    return base64.b64encode(text.encode()).decode()


def _empty_bearer_ok(request: Request, config: ServerConfig) -> Request | None:
    return _with_valid_auth(request, config) if _auth(request).strip().lower() == "bearer" else None


def _any_bearer_ok(request: Request, config: ServerConfig) -> Request | None:
    scheme, _, token = _auth(request).partition(" ")
    return (
        _with_valid_auth(request, config) if scheme.lower() == "bearer" and token.strip() else None
    )


def _key_anywhere(request: Request, config: ServerConfig) -> Request | None:
    places = [request.headers.get(b"x-api-key", b""), request.headers.get(b"cookie", b"")]
    if any(config.api_key.encode() in place for place in places) or config.api_key in request.query:
        return _with_valid_auth(request, config)
    return None


def _forbidden_without_header(answer: Answer) -> None:
    if answer.status == 401 and b"authorization" not in answer.request.headers:
        answer.status = 403


def _validate_before_auth(request: Request, config: ServerConfig) -> Answer | None:
    if _auth(request) == f"Bearer {config.api_key}":
        return None
    body = request.body
    if not isinstance(body, dict) or not isinstance(body.get("product_cart"), list):
        return json_answer(
            request, 422, {"code": "INVALID_REQUEST_BODY", "message": "product_cart is required"}
        )
    return None


def _echo_token(answer: Answer) -> None:
    if answer.status == 401 and isinstance(answer.body, dict):
        answer.body["message"] = f"Invalid token: {_auth(answer.request)}"


def _case_sensitive_scheme(request: Request, config: ServerConfig) -> Answer | None:
    if _auth(request).startswith(("bearer ", "BEARER ", "BeArEr ")):
        return json_answer(
            request, 401, {"code": "UNAUTHORIZED", "message": "Use the Bearer scheme"}
        )
    return None


# -- validation ----------------------------------------------------------------------------------
def _default_cart(body: dict[str, Any], config: ServerConfig) -> None:
    if "product_cart" not in body:
        body["product_cart"] = [
            {"product_id": config.profile.data["one_time_product_id"], "quantity": 1}
        ]


def _wrap_cart_object(body: dict[str, Any], config: ServerConfig) -> None:
    if isinstance(body.get("product_cart"), dict):
        body["product_cart"] = [body["product_cart"]]


def _default_quantity(body: dict[str, Any], config: ServerConfig) -> None:
    for item in body.get("product_cart") or []:
        if isinstance(item, dict):
            item.setdefault("quantity", 1)


def _coerce_quantity(body: dict[str, Any], config: ServerConfig) -> None:
    for item in body.get("product_cart") or []:
        if isinstance(item, dict) and not isinstance(item.get("quantity"), bool):
            with contextlib.suppress(TypeError, ValueError, KeyError):
                item["quantity"] = abs(int(float(item["quantity"])))


def _drop_unknown_payment_types(body: dict[str, Any], config: ServerConfig) -> None:
    from ..contract import load_contract

    known = load_contract().enum_values("PaymentMethodTypes")
    types = body.get("allowed_payment_method_types")
    if isinstance(types, list):
        body["allowed_payment_method_types"] = list(dict.fromkeys(t for t in types if t in known))


def _uppercase_currency(body: dict[str, Any], config: ServerConfig) -> None:
    if isinstance(body.get("billing_currency"), str):
        body["billing_currency"] = body["billing_currency"].upper()[:3]


def _default_country(body: dict[str, Any], config: ServerConfig) -> None:
    from ..contract import load_contract

    address = body.get("billing_address")
    if isinstance(address, dict) and address.get("country") not in load_contract().enum_values(
        "CountryCodeAlpha2"
    ):
        address["country"] = "US"


def _drop_bad_customer(body: dict[str, Any], config: ServerConfig) -> None:
    customer = body.get("customer")
    if isinstance(customer, dict) and "customer_id" not in customer and "email" not in customer:
        del body["customer"]


_TRUE, _FALSE = ("true", "1", 1), ("false", "0", 0)


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


def _drop_unknown_theme(body: dict[str, Any], config: ServerConfig) -> None:
    customization = body.get("customization")  # a dict, or left alone
    if isinstance(customization, dict) and customization.get("theme") not in (
        None,
        "dark",
        "light",
        "system",
    ):
        del customization["theme"]


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


def _any_content_type(request: Request, config: ServerConfig) -> Request | None:
    if request.body is not None:
        request.headers[b"content-type"] = b"application/json"
        return request
    return None


def _conflict_for_rules(answer: Answer) -> None:
    if (
        answer.status == 422
        and isinstance(answer.body, dict)
        and answer.body.get("code") != "INVALID_REQUEST_BODY"
    ):
        answer.status = 409


def _plain_text_errors(answer: Answer) -> None:
    if answer.status >= 400:
        answer.set_header(b"content-type", b"text/plain")
        answer.body = b"Bad Request"


# -- business rules ------------------------------------------------------------------------------
def _confirm_when_charging(body: dict[str, Any], config: ServerConfig) -> None:
    if body.get("payment_method_id") is not None:
        body["confirm"] = True


def _customer_from_payment_method(body: dict[str, Any], config: ServerConfig) -> None:
    if body.get("payment_method_id") is not None and "customer_id" not in (
        body.get("customer") or {}
    ):
        body["customer"] = {"customer_id": config.profile.data.get("customer_id", "")}


def _tax_id_alone(body: dict[str, Any], config: ServerConfig) -> None:
    if body.get("tax_id") is not None and body.get("billing_address") is None:
        body["billing_address"] = {"country": "US"}


def _truncate(key: str, limit: int) -> Callable[[dict[str, Any], ServerConfig], None]:
    def edit(body: dict[str, Any], config: ServerConfig) -> None:
        if isinstance(body.get(key), list):
            body[key] = body[key][:limit]

    return edit


def _prefer_discount_codes(body: dict[str, Any], config: ServerConfig) -> None:
    if body.get("discount_code") is not None and body.get("discount_codes") is not None:
        del body["discount_code"]


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


def _zero_quantity_as_one(body: dict[str, Any], config: ServerConfig) -> None:
    for item in body.get("product_cart") or []:
        if isinstance(item, dict) and item.get("quantity") == 0:
            item["quantity"] = 1


def _clamp_trial(body: dict[str, Any], config: ServerConfig) -> None:
    data = body.get("subscription_data")
    if isinstance(data, dict) and isinstance(data.get("trial_period_days"), int):
        data["trial_period_days"] = min(max(data["trial_period_days"], 0), 10000)


def _dropdown_default_options(body: dict[str, Any], config: ServerConfig) -> None:
    for field in body.get("custom_fields") or []:
        if (
            isinstance(field, dict)
            and field.get("field_type") == "dropdown"
            and not field.get("options")
        ):
            field["options"] = ["Default"]


def _strip_theme_limits(body: dict[str, Any], config: ServerConfig) -> None:
    customization = body.get("customization")
    theme = customization.get("theme_config") if isinstance(customization, dict) else None
    if isinstance(theme, dict):
        for key in ("font_primary_url", "font_secondary_url", "pay_button_text", "radius"):
            theme.pop(key, None)


def _ignore_phone_requirement(body: dict[str, Any], config: ServerConfig) -> None:
    flags = body.get("feature_flags")
    if isinstance(flags, dict):
        flags.pop("require_phone_number", None)


def _fill_address(body: dict[str, Any], config: ServerConfig) -> None:
    if body.get("confirm") is True:
        address = body.setdefault("billing_address", {"country": "US"}) or {"country": "US"}
        for key in ("street", "city", "state", "zipcode"):
            address.setdefault(key, "unknown")
            address[key] = address[key] or "unknown"
        body["billing_address"] = address


def _minimal_address_ignored(request: Request, config: ServerConfig) -> Answer | None:
    body = _body(request)
    if body and body.get("confirm") is True and body.get("minimal_address") is True:
        address = body.get("billing_address") or {}
        if not all(address.get(k) for k in ("street", "city", "state")):
            return json_answer(
                request, 422, {"code": "INVALID_REQUEST_BODY", "message": "address incomplete"}
            )
    return None


def _empty_cart_ok(body: dict[str, Any], config: ServerConfig) -> None:
    if body.get("product_cart") == []:
        body["product_collection_id"] = config.profile.data.get("product_collection_id")


def _drop_addons_of_one_time(body: dict[str, Any], config: ServerConfig) -> None:
    subscription = config.profile.data.get("subscription_product_id")
    for item in body.get("product_cart") or []:
        if isinstance(item, dict) and item.get("product_id") != subscription:
            item.pop("addons", None)


def _any_card_of_any_customer(body: dict[str, Any], config: ServerConfig) -> None:
    if body.get("payment_method_id") == config.profile.data.get("other_payment_method_id"):
        body["payment_method_id"] = config.profile.data.get("payment_method_id")


# -- acceptance ----------------------------------------------------------------------------------
def _created_201(answer: Answer) -> None:
    if answer.status == 200:
        answer.status = 201


def _too_many_fields(request: Request, config: ServerConfig) -> Answer | None:
    body = _body(request)
    if body is not None and len(body) > 20:
        return json_answer(
            request, 422, {"code": "INVALID_REQUEST_BODY", "message": "too many parameters"}
        )
    return None


def _null_not_allowed(request: Request, config: ServerConfig) -> Answer | None:
    body = _body(request)
    if body is not None and any(
        body.get(k, "") is None for k in ("cancel_url", "return_url", "tax_id")
    ):
        return json_answer(
            request, 422, {"code": "INVALID_REQUEST_BODY", "message": "null is not allowed"}
        )
    return None


_SUPPORTED_CURRENCIES = {"USD", "EUR", "GBP", "INR", "CAD", "AUD", "JPY", "SGD", "CHF", "SEK"}


def _currency_subset(request: Request, config: ServerConfig) -> Answer | None:
    body = _body(request)
    currency = body.get("billing_currency") if body else None
    if currency is not None and currency not in _SUPPORTED_CURRENCIES:
        return json_answer(
            request, 422, {"code": "UNSUPPORTED_CURRENCY", "message": f"{currency} not supported"}
        )
    return None


def _country_subset(request: Request, config: ServerConfig) -> Answer | None:
    address = (_body(request) or {}).get("billing_address")
    country = address.get("country") if isinstance(address, dict) else None
    if country in ("AQ", "BV", "HM", "TF", "UM", "KP", "IR", "SY", "CU"):
        return json_answer(
            request,
            422,
            {"code": "UNSUPPORTED_COUNTRY", "message": f"Country {country} not supported"},
        )
    return None


def _unknown_fields_rejected(request: Request, config: ServerConfig) -> Answer | None:
    from ..contract import load_contract

    body = _body(request)
    known = {f.dotted for f in load_contract().fields("CreateCheckoutSessionRequest")}
    if body is not None and set(body) - known:
        return json_answer(
            request, 422, {"code": "INVALID_REQUEST_BODY", "message": "unknown field"}
        )
    return None


def _strict_one_of_metadata(request: Request, config: ServerConfig) -> Answer | None:
    metadata = (_body(request) or {}).get("metadata")
    if isinstance(metadata, dict) and any(type(v) is int for v in metadata.values()):
        return json_answer(
            request, 422, {"code": "INVALID_REQUEST_BODY", "message": "metadata: oneOf failed"}
        )
    return None


def _existing_customers_only(request: Request, config: ServerConfig) -> Answer | None:
    customer = (_body(request) or {}).get("customer")
    if isinstance(customer, dict) and "email" in customer:
        return json_answer(
            request, 422, {"code": "INVALID_REQUEST_BODY", "message": "customer_id required"}
        )
    return None


def _custom_field_type_subset(request: Request, config: ServerConfig) -> Answer | None:
    for field in (_body(request) or {}).get("custom_fields") or []:
        if isinstance(field, dict) and field.get("field_type") in ("date", "url"):
            return json_answer(
                request, 422, {"code": "INVALID_REQUEST_BODY", "message": "unsupported field"}
            )
    return None


def _null_payment_method_is_present(request: Request, config: ServerConfig) -> Answer | None:
    body = _body(request)
    if body is not None and "payment_method_id" in body and body["payment_method_id"] is None:
        return json_answer(
            request,
            422,
            {"code": "INVALID_REQUEST_BODY", "message": "payment_method_id needs confirm"},
        )
    return None


def _exact_content_type(request: Request, config: ServerConfig) -> Answer | None:
    if request.headers.get(b"content-type", b"").lower() not in (b"application/json", b""):
        return json_answer(
            request, 415, {"code": "UNSUPPORTED_MEDIA_TYPE", "message": "application/json only"}
        )
    return None


def _no_mixed_carts(request: Request, config: ServerConfig) -> Answer | None:
    body = _body(request) or {}
    ids = {
        item.get("product_id") for item in body.get("product_cart") or [] if isinstance(item, dict)
    }
    data = config.profile.data
    if data.get("subscription_product_id") in ids and data.get("one_time_product_id") in ids:
        return json_answer(
            request, 422, {"code": "INVALID_REQUEST_BODY", "message": "cannot mix products"}
        )
    return None


# -- response ------------------------------------------------------------------------------------
def _text_plain_success(answer: Answer) -> None:
    if answer.status == 200:
        answer.set_header(b"content-type", b"text/plain")


def _renamed_session_id(answer: Answer) -> None:
    body = _ok(answer)
    if body is not None:
        body["id"] = body.pop("session_id")


def _numeric_payment_id(answer: Answer) -> None:
    body = _ok(answer)
    if body is not None and body.get("payment_id"):
        body["payment_id"] = 123456789


def _client_secret_object(answer: Answer) -> None:
    body = _ok(answer)
    if body is not None and body.get("client_secret"):
        body["client_secret"] = {"secret": body["client_secret"]}


def _constant_session_id(answer: Answer) -> None:
    body = _ok(answer)
    if body is not None:
        body["session_id"] = "cks_0000000000000000000000"
        if isinstance(body.get("checkout_url"), str):
            body["checkout_url"] = (
                "https://test.checkout.dodopayments.com/session/cks_0000000000000000000000"
            )


def _http_checkout_url(answer: Answer) -> None:
    body = _ok(answer)
    if body is not None and isinstance(body.get("checkout_url"), str):
        body["checkout_url"] = body["checkout_url"].replace("https://", "http://")


# -- the checkout_url rule -----------------------------------------------------------------------
def _leak_url(answer: Answer, when: Callable[[dict[str, Any]], bool]) -> None:
    body = _ok(answer)
    requested = _requested(answer)
    if body is not None and requested.get("payment_method_id") is not None and when(requested):
        body["checkout_url"] = (
            f"https://test.checkout.dodopayments.com/session/{body['session_id']}"
        )


def _url_with_payment_method(answer: Answer) -> None:
    _leak_url(answer, lambda requested: True)


def _url_with_minimal_address_and_metadata(answer: Answer) -> None:
    _leak_url(answer, lambda r: r.get("minimal_address") is True and bool(r.get("metadata")))


def _url_with_short_link(answer: Answer) -> None:
    _leak_url(answer, lambda r: r.get("short_link") is True)


def _url_omitted(answer: Answer) -> None:
    body = _ok(answer)
    if body is not None and body.get("checkout_url", "") is None:
        del body["checkout_url"]


def _null_url_when_confirmed(answer: Answer) -> None:
    body = _ok(answer)
    if body is not None and _requested(answer).get("confirm") is True:
        body["checkout_url"] = None


def _no_payment_id(answer: Answer) -> None:
    body = _ok(answer)
    if body is not None:
        body["payment_id"] = None


# -- robustness ----------------------------------------------------------------------------------
def _crash_on_non_ascii(request: Request, config: ServerConfig) -> Answer | None:
    body = _body(request) or {}
    text = json.dumps(body.get("product_cart", []), ensure_ascii=False) + str(
        body.get("customer_business_name", "")
    )
    if any(ord(char) > 127 for char in text):
        return Answer(request, 500, [(b"content-type", b"text/plain")], b"UnicodeEncodeError")
    return None


def _unchecked_dark_theme(request: Request, config: ServerConfig) -> Request | None:
    customization = (_body(request) or {}).get("customization")
    theme = customization.get("theme_config") if isinstance(customization, dict) else None
    if isinstance(theme, dict) and isinstance(theme.get("dark"), dict):
        assert isinstance(request.body, dict)
        request.body = copy.deepcopy(request.body)
        request.body["customization"]["theme_config"]["dark"] = {}
        return request
    return None


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


def _no_3ds_override(request: Request, config: ServerConfig) -> Answer | None:
    if (_body(request) or {}).get("force_3ds") is True:
        # Refusing a valid value with the documented body is allowed (ROB-003's wording);
        # refusing it with an undocumented one is not.
        return json_answer(request, 422, {"error": "3DS override not allowed"})
    return None


def _big_body_crashes(request: Request, config: ServerConfig) -> Answer | None:
    if len(request.raw_body) > 1_000_000:
        return Answer(request, 502, [(b"content-type", b"text/html")], b"<h1>502 Bad Gateway</h1>")
    return None


def _get_lists_sessions(request: Request, config: ServerConfig) -> Answer | None:
    if request.method == "GET":
        return json_answer(request, 200, {"data": []})
    return None


def _mutant(name: str, target: str, description: str, **hooks: Any) -> Mutant:
    return Mutant(name, target, description, **hooks)


MUTANTS = {
    mutant.name: mutant
    for mutant in (
        # authentication
        _mutant(
            "auth-missing-header-accepted",
            "AUTH-001",
            "no Authorization header is anonymous access",
            before=_no_header_is_anonymous_ok,
        ),
        _mutant(
            "auth-any-scheme",
            "AUTH-002",
            "the key is taken from any scheme (Basic, Token, bare)",
            before=_any_scheme,
        ),
        _mutant(
            "auth-empty-bearer",
            "AUTH-003",
            "`Bearer` with no token passes",
            before=_empty_bearer_ok,
        ),
        _mutant(
            "auth-any-bearer-token",
            "AUTH-004",
            "any non-empty bearer token passes",
            before=_any_bearer_ok,
        ),
        _mutant(
            "auth-key-anywhere",
            "AUTH-005",
            "the key is also read from X-API-Key, cookies, the query",
            before=_key_anywhere,
        ),
        _mutant(
            "auth-403-without-header",
            "AUTH-006",
            "403 instead of 401 when the header is missing",
            after=_forbidden_without_header,
        ),
        _mutant(
            "auth-after-validation",
            "AUTH-007",
            "the body is validated before the credentials",
            before=_validate_before_auth,
        ),
        _mutant(
            "auth-echoes-token",
            "AUTH-008",
            "the 401 message repeats the presented token",
            after=_echo_token,
        ),
        _mutant(
            "auth-case-sensitive-scheme",
            "AUTH-009",
            "`bearer` in lower case is refused",
            before=_case_sensitive_scheme,
        ),
        # validation
        _mutant(
            "val-default-cart",
            "VAL-001",
            "a missing product_cart becomes a default cart",
            before=_edit_body(_default_cart),
        ),
        _mutant(
            "val-cart-object-wrapped",
            "VAL-002",
            "a product_cart object is wrapped in a list",
            before=_edit_body(_wrap_cart_object),
        ),
        _mutant(
            "val-default-quantity",
            "VAL-003",
            "a cart item without quantity gets 1",
            before=_edit_body(_default_quantity),
        ),
        _mutant(
            "val-coerced-quantity",
            "VAL-004",
            "quantities are coerced (abs, int, from strings)",
            before=_edit_body(_coerce_quantity),
        ),
        _mutant(
            "val-unknown-payment-types-dropped",
            "VAL-005",
            "unknown and repeated payment types are dropped",
            before=_edit_body(_drop_unknown_payment_types),
        ),
        _mutant(
            "val-currency-upper-cased",
            "VAL-006",
            "billing_currency is upper-cased and cut to 3 letters",
            before=_edit_body(_uppercase_currency),
        ),
        _mutant(
            "val-country-defaulted",
            "VAL-007",
            "a missing or unknown country becomes US",
            before=_edit_body(_default_country),
        ),
        _mutant(
            "val-bad-customer-dropped",
            "VAL-008",
            "a customer with neither id nor email is ignored",
            before=_edit_body(_drop_bad_customer),
        ),
        _mutant(
            "val-booleans-coerced",
            "VAL-009",
            '"true", "1", 1 are taken as booleans',
            before=_edit_body(_coerce_booleans),
        ),
        _mutant(
            "val-custom-field-type-defaulted",
            "VAL-010",
            "an unknown field_type becomes text",
            before=_edit_body(_text_for_unknown_field_type),
        ),
        _mutant(
            "val-theme-unchecked",
            "VAL-011",
            "an unknown theme is ignored",
            before=_edit_body(_drop_unknown_theme),
        ),
        _mutant(
            "val-malformed-json-crashes",
            "VAL-012",
            "malformed JSON is a 500 HTML page",
            before=_malformed_json_crashes,
        ),
        _mutant(
            "val-any-content-type",
            "VAL-013",
            "any Content-Type is parsed as JSON",
            before=_any_content_type,
        ),
        _mutant(
            "val-409-for-rules",
            "VAL-014",
            "business-rule violations are 409",
            after=_conflict_for_rules,
        ),
        _mutant(
            "val-plain-text-errors", "VAL-015", "errors are text/plain", after=_plain_text_errors
        ),
        # business rules
        _mutant(
            "rule-confirm-implied",
            "RULE-001",
            "a payment method implies confirm",
            before=_edit_body(_confirm_when_charging),
        ),
        _mutant(
            "rule-customer-implied",
            "RULE-002",
            "a payment method implies its customer",
            before=_edit_body(_customer_from_payment_method),
        ),
        _mutant(
            "rule-tax-id-alone",
            "RULE-003",
            "tax_id without billing address is accepted",
            before=_edit_body(_tax_id_alone),
        ),
        _mutant(
            "rule-custom-fields-truncated",
            "RULE-004",
            "custom fields beyond 5 are dropped",
            before=_edit_body(_truncate("custom_fields", 5)),
        ),
        _mutant(
            "rule-discount-codes-truncated",
            "RULE-005",
            "discount codes beyond 20 are dropped",
            before=_edit_body(_truncate("discount_codes", 20)),
        ),
        _mutant(
            "rule-both-discount-fields",
            "RULE-005",
            "discount_code is ignored next to discount_codes",
            before=_edit_body(_prefer_discount_codes),
        ),
        _mutant(
            "rule-unknown-products-accepted",
            "RULE-006",
            "unknown products are sold as the one-time product",
            before=_edit_body(_unknown_products_as_known),
        ),
        _mutant(
            "rule-zero-quantity",
            "RULE-007",
            "a quantity of 0 is taken as 1",
            before=_edit_body(_zero_quantity_as_one),
        ),
        _mutant(
            "rule-trial-clamped",
            "RULE-008",
            "trial days are clamped into 0..10000",
            before=_edit_body(_clamp_trial),
        ),
        _mutant(
            "rule-dropdown-default-options",
            "RULE-009",
            "a dropdown without options gets a default",
            before=_edit_body(_dropdown_default_options),
        ),
        _mutant(
            "rule-theme-limits-dropped",
            "RULE-010",
            "theme values over the limits are dropped",
            before=_edit_body(_strip_theme_limits),
        ),
        _mutant(
            "rule-phone-requirement-dropped",
            "RULE-011",
            "require_phone_number is ignored",
            before=_edit_body(_ignore_phone_requirement),
        ),
        _mutant(
            "rule-address-filled",
            "RULE-012",
            "missing address fields are filled with 'unknown'",
            before=_edit_body(_fill_address),
        ),
        _mutant(
            "rule-minimal-address-ignored",
            "RULE-012",
            "minimal_address still needs a full address",
            before=_minimal_address_ignored,
        ),
        _mutant(
            "rule-empty-cart-accepted",
            "RULE-013",
            "an empty cart falls back to the collection",
            before=_edit_body(_empty_cart_ok),
        ),
        _mutant(
            "rule-long-cart-truncated",
            "RULE-014",
            "a cart beyond 20 items is cut",
            before=_edit_body(_truncate("product_cart", 20)),
        ),
        _mutant(
            "rule-addons-dropped",
            "RULE-015",
            "addons on one-time products are dropped silently",
            before=_edit_body(_drop_addons_of_one_time),
        ),
        _mutant(
            "rule-foreign-card-accepted",
            "RULE-016",
            "another customer's card is charged",
            before=_edit_body(_any_card_of_any_customer),
        ),
        # acceptance
        _mutant("acc-201-created", "ACC-001", "sessions are created with 201", after=_created_201),
        _mutant(
            "acc-many-fields-rejected",
            "ACC-002",
            "more than 20 fields is 'too many parameters'",
            before=_too_many_fields,
        ),
        _mutant(
            "acc-null-rejected",
            "ACC-003",
            "explicit nulls are refused on URL and tax fields",
            before=_null_not_allowed,
        ),
        _mutant(
            "acc-currency-subset",
            "ACC-004",
            "only ten currencies are supported",
            before=_currency_subset,
        ),
        _mutant(
            "acc-country-subset", "ACC-004", "some countries are refused", before=_country_subset
        ),
        _mutant(
            "acc-unknown-fields-rejected",
            "ACC-005",
            "unknown top-level fields are refused",
            before=_unknown_fields_rejected,
        ),
        _mutant(
            "acc-integer-metadata-rejected",
            "ACC-006",
            "integer metadata fails a strict oneOf",
            before=_strict_one_of_metadata,
        ),
        _mutant(
            "acc-new-customers-rejected",
            "ACC-007",
            "only existing customers are accepted",
            before=_existing_customers_only,
        ),
        _mutant(
            "acc-custom-field-types-subset",
            "ACC-008",
            "date and url custom fields are refused",
            before=_custom_field_type_subset,
        ),
        _mutant(
            "acc-null-payment-method-present",
            "ACC-009",
            "payment_method_id: null counts as given",
            before=_null_payment_method_is_present,
        ),
        _mutant(
            "acc-charset-rejected",
            "ACC-010",
            "a charset parameter makes the content type unsupported",
            before=_exact_content_type,
        ),
        _mutant(
            "acc-mixed-cart-rejected",
            "ACC-011",
            "one-time and subscription products cannot be mixed",
            before=_no_mixed_carts,
        ),
        # response shape
        _mutant(
            "resp-text-plain",
            "RESP-001",
            "sessions come back as text/plain",
            after=_text_plain_success,
        ),
        _mutant(
            "resp-id-renamed", "RESP-002", "session_id is called id", after=_renamed_session_id
        ),
        _mutant(
            "resp-numeric-payment-id",
            "RESP-003",
            "payment_id is a number",
            after=_numeric_payment_id,
        ),
        _mutant(
            "resp-client-secret-object",
            "RESP-004",
            "client_secret is an object",
            after=_client_secret_object,
        ),
        _mutant(
            "resp-constant-session-id",
            "RESP-005",
            "every session has the same id",
            after=_constant_session_id,
        ),
        _mutant(
            "resp-http-checkout-url",
            "RESP-006",
            "checkout_url is plain http",
            after=_http_checkout_url,
        ),
        # the checkout_url rule
        _mutant(
            "curl-url-with-payment-method",
            "CURL-001",
            "checkout_url is set even with a payment method",
            after=_url_with_payment_method,
        ),
        _mutant(
            "curl-url-with-minimal-address-and-metadata",
            "CURL-001",
            "checkout_url leaks for charges with a minimal address and metadata",
            after=_url_with_minimal_address_and_metadata,
            properties_only=True,
        ),
        _mutant(
            "curl-url-with-short-link",
            "CURL-001",
            "checkout_url leaks for charges with short_link true",
            after=_url_with_short_link,
            properties_only=True,
        ),
        _mutant(
            "curl-url-omitted",
            "CURL-002",
            "checkout_url is left out instead of null",
            after=_url_omitted,
        ),
        _mutant(
            "curl-null-url-when-confirmed",
            "CURL-003",
            "confirm without a payment method gives no URL",
            after=_null_url_when_confirmed,
        ),
        _mutant(
            "curl-no-payment-id", "CURL-004", "no payment_id for a charge", after=_no_payment_id
        ),
        # robustness
        _mutant(
            "rob-crash-on-non-ascii",
            "ROB-001",
            "a 500 for non-ASCII product ids or business names",
            before=_crash_on_non_ascii,
            properties_only=True,
        ),
        _mutant(
            "val-dark-theme-unchecked",
            "VAL-009",
            "the dark theme colours are not validated",
            before=_unchecked_dark_theme,
        ),
        _mutant(
            "val-later-cart-items-unchecked",
            "VAL-004",
            "only the first cart item is validated",
            before=_edit_body(_repair_later_items),
        ),
        _mutant(
            "rob-int32-overflow-clamped",
            "ROB-002",
            "quantities and amounts beyond 32 bits are clamped instead of refused",
            before=_edit_body(_clamp_amounts),
        ),
        _mutant(
            "rob-no-3ds-override",
            "ROB-003",
            "force_3ds: true is refused with an undocumented error body",
            before=_no_3ds_override,
            properties_only=True,
        ),
        _mutant(
            "rob-big-body-502",
            "ROB-004",
            "large bodies get a 502 from the proxy",
            before=_big_body_crashes,
        ),
        _mutant(
            "rob-get-lists-sessions",
            "ROB-005",
            "GET /checkouts answers 200",
            before=_get_lists_sessions,
        ),
    )
}
