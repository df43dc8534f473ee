"""The record each test leaves for the certificate: one typed shape, built in one place.

A scenario case, the property test and a scenario file that could not be read each leave one
`Record`: which requirements it checked and how each fared, the failures with their evidence,
and what it cost (requests, 429s waited out). Records are plain dicts (a TypedDict), so they
cross from pytest-xdist workers to the controller unchanged; `results` turns them into
requirement statuses and the verdict.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal, NotRequired, TypedDict

from .catalog import Catalog, Level, blocks_run, worst_level

Kind = Literal["scenario", "property", "suite_error"]
# `not_covered`: left out only because the profile lacks an optional key the test needs (the
# product spec's allowance: the requirement can still pass on the tests that ran).
Status = Literal["passed", "failed", "not_tested", "not_covered"]
OUTCOMES: tuple[Status, ...] = ("passed", "failed", "not_tested", "not_covered")


class Failure(TypedDict):
    requirement: str
    reason: str  # one line, redacted
    evidence: dict[str, Any]  # redacted: the request line, the status, what was expected


class GeneratedCases(TypedDict):
    positive: int
    negative: int
    charged: int
    repeated: int


class Record(TypedDict):
    kind: Kind
    test: str  # the pytest node id
    location: str  # file:line of a scenario; the file and seed of the property test
    requirements: dict[str, Status]
    failures: list[Failure]
    blocking: bool  # its failures fail the run (a MUST, or a SHOULD with --fail-on-should)
    requests: int  # requests it sent (retries after a 429 included)
    rate_limited: int  # 429s it waited out
    title: NotRequired[str]  # what the test checks, in words (a scenario's title)
    written_for: NotRequired[list[str]]  # the requirements it is written for (a scenario's own)
    error: NotRequired[str]  # a suite error: what is wrong with the suite, not the target
    skip_reason: NotRequired[str]  # why it was not tested
    missing_key: NotRequired[str]  # not covered: the optional profile key that would cover it
    not_applicable: NotRequired[list[str]]  # conditional checks whose condition never held
    worst_level: NotRequired[Level]  # the most serious level among its failures
    generated: NotRequired[GeneratedCases]  # the property test's cases
    cases_cache: NotRequired[str]  # --cases-cache: "replayed from PATH" or "kept in PATH"
    pace: NotRequired[float]  # the pace in force when it ended (requests/s), if any
    combination: NotRequired[Combination]  # a pairwise row: which optional fields it set
    decision: NotRequired[DecisionCase]  # a case derived from a rule's decision


class DecisionCase(TypedDict):
    rule: str  # the rule of contracts/rules.yaml the case was derived from
    requirement: str  # its requirement
    covers: str  # condition | boundary | null | position | combination | class
    outcome: str  # refused | accepted: what a conformant server does
    condition: str  # the field of the condition the case holds or flips ("" for a position)
    conditions: int  # how many conditions the rule's decision has


class Combination(TypedDict):
    set: list[str]  # the fields this row set
    of: list[str]  # every field the covering array is over
    requires: dict[str, str]  # FIELD: OTHER, never FIELD without OTHER


def new_record(kind: Kind, test: str, location: str) -> Record:
    """An empty record: nothing checked yet, nothing sent."""
    return Record(
        kind=kind,
        test=test,
        location=location,
        requirements={},
        failures=[],
        blocking=kind == "suite_error",
        requests=0,
        rate_limited=0,
    )


def suite_error(test: str, location: str, error: str) -> Record:
    """The record of a test that could not run because the suite itself is wrong."""
    record = new_record("suite_error", test, location)
    mark_suite_error(record, error)
    return record


def mark_suite_error(record: Record, error: str) -> None:
    """The test turned out not to be runnable: the suite is wrong, and that fails the run."""
    record["kind"] = "suite_error"
    record["blocking"] = True
    record["error"] = error


def not_covered(record: Record, requirements: Iterable[str], key: str, reason: str) -> None:
    """The test was left out only for want of the optional profile key `key`."""
    record["requirements"] = dict.fromkeys(requirements, "not_covered")
    record["missing_key"] = key
    record["skip_reason"] = reason


def not_tested(record: Record, requirements: Iterable[str], reason: str) -> None:
    """The test was left out for any other reason (a failed precondition, the budget, a live
    charge, a run stopped early): its requirements are not tested."""
    record["requirements"] = dict.fromkeys(requirements, "not_tested")
    record["skip_reason"] = reason


def settle(record: Record, catalog: Catalog, fail_on_should: bool) -> None:
    """Set `blocking` and `worst_level` from the record's failures (the catalog's levels)."""
    if record["kind"] == "suite_error" or not record["failures"]:
        return
    levels = {catalog[failure["requirement"]].level for failure in record["failures"]}
    record["blocking"] = blocks_run(levels, fail_on_should)
    record["worst_level"] = worst_level(levels)


def total(records: Iterable[Record], field: Literal["requests", "rate_limited"]) -> int:
    return sum(record[field] for record in records)
