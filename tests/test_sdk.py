"""The official SDKs against the reference server: Python (`dodopayments`, strict validation) and
Node (`dodopayments` from npm, pinned in tools/node-sdk)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


def _charge(client: dodopayments.DodoPayments) -> Any:
    """A session that charges the profile's saved payment method."""
    return client.checkout_sessions.create(
        product_cart=[{"product_id": IDS["one_time_product_id"], "quantity": 1}],
        confirm=True,
        customer={"customer_id": IDS["customer_id"]},
        payment_method_id=IDS["payment_method_id"],
        billing_address=ADDRESS,  # type: ignore[arg-type]
    )


def test_payment_method_flow_gives_no_checkout_url(client: dodopayments.DodoPayments) -> None:
    session = _charge(client)
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


# -- GET /checkouts/{id}: the reference server as a mock an SDK user can keep ------------------
def _status_schema() -> dict[str, object]:
    """`GetCheckoutSessionsStatus` from the official OpenAPI document the project keeps."""
    import json

    from checkout_conformance import _resources

    upstream = next(_resources.UPSTREAM_DIR.glob("dodopayments-openapi-*.json"))
    document = json.loads(upstream.read_text(encoding="utf-8"))
    schema = dict(document["components"]["schemas"]["GetCheckoutSessionsStatus"])
    schema["components"] = document["components"]  # for its $ref to IntentStatus
    return schema


def test_a_created_session_is_retrieved_in_the_documented_shape(
    client: dodopayments.DodoPayments,
) -> None:
    import jsonschema

    plain = client.checkout_sessions.create(
        product_cart=[{"product_id": IDS["one_time_product_id"], "quantity": 1}],
        customer={"email": "ada@example.com", "name": "Ada Lovelace"},
    )
    found = client.checkout_sessions.retrieve(plain.session_id)
    assert found.id == plain.session_id
    assert (found.customer_email, found.customer_name) == ("ada@example.com", "Ada Lovelace")
    assert found.payment_id is None and found.payment_status is None
    charged = _charge(client)
    found = client.checkout_sessions.retrieve(charged.session_id)
    assert found.payment_id == charged.payment_id and found.payment_status == "succeeded"
    raw = client.checkout_sessions.with_raw_response.retrieve(charged.session_id).json()
    assert isinstance(raw, dict)
    jsonschema.validate(raw, _status_schema())
    with pytest.raises(jsonschema.ValidationError):  # the schema is the one that binds
        jsonschema.validate({**raw, "payment_status": "paid"}, _status_schema())


def test_an_unknown_session_is_404_and_retrieve_needs_the_key(
    client: dodopayments.DodoPayments, reference_server: RunningServer
) -> None:
    with pytest.raises(dodopayments.NotFoundError) as error:
        client.checkout_sessions.retrieve("cks_this_session_does_not_exist")
    assert error.value.body == {"code": "NOT_FOUND", "message": "Item not found"}
    session = client.checkout_sessions.create(
        product_cart=[{"product_id": IDS["one_time_product_id"], "quantity": 1}]
    )
    with (
        dodopayments.DodoPayments(
            bearer_token="sk_test_wrong", base_url=reference_server.base_url, max_retries=0
        ) as stranger,
        pytest.raises(dodopayments.AuthenticationError),
    ):
        stranger.checkout_sessions.retrieve(session.session_id)
    with reference_server.client() as http:
        other = http.delete(f"/checkouts/{session.session_id}", headers=reference_server.auth())
    assert other.status_code == 405 and other.headers["allow"] == "GET, OPTIONS"


# -- the official Node SDK ----------------------------------------------------------------------
NODE_SDK = Path(__file__).resolve().parent.parent / "tools" / "node-sdk"


def _node_sdk() -> Path:
    """The pinned Node SDK (tools/node-sdk/package.json), installed on first use."""
    if not (NODE_SDK / "node_modules" / "dodopayments").is_dir():
        installed = subprocess.run(
            ["npm", "install", "--silent", "--prefix", str(NODE_SDK)],
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        assert installed.returncode == 0, installed.stderr[-2000:]
    return NODE_SDK / "create_and_retrieve.mjs"


@pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None,
    reason="the Node SDK check needs Node.js 20+ and npm",
)
def test_the_node_sdk_creates_then_retrieves_a_session(reference_server: RunningServer) -> None:
    script = _node_sdk()
    ran = subprocess.run(
        ["node", str(script)],
        env={
            **os.environ,
            "DODO_BASE_URL": reference_server.base_url,
            "DODO_PAYMENTS_API_KEY": reference_server.api_key,
            "DODO_PRODUCT_ID": IDS["one_time_product_id"],
        },
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
    answer = json.loads(ran.stdout)
    assert answer["created"]["session_id"] and answer["created"]["checkout_url"]
    assert answer["found"]["id"] == answer["created"]["session_id"]
    assert answer["missing"] == {"status": 404, "name": "NotFoundError"}
