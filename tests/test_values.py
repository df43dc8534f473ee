"""fixtures/values.yaml: reproducible from its sources, and right by the contract on its own.

The suite's ACC scenarios require every valid class accepted and its VAL scenarios every
look-alike refused; these tests check the classes themselves against the contract (a valid class
makes a schema-valid request in its place, a look-alike a schema-invalid one), so a wrong class
cannot hide behind a server that agrees with it.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from typing import Any

import pytest

from checkout_conformance import _resources
from checkout_conformance.contract import load_contract
from checkout_conformance.engine._values import ValueClasses

VALUES = ValueClasses.load(_resources.VALUES_PATH)
MINIMAL: dict[str, Any] = {"product_cart": [{"product_id": "pdt_x", "quantity": 1}]}
CONTRACT = load_contract()


def _request(name: str, entry: dict[str, Any]) -> dict[str, Any]:
    """The minimal request with the class in the field its scenario puts it in."""
    body = copy.deepcopy(MINIMAL)
    value = entry["value"]
    placed: dict[str, Any] = {
        "valid.customer_name": {"customer": {"email": "a@example.com", "name": value}},
        "valid.customer_email": {"customer": {"email": value}},
        "valid.phone_number": {"customer": {"email": "a@example.com", "phone_number": value}},
        "valid.billing_address": {"billing_address": value},
        "valid.tax_id": {"tax_id": value, "billing_address": {"country": entry.get("country")}},
        "valid.metadata": {"metadata": value},
        "valid.url": {"return_url": value},
        "valid.custom_field": {"custom_fields": [value]},
        "valid.business_name": {"customer_business_name": value},
        "look_alikes.country": {"billing_address": {"country": value}},
        "look_alikes.currency": {"billing_currency": value},
        "look_alikes.payment_method_type": {"allowed_payment_method_types": ["credit", value]},
        "look_alikes.custom_field_type": {
            "custom_fields": [{"key": "k", "label": "K", "field_type": value}]
        },
        "look_alikes.theme": {"customization": {"theme": value}},
        "look_alikes.font_size": {"customization": {"theme_config": {"font_size": value}}},
        "look_alikes.font_weight": {"customization": {"theme_config": {"font_weight": value}}},
    }
    body.update(placed[name])
    return body


CASES = [
    pytest.param(name, entry, id=f"{name}:{entry['label']}")
    for name, entries in VALUES.lists.items()
    for entry in entries
]


def test_every_list_has_classes_each_with_its_source() -> None:
    assert set(VALUES.lists) >= {"valid.customer_name", "look_alikes.country"}
    for name, entries in VALUES.lists.items():
        assert entries, name
        labels = [entry["label"] for entry in entries]
        assert len(labels) == len(set(labels)), name  # each class is its own case
        assert all(entry.get("source") for entry in entries), name


@pytest.mark.parametrize(("name", "entry"), [c for c in CASES if "breaking" not in str(c.id)])
def test_a_valid_class_makes_a_valid_request_and_a_look_alike_an_invalid_one(
    name: str, entry: dict[str, Any]
) -> None:
    valid = CONTRACT.is_valid("CreateCheckoutSessionRequest", _request(name, entry))
    assert valid == name.startswith("valid."), (name, entry)


def test_every_breaking_class_makes_a_valid_request_with_its_strings_in_every_text_field() -> None:
    """A crash must be the server's, not a refusal of a schema-invalid request: each class,
    placed by `breaking_strings`, still validates against the contract, and each of its
    strings is in the request (in a text field or as a metadata key)."""
    from checkout_conformance.engine._bodies import BodyLibrary
    from checkout_conformance.engine._expand import source_values
    from checkout_conformance.engine._template import Context, render
    from checkout_conformance.profile import reference_profile

    bodies = BodyLibrary.load(_resources.BODIES_PATH)
    spec = {"breaking_strings": "every_text_field"}
    cases = source_values(spec, CONTRACT, bodies, VALUES)
    assert [case["label"] for case in cases] == [e["label"] for e in VALUES["breaking.strings"]]
    for case, entry in zip(cases, VALUES["breaking.strings"], strict=True):
        body = render(case["body"], Context(profile=reference_profile().data))
        assert CONTRACT.is_valid("CreateCheckoutSessionRequest", body), case["label"]
        assert set(entry["value"]) <= set(body["metadata"]), case["label"]
        assert body["billing_address"]["country"] == "GB"  # an enum field keeps its value


def test_the_look_alikes_of_an_enum_are_no_value_of_it() -> None:
    enums = {
        "look_alikes.country": "CountryCodeAlpha2",
        "look_alikes.currency": "Currency",
        "look_alikes.payment_method_type": "PaymentMethodTypes",
        "look_alikes.custom_field_type": "CustomFieldType",
        "look_alikes.theme": "ThemeMode",
        "look_alikes.font_size": "FontSize",
        "look_alikes.font_weight": "FontWeight",
    }
    for name, enum in enums.items():
        allowed = set(CONTRACT.enum_values(enum))
        for entry in VALUES[name]:
            assert entry["value"] not in allowed, (name, entry)
            if "means" in entry:  # a look-alike of a value the enum has
                assert entry["means"] in allowed, (name, entry)


@pytest.mark.parametrize("hash_seed", ["0", "4242"])
def test_the_file_is_what_its_sources_give_whatever_the_hash_seed(hash_seed: str) -> None:
    """`values build --check` under two hash seeds: a source that iterates a set (Faker's
    it_IT cities did) would draw other values from one run to the next."""
    checked = subprocess.run(
        [sys.executable, "-m", "checkout_conformance", "values", "build", "--check"],
        env={**os.environ, "PYTHONHASHSEED": hash_seed},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
