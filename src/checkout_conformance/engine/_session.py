"""The state of one pytest process: settings, the target, the library, the records.

Both the plugin (hooks, fixtures, the verdict) and the scenario items use it; neither imports
the other for it. It puts together the parts with one job each: the suite's scenarios by id
(`_suite_index`), the cases as they run, once each, with their preconditions and shared rows
(`_case_runs`), and the look-ahead that sends the next cases while items report
(`_lookahead`, `--concurrency`).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from .. import _resources
from ..catalog import load_catalog
from ..contract import load_contract
from ..profile import Profile
from ..records import Record
from ..redact import API_KEY_ENV, RedactingLogRecords, Redactor, Secret
from ..results import EXIT_BROKEN
from ..server import EmbeddedServer, ServerDidNotStart
from ..transport import Evidence, KeyRefused, Target, TargetGone, TargetUnreachable
from ._bodies import BodyLibrary
from ._case_runs import NOT_TESTED, CaseRuns, PreconditionLacksProfileKey, case_key
from ._lookahead import LookAhead
from ._model import ExpectationGroups, Library
from ._settings import DEFAULT_REMOTE_CONCURRENCY, Settings, choose_concurrency
from ._suite_index import SCENARIO_SUFFIXES, SuiteIndex
from ._values import ValueClasses

STATE_KEY = pytest.StashKey["SessionState"]()
EXIT_RUN_BROKEN = EXIT_BROKEN  # one code for "the run could not be made" (README)
BROKEN_KEY = "checkout_conformance_broken"


class RunBroken(Exception):
    """The target cannot be tested at all (unreachable, the key refused): the run breaks."""


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
    _chosen_concurrency: int | None = None
    log_records: RedactingLogRecords | None = None  # the key redacted from every log record
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
                values=ValueClasses.load(
                    fixtures / "values.yaml"
                    if (fixtures / "values.yaml").is_file()
                    else _resources.VALUES_PATH
                ),
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
                    concurrency=self.settings.concurrency or DEFAULT_REMOTE_CONCURRENCY,
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

    @functools.cached_property
    def evidence(self) -> Evidence:
        """This process's failing exchanges on disk, bounded."""
        return Evidence(self.settings.failures_dir)

    @functools.cached_property
    def index(self) -> SuiteIndex:
        """The suite's scenarios by id."""
        return SuiteIndex(self.settings.suites, self.library)

    @functools.cached_property
    def runs(self) -> CaseRuns:
        """The scenario cases that ran in this process."""
        return CaseRuns(
            self.index, self.target, self.library, self.profile(), self.settings.charges_allowed
        )

    @functools.cached_property
    def ahead(self) -> LookAhead:
        """The cases sent ahead of their items (`--concurrency`)."""
        return LookAhead(lambda: self.concurrency, self.runs, self.target)

    # -- overlapped requests (--concurrency) ---------------------------------------------------
    @property
    def concurrency(self) -> int:
        """Requests in flight at once in this process: 1 under xdist (each worker sends its own
        items one at a time; the workers overlap), else `--concurrency`, else what the round
        trip measured on the first exchanges calls for (1 until it is measured)."""
        if hasattr(self.config, "workerinput"):
            return 1
        if self.settings.concurrency is not None:
            return self.settings.concurrency
        if self._target is None:
            return 1
        if self._chosen_concurrency is None:  # chosen once, so every part of the run agrees
            self._chosen_concurrency = choose_concurrency(self._target.round_trip_ms())
        return self._chosen_concurrency

    def concurrency_text(self) -> str:
        if hasattr(self.config, "workerinput") or self.config.getoption("numprocesses", None):
            return "1 per xdist worker"
        if self.settings.concurrency is None:
            return "chosen from the round trip"
        return str(self.settings.concurrency)

    def overlap_line(self) -> str | None:
        """Once the target is set up: the round trip and the concurrency it led to, and what
        to change when the run will be slow for a reason the user can change."""
        if self._target is None or hasattr(self.config, "workerinput"):
            return None
        round_trip = self._target.round_trip_ms()
        if round_trip is None:
            return None
        chosen = self.concurrency
        line = (
            f"round trip {round_trip:.0f} ms: {chosen} request{'s' if chosen != 1 else ''}"
            " in flight"
        )
        if self.settings.concurrency is not None:
            line += " (--concurrency)"
            if chosen == 1 and choose_concurrency(round_trip) > 1:
                line += (
                    f"; each request waits {round_trip:.0f} ms for the last: leave --concurrency"
                    f" unset (or set it to {choose_concurrency(round_trip)}) to overlap them"
                )
        return line

    def close(self) -> None:
        if "ahead" in self.__dict__:
            self.ahead.close()
        if self._target is not None:
            self._target.close()
        if self._server is not None:
            self._server.stop()


def get_state(config: pytest.Config) -> SessionState:
    return config.stash[STATE_KEY]


__all__ = [
    "BROKEN_KEY",
    "EXIT_RUN_BROKEN",
    "NOT_TESTED",
    "SCENARIO_SUFFIXES",
    "STATE_KEY",
    "PreconditionLacksProfileKey",
    "RunBroken",
    "SessionState",
    "case_key",
    "get_state",
]
