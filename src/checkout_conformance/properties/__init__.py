"""Property-based tests with schemathesis: generated requests against the same target and profile.

`generated_schema()` loads the contract into schemathesis with this run's seed, example budget
and hooks (business-valid positive cases, some of them charges with the profile's saved payment
method). `PropertyRun.check(case)` sends one case and runs the checks, each mapped to the catalog
requirement it proves; failures land on those requirements in the certificate, like scenario
failures do.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import hypothesis.strategies as st
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
)

from .. import _resources
from ..catalog import Catalog
from ..contract import Contract, load_contract
from ..engine._target import (
    MAX_RATE_LIMIT_RETRIES,
    MAX_RATE_LIMIT_WAIT_S,
    BudgetExhausted,
    Target,
)
from ._mapping import business_valid, real_ids

REQUEST_SCHEMA = "CreateCheckoutSessionRequest"


@dataclass(frozen=True)
class PropertySettings:
    """What the plugin tells this module before the property tests are collected."""

    examples: int
    seed: int
    profile_ids: dict[str, str]
    rich_fields: dict[str, Any]  # valid values for optional fields, on the profile's ids
    charges_allowed: bool = True  # False on a live target without --allow-live-charges


_ACTIVE: dict[str, PropertySettings] = {}


def configure(settings: PropertySettings) -> None:
    _ACTIVE["settings"] = settings


def active() -> PropertySettings:
    if "settings" not in _ACTIVE:
        raise RuntimeError("the property tests run inside the checkout-conformance pytest plugin")
    return _ACTIVE["settings"]


@schemathesis.check
def checkout_url_rule(ctx: Any, response: Any, case: Any) -> bool | None:
    """CURL-001 and CURL-003 on every accepted positive case."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return None
    if not 200 <= response.status_code < 300:
        return None
    try:
        body = response.json()
    except ValueError:
        return None  # RESP-001 reports a body that is not JSON
    if not isinstance(body, dict):
        return None
    charged = isinstance(case.body, dict) and case.body.get("payment_method_id") is not None
    url = body.get("checkout_url")
    if charged and isinstance(url, str):
        raise AssertionError(
            "CURL-001: checkout_url must be null or absent when payment_method_id is given;"
            f" got {url!r}"
        )
    if not charged and not (isinstance(url, str) and url):
        raise AssertionError(
            "CURL-003: without payment_method_id, checkout_url must be a non-empty string;"
            f" got {url!r}"
        )
    return True


def generated_schema() -> Any:
    """The contract as a schemathesis schema, with this run's seed, budget and hooks."""
    settings = active()
    schema = schemathesis.openapi.from_path(_resources.CONTRACT_PATH)
    schema.config.generation.update(
        modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE],
        max_examples=settings.examples,
        with_security_parameters=False,  # the key is ours to send; generated ones prove nothing
    )
    schema.config.seed = settings.seed
    ids = settings.profile_ids

    omit = object()
    extra_fields = st.fixed_dictionaries(
        {
            name: st.sampled_from([omit, *values])
            for name, values in field_alternatives(load_contract(), settings.rich_fields).items()
        }
    ).map(lambda drawn: {name: value for name, value in drawn.items() if value is not omit})

    @schema.hook
    def flatmap_case(context: Any, case: Any) -> Any:
        original = case.body
        if case.meta is not None and case.meta.generation.mode.is_positive:

            def as_business_case(choice: tuple[bool, dict[str, Any]]) -> Any:
                charge, extra = choice
                merged = {**original, **extra} if isinstance(original, dict) else original
                case.body = business_valid(merged, ids, charge)
                return case

            # Two cases in three are charges; each also gets a random subset of the optional
            # fields with contract-derived valid values, so that combinations are explored.
            charges = [True, True, False] if settings.charges_allowed else [False]
            return st.tuples(st.sampled_from(charges), extra_fields).map(as_business_case)
        case.body = real_ids(original, ids)
        return st.just(case)

    return schema


def field_alternatives(contract: Contract, rich_fields: dict[str, Any]) -> dict[str, list[Any]]:
    """For each optional top-level field: valid values to combine, read from the contract.

    The profile-based value of the `full` body, both booleans, null where the field is nullable,
    and a few enum values; the generated value is always a possibility too (the field left as is).
    """
    alternatives: dict[str, list[Any]] = {}
    for field_ in contract.fields(REQUEST_SCHEMA):
        name = field_.dotted
        if name in ("product_cart", "payment_method_id", "confirm", "customer"):
            continue  # the charge decides these
        values: list[Any] = []
        if name in rich_fields:
            values.append(rich_fields[name])
        if field_.types == {"boolean"}:
            values += [True, False]
        if field_.enum and field_.types == {"string"}:
            values += contract.enum_values(field_.enum)[:3]
        if field_.nullable:
            values.append(None)
        unique: list[Any] = []
        for value in values:
            if value not in unique:
                unique.append(value)
        if unique:
            alternatives[name] = unique
    return alternatives


# -- checks and their requirements -------------------------------------------------------------
Check = Callable[..., Any]


def _by_status(success: str, failure: str) -> Callable[[Any, Any], str]:
    return lambda case, response: success if 200 <= response.status_code < 300 else failure


def _checkout_url_requirement(case: Any, response: Any) -> str:
    charged = isinstance(case.body, dict) and case.body.get("payment_method_id") is not None
    return "CURL-001" if charged else "CURL-003"


@dataclass(frozen=True)
class MappedCheck:
    check: Check
    requirement: Callable[[Any, Any], str]
    requirements: tuple[str, ...]  # every requirement it may report, for the record


CHECKS = (
    MappedCheck(not_a_server_error, lambda c, r: "ROB-001", ("ROB-001",)),
    MappedCheck(negative_data_rejection, lambda c, r: "ROB-002", ("ROB-002",)),
    MappedCheck(positive_data_acceptance, lambda c, r: "ROB-003", ("ROB-003",)),
    MappedCheck(
        response_schema_conformance, _by_status("RESP-004", "VAL-015"), ("RESP-004", "VAL-015")
    ),
    MappedCheck(
        content_type_conformance, _by_status("RESP-001", "VAL-015"), ("RESP-001", "VAL-015")
    ),
    MappedCheck(ignored_auth, lambda c, r: "AUTH-004", ("AUTH-004",)),
    MappedCheck(checkout_url_rule, _checkout_url_requirement, ("CURL-001", "CURL-003")),
)


def _seconds(header: Any, attempt: int) -> float:
    value = header[0] if isinstance(header, list) and header else header
    try:
        return max(float(str(value)), 0.0)
    except (TypeError, ValueError):
        return 0.5 * 2.0**attempt


def _summary(error: BaseException, status: int) -> str:
    """One line: what the check saw (`Schema-valid request rejected`, got 422)."""
    if isinstance(error, FailureGroup):
        titles = "; ".join(dict.fromkeys(failure.title for failure in error.exceptions))
        messages = [
            line.strip() for failure in error.exceptions for line in failure.message.splitlines()
        ]
        first = next((line for line in messages if line), "")
        return f"{titles} (status {status}){': ' + first if first else ''}"[:300]
    return f"{error} (status {status})"[:300]


@functools.cache
def limit_requirements() -> frozenset[str]:
    """The requirements the overlay's schema limits implement (read once per process)."""
    import yaml

    overlay = yaml.safe_load(_resources.OVERLAY_PATH.read_text(encoding="utf-8"))
    return frozenset(a["requirement"] for a in overlay.get("actions", []) if a.get("requirement"))


class PropertyFailure(AssertionError):
    """Generated requests broke requirements; the message is redacted and names them."""


@functools.cache
def failure_class(requirement_id: str) -> type[PropertyFailure]:
    """One exception class per requirement, so Hypothesis tells distinct bugs apart."""
    return type(f"{requirement_id.replace('-', '_')}_Failure", (PropertyFailure,), {})


@dataclass
class PropertyRun:
    """Sends generated cases to the target and records what each requirement made of them."""

    target: Target
    catalog: Catalog
    contract: Contract
    seed: int
    record: dict[str, Any]
    charged_cases: int = 0
    positive_cases: int = 0
    negative_cases: int = 0
    _limits: dict[str, Contract] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._waits_at_start = self.target.rate_limited
        statuses = {r: "passed" for check in CHECKS for r in check.requirements}
        statuses.update(dict.fromkeys(limit_requirements(), "passed"))
        if not active().charges_allowed:  # no generated charge: the rule was not exercised
            statuses["CURL-001"] = "not_tested"
            self.record["skip_reason"] = "not tested: no charges on a live target"
        self.record["requirements"] = statuses

    def _negative_requirement(self, case: Any) -> str:
        """ROB-002, or the requirement of the one overlay limit the case breaks, if that is all."""
        body = case.body
        if not isinstance(body, dict):
            return "ROB-002"
        for requirement in sorted(limit_requirements()):
            relaxed = self._limits.setdefault(
                requirement, self.contract.without_limits_of({requirement})
            )
            try:
                if relaxed.is_valid(REQUEST_SCHEMA, body):
                    return requirement
            except ValueError:
                return "ROB-002"
        return "ROB-002"

    def check(self, case: Any) -> None:
        auth = {"Authorization": f"Bearer {self.target.api_key.reveal()}"}
        positive = case.meta is not None and case.meta.generation.mode.is_positive
        ids = self.target.profile.data
        # Cases from schemathesis' coverage phase skip the generation hooks: map them here too
        # (both mappings leave an already mapped body as it is).
        if positive:
            charge = isinstance(case.body, dict) and case.body.get("payment_method_id") is not None
            case.body = business_valid(case.body, ids, charge and active().charges_allowed)
        else:
            case.body = real_ids(case.body, ids)
        if positive:
            self.positive_cases += 1
            if not self.contract.is_valid(REQUEST_SCHEMA, case.body):
                errors = "; ".join(map(str, self.contract.errors(REQUEST_SCHEMA, case.body)))
                raise RuntimeError(
                    f"suite error: a mapped positive case is not schema-valid: {errors}"
                )
            if isinstance(case.body, dict) and case.body.get("payment_method_id") is not None:
                self.charged_cases += 1
        else:
            self.negative_cases += 1
        self.record["generated"] = {
            "positive": self.positive_cases,
            "negative": self.negative_cases,
            "charged": self.charged_cases,
        }
        response = self._call(case, auth)
        self.record["rate_limited"] = self.target.rate_limited - self._waits_at_start
        failures: list[tuple[str, str, str]] = []  # (requirement, one-line summary, detail)
        for mapped in CHECKS:
            try:
                case.validate_response(
                    response,
                    checks=[mapped.check],
                    headers=auth,
                    transport_kwargs={"base_url": self.target.base_url, "headers": auth},
                )
            except (FailureGroup, AssertionError) as error:
                requirement = mapped.requirement(case, response)
                if requirement == "ROB-002":
                    requirement = self._negative_requirement(case)
                summary = _summary(error, response.status_code)
                detail = self.target.redactor.text(str(error))
                failures.append((requirement, self.target.redactor.text(summary), detail))
        if failures:
            self._fail(failures)

    def _call(self, case: Any, auth: dict[str, str]) -> Any:
        """Paced, within the budget, redirects not followed, 429s waited out within bounds."""
        for attempt in range(MAX_RATE_LIMIT_RETRIES + 1):
            try:
                self.target.before_request()
            except BudgetExhausted as exhausted:
                pytest.skip(f"not tested: {exhausted}")
            response = case.call(
                base_url=self.target.base_url,
                headers=auth,
                timeout=self.target.timeout,
                allow_redirects=False,
            )
            if response.status_code != 429 or attempt == MAX_RATE_LIMIT_RETRIES:
                break
            delay = min(
                _seconds(response.headers.get("retry-after"), attempt), MAX_RATE_LIMIT_WAIT_S
            )
            self.target.rate_limited += 1
            self.target.waited_s += delay
            time.sleep(delay)
        return response

    def _fail(self, failures: list[tuple[str, str, str]]) -> None:
        rank = {"MUST": 0, "SHOULD": 1, "MAY": 2}
        failures.sort(key=lambda failure: rank[self.catalog[failure[0]].level])
        for requirement, summary, detail in failures:
            self.record["requirements"][requirement] = "failed"
            if not any(f["requirement"] == requirement for f in self.record["failures"]):
                self.record["failures"].append(
                    {
                        "requirement": requirement,
                        "reason": f"generated request: {summary}",
                        "evidence": {"generated": True, "seed": self.seed, "detail": detail[:2000]},
                    }
                )
        lines = [
            f"{r} ({self.catalog[r].level}): {summary}\n{detail}" for r, summary, detail in failures
        ]
        lines.append(f"Reproduce the generation with --conformance-seed={self.seed}")
        worst = self.catalog[failures[0][0]].level
        raise failure_class(failures[0][0])(f"[{worst}] " + "\n\n".join(lines))
