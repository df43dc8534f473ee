"""Running one generated case: map it onto the profile, send it through the target, judge it.

Every case goes through `Target.exchange`, the run's one send path (budget, pace, 429s, the
deadline, the size cap, no redirects). Failures land on the requirements of the checks that
found them (`_checks`), in the certificate like scenario failures do; each requirement the
checks applied to, and that held, is passed.

Overlap (`--concurrency`): Hypothesis asks for one case after the other and waits for its
verdict, so the test first runs *pipelined*: each case's request is handed to N threads and the
test goes on to the next case; once every answer is in, each case is judged. If every verdict
holds, that was the run. If one does not, the test runs again the usual way, on the answers
already there (same seed, same cases), so that Hypothesis can report and shrink the failure; only
the shrinking sends new requests. A conforming target costs one generation, a failing one two.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest

from .. import __version__, _resources
from .._yamlfile import display_path, safe_load
from ..catalog import LEVEL_RANK, Catalog
from ..contract import Contract, is_charge
from ..records import Record, not_tested
from ..transport import (
    BudgetExhausted,
    Evidence,
    Exchange,
    PreparedRequest,
    Target,
)
from ._cases import CaseCache, RecordedCase, without_authorization
from ._checks import JUDGED, REQUEST_SCHEMA, Verdict, judge
from ._mapping import business_valid, real_ids

DROPPED_HEADERS = frozenset({"user-agent", "accept-encoding", "connection", "accept"})
MAX_KEPT_ANSWER_BYTES = 64 * 1024  # larger answers are not kept for repeats (memory)
PROGRESS_SECONDS = 3.0  # between two progress marks in the terminal, on a slow target too


@dataclass(frozen=True)
class Progress:
    """Where the property test is: requests sent (retries after a 429 included), answered, and
    in flight. Counts only grow, through the pipelined run and a run again alike."""

    sent: int
    answered: int
    in_flight: int
    queued: int  # handed to the sending threads, not sent yet


@functools.cache
def limit_requirements() -> frozenset[str]:
    """The requirements the overlay's schema limits implement (read once per process)."""
    overlay = safe_load(_resources.OVERLAY_PATH.read_text(encoding="utf-8"))
    return frozenset(a["requirement"] for a in overlay.get("actions", []) if a.get("requirement"))


class PropertyFailure(AssertionError):
    """Generated requests broke requirements; the message is redacted and names them."""

    __module__ = "builtins"  # reports show `PropertyFailure: [MUST] ...`, no module path


@functools.cache
def failure_class(requirement_id: str) -> type[PropertyFailure]:
    """One exception class per requirement, so Hypothesis tells distinct bugs apart."""
    name = f"{requirement_id.replace('-', '_')}_Failure"
    return type(name, (PropertyFailure,), {"__module__": "builtins"})


def prepared_request(case: Any, target: Target) -> PreparedRequest:
    """The request schemathesis would send for `case`, as the engine sends it (with our key)."""
    kwargs = case.as_transport_kwargs(base_url=target.base_url)
    headers = [
        (str(name), str(value))
        for name, value in (kwargs.get("headers") or {}).items()
        if str(name).lower() not in DROPPED_HEADERS
        and not str(name).lower().startswith("x-schemathesis")
    ]
    headers = [(name, value) for name, value in headers if name.lower() != "authorization"]
    headers += [
        ("Accept", "application/json"),
        ("User-Agent", f"checkout-conformance/{__version__}"),
        ("Authorization", f"Bearer {target.api_key.reveal()}"),
    ]
    url = str(kwargs["url"])
    params = kwargs.get("params") or {}
    if params:
        import httpx

        url += ("&" if "?" in url else "?") + str(httpx.QueryParams(params))
    body: bytes | None
    if "json" in kwargs:
        body = json.dumps(kwargs["json"], separators=(",", ":")).encode()
    elif kwargs.get("data") is not None:
        data = kwargs["data"]
        body = data if isinstance(data, bytes) else str(data).encode("utf-8", "surrogatepass")
    else:
        body = None
    return PreparedRequest(str(kwargs["method"]).upper(), url, headers, body)


def _shown(body: Any) -> Any:
    """The body as the checks read it: a JSON value, or None (no body, or not a JSON one)."""
    return body if isinstance(body, dict | list | str | int | float | bool) else None


class _Answers(dict[tuple[Any, ...], Exchange]):
    """First answers by request; a short repr, since Hypothesis prints the test's arguments."""

    def __repr__(self) -> str:
        return f"<{len(self)} answers kept>"


@dataclass
class PropertyRun:
    """Sends generated cases to the target and records what each requirement made of them."""

    target: Target
    catalog: Catalog
    contract: Contract
    seed: int
    record: Record
    charges_allowed: bool = True  # False on a live target without --allow-live-charges
    failures: Evidence | None = None  # where failing exchanges are written in full
    on_progress: Callable[[Progress], None] | None = None  # told every PROGRESS_SECONDS
    evidence: set[Path] = field(default_factory=set)  # folders of failing exchanges written
    charged_cases: int = 0
    positive_cases: int = 0
    negative_cases: int = 0
    repeated_cases: int = 0
    # Internal state, none of it an init field: Hypothesis prints the test's arguments, this
    # run among them, init field by init field, and these can hold thousands of cases.
    _limits: dict[str, Contract] = field(default_factory=dict, init=False, repr=False)
    # Answers by request: schemathesis' coverage phase yields some requests more than once, and
    # Hypothesis replays a failing example. A repeat is judged on the first answer (as a server
    # that answers the same request the same way would answer it) instead of being sent again.
    _answers: _Answers = field(default_factory=_Answers, init=False)
    # Pipelined (--concurrency): the requests handed to the sending threads, by key, the cases
    # to judge once the answers are in, and the answers not yet used.
    _pipeline: dict[tuple[Any, ...], Future[None]] | None = field(
        default=None, init=False, repr=False
    )
    _pipelined_cases: list[tuple[tuple[Any, ...], Any, bool]] = field(
        default_factory=list, init=False, repr=False
    )
    _ahead_pool: ThreadPoolExecutor | None = field(default=None, init=False, repr=False)
    _ahead: dict[tuple[Any, ...], Exchange] = field(default_factory=dict, init=False, repr=False)
    # --cases-cache: the cases to replay (found for this run's key), or the cases of this run
    # as they come (none found; kept if the run holds).
    _cache: CaseCache | None = field(default=None, init=False)
    _replay: list[RecordedCase] | None = field(default=None, init=False, repr=False)
    _recording: list[RecordedCase] | None = field(default=None, init=False, repr=False)
    _progress_due: float | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self._waits_at_start = self.target.rate_limited
        self._sent_at_start = self.target.sent
        # A requirement enters the record only once its check applied to a case (the catalog's
        # rule for conditional checks): CURL-001 needs an accepted charge, RULE-005 a case that
        # breaks that limit alone. The others are judged by the scenarios.
        self.record["requirements"] = {}

    def _negative_requirement(self, body: Any) -> str:
        """ROB-002, or the requirement of the one overlay limit the case breaks, if that is all."""
        if not isinstance(body, dict):
            return "ROB-002"
        for requirement in sorted(limit_requirements()):
            relaxed = self._limits.get(requirement)
            if relaxed is None:
                relaxed = self._limits[requirement] = self.contract.without_limits_of({requirement})
            try:
                if relaxed.is_valid(REQUEST_SCHEMA, body):
                    return requirement
            except ValueError:
                return "ROB-002"
        return "ROB-002"

    def _map(self, case: Any, positive: bool) -> None:
        ids = self.target.profile.data
        # Cases from schemathesis' coverage phase skip the generation hooks: map them here too
        # (both mappings leave an already mapped body as it is).
        if positive:
            charge = is_charge(case.body) and self.charges_allowed
            case.body = business_valid(case.body, ids, charge)
            if not self.contract.is_valid(REQUEST_SCHEMA, case.body):
                errors = "; ".join(map(str, self.contract.errors(REQUEST_SCHEMA, case.body)))
                raise RuntimeError(
                    f"suite error: a mapped positive case is not schema-valid: {errors}"
                )
        else:
            case.body = real_ids(case.body, ids)
        self._count(positive, positive and is_charge(case.body))

    def _count(self, positive: bool, charge: bool) -> None:
        self.positive_cases += positive
        self.negative_cases += not positive
        self.charged_cases += charge
        self.record["generated"] = {
            "positive": self.positive_cases,
            "negative": self.negative_cases,
            "charged": self.charged_cases,
            "repeated": self.repeated_cases,
        }

    def check(self, case: Any) -> None:
        positive = case.meta is not None and case.meta.generation.mode.is_positive
        self._map(case, positive)
        self._consider(prepared_request(case, self.target), case.body, positive)

    def _consider(self, request: PreparedRequest, body: Any, positive: bool) -> None:
        """Send (or hand over) one mapped case and judge it: generated and replayed alike."""
        self._report_progress()
        key = (request.method, request.url, tuple(request.headers), request.body, positive)
        if self._recording is not None:
            self._record_case(request, body, positive)
        if self._pipeline is not None:
            self._hand_over(key, request, body, positive)
            return
        exchange = self._answers.get(key)
        if exchange is None:
            exchange = self._ahead.pop(key, None) or self._send(request)
            if len(exchange.body) <= MAX_KEPT_ANSWER_BYTES:
                self._answers[key] = exchange
        else:
            self.repeated_cases += 1
            self.record["generated"]["repeated"] = self.repeated_cases
        verdicts = judge(
            exchange,
            _shown(body),
            positive,
            self.contract,
            lambda: self._negative_requirement(body),
        )
        statuses = self.record["requirements"]
        for verdict in verdicts:
            if statuses.get(verdict.requirement) != "failed":
                statuses[verdict.requirement] = "passed"
        failures = [v for v in verdicts if v.problem is not None]
        if failures:
            self._fail(failures, exchange)

    # -- --cases-cache: replay a clean run's cases, or keep this run's --------------------------
    def use_cache(self, cache: CaseCache) -> None:
        """Replay the cases kept under this run's key, if there are any; else keep this run's."""
        self._cache = cache
        self._replay = cache.load()
        self._recording = [] if self._replay is None else None

    @property
    def cache_path(self) -> Path | None:
        return self._cache.path if self._cache is not None else None

    @property
    def will_keep(self) -> bool:
        """Recording this run's cases (none were kept for its key, and none failed so far)."""
        return self._recording is not None and self._cache is not None

    @property
    def will_replay(self) -> bool:
        return self._replay is not None

    def mode(self, concurrency: int) -> Literal["replay", "pipelined", "serial"]:
        """How the test runs, decided here alone: `replay` (--cases-cache kept its cases: send
        them again, no generation), `pipelined` (requests handed to `concurrency` threads as
        Hypothesis asks, judged once answered), or `serial` (one request at a time)."""
        if self.will_replay:
            return "replay"
        return "pipelined" if concurrency > 1 else "serial"

    def replay(self, concurrency: int) -> bool:
        """Send the kept cases again (N at a time, in order, paced) and judge every answer.
        True: every verdict held, the run is done without generating. False: the record is reset
        and the answers are kept; the test must run the usual way (generating the same cases,
        judged on these answers) so that Hypothesis reports and shrinks the failure. Replays
        once: a second call returns False."""
        cases, self._replay = self._replay, None
        if cases is None:
            return False
        self.start_pipeline(concurrency)
        authorization = ("Authorization", f"Bearer {self.target.api_key.reveal()}")
        for case in cases:
            self._count(case.positive, case.positive and is_charge(case.shown))
            request = PreparedRequest(
                case.method,
                self.target.base_url.rstrip("/") + case.path,
                [*case.headers, authorization],
                case.body,
            )
            self._consider(request, case.shown, case.positive)
        return self.finish_pipeline()

    def _record_case(self, request: PreparedRequest, body: Any, positive: bool) -> None:
        assert self._recording is not None
        base = self.target.base_url.rstrip("/")
        if not request.url.startswith(base) or request.framing is not None:
            self._recording = None  # not a request a replay could rebuild: nothing is kept
            return
        self._recording.append(
            RecordedCase(
                request.method,
                request.url[len(base) :],
                without_authorization(request.headers),
                request.body,
                _shown(body),
                positive,
            )
        )

    def keep_cases(self, key_now: str) -> str | None:
        """After a run that held: write its cases under its key, if that key still describes
        what decided them (`key_now`, computed after the run). What was done, for the summary."""
        cases, self._recording = self._recording, None
        if cases is None or self._cache is None:
            return None
        if key_now != self._cache.key:
            return "not kept: a local module was loaded while the cases were generated"
        try:
            self._cache.save(cases)
        except (OSError, TypeError, ValueError) as error:
            return f"not kept: {error}"  # only costs the next run a generation
        return f"kept in {self._cache.path}"

    # -- overlap: a pipelined run, judged once the answers are in ----------------------------
    def start_pipeline(self, concurrency: int) -> None:
        self._pipeline = {}
        self._pipelined_cases = []
        self._ahead_pool = ThreadPoolExecutor(concurrency, thread_name_prefix="generated")

    def _hand_over(
        self, key: tuple[Any, ...], request: PreparedRequest, body: Any, positive: bool
    ) -> None:
        assert self._pipeline is not None and self._ahead_pool is not None
        if key in self._pipeline:
            self.repeated_cases += 1
            self.record["generated"]["repeated"] = self.repeated_cases
        else:
            self._pipeline[key] = self._ahead_pool.submit(self._send_ahead, key, request)
        self._pipelined_cases.append((key, body, positive))

    def _send_ahead(self, key: tuple[Any, ...], request: PreparedRequest) -> None:
        try:
            self._ahead[key] = self.target.exchange(request)
        except BudgetExhausted:
            return  # judged as not answered: the run that follows meets the budget and says so

    def _report_progress(self) -> None:
        """Tell `on_progress` where the run is, at most every PROGRESS_SECONDS."""
        if self.on_progress is None:
            return
        now = self.target.clock.monotonic()
        if self._progress_due is None:
            self._progress_due = now + PROGRESS_SECONDS
            return
        if now < self._progress_due:
            return
        self._progress_due = now + PROGRESS_SECONDS
        sent = self.target.sent - self._sent_at_start
        in_flight = max(self.target.sent - self.target.answered, 0)
        waiting = sum(not future.done() for future in (self._pipeline or {}).values())
        self.on_progress(Progress(sent, sent - in_flight, in_flight, max(waiting - in_flight, 0)))

    def finish_pipeline(self) -> bool:
        """Wait for every answer (a TargetGone among them is raised here), then judge each case.
        True: every verdict held, the run is done. False: the record is reset, and the test must
        run again the usual way, on the answers kept, to report (and shrink) the failure."""
        pending = set((self._pipeline or {}).values())
        while pending:  # the progress goes on while the last answers come
            _done, pending = futures_wait(pending, timeout=PROGRESS_SECONDS / 3)
            self._report_progress()
        sent, self._pipeline = self._pipeline or {}, None
        if self._ahead_pool is not None:
            self._ahead_pool.shutdown(wait=True)
            self._ahead_pool = None
        for future in sent.values():
            future.result()
        self.record["requests"] = self.target.sent - self._sent_at_start
        self.record["rate_limited"] = self.target.rate_limited - self._waits_at_start
        statuses = self.record["requirements"]
        clean = True
        for key, body, positive in self._pipelined_cases:
            exchange = self._ahead.get(key)
            if exchange is None:
                clean = False
                break
            verdicts = judge(
                exchange,
                _shown(body),
                positive,
                self.contract,
                functools.partial(self._negative_requirement, body),
            )
            if any(verdict.problem is not None for verdict in verdicts):
                clean = False
                break
            for verdict in verdicts:
                statuses[verdict.requirement] = "passed"
        self._pipelined_cases = []
        if not clean:
            self._recording = None  # a failing run's cases depend on its answers: not kept
            self.record["requirements"] = {}
            self.positive_cases = self.negative_cases = self.charged_cases = 0
            self.repeated_cases = 0
        return clean

    def _send(self, request: PreparedRequest) -> Exchange:
        try:
            return self.target.exchange(request)
        except BudgetExhausted as exhausted:
            reason = f"not tested: {exhausted}"
            not_tested(self.record, JUDGED, reason)  # the test did not complete
            pytest.skip(reason)
        finally:
            self.record["rate_limited"] = self.target.rate_limited - self._waits_at_start
            self.record["requests"] = self.target.sent - self._sent_at_start

    def _fail(self, failures: list[Verdict], exchange: Exchange) -> None:
        self._recording = None  # a failing run's cases depend on its answers: not kept
        failures.sort(key=lambda verdict: LEVEL_RANK[self.catalog[verdict.requirement].level])
        redactor = self.target.redactor
        failed = list(dict.fromkeys(v.requirement for v in failures))
        worst = self.catalog[failed[0]].level
        header = f"[{worst}] {', '.join(failed)} · generated request · {self.record['location']}"
        lines = [header, ""]
        lines += [f"  x {v.requirement}: {redactor.text(str(v.problem))}" for v in failures]
        shown = "\n".join(
            [
                "request:",
                exchange.render_request(redactor),
                "response:",
                exchange.render_response(redactor),
                "reproduce:",
                exchange.curl(redactor),
            ]
        )
        lines += ["", shown, f"Reproduce the generation with --conformance-seed={self.seed}"]
        text = "\n".join(lines)
        if self.failures is not None:
            test = f"{self.record['test']}-{'-'.join(failed)}"
            folder = self.failures.write(test, exchange, redactor, text)
            self.evidence.add(folder)
            text += f"\nfull exchange and curl.sh: {display_path(folder)}"
        # The certificate names the host once; its evidence holds the exchange without it.
        request_lines = exchange.render_request(redactor).split("\n")
        request_lines[0] = redactor.text(exchange.request.line)
        response_text = exchange.render_response(redactor)
        detail = "\n".join(["request:", *request_lines, "response:", response_text])
        for verdict in failures:
            requirement = verdict.requirement
            summary = redactor.text(str(verdict.problem))
            self.record["requirements"][requirement] = "failed"
            if not any(f["requirement"] == requirement for f in self.record["failures"]):
                self.record["failures"].append(
                    {
                        "requirement": requirement,
                        "reason": f"generated request: {summary}"[:400],
                        "evidence": {
                            "generated": True,
                            "seed": self.seed,
                            "request": redactor.text(exchange.request.line),
                            "status": exchange.status,
                            "request_bytes": len(exchange.request.body or b""),
                            "detail": detail[:2000],
                        },
                    }
                )
        raise failure_class(failed[0])(text)
