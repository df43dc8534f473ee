"""The pytest plugin: options, collection of scenario files, the target, the verdict.

Activated by the repository's `conftest.py` (`pytest_plugins`), so installing the package
changes no other pytest session. Under pytest-xdist every worker runs items against its own
target connection (and, for the embedded server, its own server), and the controller gathers
the records and writes the one certificate.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import random
import shlex
from collections.abc import Callable, Generator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from .. import __version__, certificate, properties, results
from .._yamlfile import DataFileError
from ..catalog import blocks_run, load_catalog
from ..contract import load_contract
from ..records import new_record, settle
from ..redact import API_KEY_ENV, RedactingFilter, Redactor
from ..transport import Target, TargetGone, evidence
from . import _allure, _junit
from ._bodies import BodyLibrary
from ._items import RECORD_KEY, ScenarioFile, ScenarioItem
from ._session import (
    EXIT_RUN_BROKEN,
    EXIT_TARGET_UNREACHABLE,
    SCENARIO_SUFFIXES,
    STATE_KEY,
    SessionState,
    get_state,
)
from ._settings import Settings, add_options, load_settings
from ._template import Context, MissingProfileValue, TemplateError, render

SEED_KEY = "checkout_conformance_seed"
REDACTED_LOGGERS = ("httpx", "httpcore", "urllib3", "schemathesis", "hypothesis")


def is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def _progress_writer(config: pytest.Config) -> Callable[[int], None] | None:
    """Marks on the property test's line while it runs (`… 250 500 …` cases), so a long run
    shows it is moving; none under xdist workers, which have no terminal."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or is_worker(config):
        return None

    def progress(cases: int) -> None:
        # Past output capture, as pytest's live logging writes during a test.
        suspended = capture.global_and_fixture_disabled() if capture else contextlib.nullcontext()
        with suspended:
            reporter.write(f" {cases}", flush=True)

    return progress


def _short(test: str) -> str:
    """A test's name without its file: the scenario id and case, or the property test."""
    return test.rsplit("::", 1)[-1]


def _report_paths(state: SessionState) -> list[str]:
    """Where the other reports of this run are, for the last lines of the summary."""
    config = state.config
    lines = []
    failures = state.settings.failures_dir
    if any(record["failures"] for record in state.records) and failures.is_dir():
        lines.append(f"failing exchanges in full: {failures} (exchange.txt, curl.sh per test)")
    for record in state.records:
        if "cases_cache" in record:
            lines.append(f"generated cases of {record['test']}: {record['cases_cache']}")
    allure = getattr(config.option, "allure_report_dir", None)
    if allure:
        lines.append(f"Allure results: {allure} (HTML report: scripts/allure-report)")
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


def _only_warns(report: pytest.TestReport) -> bool:
    """A failed test whose failures are all of requirements that do not fail the run (SHOULD
    without --fail-on-should, MAY). A test that failed for any other reason (a suite error, an
    exception of the suite's own) always fails the run."""
    record = getattr(report, "conformance", None)
    return record is not None and bool(record["failures"]) and not record["blocking"]


# -- configuration ---------------------------------------------------------------------------
def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


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
    log_filter = RedactingFilter(redactor)
    for name in REDACTED_LOGGERS:
        logging.getLogger(name).addFilter(log_filter)
    state = SessionState(config=config, settings=settings, redactor=redactor)
    state.seed = _seed_for(config, settings)
    config.stash[STATE_KEY] = state
    if not is_worker(config):
        evidence.reset(settings.failures_dir)
    config.pluginmanager.register(SessionReporter(state), "checkout-conformance-session")


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
        f"  property tests: {settings.examples} examples, seed {state.seed}"
        f" (--conformance-seed={state.seed} reproduces them)"
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

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """The order items run in: what `--concurrency` sends ahead through."""
        self.state.set_plan(list(session.items))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, Any, Any]:
        """A target that is gone (no answers, or a 429 storm) ends the session with one error.

        `TargetGone` comes from the one send path (`Target.exchange`), in scenarios and property
        tests alike, as a BaseException that Hypothesis lets through without shrinking.
        """
        if not isinstance(item, ScenarioItem):  # never overlapped with cases sent ahead
            try:
                self.state.drain()
            except TargetGone as gone:
                pytest.exit(f"checkout-conformance: {gone}", EXIT_TARGET_UNREACHABLE)
        record = item.stash.get(RECORD_KEY, None)
        if record is not None and record["kind"] == "property":  # Allure names tests at setup
            _allure.label_property_test(
                item,
                load_catalog(),
                self.state.settings.catalog_url,
                list(properties.JUDGED),
                self.state.seed,
            )
        run = getattr(item, "funcargs", {}).get("conformance_properties")
        if not isinstance(run, properties.PropertyRun):
            try:
                return (yield)
            except TargetGone as gone:
                pytest.exit(f"checkout-conformance: {gone}", EXIT_TARGET_UNREACHABLE)
        try:
            if self.state.concurrency > 1 and not run.will_replay:
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
        except TargetGone as gone:
            pytest.exit(f"checkout-conformance: {gone}", EXIT_TARGET_UNREACHABLE)

    @pytest.hookimpl(tryfirst=True)
    def pytest_pyfunc_call(self, pyfuncitem: pytest.Function) -> bool | None:
        """--cases-cache: a property test whose cases were kept sends them again instead of
        generating them; if every verdict holds, that is the test (True: nothing else runs)."""
        run = pyfuncitem.funcargs.get("conformance_properties")
        if not isinstance(run, properties.PropertyRun) or not run.will_replay:
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
        """Redact every report, and hand the item's record to the controller (xdist-safe)."""
        report = yield
        if report.when == "call" and call.excinfo is not None:
            found = _property_failures(call.excinfo.value)
            if found:  # what the checks found, without the suite's source or Hypothesis' hints
                report.longrepr = "\n\n".join(found)
        redactor = self.state.redactor
        if redactor:
            if report.longrepr is not None and not isinstance(report.longrepr, tuple):
                report.longrepr = redactor.text(str(report.longrepr))
            report.sections = [(title, redactor.text(text)) for title, text in report.sections]
        record = item.stash.get(RECORD_KEY, None)
        if record is not None and report.when == "call":
            target = self.state.current_target()
            if target is not None and target.pace is not None:
                record["pace"] = round(target.pace, 3)
            settle(record, load_catalog(), self.state.settings.fail_on_should)
            report.conformance = record
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Gather records where the certificate is written (the controller, or the only process)."""
        if is_worker(self.state.config):
            return
        record = getattr(report, "conformance", None)
        if record is not None:
            self.state.records.append(record)
        if report.failed:
            if _only_warns(report):
                self.state.warning_failures.append(report.nodeid)
            else:
                self.state.blocking_failures += 1

    def pytest_report_teststatus(self, report: pytest.TestReport) -> tuple[str, str, Any] | None:
        """A failure of SHOULD/MAY requirements only is shown as a warning, not a failure."""
        if report.when == "call" and report.failed and _only_warns(report):
            return "warned", "W", ("WARNED", {"yellow": True})
        return None

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        state = self.state
        if is_worker(state.config) or not state.records:
            return
        profile = state.profile()
        settings = state.settings
        root = Path(state.config.rootpath)
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
                shlex.join(["pytest", *map(str, state.config.invocation_params.args)])
            ),
            implementation_name=settings.implementation_name,
            implementation_version=settings.implementation_version,
            scenario_files=certificate.scenario_hashes(settings.suites, root),
            max_rps=settings.max_rps,
            switches={
                "allow_live": settings.allow_live,
                "allow_live_charges": settings.allow_live_charges,
            },
        )
        document = state.redactor.value(
            certificate.build(state.records, load_catalog(), load_contract(), info)
        )
        tests = state.redactor.value(certificate.tests_index(state.records, load_catalog()))
        certificate.write(document, tests, settings.certificate_path)
        state.summary = document
        _allure.write_run_files(state.config, document)
        if document["suite_errors"] and session.exitstatus in (
            pytest.ExitCode.OK,
            pytest.ExitCode.TESTS_FAILED,
        ):
            session.exitstatus = EXIT_RUN_BROKEN  # a bad scenario file: the run is not whole
        elif session.exitstatus == pytest.ExitCode.TESTS_FAILED and state.blocking_failures == 0:
            session.exitstatus = pytest.ExitCode.OK

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        state = self.state
        document = state.summary
        if is_worker(state.config) or document is None:
            return
        warned = terminalreporter.stats.get("warned", [])
        if warned and terminalreporter.config.option.tbstyle != "no":
            terminalreporter.section("SHOULD warnings", sep="=", yellow=True)
            for report in warned:
                terminalreporter.section(report.head_line or report.nodeid, sep="_")
                terminalreporter.write_line(str(report.longrepr))
        write = terminalreporter.write_line
        terminalreporter.section("checkout-conformance", sep="=", bold=True)
        partial = "  [partial run]" if document["run"]["partial"] else ""
        write(f"verdict: {document['verdict']} ({document['verdict_rule']}){partial}")
        for level in ("MUST", "SHOULD", "MAY"):
            row = document["summary"][level]
            write(
                f"  {level:<6} {row['passed']:>3}/{row['total']:<3} passed, {row['failed']} failed,"
                f" {row['not_tested']} not tested"
            )
        sent = document["run"]["requests"]
        write(
            f"  requests: {sent['total']} ({sent['scenarios']} scenarios, {sent['generated']}"
            f" generated; {sent['retries_after_429']} retries after a 429)"
        )
        for combo in document["run"]["combinations"]:
            write(
                f"  combinations: {combo['scenario']}: {combo['fields']} fields,"
                f" {combo['passed_rows']}/{combo['rows']} rows passed; pairwise"
                f" {combo['pairwise']:.0%}, three-way {combo['three_way']:.0%}"
            )
        for group in results.failure_groups(state.records, load_catalog()):
            blocks = blocks_run({group.level}, state.settings.fail_on_should)
            marker = "FAILED " if blocks else "WARNING"
            count = len(group.tests)
            write(
                f"  {marker} {group.requirement} ({group.level}) failed in {count}"
                f" test{'s' if count != 1 else ''}: {group.reason}"
            )
            test, location = group.tests[0]
            write(f"          smallest reproducer: {_short(test)} ({location})")
            others = [_short(t) for t, _ in group.tests[1:]]
            if others:
                more = f" and {len(others) - 8} more" if len(others) > 8 else ""
                write(f"          also: {', '.join(others[:8])}{more}")
        for error in document["suite_errors"]:
            write(f"  SUITE ERROR {error}")
        write(f"certificate: {state.settings.certificate_path}")
        for line in _report_paths(state):
            write(line)

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
        )

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        """After pytest has written its JUnit file: make it agree with the verdict."""
        state = self.state
        junit = config.getoption("xmlpath", None)
        if junit and not is_worker(config) and state.records and Path(junit).is_file():
            _junit.rewrite(Path(junit), state.records, set(state.warning_failures))
        state.close()

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
            failures_dir=self.state.settings.failures_dir,
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
