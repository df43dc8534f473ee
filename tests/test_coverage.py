"""Completeness and no false alarms: every requirement is tested; correct servers pass.

The reference server must come out `conformant` even with `--fail-on-should`. Servers that differ
only where the catalog allows (the tolerated variants) are run in tests/test_selfcheck.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from checkout_conformance import _resources
from checkout_conformance._yamlfile import DataFileError
from checkout_conformance.catalog import load_catalog
from checkout_conformance.contract import load_contract
from checkout_conformance.engine._bodies import BodyLibrary
from checkout_conformance.engine._model import ExpectationGroups, Library, load_scenario_file
from checkout_conformance.engine._values import ValueClasses
from checkout_conformance.properties import JUDGED

from .conftest import ROOT, run_suite


def scenario_library() -> Library:
    return Library(
        catalog=load_catalog(),
        contract=load_contract(),
        bodies=BodyLibrary.load(_resources.BODIES_PATH),
        groups=ExpectationGroups.load(_resources.FIXTURES_DIR / "expectations.yaml"),
        values=ValueClasses.load(_resources.VALUES_PATH),
    )


def scenario_requirements() -> set[str]:
    library = scenario_library()
    found: set[str] = set()
    for path in sorted((ROOT / "suites").rglob("*.yaml")):
        for scenario in load_scenario_file(path, library):  # unknown ids raise here
            found.update(scenario.all_requirements())
    return found


def test_every_catalog_requirement_has_a_test() -> None:
    property_requirements = set(JUDGED)
    covered = scenario_requirements() | property_requirements
    missing = [requirement.id for requirement in load_catalog() if requirement.id not in covered]
    assert missing == []


def test_no_test_names_an_unknown_requirement(tmp_path: Path) -> None:
    """The property checks name catalog ids; scenario files cannot name others, because the
    loader refuses an unknown id with its file and line (shown on a file that does)."""
    assert set(JUDGED) <= set(load_catalog().ids)
    library = scenario_library()
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "scenarios:\n"
        "  - id: names-a-requirement-that-does-not-exist\n"
        "    title: x\n"
        "    requirements: [ACC-001, CURL-999]\n"
        "    request: {body: minimal}\n"
        "    expect: [{status: 200}]\n"
    )
    with pytest.raises(DataFileError, match="unknown requirement 'CURL-999'") as raised:
        load_scenario_file(bad, library)
    assert raised.value.line == 4


@pytest.mark.e2e
def test_the_reference_server_is_conformant_even_when_strict(tmp_path: Path) -> None:
    run = run_suite(tmp_path, "-q", "--fail-on-should", "-p", "no:randomly")
    assert run.exit_code == 0, run.output[-3000:]
    certificate = run.certificate
    assert certificate["verdict"] == "conformant", [
        (r["id"], r["status"], r.get("reasons"))
        for r in certificate["requirements"]
        if r["status"] != "passed"
    ]
    assert certificate["run"]["generated_cases"]["charged"] > 0


def test_every_precondition_names_a_case_of_the_suite() -> None:
    """Each case's precondition, rendered with its variables, is a scenario case that exists."""
    from checkout_conformance.engine._expand import expand
    from checkout_conformance.engine._template import Context, render
    from checkout_conformance.profile import reference_profile

    library = scenario_library()
    scenarios = [
        scenario
        for path in sorted((ROOT / "suites").rglob("*.yaml"))
        for scenario in load_scenario_file(path, library)
    ]
    labels = {
        scenario.id: {
            case.label
            for case in expand(scenario.expand, library.contract, library.bodies, library.values)
        }
        for scenario in scenarios
    }
    profile = reference_profile().data
    checked = 0
    for scenario in scenarios:
        if scenario.precondition is None:
            continue
        for case in expand(scenario.expand, library.contract, library.bodies, library.values):
            variables = {n: render(v, Context(profile=profile)) for n, v in case.variables.items()}
            reference = str(render(scenario.precondition, Context(profile, variables=variables)))
            scenario_id, _, label = reference.partition("[")
            assert scenario_id in labels, (scenario.id, reference)
            assert label.removesuffix("]") in labels[scenario_id], (scenario.id, reference)
            checked += 1
    assert checked > 500
