"""Running one case of a scenario: render, send, check, capture; step after step.

The result says, per requirement the case checks, whether it held, and keeps every exchange for
the report. A missing profile value is not a failure: the case is *not tested*.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from ..contract import is_charge
from ..records import Status
from ..transport import Exchange, Target
from ._bodies import BodyError
from ._expand import Case
from ._matchers import Mismatch, applies, capture, check
from ._model import Library, Scenario, Step
from ._request import prepare
from ._template import Context, render


@dataclass
class StepRun:
    step: Step
    exchange: Exchange
    mismatches: list[Mismatch]
    evaluated: set[str] = field(default_factory=set)  # requirements whose checks ran
    not_applicable: set[str] = field(default_factory=set)  # checks skipped by their if_status


@dataclass
class CaseRun:
    """What happened when one case ran."""

    scenario: Scenario
    case: Case
    steps: list[StepRun] = field(default_factory=list)

    @property
    def mismatches(self) -> list[Mismatch]:
        return [m for step in self.steps for m in step.mismatches]

    @property
    def requests(self) -> int:
        """Requests this case sent, 429 retries included."""
        return sum(step.exchange.attempts for step in self.steps)

    @property
    def retries(self) -> int:
        """Sends that answered 429 and were repeated after waiting."""
        return sum(step.exchange.attempts - 1 for step in self.steps)

    def not_applicable(self) -> list[str]:
        """Requirements this case checks only under a condition that never held here."""
        checked = {requirement for run in self.steps for requirement in run.evaluated}
        conditional = {requirement for run in self.steps for requirement in run.not_applicable}
        return sorted(conditional - checked)

    def requirement_status(self) -> dict[str, Status]:
        """passed | failed per requirement checked; `not_tested` where an earlier step failed.

        A requirement whose checks were all conditional (`if_status`) and whose condition did
        not hold is left out: that case does not count for it (the catalog's rule for
        conditional checks), and it is judged by the cases where it applied.
        """
        checked = {requirement for run in self.steps for requirement in run.evaluated}
        conditional = {requirement for run in self.steps for requirement in run.not_applicable}
        failed = {m.requirement for m in self.mismatches}
        status: dict[str, Status] = {}
        met = [m.requirement for m in self.mismatches]  # ROB-001 on a 5xx, whatever the scenario
        for requirement in dict.fromkeys([*self.scenario.all_requirements(), *met]):
            if requirement in failed:
                status[requirement] = "failed"
            elif requirement in checked:
                status[requirement] = "passed"
            elif requirement not in conditional:
                status[requirement] = "not_tested"
        return status


def _body_base(step: Step, library: Library, context: Context) -> Any:
    body = step.request.body
    if body is None:
        return None
    if isinstance(body, str):
        return render(library.bodies.unrendered(body), context)
    if "from" in body:
        return render(library.bodies.unrendered(body["from"]), context)
    return render(body.get("value", {}), context)


def _rendered_request(step: Step, context: Context) -> dict[str, Any]:
    spec = step.request
    raw: dict[str, Any] = {
        "method": spec.method,
        "path": spec.path,
        "auth": spec.auth,
        "headers": dict(spec.headers),
        "query": dict(spec.query),
        "raw": spec.raw,
        "content_type": spec.content_type,
        "framing": spec.framing,
        "body": spec.body
        if not isinstance(spec.body, dict)
        else {key: value for key, value in spec.body.items() if key not in ("from", "value")},
    }
    rendered = render(raw, context)
    assert isinstance(rendered, dict)
    return rendered


def _server_error(
    exchange: Exchange, mismatches: list[Mismatch], scenario: Scenario, step: Step
) -> Mismatch | None:
    """A 5xx to a POST fails ROB-001 ("no request gets a 5xx") wherever it is met, besides the
    requirement the scenario is written for. Other methods are ROB-005's alone."""
    status = exchange.status
    if status is None or status < 500 or exchange.request.method != "POST":
        return None
    if any(m.requirement == "ROB-001" for m in mismatches):
        return None
    return Mismatch(
        "ROB-001",
        "status",
        "no 5xx to any request (ROB-001)",
        str(status),
        f"{scenario.location.rsplit(':', 1)[0]}:{step.line}",
    )


class LiveChargeRefused(Exception):
    """The step would process a real charge on a live target without --allow-live-charges."""


def _is_charge(request: Any) -> bool:
    try:
        return is_charge(json.loads(request.body or b"null"))
    except ValueError:
        return False


def run_case(
    scenario: Scenario, case: Case, target: Target, library: Library, charges_allowed: bool = True
) -> CaseRun:
    """Run every step of one case against the target (MissingProfileValue propagates)."""
    base_context = Context(profile=target.profile.data, api_key=target.api_key)
    variables = {name: render(value, base_context) for name, value in case.variables.items()}
    context = Context(profile=target.profile.data, api_key=target.api_key, variables=variables)
    result = CaseRun(scenario, case)
    for step in scenario.steps:
        body_base = _body_base(step, library, context)
        rendered = _rendered_request(step, context)
        try:
            request = prepare(step.request, rendered, body_base, target.base_url, target.api_key)
        except BodyError as exc:
            raise BodyError(f"{scenario.location}: step {step.name!r}: {exc}") from None
        if not charges_allowed and _is_charge(request):
            raise LiveChargeRefused(
                "not tested: it would charge a saved payment method on a live target"
                " (add --allow-live-charges)"
            )
        exchange = target.exchange(request)
        mismatches = []
        evaluated: set[str] = set()
        not_applicable: set[str] = set()
        for expectation in step.expectations:
            if not applies(expectation, exchange):
                not_applicable.add(expectation.requirement)
                continue
            evaluated.add(expectation.requirement)
            # Expectations use variables too (`not_equals: ${captured.first_id}`).
            concrete = (
                replace(expectation, spec=render(expectation.spec, context))
                if expectation.templated
                else expectation
            )
            mismatch = check(concrete, exchange, library.contract)
            if mismatch is not None:
                mismatches.append(mismatch)
        server_error = _server_error(exchange, mismatches, scenario, step)
        if server_error is not None:
            mismatches.append(server_error)
        for name, path in step.capture.items():
            found, value = capture(exchange, path)
            if found:
                context.captured[name] = value
            elif not mismatches:
                mismatches.append(
                    Mismatch(
                        scenario.requirements[0],
                        f"capture {name}",
                        f"a value at {path} to capture",
                        "nothing there",
                        f"{scenario.location.rsplit(':', 1)[0]}:{step.line}",
                    )
                )
        result.steps.append(StepRun(step, exchange, mismatches, evaluated, not_applicable))
        if mismatches:
            break
    return result
