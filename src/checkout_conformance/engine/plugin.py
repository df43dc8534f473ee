"""The pytest plugin: options, collection of scenario files, the target, the verdict.

Activated by the repository's `conftest.py` (`pytest_plugins`), so installing the package
changes no other pytest session. Under pytest-xdist every worker runs items against its own
target connection (and, for the embedded server, its own server), and the controller gathers
the records and writes the one certificate.
"""

from __future__ import annotations

import contextlib
import functools
import os
import random
import shlex
from collections.abc import Callable, Generator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from .. import __version__, certificate, properties
from .._yamlfile import DataFileError
from ..catalog import load_catalog
from ..contract import load_contract
from ..records import Record, mark_suite_error, new_record, not_tested, settle
from ..redact import API_KEY_ENV, RedactingLogRecords, Redactor
from ..transport import Target, TargetGone, evidence
from . import _allure, _junit
from ._bodies import BodyLibrary
from ._items import RECORD_KEY, BrokenScenarioFile, ScenarioFile, ScenarioItem
from ._session import (
    BROKEN_KEY,
    SCENARIO_SUFFIXES,
    STATE_KEY,
    RunBroken,
    SessionState,
    get_state,
)
from ._settings import Settings, add_options, load_settings, output_style
from ._template import Context, MissingProfileValue, TemplateError, render

SEED_KEY = "checkout_conformance_seed"


def is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def _progress_writer(config: pytest.Config) -> Callable[[properties.Progress], None] | None:
    """Marks on the property test's line while it runs, every few seconds
    (`[1250 sent, 1242 answered, 8 in flight]`), so a run against a slow target shows it is
    moving; the counts only grow. None under xdist workers, which have no terminal."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or is_worker(config):
        return None

    def progress(where: properties.Progress) -> None:
        # Past output capture, as pytest's live logging writes during a test.
        suspended = capture.global_and_fixture_disabled() if capture else contextlib.nullcontext()
        with suspended:
            queued = f", {where.queued} queued" if where.queued else ""
            reporter.write(
                f" [{where.sent} sent, {where.answered} answered, {where.in_flight} in flight"
                f"{queued}]",
                flush=True,
            )

    return progress


def _report_paths(state: SessionState) -> list[str]:
    """Where the other reports of this run are, for the last lines of the summary."""
    config = state.config
    settings = state.settings
    mine = " (your own scenarios: the full run's reports are left as they were)"
    lines = [f"certificate: {settings.certificate_path}{mine if settings.own_reports else ''}"]
    failures = state.settings.failures_dir
    if any(record["failures"] for record in state.records) and failures.is_dir():
        lines.append(f"failing exchanges in full: {failures} (exchange.txt, curl.sh per test)")
    if state.evidence.cut:
        lines.append(
            f"evidence cut: {state.evidence.cut} failing exchanges kept as a summary and a curl"
            f" line only (this run's {failures.name}/ reached {state.evidence.limit >> 20} MiB)"
        )
    for record in state.records:
        if "cases_cache" in record:
            lines.append(f"generated cases of {record['test']}: {record['cases_cache']}")
    allure = getattr(config.option, "allure_report_dir", None)
    if allure:
        lines.append(
            f"Allure results: {allure} (HTML report: checkout-conformance report {allure})"
        )
    html = config.getoption("htmlpath", None)
    if html:
        lines.append(f"HTML report: {Path(html).resolve()}")
    return lines


def _property_failures(error: BaseException) -> list[str]:
    """The messages of the property checks' failures in `error` (one, or a group of distinct
    ones from Hypothesis), in order and without repeats; empty for any other error."""
    if isinstance(error, properties.PropertyFailure):
        return [str(error)]
    if isinstance(error, BaseExceptionGroup):
        found = [text for inner in error.exceptions for text in _property_failures(inner)]
        return list(dict.fromkeys(found))
    return []


def _warned(report: pytest.TestReport) -> bool:
    """A test that passed with a warning: its failures are all of requirements that do not
    fail the run (SHOULD without --fail-on-should, MAY)."""
    record = getattr(report, "conformance", None)
    return (
        report.when == "call"
        and report.passed
        and record is not None
        and bool(record["failures"])
        and not record["blocking"]
    )


def _is_conformance_item(item: pytest.Item) -> bool:
    return isinstance(item, ScenarioItem | BrokenScenarioFile) or (
        "conformance_properties" in getattr(item, "fixturenames", ())
    )


# -- configuration ---------------------------------------------------------------------------
def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    add_options(parser, pluginmanager)


@pytest.hookimpl(tryfirst=True)  # before the terminal reporter reads --tb and -r
def pytest_cmdline_main(config: pytest.Config) -> None:
    """`--conformance-output=short`: pytest's own tracebacks and failed-test list left out
    (`--tb=no -rN`); the summary that ends the run says what failed."""
    if output_style(config) == "short":
        config.option.tbstyle = "no"
        config.option.reportchars = "N"


@pytest.hookimpl(trylast=True)  # after pytest-base-url has read its env var and ini key
def pytest_configure(config: pytest.Config) -> None:
    for level in ("must", "should", "may"):
        config.addinivalue_line("markers", f"{level}: checks a {level.upper()} requirement")
    for area in load_catalog_areas():
        config.addinivalue_line("markers", f"{area.lower()}: checks a requirement of area {area}")
    settings = load_settings(config)
    redactor = Redactor()
    if os.environ.get(API_KEY_ENV):
        redactor.add(os.environ[API_KEY_ENV])
    state = SessionState(config=config, settings=settings, redactor=redactor)
    state.log_records = RedactingLogRecords(redactor)
    state.log_records.install()  # removed in pytest_unconfigure
    state.seed = _seed_for(config, settings)
    # --collect-only lists the suite: it writes (and so clears) nothing.
    state.conformance_run = runs_the_suite(config, settings) and not config.option.collectonly
    config.stash[STATE_KEY] = state
    if state.conformance_run and not is_worker(config):
        _remove_earlier_outputs(config, settings)
    config.pluginmanager.register(SessionReporter(state), "checkout-conformance-session")


def runs_the_suite(config: pytest.Config, settings: Settings) -> bool:
    """Does this session run (part of) the conformance suite? Only such a session writes, and
    so first clears, the certificate and the reports; `pytest tests` in a checkout does not."""
    if not config.args:
        return True
    invocation = Path(config.invocation_params.dir)
    for arg in config.args:
        path = Path(str(arg).split("::", 1)[0])
        path = (path if path.is_absolute() else invocation / path).resolve()
        for folder in (suite.resolve() for suite in settings.suites):
            if path.is_relative_to(folder) or folder.is_relative_to(path):
                return True
    return False


def _remove_earlier_outputs(config: pytest.Config, settings: Settings) -> None:
    """A run always leaves its own outcome: what an earlier run wrote where this one writes
    goes first (certificate and companions, JUnit, Allure results, failures), so that a run
    that breaks never leaves the last run's verdict in place."""
    path = settings.certificate_path
    for stale in (path, *certificate.companion_paths(path), certificate.tests_path(path)):
        stale.unlink(missing_ok=True)
    junit = config.getoption("xmlpath", None)
    if junit:
        Path(junit).unlink(missing_ok=True)
    _allure.clear_results(config)
    evidence.reset(settings.failures_dir)


def _rich_fields(settings: Settings) -> dict[str, Any]:
    """The `full_unconfirmed` body rendered on the profile, without fields it cannot name."""
    try:
        body = BodyLibrary.load(settings.fixtures / "bodies.yaml").unrendered("full_unconfirmed")
    except (DataFileError, KeyError):
        return {}
    context = Context(profile=settings.profile.data)
    fields: dict[str, Any] = {}
    for name, value in body.items():
        try:
            fields[name] = render(value, context)
        except (MissingProfileValue, TemplateError):
            continue
    return fields


def _breaking_strings(state: SessionState) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The classes of strings that break layers below (`breaking.strings` of the value classes
    the scenarios use too), for the property tests; none when the run's values have no such
    list."""
    values = state.library().values
    if values is None or "breaking.strings" not in values:
        return ()
    return tuple(
        (str(entry["label"]), tuple(str(s) for s in entry["value"]))
        for entry in values["breaking.strings"]
    )


def _seed_for(config: pytest.Config, settings: Settings) -> int:
    """The given seed, else the controller's (shared with xdist workers), else a new one."""
    if settings.seed is not None:
        return settings.seed
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None and SEED_KEY in workerinput:
        return int(workerinput[SEED_KEY])
    return random.SystemRandom().randrange(2**32)


def load_catalog_areas() -> list[str]:
    return sorted({requirement.area for requirement in load_catalog()})


def pytest_report_header(config: pytest.Config) -> list[str]:
    state = get_state(config)
    settings = state.settings
    strictness = (
        "MUST and SHOULD fail the run"
        if settings.fail_on_should
        else "MUST fails the run, SHOULD warns"
    )
    return [
        f"checkout-conformance {__version__}: target {settings.target_host}",
        f"  profile: {settings.profile.name} ({settings.profile.kind}, {settings.profile.path})"
        f" | strictness: {strictness}"
        f" | request timeout: {settings.request_timeout:g} s",
        (
            f"  property tests: {settings.examples} examples each, seed {state.seed}"
            if config.pluginmanager.has_plugin("dsession")  # xdist: the controller collects nothing
            else f"  seed {state.seed}"
        )
        + f" (--conformance-seed={state.seed} reproduces the generated requests)"
        + (f" | cases cache: {settings.cases_cache}" if settings.cases_cache else ""),
        f"  pace: {f'{settings.max_rps:g} requests/s' if settings.max_rps else 'none'}"
        f" | concurrency: {state.concurrency_text()}"
        f" | request budget: {settings.max_requests or 'none'}"
        + (
            " | LIVE target"
            + (", charges allowed" if settings.allow_live_charges else ", no charges")
            if settings.live
            else ""
        ),
        f"  certificate: {settings.certificate_path}"
        + (f" | API key: ${API_KEY_ENV}" if not settings.embedded else ""),
    ]


# -- collection ------------------------------------------------------------------------------
def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix not in SCENARIO_SUFFIXES:
        return None
    settings = get_state(parent.config).settings
    if any(file_path.is_relative_to(suite) for suite in settings.suites):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


def is_partial(config: pytest.Config, settings: Settings) -> bool:
    """A run that selects fewer tests than the whole suite cannot claim conformance."""
    option = config.option
    if (
        getattr(option, "keyword", "")
        or getattr(option, "markexpr", "")
        or getattr(option, "deselect", None)
    ):
        return True
    if getattr(option, "lf", False) or getattr(option, "stepwise", False):
        return True
    paths = [Path(str(arg).split("::", 1)[0]) for arg in config.args]
    absolute = [p if p.is_absolute() else Path(config.invocation_params.dir) / p for p in paths]
    resolved = [p.resolve() for p in absolute]
    has_item_selectors = any("::" in str(arg) for arg in config.args)
    return has_item_selectors or not all(
        any(suite.resolve().is_relative_to(path) for path in resolved) for suite in settings.suites
    )


# -- running and reporting -------------------------------------------------------------------
class SessionReporter:
    """The per-session half of the plugin: redaction, records, verdict, exit status, summary.

    Registered in `pytest_configure` as an object, so its hooks see the session's state.
    """

    def __init__(self, state: SessionState) -> None:
        self.state = state

    @pytest.hookimpl(trylast=True)  # after selection (-k, -m) and other reorderings
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """The cases that may bring a target down (scenarios tagged `serial`: hostile bodies
        and framings) run after everything else, in their order, so that a mock that dies on
        one is still judged on every other requirement. The same order on every xdist worker."""
        serial: list[pytest.Item] = [
            item
            for item in items
            if isinstance(item, ScenarioItem) and "serial" in item.scenario.tags
        ]
        if serial:
            chosen = set(map(id, serial))
            items[:] = [item for item in items if id(item) not in chosen] + list(serial)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """The order items run in (what `--concurrency` sends ahead through), and the
        conformance tests collected, each with the requirements it checks."""
        self.state.ahead.set_plan(list(session.items))
        for item in session.items:
            if isinstance(item, ScenarioItem):
                self.state.planned[item.nodeid] = item.scenario.all_requirements()
            elif _is_conformance_item(item):
                self.state.planned[item.nodeid] = (
                    [] if isinstance(item, BrokenScenarioFile) else list(properties.JUDGED)
                )

    def pytest_report_collectionfinish(self, items: list[pytest.Item]) -> list[str]:
        """What the property tests will send, said once the selection is known (the header
        comes before it)."""
        if not self.state.conformance_run:
            return []
        count = sum(
            1 for item in items if "conformance_properties" in getattr(item, "fixturenames", ())
        )
        if not count:
            return ["checkout-conformance: no property test selected (only scenarios run)"]
        examples = self.state.settings.examples
        return [
            f"checkout-conformance: {count} property test{'s' if count != 1 else ''},"
            f" {examples} generated examples each, seed {self.state.seed}"
        ]

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        """xdist: the controller learns what was collected from the workers' node ids."""
        if self.state.planned:
            return
        for nodeid in ids:
            file_part = nodeid.split("::", 1)[0]
            if file_part.endswith(".py"):
                path = (Path(self.state.config.rootpath) / file_part).resolve()
                suites = [suite.resolve() for suite in self.state.settings.suites]
                if any(path.is_relative_to(suite) for suite in suites):
                    self.state.planned[nodeid] = list(properties.JUDGED)
                continue
            requirements = self.state.index.requirements_of(
                nodeid, Path(self.state.config.rootpath)
            )
            if requirements is not None:
                self.state.planned[nodeid] = requirements

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> None:
        """Before the first test: start and probe the target and check the key, so that a
        target that is down or refuses the key breaks the run before any test reports."""
        config = session.config
        if (
            self.state.conformance_run
            and self.state.planned
            and not config.option.collectonly
            and not config.pluginmanager.has_plugin("dsession")  # the xdist controller
        ):
            try:
                self.state.target()
                line = self.state.overlap_line()
                reporter = config.pluginmanager.get_plugin("terminalreporter")
                if line is not None and reporter is not None:
                    reporter.write_line(f"checkout-conformance: {line}")
            except RunBroken as broken:
                message = self.state.break_run(session, str(broken))
                if not is_worker(config):
                    raise session.Interrupted(message) from None
                # An xdist worker runs the test it was handed (not tested: the run broke) and
                # stops; the controller stops the others and reads why.

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        """xdist: a worker whose run broke says why."""
        reason = getattr(node, "workeroutput", {}).get(BROKEN_KEY)
        if reason and self.state.broken is None:
            self.state.broken = str(reason)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, Any, Any]:
        """A target that is gone (no answers, or a 429 storm) breaks the run.

        `TargetGone` comes from the one send path (`Target.exchange`), in scenarios and property
        tests alike, as a BaseException that Hypothesis lets through without shrinking. Distinct
        property failures that Hypothesis reports as a group become one failure (so reports show
        a failed test of those requirements, not an error of the suite).
        """
        try:
            return (yield from self._run_test(item))
        except (TargetGone, RunBroken) as gone:
            self.state.break_run(item.session, str(gone))
            record = item.stash.get(RECORD_KEY, None)
            reason = "not tested: the run broke"
            if record is not None:
                not_tested(record, self.state.planned.get(item.nodeid, []), reason)
                record["failures"] = []
            pytest.skip(reason)
        except BaseExceptionGroup as group:
            found = _property_failures(group)
            if not found:
                raise
            raise properties.PropertyFailure("\n\n".join(found)) from None

    def _run_test(self, item: pytest.Item) -> Generator[None, Any, Any]:
        if not isinstance(item, ScenarioItem):  # never overlapped with cases sent ahead
            self.state.ahead.drain()
        run = getattr(item, "funcargs", {}).get("conformance_properties")
        if not isinstance(run, properties.PropertyRun):
            return (yield)
        record = item.stash.get(RECORD_KEY, None)
        _allure.label_property_test(
            item,
            load_catalog(),
            self.state.settings.catalog_url,
            list(properties.JUDGED),
            self.state.seed,
        )
        if run.mode(self.state.concurrency) == "pipelined":
            run.start_pipeline(self.state.concurrency)  # requests overlap, judged after
            try:
                result = yield
            finally:
                clean = run.finish_pipeline()
            if not clean:  # again, one case at a time on the answers kept: Hypothesis shrinks
                item.runtest()
        else:
            result = yield
        if run.will_keep and record is not None:  # it held: its cases serve the next run
            record["cases_cache"] = run.keep_cases(self._cases_key(item)) or ""
        return result

    @pytest.hookimpl(tryfirst=True)
    def pytest_pyfunc_call(self, pyfuncitem: pytest.Function) -> bool | None:
        """--cases-cache: a property test whose cases were kept sends them again instead of
        generating them; if every verdict holds, that is the test (True: nothing else runs)."""
        run = pyfuncitem.funcargs.get("conformance_properties")
        if (
            not isinstance(run, properties.PropertyRun)
            or run.mode(self.state.concurrency) != "replay"
        ):
            return None
        if run.replay(self.state.concurrency):
            record = pyfuncitem.stash.get(RECORD_KEY, None)
            if record is not None and run.cache_path is not None:
                record["cases_cache"] = f"replayed from {run.cache_path}"
            return True
        return None  # a verdict failed: generated as usual, judged on the answers kept, shrunk

    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, Any, Any]:
        """Settle the item's record and give pytest the outcome it means (xdist-safe: the
        record travels on the report): a test whose failures are all warnings *passed* with a
        warning (so -x and --maxfail never stop on one); an exception the suite did not expect
        is a suite error with the test's file:line, not a traceback."""
        report = yield
        record = item.stash.get(RECORD_KEY, None)
        if report.when == "call" and call.excinfo is not None:
            found = _property_failures(call.excinfo.value)
            if found:  # what the checks found, without the suite's source or Hypothesis' hints
                report.longrepr = "\n\n".join(found)
        if record is not None and report.when == "call":
            target = self.state.current_target()
            if target is not None and target.pace is not None:
                record["pace"] = round(target.pace, 3)
            if report.failed and not record["failures"] and record["kind"] != "suite_error":
                assert call.excinfo is not None
                error = f"{record['location']}: the suite failed: {call.excinfo.exconly()}"
                mark_suite_error(record, self.state.redactor.text(error))
                report.longrepr = record["error"]
            settle(record, load_catalog(), self.state.settings.fail_on_should)
            if report.failed and record["failures"] and not record["blocking"]:
                report.outcome = "passed"  # a warning: shown as W, listed, never fails the run
            report.conformance = record
            if self.state.broken is not None:
                report.conformance_broken = self.state.broken
            _allure.label_requirements(item, record)
        redactor = self.state.redactor
        if redactor:
            if report.longrepr is not None and not isinstance(report.longrepr, tuple):
                report.longrepr = redactor.text(str(report.longrepr))
            report.sections = [(title, redactor.text(text)) for title, text in report.sections]
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Gather records where the certificate is written (the controller, or the only process)."""
        if is_worker(self.state.config):
            return
        self.state.reported.add(report.nodeid)
        broken = getattr(report, "conformance_broken", None)
        if broken and self.state.broken is None:
            self.state.broken = str(broken)
        record = getattr(report, "conformance", None)
        if record is not None:
            self.state.records.append(record)

    def pytest_report_teststatus(self, report: pytest.TestReport) -> tuple[str, str, Any] | None:
        """A test that passed with a warning is shown as one."""
        if _warned(report):
            return "warned", "W", ("WARNED", {"yellow": True})
        return None

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """Write the certificate (the one outcome of the run) and take the exit status from
        it; every other report renders that certificate."""
        state = self.state
        if is_worker(state.config) or not state.conformance_run:
            return
        if state.broken is None and exitstatus == pytest.ExitCode.INTERRUPTED:
            state.broken = "interrupted before the run was complete"
        if state.broken is None and exitstatus == pytest.ExitCode.INTERNAL_ERROR:
            state.broken = "pytest met an internal error (see the output above)"
        if not state.records and state.broken is None and not state.planned:
            return  # nothing collected (a -k that matches nothing): pytest says so, exit 5
        not_run = self._records_of_tests_not_run()
        document = self._certificate(state.records + not_run)
        state.summary = document
        _allure.write_run_files(state.config, document)
        if exitstatus not in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERNAL_ERROR):
            session.exitstatus = document["exit_status"]

    def _records_of_tests_not_run(self) -> list[Record]:
        """A record for each collected conformance test that never reported: its
        requirements are not tested (the run stopped early, or broke)."""
        state = self.state
        reason = (  # the reason the run broke is said once, in the certificate's `broken`
            "not tested: the run broke before this test ran"
            if state.broken
            else "not tested: the run stopped before this test ran (-x, --maxfail or an exit)"
        )
        found = []
        for nodeid, requirements in state.planned.items():
            if nodeid in state.reported:
                continue
            record = new_record("scenario", nodeid, nodeid.split("::", 1)[0])
            not_tested(record, requirements, reason)
            found.append(record)
        return found

    def _certificate(self, records: list[Record]) -> dict[str, Any]:
        state = self.state
        profile = state.profile()
        settings = state.settings
        not_run = sum(1 for nodeid in state.planned if nodeid not in state.reported)
        info = certificate.RunInfo(
            target_host=settings.target_host if not settings.embedded else "127.0.0.1",
            embedded=settings.embedded,
            profile_name=profile.name,
            profile_kind=profile.kind,
            fail_on_should=settings.fail_on_should,
            partial=is_partial(state.config, settings),
            started=state.started,
            finished=datetime.now(UTC),
            seed=state.seed,
            command_line=state.redactor.text(
                shlex.join(
                    [
                        "pytest",
                        *certificate.portable_command(
                            map(str, state.config.invocation_params.args),
                            Path(state.config.invocation_params.dir),
                        ),
                    ]
                )
            ),
            implementation_name=settings.implementation_name,
            implementation_version=settings.implementation_version,
            scenario_files=certificate.scenario_hashes(settings.suites),
            max_rps=settings.max_rps,
            switches={
                "allow_live": settings.allow_live,
                "allow_live_charges": settings.allow_live_charges,
            },
            broken=state.broken,
            not_run=not_run,
        )
        document: dict[str, Any] = state.redactor.value(
            certificate.build(records, load_catalog(), load_contract(), info)
        )
        tests = state.redactor.value(certificate.tests_index(records, load_catalog()))
        certificate.write(document, tests, settings.certificate_path)
        return document

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_terminal_summary(self, terminalreporter: Any) -> Generator[None]:
        """The outcome last: around pytest's own summary (failures, the short test summary),
        so that the tail of a CI log holds the verdict and every failed MUST requirement."""
        state = self.state
        document = state.summary
        if is_worker(state.config) or document is None:
            return (yield)
        warned = terminalreporter.stats.get("warned", [])
        if warned and terminalreporter.config.option.tbstyle != "no":
            terminalreporter.section("SHOULD warnings", sep="=", yellow=True)
            for report in warned:
                terminalreporter.section(report.head_line or report.nodeid, sep="_")
                terminalreporter.write_line(str(report.longrepr))
        try:
            return (yield)
        finally:
            terminalreporter.section("checkout-conformance", sep="=", bold=True)
            for line in _report_paths(state):
                terminalreporter.write_line(line)
            for line in certificate.terminal_lines(document, load_catalog().headline):
                terminalreporter.write_line(line)

    @pytest.hookimpl(tryfirst=True)
    def pytest_pycollect_makeitem(self, collector: pytest.Collector, name: str, obj: Any) -> None:
        """Before schemathesis collects a property test, its module's contract schema gets this
        run's seed, budget and profile (the property tests' settings, without a global)."""
        if not isinstance(collector, pytest.Module):
            return
        schema = getattr(collector.obj, "schema", None)
        if schema is not None and properties.is_contract_schema(schema):
            properties.configure_schema(schema, self._property_settings)

    def _cases_key(self, item: pytest.Item) -> str:
        return properties.cases_key(self._property_settings, item.nodeid, item.path)

    @functools.cached_property
    def _property_settings(self) -> properties.PropertySettings:
        """What the property tests are generated from (fixed for the session: read once)."""
        settings = self.state.settings
        return properties.PropertySettings(
            examples=settings.examples,
            seed=self.state.seed,
            profile_ids=dict(settings.profile.data),
            rich_fields=_rich_fields(settings),
            charges_allowed=settings.charges_allowed,
            breaking_strings=_breaking_strings(self.state),
        )

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        """After pytest has written its JUnit file: make it agree with the certificate."""
        state = self.state
        junit = config.getoption("xmlpath", None)
        document = state.summary
        if junit and not is_worker(config) and document is not None and Path(junit).is_file():
            _junit.rewrite(Path(junit), state.records, document)
        state.close()
        if state.log_records is not None:
            state.log_records.uninstall()

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """xdist: every worker generates with the controller's seed."""
        node.workerinput[SEED_KEY] = self.state.seed

    @pytest.fixture
    def conformance_target(self) -> Target:
        """The implementation under test, as the scenarios see it."""
        return self.state.target()

    @pytest.fixture
    def conformance_properties(
        self, request: pytest.FixtureRequest
    ) -> Generator[properties.PropertyRun]:
        """A property test's connection to the target and its record for the certificate."""
        item = request.node
        record = new_record("property", item.nodeid, f"{item.path.name} (seed {self.state.seed})")
        record["title"] = f"requests generated from the contract (seed {self.state.seed})"
        item.stash[RECORD_KEY] = record
        run = properties.PropertyRun(
            target=self.state.target(),
            catalog=load_catalog(),
            contract=load_contract(),
            seed=self.state.seed,
            record=record,
            charges_allowed=self.state.settings.charges_allowed,
            failures=self.state.evidence,
            on_progress=_progress_writer(request.config),
        )
        folder = self.state.settings.cases_cache
        if folder is not None:
            run.use_cache(properties.CaseCache(folder, self._cases_key(item)))
        yield run
        for folder in sorted(run.evidence):  # the final failing example of each requirement
            _allure.attach_file(request.config, folder / "exchange.txt", f"{folder.name} (full)")
        wanted = (
            self.state.profile().get("payment_method_id") and self.state.settings.charges_allowed
        )
        if run.positive_cases and not run.charged_cases and wanted:
            pytest.fail(
                f"suite error: none of {run.positive_cases} generated positive cases carried"
                " payment_method_id, so CURL-001 was not exercised; raise --examples"
            )


__all__ = ["STATE_KEY", "SessionReporter", "SessionState", "get_state"]
