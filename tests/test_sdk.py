"""The official Python SDK (`dodopayments`, strict validation) against the reference server."""

from __future__ import annotations

from collections.abc import Iterator

import dodopayments
import pytest

from .conftest import RunningServer
from .test_server import ADDRESS, IDS


@pytest.fixture
def client(reference_server: RunningServer) -> Iterator[dodopayments.DodoPayments]:
    with dodopayments.DodoPayments(
        bearer_token=reference_server.api_key,
        base_url=reference_server.base_url,
        _strict_response_validation=True,
        max_retries=0,
    ) as sdk:
        yield sdk


def test_a_session_is_created_and_parsed(client: dodopayments.DodoPayments) -> None:
    session = client.checkout_sessions.create(
        product_cart=[{"product_id": IDS["one_time_product_id"], "quantity": 1}]
    )
    assert session.session_id.startswith("cks_")
    assert session.checkout_url is not None and session.checkout_url.startswith("https://")


def test_payment_method_flow_gives_no_checkout_url(client: dodopayments.DodoPayments) -> None:
    session = client.checkout_sessions.create(
        product_cart=[{"product_id": IDS["one_time_product_id"], "quantity": 1}],
        confirm=True,
        customer={"customer_id": IDS["customer_id"]},
        payment_method_id=IDS["payment_method_id"],
        billing_address=ADDRESS,  # type: ignore[arg-type]
    )
    assert session.checkout_url is None
    assert session.payment_id is not None


def test_a_bad_key_raises_authentication_error(reference_server: RunningServer) -> None:
    with (
        dodopayments.DodoPayments(
            bearer_token="sk_test_wrong", base_url=reference_server.base_url, max_retries=0
        ) as sdk,
        pytest.raises(dodopayments.AuthenticationError) as error,
    ):
        sdk.checkout_sessions.create(
            product_cart=[{"product_id": IDS["one_time_product_id"], "quantity": 1}]
        )
    assert error.value.status_code == 401
    assert error.value.body == {
        "code": "UNAUTHORIZED",
        "message": "You are not authorised to perform this action",
    }


def test_an_invalid_body_raises_unprocessable_entity(client: dodopayments.DodoPayments) -> None:
    with pytest.raises(dodopayments.UnprocessableEntityError) as error:
        client.checkout_sessions.create(
            product_cart=[{"product_id": IDS["one_time_product_id"], "quantity": -5}]
        )
    assert error.value.status_code == 422
    assert isinstance(error.value.body, dict) and error.value.body["code"] == "INVALID_REQUEST_BODY"
