"""The verdict rules of the product spec, and option precedence (command line, env, ini)."""

from __future__ import annotations

from typing import Any

import pytest

from checkout_conformance.engine._settings import OPTIONS, resolve
from checkout_conformance.results import verdict_from_counts

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


def test_every_option_follows_the_naming_rule() -> None:
    """One rule for every option's ini key and env var, so none can drift from its flag."""
    for option in OPTIONS:
        stem = option.flag.removeprefix("--").replace("-", "_")
        assert option.env.startswith("CHECKOUT_CONFORMANCE_"), option
        assert option.ini == option.dest, option
        assert stem in option.dest or option.flag == "--target-profile", option
