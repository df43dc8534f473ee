"""Run the real suite over HTTP against the reference server, every mutant and every variant.

Each target is a `checkout-conformance serve` process; each run is a child `pytest` with its own
certificate and JUnit file, exactly as a user runs the suite. The outcome says whether the suite
did its job: a mutant must be killed (non-zero exit with `--fail-on-should`, its target
requirement failed in the certificate), a variant must pass (exit 0, no MUST failed), the
reference server must be `conformant`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from .. import _resources
from ..catalog import load_catalog
from ..redact import API_KEY_ENV, Secret
from ..server import EmbeddedServer
from .mutants import MUTANTS
from .variants import VARIANTS

Kind = Literal["reference", "mutant", "variant"]
KEY = "sk_test_selfcheck_0123456789abcdef"
DEFAULT_SEED = 20261126


@dataclass
class Outcome:
    kind: Kind
    name: str
    target: str | None
    exit_code: int
    verdict: str
    failed_requirements: list[str]
    killing_tests: list[str]
    ok: bool  # killed (mutant), tolerated (variant), conformant (reference)
    seconds: float
    properties_only: bool = False
    note: str = ""
    expected_warnings: list[str] = field(default_factory=list)


def suite_environment(api_key: str | None) -> dict[str, str]:
    """The environment for a child suite run: this one without settings that would leak into it
    (PYTEST_*, CHECKOUT_CONFORMANCE_*, the caller's key), with `api_key` as the key if given."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PYTEST_", "CHECKOUT_CONFORMANCE_")) and name != API_KEY_ENV
    }
    if api_key is not None:
        env[API_KEY_ENV] = api_key
    return env


def suite_command(certificate: Path, *args: str) -> list[str]:
    """The child `pytest` that runs the suite as a user does (this interpreter, no cache, its own
    certificate): one command line for selfcheck, the benchmarks and the project's tests."""
    return [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        f"--certificate={certificate}",
        *args,
    ]


def _failed_tests(junit: Path) -> list[str]:
    if not junit.exists():
        return []
    failed = []
    for case in ET.parse(junit).iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed.append(f"{case.get('classname', '')}::{case.get('name', '')}")
    return failed


PROPERTY_TESTS = "suites/properties"
# The plugins a suite run needs, loaded by name with entry-point autoloading off: a child run
# then does not import every pytest plugin of the venv (html, xdist, allure, ...), a third of
# its start-up, and its results cannot depend on them.
SUITE_PLUGINS = ("pytest_base_url.plugin", "_hypothesis_pytestplugin", "schemathesis.pytest.plugin")
SCENARIO_PLUGINS = ("pytest_base_url.plugin",)  # without the property tests


@dataclass
class _SuiteRun:
    returncode: int
    output: str
    certificate: dict[str, Any] | None
    junit: Path


def _run_suite(
    kind: Kind,
    name: str,
    workdir: Path,
    examples: int,
    seed: int,
    *,
    scenarios_only: bool,
    requirement: str | None = None,
    properties_only: bool = False,
    cases_dir: Path | None = None,
) -> _SuiteRun:
    """One child `pytest` against a fresh `serve` process for this target."""
    root = _resources.project_root()
    if root is None:
        raise RuntimeError("selfcheck runs the suite of a checkout; no checkout found")
    extra: tuple[str, ...] = () if kind == "reference" else (f"--{kind}", name)
    server = EmbeddedServer(api_key=Secret(KEY), extra_args=extra)
    base_url = server.start()
    stem = f"{kind}-{name}" + ("-scenarios" if scenarios_only else "")
    stem += f"-{requirement}" if requirement else ""
    certificate_path = workdir / f"{stem}.json"
    junit = workdir / f"{stem}.xml"
    command = suite_command(
        certificate_path,
        "-q",
        "--tb=no",
        "--no-header",
        f"--base-url={base_url}",
        f"--target-profile={_resources.REFERENCE_PROFILE_PATH}",
        f"--junitxml={junit}",
        f"--examples={examples}",
        f"--conformance-seed={seed}",
    )
    if kind == "mutant":
        command.append("--fail-on-should")
    if cases_dir is not None:
        command.append(f"--cases-cache={cases_dir}")
    for plugin in SCENARIO_PLUGINS if scenarios_only else SUITE_PLUGINS:
        command += ["-p", plugin]
    if scenarios_only:
        command.append(f"--ignore={PROPERTY_TESTS}")
    if properties_only:  # the scenarios do not kill it (its definition): the property test does
        command.append(PROPERTY_TESTS)
    if requirement is not None:  # only the scenarios that check it (and what they build on)
        command += ["-k", requirement]
    try:
        result = subprocess.run(
            command,
            cwd=root,
            env={**suite_environment(KEY), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        server.stop()
    try:
        certificate = json.loads(certificate_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        certificate = None
    return _SuiteRun(result.returncode, result.stdout + result.stderr, certificate, junit)


def _failed(certificate: dict[str, Any]) -> list[str]:
    return [r["id"] for r in certificate["requirements"] if r["status"] == "failed"]


def run_one(
    kind: Kind,
    name: str,
    workdir: Path,
    examples: int,
    seed: int,
    *,
    full: bool = False,
    cases_dir: Path | None = None,
) -> Outcome:
    """Run the suite against one target and judge the outcome.

    A mutant the scenarios can kill is first run against the scenarios that check its target
    requirement (`-k REQ`, a second or two), then against every scenario, and only if they do not
    kill it does the whole suite run. The verdict killed/survived is the same as a whole-suite
    run's (a kill by some of the suite's tests is a kill by the suite); only the list of killing
    tests is shorter. `full` runs the whole suite for every target, for the published kill
    matrix. With `cases_dir`, property tests replay the cases that an earlier run with the same
    seed and budget generated (`--cases-cache`): the same requests, so the same verdicts.
    """
    started = time.perf_counter()
    target: str | None = None
    properties_only = False
    scenarios_first = False
    if kind == "mutant":
        mutant = MUTANTS[name]
        target, properties_only = mutant.target, mutant.properties_only
        scenarios_first = not properties_only and not full
    run = None
    if scenarios_first:
        for requirement in (target, None):
            run = _run_suite(
                kind, name, workdir, examples, seed, scenarios_only=True, requirement=requirement
            )
            if run.certificate is not None and target in _failed(run.certificate):
                break
            run = None  # not killed by these scenarios: more of the suite decides
    if run is None:
        run = _run_suite(
            kind,
            name,
            workdir,
            examples,
            seed,
            scenarios_only=False,
            properties_only=properties_only and not full,
            cases_dir=cases_dir,
        )
    seconds = round(time.perf_counter() - started, 1)
    if run.certificate is None:
        return Outcome(
            kind,
            name,
            target,
            run.returncode,
            "none",
            [],
            [],
            False,
            seconds,
            properties_only,
            note=f"no certificate: {run.output[-600:]}",
        )
    failed = _failed(run.certificate)
    catalog = load_catalog()
    expected: list[str] = []
    if kind == "mutant":
        ok = run.returncode != 0 and target in failed
    elif kind == "variant":
        expected = sorted(VARIANTS[name].warns)
        ok = (
            run.returncode == 0
            and not any(catalog[r].level == "MUST" for r in failed)
            and set(failed) == set(expected)
        )
    else:
        ok = run.returncode == 0 and run.certificate["verdict"] == "conformant"
    return Outcome(
        kind,
        name,
        target,
        run.returncode,
        run.certificate["verdict"],
        failed,
        _failed_tests(run.junit),
        ok,
        seconds,
        properties_only,
        expected_warnings=expected,
    )


def run_all(
    *,
    jobs: int = 2,
    examples: int = 150,
    seed: int = DEFAULT_SEED,
    names: list[str] | None = None,
    workdir: Path | None = None,
    full: bool = False,
    cases_dir: Path | None = None,
) -> list[Outcome]:
    """The reference, every variant and every mutant (or only `names`), `jobs` at a time.

    The generated cases are built once for the seed and budget and replayed by the other runs
    (`cases_dir`, by default a folder of the work directory; runs side by side can share one):
    generation is most of a whole-suite run's CPU, and it is the same for every target.
    """
    plan: list[tuple[Kind, str]] = [("reference", "reference")]
    plan += [("variant", name) for name in VARIANTS]
    plan += [("mutant", name) for name in MUTANTS]
    if names:
        plan = [(kind, name) for kind, name in plan if name in names]
    directory = workdir or Path(tempfile.mkdtemp(prefix="selfcheck-"))
    directory.mkdir(parents=True, exist_ok=True)
    cases = cases_dir or directory / "generated-cases"
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(
            pool.map(
                lambda pair: run_one(
                    pair[0], pair[1], directory, examples, seed, full=full, cases_dir=cases
                ),
                plan,
            )
        )


def kill_matrix(
    outcomes: list[Outcome], examples: int, seed: int, full: bool = False
) -> dict[str, Any]:
    mutants = [o for o in outcomes if o.kind == "mutant"]
    killed = [o for o in mutants if o.ok]
    return {
        "mutation_score": round(len(killed) / len(mutants), 4) if mutants else None,
        "mutants": len(mutants),
        "killed": len(killed),
        "survivors": [o.name for o in mutants if not o.ok],
        "variants_tolerated": all(o.ok for o in outcomes if o.kind == "variant"),
        "reference_conformant": all(o.ok for o in outcomes if o.kind == "reference"),
        "settings": {
            "examples": examples,
            "seed": seed,
            "fail_on_should_for_mutants": True,
            "mutants_run": "whole suite" if full else "scenarios first",
        },
        "outcomes": [asdict(o) for o in outcomes],
    }


def markdown(matrix: dict[str, Any]) -> str:
    outcomes = matrix["outcomes"]
    assert isinstance(outcomes, list)
    lines = [
        "# Kill matrix",
        "",
        f"Mutation score: **{matrix['killed']}/{matrix['mutants']}**"
        f" ({float(matrix['mutation_score'] or 0) * 100:.1f}%). Survivors: "
        + (", ".join(f"`{s}`" for s in matrix["survivors"]) or "none")
        + ".",
        "",
        f"Reference server conformant: {matrix['reference_conformant']}."
        f" Every tolerated variant passes: {matrix['variants_tolerated']}.",
        "",
        f"Settings: seed {matrix['settings']['seed']}, --examples"
        f" {matrix['settings']['examples']}, mutants run: {matrix['settings']['mutants_run']}"
        " (scenarios first: a mutant the scenarios kill is not run against the property tests,"
        " so its killing tests are scenarios only).",
        "",
        "| kind | name | target | result | exit | failed requirements | killed by (first tests) |",
        "|---|---|---|---|---:|---|---|",
    ]
    for outcome in outcomes:
        result = {
            "mutant": "killed" if outcome["ok"] else "SURVIVED",
            "variant": "tolerated" if outcome["ok"] else "FALSE ALARM",
            "reference": "conformant" if outcome["ok"] else "NOT CONFORMANT",
        }[outcome["kind"]]
        tests = (
            ", ".join(f"`{t.split('::')[-1]}`" for t in outcome["killing_tests"][:3])
            if outcome["kind"] == "mutant"
            else ""
        )
        target = outcome["target"] or ""
        if outcome["properties_only"]:
            target += " (properties)"
        cells = [
            outcome["kind"],
            f"`{outcome['name']}`",
            target,
            result,
            str(outcome["exit_code"]),
            ", ".join(outcome["failed_requirements"]),
            tests,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
