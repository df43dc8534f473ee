"""Building and writing the certificate: the one outcome of a run, from its records."""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from .. import __version__, _resources
from .._files import write_atomically
from ..catalog import Catalog
from ..contract import Contract
from ..records import OUTCOMES, GeneratedCases, Record, total
from ..results import (
    VERDICT_RULES,
    RequirementResult,
    combination_coverage,
    counts,
    exit_status,
    requirement_results,
    smallest_first,
    verdict,
)
from ._names import combined_hash, portable_location, portable_text
from ._render import badge, markdown

CERTIFICATE_VERSION = 3


TESTS_FILE_SUFFIX = "-tests.json"


@dataclass(frozen=True)
class RunInfo:
    """What the certificate says about the run itself."""

    target_host: str
    embedded: bool
    profile_name: str
    profile_kind: str
    fail_on_should: bool
    partial: bool  # a selection of the suite (-k, -m, paths); tests that never ran count too
    started: datetime
    finished: datetime
    seed: int | None = None
    command_line: str = ""
    implementation_name: str | None = None
    implementation_version: str | None = None
    scenario_files: dict[str, str] = field(default_factory=dict)  # path -> sha256
    switches: dict[str, bool] = field(default_factory=dict)  # e.g. allow_live
    max_rps: float | None = None  # the pace the run started with (--max-rps), None if unpaced
    broken: str | None = None  # why the run could not be completed (then nothing is certified)
    not_run: int = 0  # collected tests that never ran (-x, --maxfail, an interrupt)


def _package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


def git_commit() -> str | None:
    """The checkout's commit, or None outside a git checkout."""
    root = _resources.project_root()
    if root is None:
        return None
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = result.stdout.strip()
    return commit if result.returncode == 0 and len(commit) == 40 else None


def _requirement_entry(result: RequirementResult) -> dict[str, Any]:
    """A requirement in the certificate: counts of its tests, and the failing ones in full
    (the smallest reproducer first). Every test is listed in the tests file."""
    outcomes = [test["outcome"] for test in result.tests]
    entry: dict[str, Any] = {
        "id": result.id,
        "level": result.level,
        "area": result.area,
        "title": result.title,
        "status": result.status,
        "tests": {k: outcomes.count(k) for k in OUTCOMES},
    }
    covered = result.coverage()
    if covered is not None:
        entry["coverage"] = covered
    decided = result.decision()
    if decided is not None:
        entry["decision"] = decided
    failing = [test for test in result.tests if test["outcome"] == "failed"]
    if failing:
        entry["failing_tests"] = [
            {**test, "location": portable_location(test["location"])}
            for test in sorted(failing, key=smallest_first)
        ]
    if result.reasons:
        entry["reasons"] = result.reasons
    return entry


def tests_index(records: Iterable[Record], catalog: Catalog) -> dict[str, Any]:
    """The companion file: every test of every requirement, with its outcome."""
    results = requirement_results(list(records), catalog)
    return {
        "requirements": {
            result.id: [
                {
                    key: portable_location(test[key]) if key == "location" else test[key]
                    for key in ("test", "location", "outcome", "reason", "missing_key")
                    if key in test
                }
                for test in result.tests
            ]
            for result in results
        }
    }


def content_digest(certificate: Mapping[str, Any]) -> str:
    """sha256 of the certificate's canonical JSON, without its `integrity` member."""
    content = {key: value for key, value in certificate.items() if key != "integrity"}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _requests(records: list[Record]) -> dict[str, int]:
    """Requests the run sent, by origin: scenario steps (and the preconditions they ran first),
    generated cases, and the retries after a 429 (counted in their origin too)."""
    by_kind = {"scenarios": "scenario", "generated": "property"}
    counts = {
        origin: total((r for r in records if r["kind"] == kind), "requests")
        for origin, kind in by_kind.items()
    }
    counts["retries_after_429"] = total(records, "rate_limited")
    counts["total"] = total(records, "requests")
    return counts


def _generated_cases(records: list[Record]) -> GeneratedCases:
    """The property tests' cases, added up over xdist workers."""
    cases = GeneratedCases(positive=0, negative=0, charged=0, repeated=0)
    for record in records:
        if "generated" in record:
            for kind in ("positive", "negative", "charged", "repeated"):
                cases[kind] += record["generated"][kind]
    return cases


def _pace(records: list[Record], max_rps: float | None) -> dict[str, float | None]:
    """The pace the run started at and the slowest it settled at after 429s (requests/s)."""
    paces = [r["pace"] for r in records if "pace" in r]
    return {"max_rps": max_rps, "settled_rps": min(paces) if paces else max_rps}


def build(
    records: Iterable[Record],
    catalog: Catalog,
    contract: Contract,
    run: RunInfo,
) -> dict[str, Any]:
    records = list(records)
    results = requirement_results(records, catalog)
    suite_errors = sorted({r.get("error", "") for r in records if r["kind"] == "suite_error"})
    partial = run.partial or run.not_run > 0
    outcome = verdict(
        results,
        partial=partial,
        broken=run.broken is not None,
        suite_errors=bool(suite_errors),
    )
    implementation: dict[str, Any] = {
        "host": run.target_host,
        "embedded_reference_server": run.embedded,
        "profile": {"name": run.profile_name, "kind": run.profile_kind},
    }
    if run.implementation_name:
        implementation["name"] = run.implementation_name
    if run.implementation_version:
        implementation["version"] = run.implementation_version
    document: dict[str, Any] = {
        "certificate_version": CERTIFICATE_VERSION,
        "verdict": outcome,
        "verdict_rule": VERDICT_RULES[outcome],
        "broken": portable_text(run.broken) if run.broken is not None else None,
        "verdict_rules": VERDICT_RULES,
        "implementation": implementation,
        "suite": {
            "name": "checkout-conformance",
            "version": __version__,
            "git_commit": git_commit(),
            "contract_sha256": contract.sha256(),
            "catalog_sha256": catalog.sha256(),
            "scenarios_sha256": combined_hash(run.scenario_files),
            "scenario_files": run.scenario_files,
            "upstream_openapi_version": contract.upstream_version,
            "tools": {
                name: _package_version(name) for name in ("pytest", "schemathesis", "hypothesis")
            },
        },
        "run": {
            "started": run.started.isoformat(timespec="seconds"),
            "finished": run.finished.isoformat(timespec="seconds"),
            "command": run.command_line,
            "seed": run.seed,
            "fail_on_should": run.fail_on_should,
            "partial": partial,
            "selected": run.partial,
            "switches": run.switches,
            "tests": len(records) - run.not_run,  # tests that ran; never-run ones are not_run
            "not_run": run.not_run,
            "rate_limit_retries": total(records, "rate_limited"),
            "pace": _pace(records, run.max_rps),
            "requests": _requests(records),
            "generated_cases": _generated_cases(records),
            "combinations": combination_coverage(records),
        },
        "summary": counts(results),
        "suite_errors": suite_errors,
        "requirements": [_requirement_entry(result) for result in results],
    }
    document["exit_status"] = exit_status(document)
    return document


def companion_paths(path: Path) -> tuple[Path, Path]:
    """certificate.json -> certificate.md and certificate-badge.json beside it."""
    return path.with_suffix(".md"), path.with_name(f"{path.stem}-badge.json")


def tests_path(path: Path) -> Path:
    """certificate.json -> certificate-tests.json beside it."""
    return path.with_name(f"{path.stem}{TESTS_FILE_SUFFIX}")


def write(certificate: dict[str, Any], tests: Mapping[str, Any], path: Path) -> None:
    """Write the tests file, then the certificate (with the tests file's hash and its own
    digest), its Markdown and its badge; atomically, so no reader sees half."""
    markdown_path, badge_path = companion_paths(path)
    tests_text = json.dumps(tests, indent=1, ensure_ascii=False) + "\n"
    write_atomically(tests_path(path), tests_text)
    certificate["tests_file"] = {
        "name": tests_path(path).name,
        "sha256": hashlib.sha256(tests_text.encode("utf-8")).hexdigest(),
    }
    certificate["integrity"] = {"sha256": content_digest(certificate)}
    write_atomically(path, json.dumps(certificate, indent=2, ensure_ascii=False) + "\n")
    write_atomically(markdown_path, markdown(certificate))
    write_atomically(badge_path, json.dumps(badge(certificate), indent=2) + "\n")
