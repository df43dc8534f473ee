"""Scenario cases as they run in one process: each case once, whoever asks first.

A case another case depends on (its `precondition`) is sent once, whichever of them runs first;
a row of scenarios that share one request (`share_requests`) sends it once and splits apart
when it fails; each run's requests are counted once, by the first item that used it, so the
counts are the same whatever the order requests were sent in (and with `--concurrency`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import replace
from typing import Any

from ..profile import Profile
from ..transport import BudgetExhausted, Target
from ._expand import Case
from ._model import Library, Scenario, shared_edit
from ._runner import CaseRun, LiveChargeRefused, run_case
from ._suite_index import SuiteIndex
from ._template import Context, MissingProfileValue, TemplateError, render

# What makes a case *not tested* rather than failed (a missing profile value: *not covered*).
NOT_TESTED = (MissingProfileValue, BudgetExhausted, LiveChargeRefused)

# A case as the run knows it: its file, its scenario id and its case label. Ids are unique
# across the run (a clash is a suite error), and the file keeps two runs apart all the same.
CaseKey = tuple[str, str, str]


def case_key(scenario: Scenario, case: Case) -> CaseKey:
    return (str(scenario.path), scenario.id, case.label)


class PreconditionLacksProfileKey(MissingProfileValue):
    """The accepted request a case builds on needs a profile key the profile lacks: the case
    is not covered, like its precondition."""

    def __init__(self, key: str, reference: str) -> None:
        super().__init__(key)
        self.reference = reference


class CaseRuns:
    """Each case that ran in this process (thread-safe: the look-ahead's threads run cases)."""

    def __init__(
        self,
        index: SuiteIndex,
        target: Callable[[], Target],
        library: Callable[[], Library],
        profile: Profile,
        charges_allowed: bool,
    ) -> None:
        self._index = index
        self._target = target
        self._library = library
        self._profile = profile
        self._charges_allowed = charges_allowed
        self._lock = threading.Lock()
        self._case_runs: dict[CaseKey, Future[CaseRun]] = {}
        # The runs each case used besides its own (its precondition's, its shared row's), and
        # those already counted by an item.
        self._touched: dict[CaseKey, list[CaseKey]] = {}
        self._claimed: set[CaseKey] = set()

    def run_case(self, scenario: Scenario, case: Case) -> CaseRun:
        """Run one case against the target, once per process; later calls get the same run.

        Whoever asks first (an item, a case that depends on it, or the look-ahead's thread)
        sends it; the others wait for that run. What made it not tested (a missing profile
        value, the budget, a live charge), or a suite error, is kept and raised again, so a case
        and those that depend on it agree.
        """
        if scenario.share_requests:
            return self._run_sharing(scenario, case)
        return self._run_once(scenario, case)

    def _run_once(self, scenario: Scenario, case: Case) -> CaseRun:
        key = case_key(scenario, case)
        with self._lock:
            future = self._case_runs.get(key)
            owner = future is None
            if future is None:
                future = self._case_runs[key] = Future()
        if owner:
            try:
                target = self._target()
                future.set_result(
                    run_case(scenario, case, target, self._library(), self._charges_allowed)
                )
            except BaseException as error:  # kept for every caller: NOT_TESTED, suite errors,
                future.set_exception(error)  # TargetGone (which ends the session)
        return future.result()

    # -- shared requests (`share_requests`) -----------------------------------------------------
    def _run_sharing(self, scenario: Scenario, case: Case) -> CaseRun:
        """A case of a sharing scenario: the row's one request if it met every expectation,
        else the case sent alone (so a failure is this value's own, as without sharing)."""
        row = self._shared_row(scenario, case)
        if row is None:
            return self._run_once(scenario, case)
        combined = row
        self._touch(scenario, case, combined[0], combined[1])
        shared = self._run_once(*combined)
        if not shared.mismatches:
            return CaseRun(scenario, case, shared.steps)
        return self._run_once(scenario, case)

    def _shared_row(self, scenario: Scenario, case: Case) -> tuple[Scenario, Case] | None:
        """The combined scenario and case of this case's row, or None when no other scenario
        has a case in that row."""
        group = self._index.sharing_group(scenario)
        own_cases = next(cases for member, cases in group if member.id == scenario.id)
        index = next(i for i, c in enumerate(own_cases) if c.label == case.label)
        row = [(member, cases[index]) for member, cases in group if index < len(cases)]
        if len(row) < 2:
            return None
        base = ""
        merged_set: dict[str, Any] = {}
        variables: dict[str, Any] = {}
        for member, member_case in row:
            edit = shared_edit(member)
            assert edit is not None  # the loader dropped groups that cannot share
            base = edit[0]
            merged_set.update(edit[1])
            variables.update(member_case.variables)
        first = row[0][0]
        step = first.steps[0]
        request = replace(step.request, body={"from": base, "set": merged_set})
        combined = replace(
            first, id=str(first.share_requests), expand={}, steps=(replace(step, request=request),)
        )
        label = f"row-{index + 1}:" + ",".join(c.label for _m, c in row)
        return combined, Case(label, variables)

    def _touch(self, scenario: Scenario, case: Case, other: Scenario, other_case: Case) -> None:
        with self._lock:
            touched = self._touched.setdefault(case_key(scenario, case), [])
            touched.append(case_key(other, other_case))

    def claim_requests(self, scenario: Scenario, case: Case) -> tuple[int, int]:
        """(requests, retries after a 429) to count for this case's item: those of the runs it
        used that no earlier item counted (its own, its precondition's, its shared row's)."""
        own = case_key(scenario, case)
        requests = retries = 0
        with self._lock:
            for key in [*self._touched.get(own, []), own]:
                future = self._case_runs.get(key)
                if key in self._claimed or future is None or not future.done():
                    continue
                self._claimed.add(key)
                if future.exception() is None:
                    requests += future.result().requests
                    retries += future.result().retries
        return requests, retries

    # -- preconditions -------------------------------------------------------------------------
    def precondition_problem(self, scenario: Scenario, case: Case) -> str | None:
        """Why the accepted request a case builds on was not accepted, or None if it was.

        The precondition case runs once per process (`run_case`): whichever of it and its
        dependants runs first sends it. Only its status counts here: a base request that was
        answered as its scenario expects is a sound base, whatever else it got wrong.
        """
        template = scenario.precondition
        if not template:
            return None
        profile = self._profile.data
        variables = {n: render(v, Context(profile=profile)) for n, v in case.variables.items()}
        reference = str(render(template, Context(profile=profile, variables=variables)))
        scenario_id, _, label = reference.partition("[")
        label = label.removesuffix("]")
        found = self._index.scenario(scenario_id)
        if found is None:
            raise TemplateError(
                f"precondition {reference!r}: no scenario has the id {scenario_id!r}"
            )
        base, cases = found
        base_case = next((c for c in cases if c.label == label), None)
        if base_case is None:
            known = ", ".join(c.label or "(none)" for c in cases[:10])
            raise TemplateError(
                f"precondition {reference!r}: scenario {scenario_id!r} has no case {label!r}"
                f" (its cases: {known})"
            )
        if case_key(base, base_case) == case_key(scenario, case):
            return None
        self._touch(scenario, case, base, base_case)
        try:
            run = self.run_case(base, base_case)
        except MissingProfileValue as missing:
            raise PreconditionLacksProfileKey(missing.key, reference) from None
        except NOT_TESTED as not_tested:
            reason = str(not_tested).removeprefix("not tested: ")
            return f"not tested: precondition not tested ({reference}: {reason})"
        failed = [m for m in run.mismatches if m.where in ("status", "response")]
        if not failed:
            return None
        first = failed[0]
        return (
            f"not tested: precondition failed ({first.requirement}): the request it builds on,"
            f" {reference} ({base.location}), got {first.actual}, not {first.expected}"
        )
