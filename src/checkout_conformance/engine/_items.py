"""Scenario files as pytest collectors, scenario cases as pytest items (public pytest API only).

A `ScenarioFile` parses one YAML file and yields one `ScenarioItem` per case; a file that cannot
be parsed yields a single `BrokenScenarioFile` item that fails with `file:line: what`, so one bad
file never stops the session. Items carry their requirements as markers (level and area too),
keywords (`-k AUTH-001`) and JUnit properties, and leave a record for the certificate.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from .._yamlfile import DataFileError, display_path
from ..catalog import Catalog, blocks_run, worst_level
from ..records import (
    Record,
    mark_suite_error,
    new_record,
    not_covered,
    not_tested,
    suite_error,
)
from ..transport import evidence
from . import _allure
from ._bodies import BodyError
from ._expand import Case, expand
from ._matchers import Mismatch
from ._model import Scenario, load_scenarios
from ._runner import CaseRun
from ._session import NOT_TESTED, PreconditionLacksProfileKey, get_state
from ._template import MissingProfileValue, TemplateError

RECORD_KEY = pytest.StashKey[Record]()


class ScenarioFailed(AssertionError):
    """The implementation did not meet a scenario's expectations; the text is already redacted."""

    __module__ = "builtins"  # reports (Allure) show `ScenarioFailed: [MUST] ...`, no module path


class ScenarioWarned(ScenarioFailed):
    """Only requirements that do not fail the run (SHOULD, MAY) were missed: a pass with a
    warning, named so wherever the exception's name is shown (Allure's status details)."""

    __module__ = "builtins"


class TransportFailed(AssertionError):
    """The target gave no response (refused, timed out, cut off): a failure of the target."""

    __module__ = "builtins"


class PreconditionFailed(Exception):
    """The accepted request a case builds on was not accepted: the case is not tested."""


class ScenarioError(Exception):
    """The scenario itself is wrong (bad path, unknown variable): a suite error, not a verdict."""

    __module__ = "builtins"


class ScenarioFile(pytest.File):
    """One scenario YAML file."""

    def collect(self) -> Iterator[pytest.Item]:
        state = get_state(self.config)
        try:
            scenarios, errors = load_scenarios(self.path, state.library())
            cases = [
                (scenario, case)
                for scenario in scenarios
                for case in expand(
                    scenario.expand,
                    state.library().contract,
                    state.library().bodies,
                    state.library().values,
                )
            ]
        except DataFileError as error:
            yield BrokenScenarioFile.from_parent(self, name="invalid-scenario-file", error=error)
            return
        for wrong in errors:  # the file's other scenarios still run
            name = f"invalid-scenario-at-line-{wrong.line or 1}"
            yield BrokenScenarioFile.from_parent(self, name=name, error=wrong)
        clashing = set()
        for scenario in scenarios:
            first = state.index.id_clash(scenario)
            if first is not None:
                clashing.add(scenario.id)
                clash = DataFileError(
                    scenario.path,
                    scenario.line,
                    f"scenario id {scenario.id!r} is already used at {first}"
                    " (ids are unique across every suite a run collects)",
                )
                name = f"invalid-scenario-at-line-{scenario.line}"
                yield BrokenScenarioFile.from_parent(self, name=name, error=clash)
        for scenario, case in cases:
            if scenario.id in clashing:
                continue
            name = f"{scenario.id}[{case.label}]" if case.label else scenario.id
            yield ScenarioItem.from_parent(self, name=name, scenario=scenario, case=case)


class BrokenScenarioFile(pytest.Item):
    """Stands for a scenario file that could not be read, and fails with the reason."""

    def __init__(self, *, error: DataFileError, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.error = error

    def runtest(self) -> None:
        location = f"{self.error.path}:{self.error.line or 1}"
        self.stash[RECORD_KEY] = suite_error(self.nodeid, location, str(self.error))
        raise ScenarioError(str(self.error))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if self.name == "invalid-scenario-file":
            return f"invalid scenario file: {self.error}"
        return f"invalid scenario (the file's other scenarios still run): {self.error}"

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, (self.error.line or 1) - 1, f"invalid scenario file {self.path.name}"


class ScenarioItem(pytest.Item):
    """One case of one scenario: a request (or several steps) and its expectations."""

    def __init__(self, *, scenario: Scenario, case: Case, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self.case = case
        catalog = get_state(self.config).library().catalog
        requirements = scenario.all_requirements()
        self.extra_keyword_matches.update(requirements)
        registered = {line.split(":", 1)[0].strip() for line in self.config.getini("markers")}
        for marker in self._markers(catalog, requirements):
            if marker not in registered:  # scenario tags are markers, usable with -m
                self.config.addinivalue_line("markers", f"{marker}: scenario tag")
            self.add_marker(marker)
        for requirement in requirements:
            self.user_properties.append(("requirement", requirement))
        self.run: CaseRun | None = None

    @property
    def overlappable(self) -> tuple[Scenario, Case] | None:
        """This item's case, if it may be sent while others are in flight (`--concurrency`);
        None for a scenario tagged `serial`."""
        return None if "serial" in self.scenario.tags else (self.scenario, self.case)

    def _markers(self, catalog: Catalog, requirements: list[str]) -> list[str]:
        levels = {catalog[r].level.lower() for r in requirements}
        areas = {catalog[r].area.lower() for r in requirements}
        return sorted(levels | areas | set(self.scenario.tags))

    # -- running -----------------------------------------------------------------------------
    def runtest(self) -> None:
        state = get_state(self.config)
        library = state.library()
        record = new_record("scenario", self.nodeid, self.scenario.location)
        record["title"] = self.scenario.title
        record["written_for"] = list(self.scenario.requirements)
        for value in self.case.variables.values():
            if isinstance(value, Mapping) and isinstance(value.get("decision"), Mapping):
                decision = value["decision"]
                record["decision"] = {
                    "rule": str(decision["rule"]),
                    "requirement": str(decision["requirement"]),
                    "covers": str(decision["covers"]),
                    "outcome": str(decision["outcome"]),
                    "condition": str(decision["condition"]),
                    "conditions": int(decision["conditions"]),
                }
            if isinstance(value, Mapping) and "pairwise" in value:
                row = value["pairwise"]
                record["combination"] = {
                    "set": list(row["set"]),
                    "of": list(row["of"]),
                    "requires": dict(row["requires"]),
                }
        self.stash[RECORD_KEY] = record
        _allure.label(self, library.catalog, state.settings.catalog_url)
        target = state.target()
        state.ahead.before_item(self)
        try:
            problem = state.runs.precondition_problem(self.scenario, self.case)
            if problem is not None:
                raise PreconditionFailed(problem)
            self.run = state.runs.run_case(self.scenario, self.case)
        except MissingProfileValue as missing:  # an optional key: not covered (spec's rule)
            reason = f"not covered: the profile {target.profile.name!r} has no `{missing.key}`"
            if isinstance(missing, PreconditionLacksProfileKey):
                reason += f" (needed by its precondition {missing.reference})"
            not_covered(record, self.scenario.all_requirements(), missing.key, reason)
            pytest.skip(reason)
        except (*NOT_TESTED, PreconditionFailed) as skipped:
            reason = "not tested: " + str(skipped).removeprefix("not tested: ")
            not_tested(record, self.scenario.all_requirements(), reason)
            pytest.skip(reason)
        except (TemplateError, BodyError) as error:
            message = f"{self.scenario.location}: {error}"
            mark_suite_error(record, message)
            raise ScenarioError(message) from None
        finally:
            record["requests"], record["rate_limited"] = state.runs.claim_requests(
                self.scenario, self.case
            )
        run = self.run
        assert run is not None
        _allure.attach_run(self, run, target.redactor)
        record["requirements"] = run.requirement_status()
        never_applied = run.not_applicable()
        if never_applied:
            record["not_applicable"] = never_applied
        mismatches = run.mismatches
        if not mismatches:
            self._release(run)
            return
        last = run.steps[-1].exchange
        for mismatch in mismatches:
            record["failures"].append(
                {
                    "requirement": mismatch.requirement,
                    "reason": target.redactor.text(f"{self.name}: {mismatch.render()}"),
                    "evidence": {
                        "request": target.redactor.text(last.request.line),
                        "status": last.status,
                        "request_bytes": len(last.request.body or b""),
                        "expectation": target.redactor.text(
                            f"{mismatch.expected} ({mismatch.source})"
                        ),
                        "actual": target.redactor.text(mismatch.actual),
                    },
                }
            )
        # The record is settled once, by the plugin (makereport); the header needs the level.
        worst = worst_level({library.catalog[m.requirement].level for m in mismatches})
        text = self.failure_text(run, mismatches, worst)
        folder = state.evidence.write(self.nodeid, last, target.redactor, text)
        failed = frozenset(m.requirement for m in mismatches)
        if failed in state.shown_in_full:
            text = self.failure_text(run, mismatches, worst, brief=True)
        state.shown_in_full.add(failed)
        text += f"\nfull exchange and curl.sh: {display_path(folder)}"
        self._release(run)
        if run.steps[-1].exchange.status is None:
            raise TransportFailed(text)
        levels = {library.catalog[m.requirement].level for m in mismatches}
        if not blocks_run(levels, state.settings.fail_on_should):
            raise ScenarioWarned(text)
        raise ScenarioFailed(text)

    @staticmethod
    def _release(run: CaseRun) -> None:
        """The case is judged and its evidence written: its answers' bodies need not stay in
        memory whole (a server answering 50 MB would otherwise hold the process)."""
        for step in run.steps:
            step.exchange.trim(evidence.SHARED_BODY_CHARS)

    # -- reporting ---------------------------------------------------------------------------
    def failure_text(
        self, run: CaseRun, mismatches: list[Mismatch], worst: str, brief: bool = False
    ) -> str:
        """The header, the title, what differed; then the exchange, unless `brief` (a failure
        of the same requirements was shown whole already: then the curl line alone)."""
        state = get_state(self.config)
        catalog = state.library().catalog
        redactor = state.target().redactor
        failed = ", ".join(dict.fromkeys(m.requirement for m in mismatches))
        first = catalog[self.scenario.requirements[0]]
        lines = [
            f"[{worst}] {failed} · {self.name} · {self.scenario.location}",
            f"{self.scenario.title} ({first.id}: {first.text})",
            "",
        ]
        width = min(max(len(m.render()) for m in mismatches), 72)
        for mismatch in mismatches:
            requirement = catalog[mismatch.requirement]
            lines.append(
                f"  x {mismatch.render():<{width}}"
                f"  [{requirement.id} {requirement.level}, {mismatch.source}]"
            )
        step_run = run.steps[-1]
        if brief:
            lines += ["", "reproduce:", _indent(step_run.exchange.curl(redactor))]
            return redactor.text("\n".join(lines))
        step_note = f"step {len(run.steps)} of {len(self.scenario.steps)}: {step_run.step.name}"
        lines += [
            "",
            f"request ({step_note}):",
            _indent(step_run.exchange.render_request(redactor)),
            "response:",
            _indent(step_run.exchange.render_response(redactor)),
            "reproduce:",
            _indent(step_run.exchange.curl(redactor)),
        ]
        return redactor.text("\n".join(lines))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, ScenarioFailed | ScenarioError | TransportFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, self.scenario.line - 1, f"{self.name}: {self.scenario.title}"


def _indent(text: str, prefix: str = "  ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())
