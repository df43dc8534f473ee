"""Every scenario a run collects, by id: read once per process, from every suite folder.

Ids are unique across everything a run collects (packaged and user folders): the first
scenario to take an id runs, a later one with the same id is a suite error naming both places
(`id_clash`). The index also answers what a node id checks (`requirements_of`: the xdist
controller collects nothing itself) and which scenarios share one request (`sharing_group`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from .._yamlfile import DataFileError
from ._expand import Case, expand
from ._model import Library, Scenario, load_scenarios

SCENARIO_SUFFIXES = (".yaml", ".yml")


class SuiteIndex:
    """The scenarios of the suite folders, with their cases."""

    def __init__(self, suites: Sequence[Path], library: Callable[[], Library]) -> None:
        self._suites = suites
        self._library = library
        self._lock = threading.Lock()  # threads sending ahead ask too
        self._scenarios: dict[str, tuple[Scenario, list[Case]]] | None = None
        self._clashes: dict[tuple[str, str], str] = {}  # (file, id) -> where the first one is

    def scenario(self, scenario_id: str) -> tuple[Scenario, list[Case]] | None:
        """A scenario of the suite by id, with its cases (every suite file, read once)."""
        with self._lock:
            if self._scenarios is None:
                self._scenarios = self._load_all_scenarios()
        return self._scenarios.get(scenario_id)

    def _load_all_scenarios(self) -> dict[str, tuple[Scenario, list[Case]]]:
        found_by_id: dict[str, tuple[Scenario, list[Case]]] = {}
        library = self._library()
        for suite in self._suites:
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
                    cases = expand(found.expand, library.contract, library.bodies, library.values)
                    found_by_id[found.id] = (found, cases)
        return found_by_id

    def requirements_of(self, nodeid: str, rootpath: Path) -> list[str] | None:
        """The requirements a scenario item checks, from its node id alone (the xdist
        controller collects nothing itself); None for a node id that is no scenario case."""
        file_part, _, name = nodeid.partition("::")
        path = (rootpath / file_part).resolve()
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

    def sharing_group(self, scenario: Scenario) -> list[tuple[Scenario, list[Case]]]:
        """The scenarios of the file that share requests with this one, in file order."""
        self.scenario(scenario.id)  # every scenario, read once
        assert self._scenarios is not None
        return [
            (member, cases)
            for member, cases in self._scenarios.values()
            if member.path == scenario.path and member.share_requests == scenario.share_requests
        ]
