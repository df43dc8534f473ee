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
    assert not ("discount_code" in charged and "discount_codes" in charged)  # RULE-005
    assert all(
        item["product_id"] == IDS["subscription_product_id"] for item in charged["product_cart"]
    )
    assert all(
        item["addons"] == [{"addon_id": IDS["addon_id"], "quantity": 1}]
        for item in charged["product_cart"]
    )
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


def test_the_rewrite_and_the_reference_server_read_one_decision() -> None:
    """Every request a rule refuses (its derived cases, on the reference profile) is made to
    comply by the properties' rewrite, which reads the same decisions: the server's rules then
    accept it, and it stays schema-valid, with or without a charge."""
    from checkout_conformance import _resources
    from checkout_conformance.contract import load_contract
    from checkout_conformance.engine._bodies import BodyLibrary
    from checkout_conformance.engine._template import Context, render
    from checkout_conformance.rules import load_rules
    from checkout_conformance.server._rules import check_rules, default_rules
    from checkout_conformance.server._store import Store

    contract, bodies = load_contract(), BodyLibrary.load(_resources.BODIES_PATH)
    store, checks = Store.from_profile(reference_profile()), default_rules()
    shown: set[str] = set()
    for found in load_rules():
        for case in found.cases(bodies.unrendered(found.base)):
            body = render(case.body, Context(profile=IDS))
            if case.outcome != "refused" or not contract.is_valid(
                "CreateCheckoutSessionRequest", body
            ):
                continue  # a schema limit refuses it first: the generator never sends it
            shown.add(found.id)
            for charge in (False, True):
                mapped = business_valid(body, IDS, charge)
                assert check_rules(checks, mapped, store) is None, (found.id, case.label, charge)
                assert contract.is_valid("CreateCheckoutSessionRequest", mapped), (
                    found.id,
                    case.label,
                )
                assert not any(other.violated(mapped, store) for other in load_rules())
    # Every rule the server checks as data had cases here (the others are schema limits).
    server_side = {
        check.__name__.removeprefix("data_rule_")
        for check in checks
        if check.__name__.startswith("data_rule_")
    }
    assert shown == server_side


def test_the_rewrite_keeps_what_the_rule_allows() -> None:
    """The smallest change each decision allows: a list cut at its limit keeps its first items,
    an unknown product becomes a known one, a dropdown gets options and keeps its type."""
    cart = [{"product_id": f"pdt_{n}", "quantity": 2} for n in range(25)]
    fields = [{"key": "size", "label": "Size", "field_type": "dropdown"}]
    mapped = business_valid({"product_cart": cart, "custom_fields": fields}, IDS, charge=False)
    assert (
        mapped["product_cart"] == [{"product_id": IDS["one_time_product_id"], "quantity": 2}] * 20
    )
    assert mapped["custom_fields"][0]["field_type"] == "dropdown"
    assert mapped["custom_fields"][0]["options"]
