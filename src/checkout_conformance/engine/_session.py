"""The state of one pytest process: settings, the target, the library, the records.

Both the plugin (hooks, fixtures, the verdict) and the scenario items use it; neither imports
the other for it. It also keeps each scenario case that ran in this process, so that a case
another case depends on (its `precondition`) is sent once, whichever of them runs first.

With `--concurrency N` (N > 1), the cases of the items about to run are sent ahead, N at a time,
on a thread pool (`look_ahead`); each item then checks and reports its own case, in order, as
if it had sent it. Items tagged `serial` (hostile bodies, whose crash would land on whatever is
in flight) and items that are not scenario cases (the property test) are never overlapped: the
look-ahead stops before them, and waits for what is in flight before they run.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from .._yamlfile import DataFileError
from ..catalog import load_catalog
from ..contract import load_contract
from ..profile import Profile
from ..records import Record
from ..redact import API_KEY_ENV, Redactor, Secret
from ..results import EXIT_BROKEN
from ..server import EmbeddedServer, ServerDidNotStart
from ..transport import BudgetExhausted, KeyRefused, Target, TargetGone, TargetUnreachable
from ._bodies import BodyLibrary
from ._expand import Case, expand
from ._model import ExpectationGroups, Library, Scenario, load_scenarios, shared_edit
from ._runner import CaseRun, LiveChargeRefused, run_case
from ._settings import Settings
from ._template import Context, MissingProfileValue, TemplateError, render

STATE_KEY = pytest.StashKey["SessionState"]()
EXIT_RUN_BROKEN = EXIT_BROKEN  # one code for "the run could not be made" (README)
SCENARIO_SUFFIXES = (".yaml", ".yml")
# What makes a case *not tested* rather than failed (a missing profile value: *not covered*).
NOT_TESTED = (MissingProfileValue, BudgetExhausted, LiveChargeRefused)


# A case as the run knows it: its file, its scenario id and its case label. Ids are unique
# across the run (a clash is a suite error), and the file keeps two runs apart all the same.
CaseKey = tuple[str, str, str]


def case_key(scenario: Scenario, case: Case) -> CaseKey:
    return (str(scenario.path), scenario.id, case.label)


BROKEN_KEY = "checkout_conformance_broken"


class RunBroken(Exception):
    """The target cannot be tested at all (unreachable, the key refused): the run breaks."""


class PreconditionLacksProfileKey(MissingProfileValue):
    """The accepted request a case builds on needs a profile key the profile lacks: the case
    is not covered, like its precondition."""

    def __init__(self, key: str, reference: str) -> None:
        super().__init__(key)
        self.reference = reference


@dataclass
class SessionState:
    """Everything the plugin keeps for one pytest process."""

    config: pytest.Config
    settings: Settings
    redactor: Redactor
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    records: list[Record] = field(default_factory=list)
    # Why the run could not be completed (target gone, key refused, interrupted): the
    # certificate then says `broken`, and so does every report.
    broken: str | None = None
    # Does this session run the conformance suite (and so own the reports it writes)? False
    # for a session of other tests in a checkout (`pytest tests`).
    conformance_run: bool = False
    # The conformance tests collected, with the requirements each checks, and those that
    # reported: a collected test that never ran (-x, --maxfail, an interrupt) is not tested.
    planned: dict[str, list[str]] = field(default_factory=dict)
    reported: set[str] = field(default_factory=set)
    _library: Library | None = None
    _target: Target | None = None
    _server: EmbeddedServer | None = None
    summary: dict[str, Any] | None = None
    seed: int = 0
    _scenarios: dict[str, tuple[Scenario, list[Case]]] | None = None
    _clashes: dict[tuple[str, str], str] = field(default_factory=dict)  # (file, id) -> first
    _case_runs: dict[CaseKey, Future[CaseRun]] = field(default_factory=dict)
    _case_runs_lock: threading.Lock = field(default_factory=threading.Lock)
    # Requests are counted once, by the first item that used a run: its own case, the case it
    # builds on (precondition), the shared request of its row. So the counts are the same
    # whatever the order requests were sent in.
    _touched: dict[CaseKey, list[CaseKey]] = field(default_factory=dict)
    _claimed: set[CaseKey] = field(default_factory=set)
    _pool: ThreadPoolExecutor | None = None
    _in_flight: list[Future[None]] = field(default_factory=list)
    _sent_ahead: set[CaseKey] = field(default_factory=set)  # cases handed to the pool
    _plan: list[tuple[Scenario, Case] | None] = field(default_factory=list)
    _position: dict[str, int] = field(default_factory=dict)
    # Requirements whose failure was already shown with its whole exchange in this process:
    # later failures of the same requirements show only what they add.
    shown_in_full: set[frozenset[str]] = field(default_factory=set)

    def library(self) -> Library:
        if self._library is None:
            fixtures = self.settings.fixtures
            self._library = Library(
                catalog=load_catalog(),
                contract=load_contract(),
                bodies=BodyLibrary.load(fixtures / "bodies.yaml"),
                groups=ExpectationGroups.load(fixtures / "expectations.yaml"),
            )
        return self._library

    def profile(self) -> Profile:
        return self.settings.profile

    def target(self) -> Target:
        """The target, started (embedded) and probed on first use; unreachable ends the session."""
        if self._target is None:
            if self.broken is not None:  # tried already: the run broke
                raise RunBroken(self.broken)
            try:
                if self.settings.embedded:
                    self._server = EmbeddedServer()
                    self.redactor.add(self._server.api_key.reveal())
                    try:
                        base_url, key = self._server.start(), self._server.api_key
                    except ServerDidNotStart as exc:
                        raise TargetUnreachable(str(exc)) from None
                else:
                    assert self.settings.base_url is not None
                    base_url, key = self.settings.base_url, Secret(os.environ[API_KEY_ENV])
                workers = int(getattr(self.config, "workerinput", {}).get("workercount", 1))
                rps = self.settings.max_rps / workers if self.settings.max_rps else None
                budget = self.settings.max_requests
                target = Target(
                    concurrency=self.concurrency,
                    base_url=base_url,
                    api_key=key,
                    profile=self.profile(),
                    embedded=self.settings.embedded,
                    timeout=self.settings.request_timeout,
                    redactor=self.redactor,
                    max_rps=rps,
                    max_requests=budget // workers if budget else None,
                )
                target.probe()
                target.check_key()
            except TargetUnreachable as exc:
                raise RunBroken(f"target unreachable: {exc}") from None
            except TargetGone as gone:  # a 429 storm on the key check
                raise RunBroken(str(gone)) from None
            except KeyRefused as exc:
                target.close()
                raise RunBroken(str(exc)) from None
            self._target = target
        return self._target

    def break_run(self, session: pytest.Session, reason: str) -> str:
        """The run cannot be completed: keep the reason (the certificate says `broken`, and
        the run exits 3) and stop the session after the current test. Returns the message."""
        self.broken = self.redactor.text(reason)
        # Said once, in the verdict above this line: the session's stop line only points at it.
        message = "checkout-conformance: the run broke (the reason is in the verdict above)"
        session.shouldstop = message
        workeroutput = getattr(self.config, "workeroutput", None)
        if workeroutput is not None:  # xdist: the controller reads it when the worker ends
            workeroutput[BROKEN_KEY] = self.broken
        return message

    def current_target(self) -> Target | None:
        """The target if one was set up (never starts one)."""
        return self._target

    def scenario(self, scenario_id: str) -> tuple[Scenario, list[Case]] | None:
        """A scenario of the suite by id, with its cases (every suite file, read once)."""
        with self._case_runs_lock:  # threads sending ahead ask too
            if self._scenarios is None:
                self._scenarios = self._load_all_scenarios()
        return self._scenarios.get(scenario_id)

    def _load_all_scenarios(self) -> dict[str, tuple[Scenario, list[Case]]]:
        found_by_id: dict[str, tuple[Scenario, list[Case]]] = {}
        library = self.library()
        for suite in self.settings.suites:
            for path in sorted(suite.rglob("*")):
                if path.suffix not in SCENARIO_SUFFIXES or not path.is_file():
                    continue
                try:
                    scenarios, _errors = load_scenarios(path, library)
                except DataFileError:
                    continue  # that file's own item reports it (so do wrong scenarios)
                for found in scenarios:
                    if found.id in found_by_id:  # the first one runs; this one is refused
                        first = found_by_id[found.id][0]
                        if (first.path, first.line) != (found.path, found.line):
                            self._clashes[(str(found.path), found.id)] = first.location
                        continue
                    cases = expand(found.expand, library.contract, library.bodies)
                    found_by_id[found.id] = (found, cases)
        return found_by_id

    def requirements_of(self, nodeid: str) -> list[str] | None:
        """The requirements a scenario item checks, from its node id alone (the xdist
        controller collects nothing itself); None for a node id that is no scenario case."""
        file_part, _, name = nodeid.partition("::")
        path = (Path(self.config.rootpath) / file_part).resolve()
        if path.suffix not in SCENARIO_SUFFIXES:
            return None
        found = self.scenario(name.split("[", 1)[0])
        if found is None or found[0].path.resolve() != path:
            return []  # an invalid scenario, or one whose id clashed: a suite error
        return found[0].all_requirements()

    def id_clash(self, scenario: Scenario) -> str | None:
        """Where the scenario that first took this scenario's id is, if another one did: ids
        are unique across everything a run collects (packaged and user folders)."""
        self.scenario(scenario.id)  # every scenario, read once
        return self._clashes.get((str(scenario.path), scenario.id))

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
        with self._case_runs_lock:
            future = self._case_runs.get(key)
            owner = future is None
            if future is None:
                future = self._case_runs[key] = Future()
        if owner:
            try:
                target = self.target()
                future.set_result(
                    run_case(scenario, case, target, self.library(), self.settings.charges_allowed)
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
        group = self.sharing_group(scenario)
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

    def sharing_group(self, scenario: Scenario) -> list[tuple[Scenario, list[Case]]]:
        """The scenarios of the file that share requests with this one, in file order."""
        self.scenario(scenario.id)  # every scenario, read once
        assert self._scenarios is not None
        return [
            (member, cases)
            for member, cases in self._scenarios.values()
            if member.path == scenario.path and member.share_requests == scenario.share_requests
        ]

    def _touch(self, scenario: Scenario, case: Case, other: Scenario, other_case: Case) -> None:
        with self._case_runs_lock:
            touched = self._touched.setdefault(case_key(scenario, case), [])
            touched.append(case_key(other, other_case))

    def claim_requests(self, scenario: Scenario, case: Case) -> tuple[int, int]:
        """(requests, retries after a 429) to count for this case's item: those of the runs it
        used that no earlier item counted (its own, its precondition's, its shared row's)."""
        own = case_key(scenario, case)
        requests = retries = 0
        with self._case_runs_lock:
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
        profile = self.profile().data
        variables = {n: render(v, Context(profile=profile)) for n, v in case.variables.items()}
        reference = str(render(template, Context(profile=profile, variables=variables)))
        scenario_id, _, label = reference.partition("[")
        label = label.removesuffix("]")
        found = self.scenario(scenario_id)
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

    # -- overlapped requests (--concurrency) ---------------------------------------------------
    @property
    def concurrency(self) -> int:
        """Requests in flight at once in this process: 1 under xdist (each worker sends its own
        items one at a time; the workers overlap), else `--concurrency`."""
        if hasattr(self.config, "workerinput"):
            return 1
        return self.settings.concurrency

    def concurrency_text(self) -> str:
        if hasattr(self.config, "workerinput") or self.config.getoption("numprocesses", None):
            return "1 per xdist worker"
        return str(self.settings.concurrency)

    def look_ahead(self, upcoming: list[tuple[Scenario, Case] | None]) -> None:
        """Send ahead the cases of the items about to run, up to the first that must not overlap
        (None: a serial scenario, or an item that is not a scenario case), keeping at most
        `concurrency` cases in flight plus as many queued."""
        if self.concurrency <= 1:
            return
        self.target()  # started and probed here, on the main thread, before any is sent ahead
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="conformance")
        self._in_flight = [f for f in self._in_flight if not f.done()]
        for entry in upcoming:
            if entry is None or len(self._in_flight) >= 2 * self.concurrency:
                break
            scenario, case = entry
            if case_key(scenario, case) in self._sent_ahead:
                continue
            self._sent_ahead.add(case_key(scenario, case))
            self._in_flight.append(self._pool.submit(self._send_ahead, scenario, case))

    def _send_ahead(self, scenario: Scenario, case: Case) -> None:
        """One case sent ahead: its precondition first (a case whose base was refused is not
        sent, as in a serial run), then the case; what it raises is kept for its item."""
        try:
            if self.precondition_problem(scenario, case) is None:
                self.run_case(scenario, case)
        except Exception:  # the item runs the same code again and reports it
            pass

    def set_plan(self, items: list[pytest.Item]) -> None:
        """The order items will run in: what `before_item` looks ahead through."""
        self._plan = [getattr(item, "overlappable", None) for item in items]
        self._position = {item.nodeid: index for index, item in enumerate(items)}

    def before_item(self, item: pytest.Item) -> None:
        """Before an item runs: send ahead the cases that follow it, or, for an item that must
        not overlap them, wait for what is in flight."""
        position = self._position.get(item.nodeid)
        entry = self._plan[position] if position is not None else None
        if entry is None:
            self.drain()
            return
        assert position is not None
        self.look_ahead(self._plan[position:])

    def drain(self) -> None:
        """Wait for every case sent ahead (before an item that must not overlap them)."""
        for future in self._in_flight:
            future.result()
        self._in_flight = []

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        if self._target is not None:
            self._target.close()
        if self._server is not None:
            self._server.stop()


def get_state(config: pytest.Config) -> SessionState:
    return config.stash[STATE_KEY]
