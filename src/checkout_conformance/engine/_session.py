"""The state of one pytest process: settings, the target, the library, the records.

Both the plugin (hooks, fixtures, the verdict) and the scenario items use it; neither imports
the other for it. It also keeps each scenario case that ran in this process, so that a case
another case depends on (its `precondition`) is sent once, whichever of them runs first.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from .._yamlfile import DataFileError
from ..catalog import load_catalog
from ..contract import load_contract
from ..profile import Profile
from ..records import Record
from ..redact import API_KEY_ENV, Redactor, Secret
from ..server import EmbeddedServer, ServerDidNotStart
from ..transport import BudgetExhausted, KeyRefused, Target, TargetUnreachable
from ._bodies import BodyLibrary
from ._expand import Case, expand
from ._model import ExpectationGroups, Library, Scenario, load_scenarios
from ._runner import CaseRun, LiveChargeRefused, run_case
from ._settings import Settings
from ._template import MissingProfileValue

STATE_KEY = pytest.StashKey["SessionState"]()
EXIT_TARGET_UNREACHABLE = 3
EXIT_RUN_BROKEN = EXIT_TARGET_UNREACHABLE  # one code for "the run could not be made" (README)
SCENARIO_SUFFIXES = (".yaml", ".yml")
# What makes a case *not tested* rather than failed.
NOT_TESTED = (MissingProfileValue, BudgetExhausted, LiveChargeRefused)


@dataclass
class SessionState:
    """Everything the plugin keeps for one pytest process."""

    config: pytest.Config
    settings: Settings
    redactor: Redactor
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    records: list[Record] = field(default_factory=list)
    blocking_failures: int = 0
    warning_failures: list[str] = field(default_factory=list)
    _library: Library | None = None
    _target: Target | None = None
    _server: EmbeddedServer | None = None
    summary: dict[str, Any] | None = None
    seed: int = 0
    _scenarios: dict[str, tuple[Scenario, list[Case]]] | None = None
    _case_runs: dict[tuple[str, str], CaseRun | Exception] = field(default_factory=dict)
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
                pytest.exit(
                    f"checkout-conformance: target unreachable: {exc}", EXIT_TARGET_UNREACHABLE
                )
            except KeyRefused as exc:
                target.close()
                pytest.exit(f"checkout-conformance: {exc}", EXIT_TARGET_UNREACHABLE)
            self._target = target
        return self._target

    def current_target(self) -> Target | None:
        """The target if one was set up (never starts one)."""
        return self._target

    def scenario(self, scenario_id: str) -> tuple[Scenario, list[Case]] | None:
        """A scenario of the suite by id, with its cases (every suite file, read once)."""
        if self._scenarios is None:
            self._scenarios = {}
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
                        cases = expand(found.expand, library.contract, library.bodies)
                        self._scenarios[found.id] = (found, cases)
        return self._scenarios.get(scenario_id)

    def run_case(self, scenario: Scenario, case: Case) -> CaseRun:
        """Run one case against the target, once per process; later calls get the same run.

        What made it not tested (a missing profile value, the budget, a live charge) is kept and
        raised again, so a case and those that depend on it agree.
        """
        key = (scenario.id, case.label)
        found = self._case_runs.get(key)
        if isinstance(found, CaseRun):
            return found
        if isinstance(found, Exception):
            raise found
        try:
            run = run_case(
                scenario, case, self.target(), self.library(), self.settings.charges_allowed
            )
        except NOT_TESTED as not_tested:
            self._case_runs[key] = not_tested
            raise
        self._case_runs[key] = run
        return run

    def close(self) -> None:
        if self._target is not None:
            self._target.close()
        if self._server is not None:
            self._server.stop()


def get_state(config: pytest.Config) -> SessionState:
    return config.stash[STATE_KEY]
