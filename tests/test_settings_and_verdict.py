"""The verdict rules of the product spec, and option precedence (command line, env, ini)."""

from __future__ import annotations

from typing import Any

import pytest

from checkout_conformance.catalog import load_catalog
from checkout_conformance.engine._settings import OPTIONS, is_loopback, resolve
from checkout_conformance.records import Record, new_record, settle, suite_error
from checkout_conformance.results import verdict_from_counts

from .conftest import ROOT

LEVELS = ("MUST", "SHOULD", "MAY")


def table(**cells: int) -> dict[str, dict[str, int]]:
    """Counts per level; `MUST_failed=1` sets one cell, everything else passed."""
    rows = {level: {"passed": 1, "failed": 0, "not_tested": 0} for level in LEVELS}
    for name, value in cells.items():
        level, status = name.split("_", 1)
        rows[level][status] = value
    return rows


@pytest.mark.parametrize(
    ("cells", "partial", "verdict"),
    [
        ({}, False, "conformant"),
        ({"MAY_failed": 1, "MAY_not_tested": 1}, False, "conformant"),  # MAY never fails
        ({"SHOULD_not_tested": 3}, False, "conformant"),
        ({"SHOULD_failed": 1}, False, "conformant-with-warnings"),
        ({"MUST_not_tested": 1}, False, "incomplete"),  # every MUST tested, or no claim
        ({}, True, "incomplete"),  # a selection of the suite never claims conformance
        ({"MUST_not_tested": 1, "SHOULD_failed": 1}, False, "incomplete"),
        ({"MUST_failed": 1}, False, "non-conformant"),
        ({"MUST_failed": 1, "MUST_not_tested": 5}, True, "non-conformant"),  # a failure stands
    ],
)
def test_the_verdict_follows_the_spec_rules(
    cells: dict[str, int], partial: bool, verdict: str
) -> None:
    assert verdict_from_counts(table(**cells), partial=partial) == verdict


class FakeConfig:
    """What `resolve` reads of a pytest.Config: the parsed option and the ini value."""

    def __init__(self, option: Any = None, ini: Any = "") -> None:
        self._option, self._ini = option, ini

    def getoption(self, dest: str) -> Any:
        return self._option

    def getini(self, name: str) -> Any:
        return self._ini


MAX_RPS = next(option for option in OPTIONS if option.flag == "--max-rps")


def test_the_command_line_wins_over_env_and_ini(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MAX_RPS.env, "7")
    assert resolve(FakeConfig(option="3", ini="9"), MAX_RPS) == (3.0, "--max-rps")  # type: ignore[arg-type]


def test_the_environment_wins_over_ini(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MAX_RPS.env, "7")
    assert resolve(FakeConfig(ini="9"), MAX_RPS) == (7.0, f"${MAX_RPS.env}")  # type: ignore[arg-type]


def test_ini_then_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MAX_RPS.env, raising=False)
    assert resolve(FakeConfig(ini="9"), MAX_RPS) == (9.0, f"ini {MAX_RPS.ini}")  # type: ignore[arg-type]
    assert resolve(FakeConfig(), MAX_RPS) == (MAX_RPS.default, "default")  # type: ignore[arg-type]


def test_a_bad_value_names_where_it_came_from(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MAX_RPS.env, "fast")
    with pytest.raises(pytest.UsageError, match=rf"\${MAX_RPS.env}: expected a number, got 'fast'"):
        resolve(FakeConfig(), MAX_RPS)  # type: ignore[arg-type]


def test_every_option_is_documented_with_its_three_names() -> None:
    """The options table (docs/options.md) gives each option's flag, env var and ini key on one
    row: a renamed option (or a new one) cannot go undocumented."""
    readme = (ROOT / "docs" / "options.md").read_text(encoding="utf-8")
    rows = [line for line in readme.splitlines() if line.startswith("| `--")]
    for option in OPTIONS:
        starts = (f"| `{option.flag}`", f"| `{option.flag} ")
        row = next((r for r in rows if r.startswith(starts)), None)
        assert row is not None, f"{option.flag} has no row in docs/options.md's options table"
        assert f"`{option.env}`" in row and f"`{option.ini}`" in row, row


# -- the record's blocking rule -----------------------------------------------------------------
def _failed_record(*requirements: str) -> Record:
    record = new_record("scenario", "suites/x.yaml::case", "suites/x.yaml:1")
    for requirement in requirements:
        record["requirements"][requirement] = "failed"
        record["failures"].append({"requirement": requirement, "reason": "r", "evidence": {}})
    return record


@pytest.mark.parametrize(
    ("failed", "fail_on_should", "blocking", "worst"),
    [
        (("CURL-001",), False, True, "MUST"),
        (("RESP-005",), False, False, "SHOULD"),
        (("RESP-005",), True, True, "SHOULD"),
        (("RESP-005", "CURL-001"), False, True, "MUST"),
    ],
)
def test_a_record_blocks_the_run_by_the_catalog_levels_of_its_failures(
    failed: tuple[str, ...], fail_on_should: bool, blocking: bool, worst: str
) -> None:
    record = _failed_record(*failed)
    settle(record, load_catalog(), fail_on_should)
    assert record["blocking"] is blocking
    assert record["worst_level"] == worst


def test_a_suite_error_always_blocks_and_a_clean_record_never_does() -> None:
    errored = suite_error("suites/x.yaml::invalid-scenario-file", "suites/x.yaml:3", "bad")
    settle(errored, load_catalog(), fail_on_should=False)
    assert errored["blocking"] is True
    clean = new_record("property", "suites/properties/test_x.py::t", "test_x.py (seed 1)")
    settle(clean, load_catalog(), fail_on_should=True)
    assert clean["blocking"] is False and "worst_level" not in clean


def test_only_targets_on_this_machine_count_as_loopback() -> None:
    for url in (
        "http://127.0.0.1:8000",
        "http://localhost:1",
        "http://[::1]:8000",
        "http://127.9.9.9",
    ):
        assert is_loopback(url), url
    for url in ("https://test.dodopayments.com", "http://10.0.0.5:8000", "http://mock.internal"):
        assert not is_loopback(url), url
