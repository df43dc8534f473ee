"""contracts/rules.yaml: the rules' decisions, read by the server and by the derived cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from checkout_conformance import _resources
from checkout_conformance._yamlfile import DataFileError
from checkout_conformance.catalog import load_catalog
from checkout_conformance.engine._bodies import BodyLibrary
from checkout_conformance.engine._template import Context, render
from checkout_conformance.profile import reference_profile
from checkout_conformance.rules import Rule, load_rules
from checkout_conformance.server._rules import default_rules
from checkout_conformance.server._store import Store

BODIES = BodyLibrary.load(_resources.BODIES_PATH)
RULES = load_rules()
PROFILE = reference_profile().data
FACTS = Store.from_profile(reference_profile())  # what the reference server holds


def _cases(found: Rule) -> list[tuple[str, dict[str, object], str, str]]:
    return [
        (case.label, render(case.body, Context(profile=PROFILE)), case.outcome, case.covers)
        for case in found.cases(BODIES.unrendered(found.base))
    ]


def test_every_rule_names_a_rule_requirement_and_a_named_body() -> None:
    catalog = load_catalog()
    for found in RULES:
        assert found.requirement in catalog and found.requirement.startswith("RULE-"), found.id
        assert found.base in BODIES, found.id


@pytest.mark.parametrize("found", RULES, ids=[found.id for found in RULES])
def test_the_derived_cases_are_decided_by_the_rule_as_the_server_evaluates_it(found: Rule) -> None:
    """Each derived case's outcome is what the decision says of its body, and the base body
    is accepted by it: the cases and the server's check are one decision."""
    base = render(BODIES.unrendered(found.base), Context(profile=PROFILE))
    assert not found.violated(base, FACTS), found.id
    cases = _cases(found)
    for label, body, outcome, _covers in cases:
        assert found.violated(body, FACTS) == (outcome == "refused"), (found.id, label)
    outcomes = {outcome for _label, _body, outcome, _covers in cases}
    assert outcomes == {"refused", "accepted"}, found.id


@pytest.mark.parametrize("found", RULES, ids=[found.id for found in RULES])
def test_every_condition_is_shown_to_decide_on_its_own(found: Rule) -> None:
    """MC/DC: for each condition an accepted case differs from a refused one in that condition
    alone (the others holding)."""
    accepted = [label for label, _body, outcome, _covers in _cases(found) if outcome == "accepted"]
    for condition in found.conditions:
        shown = condition.field.rsplit(".", 1)[-1]
        labels = [edit.label for edit in condition.fails] or [shown]
        assert any(any(name in label for name in labels) for label in accepted), (
            found.id,
            condition.field,
        )


def test_limits_are_met_at_their_boundaries_and_arrays_at_every_position() -> None:
    covers = {found.id: {c for *_rest, c in _cases(found)} for found in RULES}
    for found in RULES:
        if any(c.is_ in ("count_above", "below", "outside") for c in found.conditions):
            assert "boundary" in covers[found.id], found.id
        if found.each is not None:
            labels = [label for label, *_rest in _cases(found)]
            assert {"position:first", "position:middle", "position:last"} <= set(labels)


def test_the_server_checks_every_rule_of_the_data() -> None:
    checked = {check.__name__ for check in default_rules()}
    # The schema refuses these first (maxItems, maximum, maxLength, pattern).
    schema_limits = {
        "RULE-004",
        "RULE-005-count",
        "RULE-008",
        "RULE-010-button",
        "RULE-010-radius",
        "RULE-010-font",
    }
    for found in RULES:
        if found.id not in schema_limits:
            assert f"data_rule_{found.id}" in checked, found.id


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            "rules:\n  - id: RULE-001\n    requirement: RULE-001\n    base: minimal\n"
            "    refused_when:\n      - {field: confirm, is: sometimes}\n",
            ":7:.*sometimes",
        ),
        (
            "value_classes: {tax_id: [{corpus: valid.tax_id}]}\n"
            "rules:\n  - id: RULE-001\n    requirement: RULE-001\n    base: minimal\n"
            "    classes: [countries]\n"
            "    refused_when:\n      - {field: confirm, is: not_true}\n",
            ":7:.*countries",
        ),
    ],
    ids=["unknown-condition", "unknown-value-class"],
)
def test_a_wrong_rules_file_names_its_line(tmp_path: Path, text: str, said: str) -> None:
    broken = tmp_path / "rules.yaml"
    broken.write_text("kinds: {products: [one_time_product_id]}\n" + text)
    with pytest.raises(DataFileError, match=said):
        load_rules.__wrapped__(broken)


def test_the_certificate_says_how_the_derived_cases_covered_each_decision() -> None:
    """Records of derived cases carry their decision; the requirement's `decision` counts
    what ran: cases, refused and accepted, conditions shown to decide alone, boundaries,
    nulls and positions; a case that failed counts as run, not as passed."""
    from checkout_conformance.records import new_record
    from checkout_conformance.results import requirement_results

    found = next(r for r in RULES if r.id == "RULE-007")
    records = []
    for case in found.cases(BODIES.unrendered(found.base)):
        record = new_record("scenario", f"suites/rules/decisions.yaml::x[{case.label}]", "x:1")
        record["requirements"] = {"RULE-007": "passed"}
        record["decision"] = {
            "rule": found.id,
            "requirement": found.requirement,
            "covers": case.covers,
            "outcome": case.outcome,
            "condition": case.condition,
            "conditions": len(found.conditions),
        }
        records.append(record)
    records[-1]["requirements"]["RULE-007"] = "failed"
    result = next(r for r in requirement_results(records, load_catalog()) if r.id == "RULE-007")
    decided = result.decision()
    assert decided is not None
    assert decided["cases"] == len(records) and decided["passed"] == len(records) - 1
    assert decided["positions"] == 3 and decided["boundaries"] == 2
    assert (decided["conditions_flipped"], decided["conditions"]) == (1, 1)
    assert decided["refused"] + decided["accepted"] == len(records)


def _class_cases(found: Rule) -> list[tuple[str, dict[str, object], str]]:
    from checkout_conformance.contract import load_contract
    from checkout_conformance.engine._values import ValueClasses
    from checkout_conformance.rules import resolve_classes

    values, contract = ValueClasses.load(_resources.VALUES_PATH), load_contract()
    return [
        (case.label, render(case.body, Context(profile=PROFILE)), case.outcome)
        for name in found.classes
        for case in found.class_cases(
            BODIES.unrendered(found.base),
            name,
            resolve_classes(name, values.__getitem__, contract.enum_values),
        )
    ]


CLASSED = [found for found in RULES if found.classes]


@pytest.mark.parametrize("found", CLASSED, ids=[found.id for found in CLASSED])
def test_every_value_class_is_sent_and_decided_as_the_server_decides(found: Rule) -> None:
    """Each class of each field the rule reads is sent; a case the rule refuses is refused by
    the server for it, an accepted one passes every rule of the server (and the schema)."""
    from checkout_conformance.contract import load_contract
    from checkout_conformance.engine._values import ValueClasses
    from checkout_conformance.rules import resolve_classes
    from checkout_conformance.server._rules import check_rules

    contract, checks = load_contract(), default_rules()
    values = ValueClasses.load(_resources.VALUES_PATH)
    cases = _class_cases(found)
    for label, body, outcome in cases:
        assert found.violated(body, FACTS) == (outcome == "refused"), (found.id, label)
        if outcome == "accepted":
            assert check_rules(checks, body, FACTS) is None, (found.id, label)
            assert contract.is_valid("CreateCheckoutSessionRequest", body), (found.id, label)
    sent = {label.split(":", 1)[0] for label, _body, _outcome in cases}
    for name in found.classes:
        classes = resolve_classes(name, values.__getitem__, contract.enum_values)
        # A class may coincide with another once the rule's edits are made (a quantity of 3
        # set to 0 is the one-time item's case): every class is sent unless its body repeats.
        assert len(sent & {klass.label for klass in classes}) >= len(classes) - 1, name
    assert {outcome for *_rest, outcome in cases} == {"refused", "accepted"}, found.id


def test_a_dropdown_is_the_one_custom_field_type_that_needs_options() -> None:
    """RULE-009 in every custom field type: without options, the dropdown alone is refused."""
    found = next(r for r in RULES if r.id == "RULE-009")
    refused = {label for label, _body, outcome in _class_cases(found) if outcome == "refused"}
    assert refused == {"CustomFieldType-dropdown:deciding"}


@pytest.mark.parametrize(
    ("case", "said"),
    [
        ("{rule_cases: RULE-0O1}", "no rule 'RULE-0O1' in contracts/rules.yaml; did you mean"),
        ("{rule_cases: RULE-001, classes: true}", "RULE-001 names no value classes"),
    ],
)
def test_a_scenario_asking_for_rule_cases_that_do_not_exist_names_its_line(
    tmp_path: Path, case: str, said: str
) -> None:
    from checkout_conformance.engine._model import load_scenario_file

    from .test_coverage import scenario_library

    scenario = tmp_path / "mine.yaml"
    scenario.write_text(
        "scenarios:\n  - id: x\n    title: t\n    requirements: [RULE-001]\n"
        f"    expand:\n      case: {case}\n"
        "    request: {body: {value: '${case.body}'}}\n    expect: [{status: 200}]\n"
    )
    with pytest.raises(DataFileError, match=f"mine.yaml:6: .*{said}"):
        load_scenario_file(scenario, scenario_library())
