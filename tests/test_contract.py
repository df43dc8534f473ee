"""The contract is built from upstream and overlay, reproducibly, as the overlay says."""

from __future__ import annotations

import hashlib
import json

import pytest
import yaml
from openapi_spec_validator import validate

from checkout_conformance import _resources
from checkout_conformance._contract_build import (
    ContractBuildError,
    UpstreamRecord,
    apply_overlay,
    build_contract_text,
    extract_operation,
    load_openapi,
)
from checkout_conformance.contract import load_contract


def test_committed_contract_is_exactly_what_the_build_produces() -> None:
    assert _resources.CONTRACT_PATH.read_text(encoding="utf-8") == build_contract_text()


def test_contract_is_a_valid_openapi_31_document() -> None:
    document = yaml.safe_load(_resources.CONTRACT_PATH.read_text(encoding="utf-8"))
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_upstream_copy_matches_its_recorded_version_and_sha256() -> None:
    record = UpstreamRecord.load()
    data = record.path.read_bytes()
    assert hashlib.sha256(data).hexdigest() == record.sha256
    assert json.loads(data)["info"]["version"] == record.version == "1.113.0"


def test_contract_holds_only_the_operation_and_its_schema_closure() -> None:
    contract = load_contract()
    assert list(contract.document["paths"]) == ["/checkouts"]
    assert list(contract.document["paths"]["/checkouts"]) == ["post"]
    # The 25 schemas reachable upstream, plus the overlay's Error.
    assert len(contract.schema_names) == 26
    assert "Error" in contract.schema_names


def test_metadata_accepts_integers_after_the_overlay() -> None:
    contract = load_contract()
    body = {
        "product_cart": [{"product_id": "p", "quantity": 1}],
        "metadata": {"n": 1, "f": 1.5, "s": "x", "b": True},
    }
    assert contract.errors("CreateCheckoutSessionRequest", body) == []
    upstream = extract_operation(load_openapi(UpstreamRecord.load().path))
    schemas = upstream["components"]["schemas"]
    assert "oneOf" in schemas["Metadata"]["additionalProperties"], (
        "upstream still has the oneOf trap"
    )


@pytest.mark.parametrize(
    ("customer", "valid"),
    [
        ({"customer_id": "cus_1"}, True),
        ({"email": "a@example.com"}, True),
        ({"email": "a@example.com", "name": "Ada", "phone_number": "+1"}, True),
        ({"customer_id": "cus_1", "email": "a@example.com"}, False),
        ({}, False),
        ({"name": "Ada"}, False),
    ],
)
def test_customer_forms_are_unambiguous(customer: dict[str, str], valid: bool) -> None:
    body = {"product_cart": [{"product_id": "p", "quantity": 1}], "customer": customer}
    assert load_contract().is_valid("CreateCheckoutSessionRequest", body) is valid


@pytest.mark.parametrize(
    ("edit", "valid"),
    [
        (
            {
                "custom_fields": [
                    {"key": f"k{i}", "label": "L", "field_type": "text"} for i in range(5)
                ]
            },
            True,
        ),
        (
            {
                "custom_fields": [
                    {"key": f"k{i}", "label": "L", "field_type": "text"} for i in range(6)
                ]
            },
            False,
        ),
        ({"discount_codes": ["C"] * 20}, True),
        ({"discount_codes": ["C"] * 21}, False),
        ({"subscription_data": {"trial_period_days": 10000}}, True),
        ({"subscription_data": {"trial_period_days": 10001}}, False),
        ({"subscription_data": {"trial_period_days": -1}}, False),
        ({"customization": {"theme_config": {"pay_button_text": "x" * 100}}}, True),
        ({"customization": {"theme_config": {"pay_button_text": "x" * 101}}}, False),
        ({"customization": {"theme_config": {"font_primary_url": "http://f.example/a"}}}, False),
        ({"customization": {"theme_config": {"font_secondary_url": "https://f.example/a"}}}, True),
        ({"customization": {"theme_config": {"radius": "0.5rem"}}}, True),
        ({"customization": {"theme_config": {"radius": "4"}}}, False),
    ],
)
def test_prose_limits_are_schema_constraints(edit: dict[str, object], valid: bool) -> None:
    body = {"product_cart": [{"product_id": "p", "quantity": 1}], **edit}
    assert load_contract().is_valid("CreateCheckoutSessionRequest", body) is valid


def test_error_responses_are_declared_with_the_documented_body() -> None:
    responses = load_contract().operation["responses"]
    for status in ("400", "401", "403", "405", "413", "415", "422", "429", "500"):
        schema = responses[status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/Error"}, status
    assert "Retry-After" in responses["429"]["headers"]


def test_an_overlay_target_that_no_longer_exists_is_an_error() -> None:
    document = extract_operation(load_openapi(UpstreamRecord.load().path))
    overlay = {
        "actions": [{"target": "/components/schemas/Gone/properties/x", "update": {"maxItems": 1}}]
    }
    with pytest.raises(ContractBuildError, match="does not exist"):
        apply_overlay(document, overlay)
