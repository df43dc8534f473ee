"""The reference server over real HTTP: authentication, validation, business rules, statuses."""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
import pytest

from checkout_conformance.profile import reference_profile

from .conftest import RunningServer

IDS = reference_profile().data
MINIMAL: dict[str, Any] = {
    "product_cart": [{"product_id": IDS["one_time_product_id"], "quantity": 1}]
}
ADDRESS = {"country": "US", "state": "CA", "city": "SF", "street": "1 Main St", "zipcode": "94105"}
CONFIRMED: dict[str, Any] = {
    **MINIMAL,
    "confirm": True,
    "customer": {"customer_id": IDS["customer_id"]},
    "payment_method_id": IDS["payment_method_id"],
    "billing_address": ADDRESS,
}


def post(server: RunningServer, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    sent = {
        "Content-Type": "application/json",
        **(headers if headers is not None else server.auth()),
    }
    with server.client() as client:
        return client.post("/checkouts", content=json.dumps(body).encode(), headers=sent)


def with_(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(base)
    body.update(changes)
    return body


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body["code"], str) and isinstance(body["message"], str)
    assert "session_id" not in body
    if code is not None:
        assert body["code"] == code


# -- success ---------------------------------------------------------------------------------
def test_minimal_request_creates_a_session_with_a_checkout_page(
    reference_server: RunningServer,
) -> None:
    response = post(reference_server, MINIMAL)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["session_id"].startswith("cks_")
    assert (
        body["checkout_url"]
        == f"https://test.checkout.dodopayments.com/session/{body['session_id']}"
    )
    assert body["payment_id"] is None and body["client_secret"] is None


def test_payment_method_gives_a_null_checkout_url_and_a_payment(
    reference_server: RunningServer,
) -> None:
    body = post(reference_server, CONFIRMED).json()
    assert "checkout_url" in body and body["checkout_url"] is None
    assert body["payment_id"].startswith("pay_")
    assert body["client_secret"] and body["publishable_key"]


def test_session_ids_are_unique(reference_server: RunningServer) -> None:
    ids = {post(reference_server, MINIMAL).json()["session_id"] for _ in range(50)}
    assert len(ids) == 50


def test_short_link_returns_a_short_https_url(reference_server: RunningServer) -> None:
    url = post(reference_server, with_(MINIMAL, short_link=True)).json()["checkout_url"]
    assert url.startswith("https://test.checkout.dodopayments.com/buy/")


# -- authentication --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Basic abc",
        "Token KEY",
        "KEY",
        "Bearer",
        "Bearer wrong-key",
        "Bearer KEYX",
        "Bearer KEY KEY",
    ],
)
def test_bad_credentials_get_401_before_the_body_is_read(
    reference_server: RunningServer, authorization: str | None
) -> None:
    headers = (
        {}
        if authorization is None
        else {"Authorization": authorization.replace("KEY", reference_server.api_key)}
    )
    response = post(reference_server, {"not": "a valid body"}, headers=headers)
    assert_error(response, 401, "UNAUTHORIZED")
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert reference_server.api_key not in response.text


def test_scheme_is_case_insensitive(reference_server: RunningServer) -> None:
    response = post(
        reference_server, MINIMAL, headers={"Authorization": f"bearer {reference_server.api_key}"}
    )
    assert response.status_code == 200


def test_key_outside_the_authorization_header_does_not_authenticate(
    reference_server: RunningServer,
) -> None:
    key = reference_server.api_key
    with reference_server.client() as client:
        for kwargs in (
            {"params": {"api_key": key}},
            {"headers": {"X-API-Key": key}},
            {"headers": {"Cookie": f"api_key={key}"}},
        ):
            assert client.post("/checkouts", json=MINIMAL, **kwargs).status_code == 401  # type: ignore[arg-type]


# -- transport-level errors ------------------------------------------------------------------
def test_malformed_json_is_400(reference_server: RunningServer) -> None:
    with reference_server.client() as client:
        response = client.post(
            "/checkouts",
            content=b'{"product_cart": [',
            headers={**reference_server.auth(), "Content-Type": "application/json"},
        )
    assert_error(response, 400, "INVALID_REQUEST_BODY")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_non_json_content_type_is_415(
    reference_server: RunningServer, content_type: str | None
) -> None:
    headers = reference_server.auth()
    if content_type:
        headers["Content-Type"] = content_type
    with reference_server.client() as client:
        response = client.post("/checkouts", content=b'{"product_cart": []}', headers=headers)
    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")


def test_json_with_charset_is_accepted(reference_server: RunningServer) -> None:
    with reference_server.client() as client:
        response = client.post(
            "/checkouts",
            content=httpx.Request("POST", "/", json=MINIMAL).content,
            headers={**reference_server.auth(), "Content-Type": "application/json; charset=utf-8"},
        )
    assert response.status_code == 200


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
def test_other_methods_are_405(reference_server: RunningServer, method: str) -> None:
    with reference_server.client() as client:
        response = client.request(method, "/checkouts", headers=reference_server.auth())
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert "POST" in response.headers["allow"]


def test_options_is_204_and_unknown_paths_404(reference_server: RunningServer) -> None:
    with reference_server.client() as client:
        assert client.options("/checkouts").status_code == 204
        assert_error(
            client.post("/payments", json=MINIMAL, headers=reference_server.auth()),
            404,
            "NOT_FOUND",
        )


# -- schema validation -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "body",
    [
        {},
        [],
        "product_cart",
        None,
        {"product_cart": {}},
        {"product_cart": ["x"]},
        {"product_cart": [{"product_id": IDS["one_time_product_id"]}]},
        {"product_cart": [{"product_id": IDS["one_time_product_id"], "quantity": -1}]},
        {"product_cart": [{"product_id": IDS["one_time_product_id"], "quantity": 1.5}]},
        {"product_cart": [{"product_id": IDS["one_time_product_id"], "quantity": "1"}]},
        with_(MINIMAL, billing_currency="usd"),
        with_(MINIMAL, billing_address={"city": "x"}),
        with_(MINIMAL, customer={}),
        with_(MINIMAL, confirm="true"),
        with_(MINIMAL, metadata={"k": {"nested": 1}}),
        with_(MINIMAL, allowed_payment_method_types=["credit", "credit"]),
        with_(MINIMAL, custom_fields=[{"key": "k", "label": "l", "field_type": "color"}]),
        with_(MINIMAL, customization={"theme": "neon"}),
    ],
)
def test_schema_violations_are_422(reference_server: RunningServer, body: Any) -> None:
    assert_error(post(reference_server, body), 422, "INVALID_REQUEST_BODY")


def test_integer_metadata_is_accepted(reference_server: RunningServer) -> None:
    assert (
        post(
            reference_server, with_(MINIMAL, metadata={"n": 1, "f": 0.5, "b": True, "s": "x"})
        ).status_code
        == 200
    )


# -- business rules --------------------------------------------------------------------------
SUBSCRIPTION = {"product_id": IDS["subscription_product_id"], "quantity": 1}


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (with_(CONFIRMED, confirm=False), None),  # RULE-001
        ({k: v for k, v in CONFIRMED.items() if k != "confirm"}, None),  # RULE-001
        ({k: v for k, v in CONFIRMED.items() if k != "customer"}, None),  # RULE-002
        (with_(CONFIRMED, customer={"email": "a@example.com"}), None),  # RULE-002
        (with_(MINIMAL, tax_id="DE123"), None),  # RULE-003
        (
            with_(
                MINIMAL, discount_code=IDS["discount_code"], discount_codes=[IDS["discount_code"]]
            ),
            None,
        ),  # RULE-005
        (with_(MINIMAL, discount_code="NOPE"), "INVALID_DISCOUNT_CODE"),
        ({"product_cart": [{"product_id": "pdt_missing", "quantity": 1}]}, "NOT_FOUND"),  # RULE-006
        (
            {"product_cart": [{"product_id": IDS["one_time_product_id"], "quantity": 0}]},
            None,
        ),  # RULE-007
        (
            with_(MINIMAL, custom_fields=[{"key": "k", "label": "l", "field_type": "dropdown"}]),
            None,
        ),  # RULE-009
        (
            with_(
                MINIMAL,
                feature_flags={
                    "require_phone_number": True,
                    "allow_phone_number_collection": False,
                },
            ),
            None,
        ),
        (with_(CONFIRMED, billing_address={"country": "US", "zipcode": "1"}), None),  # RULE-012
        ({"product_cart": []}, "PRODUCT_CART_EMTPY"),  # RULE-013
        ({"product_cart": MINIMAL["product_cart"] * 21}, None),  # RULE-014
        (
            {
                "product_cart": [
                    {
                        **MINIMAL["product_cart"][0],
                        "addons": [{"addon_id": IDS["addon_id"], "quantity": 1}],
                    }
                ]
            },
            None,
        ),  # RULE-015
        (with_(CONFIRMED, payment_method_id="pm_unknown"), "NOT_FOUND"),  # RULE-016
        (with_(CONFIRMED, payment_method_id=IDS["other_payment_method_id"]), None),  # RULE-016
        (with_(MINIMAL, customer={"customer_id": "cus_unknown"}), "NOT_FOUND"),
        (with_(MINIMAL, product_collection_id="pdc_unknown"), "NOT_FOUND"),
        (with_(MINIMAL, allowed_payment_method_types=["ach"]), "NO_ELIGIBLE_PAYMENT_METHODS"),
        (
            {
                "product_cart": [
                    {**SUBSCRIPTION, "addons": [{"addon_id": "adn_unknown", "quantity": 1}]}
                ]
            },
            "MISSING_ADDON_IDS",
        ),
        ({"product_cart": [{**SUBSCRIPTION, "quantity": 2**31}]}, None),
    ],
)
def test_business_rule_violations_are_422(
    reference_server: RunningServer, body: Any, code: str | None
) -> None:
    assert_error(post(reference_server, body), 422, code)


@pytest.mark.parametrize(
    "body",
    [
        with_(
            CONFIRMED, billing_address={"country": "US", "zipcode": "1"}, minimal_address=True
        ),  # RULE-012
        with_(MINIMAL, tax_id="DE123", billing_address={"country": "DE"}),  # RULE-003
        with_(
            MINIMAL,
            custom_fields=[{"key": f"k{i}", "label": "l", "field_type": "text"} for i in range(5)],
        ),
        with_(MINIMAL, discount_codes=[IDS["discount_code"]] * 20),
        {"product_cart": [], "product_collection_id": IDS["product_collection_id"]},  # RULE-013
        {"product_cart": MINIMAL["product_cart"] * 20},  # RULE-014
        {
            "product_cart": [
                {**SUBSCRIPTION, "addons": [{"addon_id": IDS["addon_id"], "quantity": 3}]}
            ]
        },  # ACC-011
        {"product_cart": [SUBSCRIPTION, *MINIMAL["product_cart"]]},  # ACC-011 mixed cart
        with_(MINIMAL, payment_method_id=None),  # ACC-009
        with_(MINIMAL, some_future_field={"x": 1}),  # ACC-005
        with_(
            MINIMAL, customer={"email": "new@example.com", "name": "New", "phone_number": "+100"}
        ),
        with_(MINIMAL, subscription_data={"trial_period_days": 0}),
    ],
)
def test_valid_edge_cases_are_accepted(reference_server: RunningServer, body: Any) -> None:
    response = post(reference_server, body)
    assert response.status_code == 200, response.text


# -- rate limit emulation --------------------------------------------------------------------
def test_rate_limit_emulation_answers_429_with_retry_headers() -> None:
    from .conftest import start_server

    server, running = start_server("--rate-limit")
    try:
        with running.client() as client:
            statuses = [
                client.post("/checkouts", json=MINIMAL, headers=running.auth()) for _ in range(45)
            ]
        assert statuses[0].status_code == 200
        assert statuses[0].headers["x-ratelimit-limit"] == "40"
        limited = [r for r in statuses if r.status_code == 429]
        assert limited, "41 requests within a second must exceed the 40 req/s burst"
        assert_error(limited[0], 429, "TOO_MANY_REQUESTS")
        assert int(limited[0].headers["retry-after"]) >= 1
        assert limited[0].headers["x-ratelimit-remaining"] == "0"
    finally:
        server.stop()
