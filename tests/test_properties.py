"""The property tests find what only combinations show, and can be replayed with their seed."""

from __future__ import annotations

from pathlib import Path

import pytest

from checkout_conformance.profile import reference_profile
from checkout_conformance.properties._mapping import business_valid, real_ids

from .conftest import TEST_KEY, run_suite
from .servers import leaks_checkout_url_on_charges_with, rewrite_of_reference, serve_in_thread

IDS = reference_profile().data


# Charges with a minimal address and metadata leak a URL.
checkout_url_leak_on_a_combination = leaks_checkout_url_on_charges_with(
    "minimal_address", "metadata"
)


@pytest.mark.e2e
@pytest.mark.heavy(40)
def test_a_combination_only_fault_is_found_and_replayed_with_its_seed(tmp_path: Path) -> None:
    with serve_in_thread(rewrite_of_reference(checkout_url_leak_on_a_combination)) as url:
        runs = [
            run_suite(
                tmp_path / str(i),
                "suites/properties",
                "--conformance-seed=4242",
                "--examples=150",
                base_url=url,
                api_key=TEST_KEY,
            )
            for i in range(2)
        ]
    for run in runs:
        assert run.exit_code == 1, run.output[-2000:]
        assert run.status("CURL-001") == "failed"
        assert "seed 4242" in run.output and "--conformance-seed=4242" in run.output
        assert "curl -sS -i -X POST" in run.output
        assert TEST_KEY not in run.output
    # The hand-written scenarios cannot see it: no scenario combines those fields.
    with serve_in_thread(rewrite_of_reference(checkout_url_leak_on_a_combination)) as url:
        scenarios = run_suite(
            tmp_path / "scenarios", "suites/checkout_url", base_url=url, api_key=TEST_KEY
        )
    assert scenarios.exit_code == 0
    assert scenarios.status("CURL-001") == "passed"


def test_positive_mapping_keeps_bodies_schema_valid_and_business_valid() -> None:
    from checkout_conformance.contract import load_contract

    contract = load_contract()
    generated = {
        "product_cart": [
            {"product_id": "x", "quantity": 0, "addons": [{"addon_id": "y", "quantity": 0}]}
        ]
        * 25,
        "payment_method_id": "pm_random",
        "discount_code": "A",
        "discount_codes": ["B"],
        "tax_id": "T",
        "custom_fields": [{"key": "k", "label": "l", "field_type": "dropdown"}],
        "feature_flags": {"require_phone_number": True, "allow_phone_number_collection": False},
        "allowed_payment_method_types": ["ach"],
    }
    charged = business_valid(generated, IDS, charge=True)
    assert contract.is_valid("CreateCheckoutSessionRequest", charged)
    assert len(charged["product_cart"]) == 20
    assert charged["payment_method_id"] == IDS["payment_method_id"]
    assert charged["confirm"] is True and charged["customer"] == {"customer_id": IDS["customer_id"]}
    assert {"street", "city", "state", "zipcode"} <= set(charged["billing_address"])
    assert "discount_code" not in charged
    assert charged["custom_fields"][0]["options"]
    assert "credit" in charged["allowed_payment_method_types"]
    assert "payment_method_id" not in business_valid(generated, IDS, charge=False)
    assert business_valid(charged, IDS, charge=True) == charged  # idempotent


def test_negative_mapping_changes_only_id_strings() -> None:
    negative = {
        "product_cart": [{"product_id": 7, "quantity": -1}, {"product_id": "x", "quantity": "1"}]
    }
    mapped = real_ids(negative, IDS)
    assert mapped["product_cart"][0] == {"product_id": 7, "quantity": -1}
    assert mapped["product_cart"][1] == {"product_id": IDS["one_time_product_id"], "quantity": "1"}
