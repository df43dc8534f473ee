"""From test records to requirement statuses, the verdict and the exit status.

Every test (a scenario case, a property test) leaves a *record*: which requirements it checked
and how each fared. The product spec's rules ("Levels and verdict"):

- a requirement is `failed` if any test found it broken;
- it is `passed` if every test mapped to it ran and passed, with one allowance: a test left out
  only because the profile lacks an optional key (`not_covered`) does not stop it from passing
  on the tests that ran; the certificate states its coverage and the keys that would cover the
  rest;
- otherwise it is `not_tested` (no test ran, or one was left out for another reason: a failed
  precondition, the budget, a run stopped early), with the reasons.

The verdict follows from the statuses, whether the run was partial or broken, and its suite
errors; the exit status follows from the certificate alone (`exit_status`), so that every output
of a run tells the same outcome.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .catalog import LEVELS, Catalog, Level
from .pairwise import coverage
from .records import Record

Verdict = Literal[
    "conformant", "conformant-with-warnings", "incomplete", "non-conformant", "broken"
]
RequirementStatus = Literal["passed", "failed", "not_tested"]

VERDICT_RULES: dict[str, str] = {
    "conformant": "every MUST requirement was tested and passed, and no SHOULD failed",
    "conformant-with-warnings": "every MUST requirement was tested and passed; some SHOULD failed",
    "incomplete": (
        "no MUST requirement failed, but some were not tested (or the run was partial, or the"
        " suite had errors)"
    ),
    "non-conformant": "at least one MUST requirement failed",
    "broken": "the run could not be completed; nothing is certified (see the reason)",
}

# The exit status, from the certificate alone (README, "Exit status").
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BROKEN = 3


def exit_status(certificate: Mapping[str, Any]) -> int:
    """0, 1 or 3, from the certificate's verdict, suite errors and strictness: the one place
    that decides it."""
    if certificate["verdict"] == "broken" or certificate["suite_errors"]:
        return EXIT_BROKEN
    if certificate["verdict"] == "non-conformant":
        return EXIT_FAILED
    if certificate["run"]["fail_on_should"] and certificate["summary"]["SHOULD"]["failed"]:
        return EXIT_FAILED
    return EXIT_OK


@dataclass
class RequirementResult:
    id: str
    level: Level
    area: str
    title: str
    status: RequirementStatus = "not_tested"
    tests: list[dict[str, Any]] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)  # derived cases that ran

    def decision(self) -> dict[str, Any] | None:
        """How the cases derived from this requirement's rules covered their decisions: cases
        run and passed, refused and accepted (each condition flipped alone), boundaries, nulls,
        positions, combinations, value classes; None for a requirement with no derived case
        that ran."""
        ran = [d for d in self.decisions if d["status"] in ("passed", "failed")]
        if not ran:
            return None
        covers = [d["covers"] for d in ran]
        return {
            "rules": sorted({d["rule"] for d in ran}),
            "cases": len(ran),
            "passed": sum(1 for d in ran if d["status"] == "passed"),
            "refused": sum(1 for d in ran if d["outcome"] == "refused"),
            "accepted": sum(1 for d in ran if d["outcome"] == "accepted"),
            "conditions": sum({d["rule"]: d["conditions"] for d in ran}.values()),
            "conditions_flipped": len(
                {
                    (d["rule"], d["condition"])
                    for d in ran
                    if d["outcome"] == "accepted" and d["condition"]
                }
            ),
            "boundaries": covers.count("boundary"),
            "nulls": covers.count("null"),
            "positions": covers.count("position"),
            "combinations": covers.count("combination"),
            "classes": covers.count("class"),
        }

    def coverage(self) -> dict[str, Any] | None:
        """Tests that ran, tests not covered and the profile keys that would cover them; None
        when every test of the requirement ran."""
        left_out = [t for t in self.tests if t["outcome"] == "not_covered"]
        if not left_out:
            return None
        ran = sum(1 for t in self.tests if t["outcome"] in ("passed", "failed"))
        return {
            "tests_run": ran,
            "not_covered": len(left_out),
            "profile_keys": sorted({str(t["missing_key"]) for t in left_out}),
        }


def requirement_results(records: Iterable[Record], catalog: Catalog) -> list[RequirementResult]:
    """One result per catalog requirement, in catalog order."""
    results = {r.id: RequirementResult(r.id, r.level, r.area, r.title) for r in catalog}
    inapplicable: dict[str, int] = {}  # tests whose conditional check of it never applied
    for record in records:
        for requirement_id in record.get("not_applicable", []):
            inapplicable[requirement_id] = inapplicable.get(requirement_id, 0) + 1
        for requirement_id, status in record["requirements"].items():
            result = results.get(requirement_id)
            if result is None:
                continue
            decision = record.get("decision")
            if decision is not None and decision["requirement"] == requirement_id:
                result.decisions.append(
                    {
                        "rule": decision["rule"],
                        "covers": decision["covers"],
                        "outcome": decision["outcome"],
                        "condition": decision["condition"],
                        "conditions": decision["conditions"],
                        "status": status,
                    }
                )
            test: dict[str, Any] = {
                "test": record["test"],
                "location": record["location"],
                "outcome": status,
            }
            failures = [f for f in record["failures"] if f["requirement"] == requirement_id]
            if failures:
                test["failures"] = failures
            if status in ("not_tested", "not_covered") and record.get("skip_reason"):
                test["reason"] = record["skip_reason"]
            if status == "not_covered":
                test["missing_key"] = record.get("missing_key", "")
            result.tests.append(test)
    for result in results.values():
        result.status, result.reasons = _status(result.tests)
        if not result.tests and inapplicable.get(result.id):
            result.reasons = [
                f"its check is conditional and applied in none of the {inapplicable[result.id]}"
                " tests that make it (the spec's rule: judged only where the condition held)"
            ]
    return list(results.values())


def _status(tests: list[dict[str, Any]]) -> tuple[RequirementStatus, list[str]]:
    """A requirement's status and reasons from its tests (the spec's rules, module doc)."""
    outcomes = [test["outcome"] for test in tests]
    if "failed" in outcomes:
        # The smallest reproducer's reason first (scenarios before generated cases, smaller
        # requests first), in an xdist-proof order.
        ordered = sorted(tests, key=smallest_first)
        return "failed", distinct(f["reason"] for t in ordered for f in t.get("failures", []))[:5]
    if "passed" in outcomes and "not_tested" not in outcomes:
        return "passed", []
    if not tests:
        return "not_tested", ["no test in this run checks it"]
    if "passed" not in outcomes and "not_tested" not in outcomes:  # only not covered
        keys = sorted({str(t.get("missing_key")) for t in tests})
        return "not_tested", [
            "every test of it needs a profile key the profile lacks: " + ", ".join(keys)
        ]
    reasons = {t.get("reason", "not run") for t in tests if t["outcome"] == "not_tested"}
    return "not_tested", sorted(reasons)[:5]


_RANDOM_ID = re.compile(r"\b([a-z]{2,5})_[A-Za-z0-9]{12,}\b")


def distinct(reasons: Iterable[str]) -> list[str]:
    """Reasons in order without repeats, where two reasons that differ only by a random id
    (`cks_6FFKs4B00NpHSXMeKX4oB`) are the same reason."""
    seen: set[str] = set()
    kept: list[str] = []
    for reason in reasons:
        key = _RANDOM_ID.sub(r"\1_*", reason)
        if key not in seen:
            seen.add(key)
            kept.append(reason)
    return kept


def smallest_first(test: Mapping[str, Any]) -> tuple[bool, int, str]:
    """Sort key for failing tests: scenarios before generated cases, smaller requests first."""
    failures = test.get("failures", [])
    size = min((int(f["evidence"].get("request_bytes", 1 << 30)) for f in failures), default=0)
    return (_generated(test), size, str(test["test"]))


def combination_coverage(records: Iterable[Record]) -> list[dict[str, Any]]:
    """Per pairwise scenario: how many fields and rows, how many rows passed, and the share of
    pairs and of three-way combinations of fields that the passed rows cover."""
    by_scenario: dict[str, list[Record]] = {}
    for record in records:
        if "combination" in record:
            scenario = record["test"].split("[", 1)[0].rsplit("::", 1)[-1]
            by_scenario.setdefault(scenario, []).append(record)
    found = []
    for scenario, rows in sorted(by_scenario.items()):
        names = rows[0]["combination"]["of"]
        requires = rows[0]["combination"]["requires"]
        passed = [
            frozenset(r["combination"]["set"])
            for r in rows
            if r["requirements"] and all(s == "passed" for s in r["requirements"].values())
        ]
        found.append(
            {
                "scenario": scenario,
                "fields": len(names),
                "rows": len(rows),
                "passed_rows": len(passed),
                "pairwise": round(coverage(passed, names, 2, requires), 4),
                "three_way": round(coverage(passed, names, 3, requires), 4),
            }
        )
    return found


def _generated(test: Mapping[str, Any]) -> bool:
    return any(f.get("evidence", {}).get("generated") for f in test.get("failures", []))


def counts(results: Iterable[RequirementResult]) -> dict[str, dict[str, int]]:
    return tally((result.level, result.status) for result in results)


def tally(statuses: Iterable[tuple[Level, RequirementStatus]]) -> dict[str, dict[str, int]]:
    """Requirements per level and status (`summary` in the certificate)."""
    table: dict[str, dict[str, int]] = {
        level: {"total": 0, "passed": 0, "failed": 0, "not_tested": 0} for level in LEVELS
    }
    for level, status in statuses:
        table[level]["total"] += 1
        table[level][status] += 1
    return table


def verdict(
    results: Iterable[RequirementResult],
    partial: bool = False,
    broken: bool = False,
    suite_errors: bool = False,
) -> Verdict:
    return verdict_from_counts(counts(results), partial, broken, suite_errors)


def verdict_from_counts(
    table: Mapping[str, Mapping[str, int]],
    partial: bool = False,
    broken: bool = False,
    suite_errors: bool = False,
) -> Verdict:
    """The product spec's verdict rules, from the counts per level and status: a broken run
    certifies nothing; a partial run, or one whose suite had errors, never claims conformance."""
    if broken:
        return "broken"
    if table["MUST"]["failed"]:
        return "non-conformant"
    if table["MUST"]["not_tested"] or partial or suite_errors:
        return "incomplete"
    if table["SHOULD"]["failed"]:
        return "conformant-with-warnings"
    return "conformant"
