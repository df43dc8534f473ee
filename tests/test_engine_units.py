"""The engine's pieces on their own: paths and bodies, templates, expansion, matchers, redaction."""

from __future__ import annotations

import base64
import urllib.parse
from typing import Any

import httpx
import pytest

from checkout_conformance.contract import load_contract
from checkout_conformance.engine._bodies import BodyError, apply_edits, get_path, parse_path
from checkout_conformance.engine._expand import expand, source_values
from checkout_conformance.engine._matchers import check
from checkout_conformance.engine._model import Expectation
from checkout_conformance.engine._template import (
    Context,
    MissingProfileValue,
    TemplateError,
    render,
)
from checkout_conformance.redact import Redactor, Secret
from checkout_conformance.transport import Exchange, PreparedRequest, curl_line

CONTRACT = load_contract()


# -- paths and body edits ---------------------------------------------------------------------
def test_paths_parse_with_indexes_and_a_leading_dollar() -> None:
    assert parse_path("$.product_cart[0].quantity") == ["product_cart", 0, "quantity"]
    assert parse_path("$") == []
    assert get_path({"a": [{"b": None}]}, "a[0].b") == (True, None)
    assert get_path({"a": []}, "a[0]") == (False, None)


def test_edits_merge_set_and_remove_without_touching_the_base() -> None:
    base: dict[str, Any] = {
        "product_cart": [{"product_id": "p", "quantity": 1}],
        "customer": {"customer_id": "c"},
    }
    edited = apply_edits(
        base,
        {
            "merge": {"customer": {"name": "x"}},
            "set": {"product_cart[0].quantity": -1, "billing_address.country": "US"},
            "remove": ["customer.customer_id"],
        },
    )
    assert edited == {
        "product_cart": [{"product_id": "p", "quantity": -1}],
        "customer": {"name": "x"},
        "billing_address": {"country": "US"},
    }
    assert base["product_cart"][0]["quantity"] == 1


def test_removing_a_missing_path_is_a_scenario_error() -> None:
    with pytest.raises(BodyError, match="nothing at that path"):
        apply_edits({"a": 1}, {"remove": ["b.c"]})


# -- templates --------------------------------------------------------------------------------
def test_a_whole_reference_keeps_its_type_and_filters_encode() -> None:
    context = Context(profile={"id": "p1"}, api_key=Secret("k3y"), variables={"v": {"n": 5}})
    assert render("${v.n}", context) == 5
    assert render({"${profile.id}": "id=${profile.id}"}, context) == {"p1": "id=p1"}
    assert (
        render("Basic ${api_key|base64}", context) == "Basic " + base64.b64encode(b"k3y").decode()
    )


def test_missing_profile_values_and_unknown_variables_are_told_apart() -> None:
    context = Context(profile={})
    with pytest.raises(MissingProfileValue):
        render("${profile.customer_id}", context)
    with pytest.raises(TemplateError, match="unknown variable"):
        render("${nope}", context)


# -- expansion --------------------------------------------------------------------------------
def test_enum_expansion_reads_every_value_from_the_contract() -> None:
    values = source_values({"enum": "Currency"}, CONTRACT, None, None)  # type: ignore[arg-type]
    assert len(values) == 145
    assert values[0] == "AED"


def test_nullable_fields_are_read_from_the_contract() -> None:
    fields = source_values(
        {"nullable_fields": "CreateCheckoutSessionRequest"},
        CONTRACT,
        None,  # type: ignore[arg-type]
        None,
    )
    assert "payment_method_id" in fields and "billing_address" in fields
    assert "confirm" not in fields  # optional but not nullable


def test_wrong_types_cover_every_typed_field_without_the_right_type() -> None:
    cases = source_values({"wrong_types": "CreateCheckoutSessionRequest"}, CONTRACT, None, None)  # type: ignore[arg-type]
    labels = {case["label"] for case in cases}
    assert {"confirm=string", "confirm=integer", "product_cart=string", "tax_id=integer"} <= labels
    assert all(case["path"] != "metadata" or case["value"] != {} for case in cases)


def test_cartesian_expansion_gives_unique_readable_labels() -> None:
    cases = expand({"a": {"values": [1, 2]}, "b": {"values": ["x", "x"]}}, CONTRACT, None, None)  # type: ignore[arg-type]
    assert [case.label for case in cases] == ["a=1,b=x", "a=1,b=x#2", "a=2,b=x", "a=2,b=x#2"]


# -- matchers ---------------------------------------------------------------------------------
def exchange(status: int, body: Any, headers: dict[str, str] | None = None) -> Exchange:
    request = PreparedRequest("POST", "http://h/checkouts", [], None)
    raw = httpx.Request("POST", "/", json=body).content if not isinstance(body, bytes) else body
    return Exchange(request, status=status, headers=httpx.Headers(headers or {}), body=raw)


def expectation(**spec: Any) -> Expectation:
    kind = next(
        k for k in ("status", "rejected", "json", "header", "schema", "body_excludes") if k in spec
    )
    return Expectation(kind, spec, "CURL-001", "suites/x.yaml:3")


@pytest.mark.parametrize(
    ("spec", "status", "body", "expected_message"),
    [
        ({"status": [401, 403]}, 200, {}, "status: expected status 401 or 403, got 200"),
        ({"status": "4xx"}, 500, {}, "status: expected status 4xx, got 500"),
        (
            {"rejected": True},
            400,
            {"session_id": "cks_1"},
            "$.session_id: expected no session for a rejected request",
        ),
        (
            {"json": "checkout_url", "is": "not_string"},
            200,
            {"checkout_url": "https://x"},
            'got "https://x"',
        ),
        (
            {"json": "checkout_url", "is": "null"},
            200,
            {},
            "$.checkout_url: expected null, got nothing (absent)",
        ),
        (
            {"json": "checkout_url", "is": "https_url"},
            200,
            {"checkout_url": "http://x"},
            "an absolute https URL",
        ),
        ({"json": "a[0].b", "equals": 2}, 200, {"a": [{"b": 1}]}, "$.a[0].b: expected 2, got 1"),
        ({"json": "s", "matches": "^cks_"}, 200, {"s": "x"}, "a string matching /^cks_/"),
        ({"json": "s", "one_of": ["a", "b"]}, 200, {"s": "c"}, 'one of ["a", "b"]'),
        (
            {"schema": "CreateSessionResponse"},
            200,
            {"checkout_url": 1},
            "valid against CreateSessionResponse",
        ),
        ({"header": "content-type", "matches": "json"}, 200, {}, "header content-type"),
        ({"body_excludes": "secret"}, 401, {"message": "bad secret"}, "does not contain 'secret'"),
        ({"json": "session_id", "is": "string"}, 200, b"<html>", "expected a JSON body"),
    ],
)
def test_mismatches_say_what_was_expected_and_what_came(
    spec: dict[str, Any], status: int, body: Any, expected_message: str
) -> None:
    mismatch = check(expectation(**spec), exchange(status, body), CONTRACT)
    assert mismatch is not None
    assert expected_message in mismatch.render()
    assert mismatch.requirement == "CURL-001"


@pytest.mark.parametrize(
    ("spec", "status", "body"),
    [
        ({"status": [401, 403]}, 403, {}),
        ({"rejected": True}, 422, {"code": "X", "message": "m"}),
        ({"json": "checkout_url", "is": "not_string"}, 200, {"checkout_url": None}),
        ({"json": "checkout_url", "is": "null_or_absent"}, 200, {}),
        ({"schema": "CreateSessionResponse"}, 200, {"session_id": "s", "extra": 1}),
    ],
)
def test_matching_responses_pass(spec: dict[str, Any], status: int, body: Any) -> None:
    assert check(expectation(**spec), exchange(status, body), CONTRACT) is None


def test_no_response_is_a_mismatch_not_a_crash() -> None:
    failed = Exchange(
        PreparedRequest("POST", "http://h/checkouts", [], None), error="timed out (ReadTimeout)"
    )
    mismatch = check(expectation(status=200), failed, CONTRACT)
    assert mismatch is not None and "timed out" in mismatch.render()


# -- redaction --------------------------------------------------------------------------------
def test_every_encoded_form_of_the_key_is_redacted() -> None:
    key = "sk_live_canary/+=key"
    redactor = Redactor([key])
    for form in (
        key,
        base64.b64encode(key.encode()).decode(),
        base64.urlsafe_b64encode(key.encode()).decode().rstrip("="),
        base64.b64encode(f"{key}:".encode()).decode(),
        urllib.parse.quote(key, safe=""),
        urllib.parse.quote_plus(key),
    ):
        assert form not in redactor.text(f"before {form} after")


def test_curl_reads_the_key_from_the_environment() -> None:
    request = PreparedRequest(
        "POST", "http://h/checkouts?api_key=K3Y-123", [("Authorization", "Bearer K3Y-123")], b"{}"
    )
    line = curl_line(request, Redactor(["K3Y-123"]))
    assert "K3Y-123" not in line
    assert "-H 'Authorization: Bearer '\"$DODO_PAYMENTS_API_KEY\"" in line
    assert 'api_key=\'"$DODO_PAYMENTS_API_KEY"' in line


def test_a_secret_never_shows_in_its_repr() -> None:
    assert "abc123" not in repr(Secret("abc123")) + str(Secret("abc123"))


def test_a_misspelled_key_gets_a_suggestion_and_the_schema_named(tmp_path: Any) -> None:
    from checkout_conformance import _resources
    from checkout_conformance._yamlfile import DataFileError
    from checkout_conformance.profile import Profile

    profile = tmp_path / "profile.yaml"
    profile.write_text("name: x\nkind: mock\ndata:\n  one_time_product: pdt_1\n")
    with pytest.raises(DataFileError) as caught:
        Profile.load(profile)
    assert "'one_time_product': did you mean 'one_time_product_id'?" in str(caught.value)
    assert ":3:" in str(caught.value)
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "scenarios:\n  - id: x\n    title: t\n    requirements: [AUTH-001]\n"
        "    request: {bodyy: minimal}\n    expect: {status: 200}\n"
    )
    from checkout_conformance._yamlfile import load_yaml, validate_document

    with pytest.raises(DataFileError) as caught:
        validate_document(scenario, load_yaml(scenario), _resources.SCENARIO_SCHEMA_PATH)
    assert "'bodyy': did you mean 'body'?" in str(caught.value)
    assert "`checkout-conformance show schema scenario`" in str(caught.value)


def test_a_misspelled_mutant_variant_or_selfcheck_name_gets_a_suggestion() -> None:
    import subprocess
    import sys

    for args in (["serve", "--variant", "403-for-40"], ["selfcheck", "--only", "refrence"]):
        result = subprocess.run(
            [sys.executable, "-m", "checkout_conformance", *args],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 2, result
        assert "did you mean" in result.stderr and "Traceback" not in result.stderr


# -- what a run loads -------------------------------------------------------------------------
def test_the_plugin_loads_schemathesis_and_hypothesis_only_for_property_tests() -> None:
    """A run of scenarios only (the kill matrix's first run per mutant) never imports the
    generation libraries; asking for the property tests' schema does."""
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "import checkout_conformance.engine.plugin\n"
        "from checkout_conformance import properties\n"
        "before = {'hypothesis', 'schemathesis'} & set(sys.modules)\n"
        "assert properties.PropertyRun and properties.JUDGED\n"
        "properties.contract_schema\n"
        "print(sorted(before), sorted({'hypothesis', 'schemathesis'} & set(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.split("\n")[0] == "[] ['hypothesis', 'schemathesis']"
    from checkout_conformance import properties

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        properties.nope  # noqa: B018
