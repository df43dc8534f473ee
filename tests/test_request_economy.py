"""Fewer and overlapped requests for the same verdict: `--concurrency` (requests overlap, the
certificate does not change, serial scenarios stay alone) and `share_requests` (one request per
row of the enum matrices, each value sent alone when its row fails)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from checkout_conformance._yamlfile import DataFileError
from checkout_conformance.contract import load_contract
from checkout_conformance.engine._model import load_scenarios
from checkout_conformance.selfcheck import MUTANTS, Answer, Request, Rewrite
from checkout_conformance.server import ServerConfig

from .conftest import TEST_KEY, certificate_without_timings, run_suite
from .servers import serve_in_thread
from .test_coverage import scenario_library

DELAY_S = 0.01


class CountsInFlight:
    """An ASGI app in front of another that answers DELAY_S later and notes, for each request,
    how many were in flight when it arrived (and whether it was a hostile one)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.in_flight = 0
        self.seen: list[tuple[int, bool]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.in_flight += 1
        headers = dict(scope["headers"])
        length = int(headers.get(b"content-length", b"0") or 0)
        hostile = length > 200_000 or b"transfer-encoding" in headers
        self.seen.append((self.in_flight, hostile))
        try:
            await asyncio.sleep(DELAY_S)
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


@pytest.mark.e2e
@pytest.mark.heavy(40)
def test_a_concurrent_run_overlaps_requests_and_gives_the_serial_certificate(
    tmp_path: Path,
) -> None:
    mutant = MUTANTS["val-malformed-json-crashes"]  # failures too, not only passes
    certificates = {}
    peaks = {}
    generated = {}
    for concurrency in (1, 8):
        app = CountsInFlight(
            Rewrite(after=mutant.after, before=mutant.before, config=ServerConfig(api_key=TEST_KEY))
        )
        folder = tmp_path / f"c{concurrency}"
        folder.mkdir()
        with serve_in_thread(app) as url:
            run = run_suite(
                folder,
                "suites/robustness",
                "suites/checkout_url",
                "suites/properties",
                "--examples=30",
                "--conformance-seed=20261206",
                f"--concurrency={concurrency}",
                base_url=url,
                api_key=TEST_KEY,
            )
        assert run.exit_code == 1, run.output[-3000:]
        assert f"concurrency: {concurrency}" in run.output
        certificates[concurrency] = certificate_without_timings(run.certificate_path)
        generated[concurrency] = json.loads(run.certificate_path.read_text())["run"]["requests"][
            "generated"
        ]
        peaks[concurrency] = max(count for count, _hostile in app.seen)
        hostile = [count for count, is_hostile in app.seen if is_hostile]
        assert hostile and max(hostile) == 1, "a serial scenario overlapped other requests"
    # Serial: one request at a time, but a server may still hold a message that stopped early
    # (rob-message-that-stops-early) when the liveness request after it arrives.
    assert peaks[1] <= 2, peaks
    assert peaks[8] >= 6, peaks
    serial, overlapped = certificates[1], certificates[8]
    differing = [
        (one, other)
        for one, other in zip(serial["requirements"], overlapped["requirements"], strict=True)
        if one != other
    ]
    assert differing == [], json.dumps(differing, indent=1)[:3000]
    assert overlapped == serial
    # Pipelined, every generated case is sent before any is judged; a run that fails then
    # generates again on the answers kept, and only its shrinking sends more (a few percent).
    assert generated[1] <= generated[8] <= generated[1] * 1.05, generated


@pytest.mark.e2e
def test_concurrency_below_one_is_a_usage_error(tmp_path: Path) -> None:
    run = run_suite(tmp_path, "suites/auth", "--concurrency=0")
    assert run.exit_code == 4, run.output[-2000:]
    assert "--concurrency: must be greater than 0" in run.output


def _refuse_eur(request: Request, config: ServerConfig) -> Answer | None:
    if isinstance(request.body, dict) and request.body.get("billing_currency") == "EUR":
        return Answer(request, 422, [(b"content-type", b"application/json")], {"code": "X"})
    return None


@pytest.mark.e2e
def test_a_shared_row_that_fails_is_split_so_only_the_failing_value_fails(tmp_path: Path) -> None:
    contract = load_contract()
    currencies = contract.enum_values("Currency")
    countries = contract.enum_values("CountryCodeAlpha2")
    methods = [
        m for m in contract.enum_values("PaymentMethodTypes") if m not in ("credit", "debit")
    ]
    row = currencies.index("EUR")
    in_row = sum(row < len(values) for values in (currencies, countries, methods))
    app = Rewrite(before=_refuse_eur, config=ServerConfig(api_key=TEST_KEY))
    with serve_in_thread(app) as url:
        run = run_suite(
            tmp_path,
            "suites/acceptance/valid_requests.yaml",
            "-k",
            "every-billing or every-payment-method-type",
            "--concurrency=1",
            base_url=url,
            api_key=TEST_KEY,
        )
    assert run.exit_code == 1, run.output[-3000:]
    failed = [line for line in run.output.splitlines() if line.startswith("FAILED ")]
    assert len(failed) == 1 and "acc-every-billing-currency[EUR]" in failed[0], failed
    rows = max(len(currencies), len(countries), len(methods))
    # the base request (the matrices' precondition), one request per row, and the failing
    # row's values each sent alone
    expected = 1 + rows + in_row
    assert run.certificate["run"]["requests"]["scenarios"] == expected
    acc_004 = next(r for r in run.certificate["requirements"] if r["id"] == "ACC-004")
    assert acc_004["tests"]["failed"] == 1


def test_scenarios_that_cannot_share_requests_are_refused_with_their_line(tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(
        "scenarios:\n"
        "  - id: one\n"
        "    title: x\n"
        "    requirements: [ACC-004]\n"
        "    share_requests: rows\n"
        "    expand: {currency: {enum: Currency}}\n"
        "    request: {body: {from: minimal, set: {billing_currency: '${currency}'}}}\n"
        "    expect: [{status: 200}]\n"
        "  - id: two\n"
        "    title: x\n"
        "    requirements: [ACC-004]\n"
        "    share_requests: rows\n"
        "    expand: {country: {enum: CountryCodeAlpha2}}\n"
        "    request: {body: {from: minimal, set: {billing_currency: '${country}'}}}\n"
        "    expect: [{status: 200}]\n"
    )
    scenarios, errors = load_scenarios(wrong, scenario_library())
    assert scenarios == []
    assert [error.line for error in errors] == [2, 9]
    assert all(isinstance(error, DataFileError) for error in errors)
    assert "set different fields" in str(errors[0])
