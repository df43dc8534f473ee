"""Self-certification: the suite kills every mutant, tolerates every variant, passes the reference.

The whole catalog runs as users run the suite: a `checkout-conformance serve --mutant NAME`
process and a child `pytest --base-url=...` per target, two at a time, with the documented seed
and budget, so this test and `checkout-conformance selfcheck` (the README's kill matrix) agree.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from checkout_conformance.catalog import load_catalog
from checkout_conformance.selfcheck import MUTANTS, VARIANTS, run_all

from .conftest import session_folder


def test_the_catalog_breaks_every_must_and_should_requirement() -> None:
    catalog = load_catalog()
    targets = {mutant.target for mutant in MUTANTS.values()}
    assert {r.id for r in catalog if r.level in ("MUST", "SHOULD")} <= targets
    assert len(MUTANTS) >= 60
    assert sum(mutant.properties_only for mutant in MUTANTS.values()) >= 3
    assert all(mutant.target in catalog for mutant in MUTANTS.values())
    assert all(
        catalog[w].level in ("SHOULD", "MAY")
        for variant in VARIANTS.values()
        for w in variant.warns
    )


def _chunks() -> dict[str, list[str]]:
    """The catalog in parts that xdist can run side by side: the reference and the variants
    (whole-suite runs, three of them slow on purpose) in three, the mutants in six. Every third
    (sixth) name goes to the same part, so that neighbours in the catalog (the slow variants,
    the property-only mutants) land in different parts."""
    whole = ["reference", *VARIANTS]
    mutants = list(MUTANTS)
    parts = {f"reference-and-variants-{i + 1}": whole[i::3] for i in range(3)}
    parts |= {f"mutants-{i + 1}": mutants[i::6] for i in range(6)}
    return parts


def test_the_parts_cover_the_catalog_once() -> None:
    names = [name for part in _chunks().values() for name in part]
    assert sorted(names) == sorted(["reference", *VARIANTS, *MUTANTS])


@pytest.fixture(scope="session")
def shared_cases_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder of generated cases for every part, on every xdist worker (their temporary
    folders share a parent): the first whole-suite runs keep their cases, the others replay
    them, as `checkout-conformance selfcheck` does within one run."""
    return session_folder(tmp_path_factory) / "generated-cases"


@pytest.mark.e2e
@pytest.mark.parametrize(
    "part",
    [
        pytest.param(name, marks=pytest.mark.heavy(90 if name.startswith("reference") else 60))
        for name in _chunks()
    ],
)
def test_every_mutant_is_killed_every_variant_tolerated_and_the_reference_conformant(
    part: str, tmp_path: Path, shared_cases_dir: Path
) -> None:
    names = _chunks()[part]
    outcomes = run_all(jobs=2, workdir=tmp_path, names=names, cases_dir=shared_cases_dir)
    assert sorted(o.name for o in outcomes) == sorted(names)
    catalog = load_catalog()
    survivors = [
        o
        for o in outcomes
        if o.kind == "mutant" and not (o.exit_code != 0 and o.target in o.failed_requirements)
    ]
    assert survivors == [], [
        (o.name, o.target, o.exit_code, o.failed_requirements, o.note) for o in survivors
    ]
    for outcome in (o for o in outcomes if o.kind == "variant"):
        assert outcome.exit_code == 0, outcome
        assert not [r for r in outcome.failed_requirements if catalog[r].level == "MUST"], outcome
        assert set(outcome.failed_requirements) == set(outcome.expected_warnings), outcome
    for reference in (o for o in outcomes if o.kind == "reference"):
        assert reference.exit_code == 0 and reference.verdict == "conformant", reference
