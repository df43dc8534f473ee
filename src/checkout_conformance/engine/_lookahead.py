"""Overlapped requests (`--concurrency N`): the cases of the items about to run, sent ahead.

With N > 1, the cases of the items about to run are sent ahead, N at a time, on a thread pool;
each item then checks and reports its own case, in order, as if it had sent it. Items tagged
`serial` (hostile bodies, whose crash would land on whatever is in flight) and items that are
not scenario cases (the property test) are never overlapped: the look-ahead stops before them,
and waits for what is in flight before they run.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from ..transport import Target
from ._case_runs import CaseKey, CaseRuns, case_key
from ._expand import Case
from ._model import Scenario


class LookAhead:
    """Sends the next cases ahead of their items (a no-op at concurrency 1)."""

    def __init__(
        self, concurrency: Callable[[], int], runs: CaseRuns, start_target: Callable[[], Target]
    ) -> None:
        self._concurrency_now = concurrency  # read when sending: chosen once the target is up
        self._runs = runs
        self._start_target = start_target
        self._concurrency = 1
        self._pool: ThreadPoolExecutor | None = None
        self._in_flight: list[Future[None]] = []
        self._sent_ahead: set[CaseKey] = set()  # cases handed to the pool
        self._plan: list[tuple[Scenario, Case] | None] = []
        self._position: dict[str, int] = {}

    def look_ahead(self, upcoming: list[tuple[Scenario, Case] | None]) -> None:
        """Send ahead the cases of the items about to run, up to the first that must not overlap
        (None: a serial scenario, or an item that is not a scenario case), keeping at most
        `concurrency` cases in flight plus as many queued."""
        self._start_target()  # started and probed on the main thread, before any is sent ahead
        self._concurrency = self._concurrency_now()
        if self._concurrency <= 1:
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._concurrency, thread_name_prefix="conformance")
        self._in_flight = [f for f in self._in_flight if not f.done()]
        for entry in upcoming:
            if entry is None or len(self._in_flight) >= 2 * self._concurrency:
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
            if self._runs.precondition_problem(scenario, case) is None:
                self._runs.run_case(scenario, case)
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
