"""Safe against real systems: the live guard, charges on live targets, pace, budget, 429s."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from checkout_conformance import _resources
from checkout_conformance.selfcheck import PerSecondRateLimit, Rewrite
from checkout_conformance.server import ServerConfig

from .conftest import TEST_KEY, RunningServer, run_suite, start_server
from .servers import rewrite_of_reference, serve_in_thread

# The reference server's ids, in a profile that says it is production.
LIVE_PROFILE = (
    _resources.REFERENCE_PROFILE_PATH.read_text()
    .replace("name: reference", "name: production")
    .replace("kind: mock", "kind: live")
)


@pytest.mark.e2e
def test_the_live_host_is_refused_before_any_request(tmp_path: Path) -> None:
    run = run_suite(tmp_path, "-q", base_url="https://live.dodopayments.com", api_key=TEST_KEY)
    assert run.exit_code == 4
    assert (
        "refusing to test a live target (https://live.dodopayments.com): nothing was sent"
        in run.output
    )
    assert not run.certificate_path.exists()


@pytest.mark.e2e
def test_a_live_profile_is_refused_too(tmp_path: Path, reference_server: RunningServer) -> None:
    profile = tmp_path / "live.yaml"
    profile.write_text(LIVE_PROFILE)
    run = run_suite(
        tmp_path,
        "-q",
        f"--target-profile={profile}",
        env={"PYTEST_ADDOPTS": f"--base-url={reference_server.base_url}"},
        api_key=reference_server.api_key,
    )
    assert run.exit_code == 4
    assert "profile 'production' of kind live" in run.output


@pytest.mark.e2e
def test_allow_live_still_skips_charges_unless_allowed(
    tmp_path: Path, reference_server: RunningServer
) -> None:
    profile = tmp_path / "live.yaml"
    profile.write_text(LIVE_PROFILE)
    common = (
        "suites/checkout_url",
        "suites/properties",
        "--examples=20",
        f"--target-profile={profile}",
        f"--base-url={reference_server.base_url}",
        "--allow-live",
        "-rs",
        "--max-rps=1000",
    )
    guarded = run_suite(tmp_path / "guarded", *common, api_key=reference_server.api_key)
    assert guarded.exit_code == 0, guarded.output[-2000:]
    assert (
        "it would charge a saved payment method on a live target (add --allow-live-charges)"
        in guarded.output
    )
    assert guarded.status("CURL-001") == "not_tested"
    assert guarded.certificate["run"]["switches"] == {
        "allow_live": True,
        "allow_live_charges": False,
    }
    assert guarded.certificate["run"]["generated_cases"]["charged"] == 0
    charging = run_suite(
        tmp_path / "charging", *common, "--allow-live-charges", api_key=reference_server.api_key
    )
    assert charging.status("CURL-001") == "passed"
    assert charging.certificate["run"]["switches"] == {
        "allow_live": True,
        "allow_live_charges": True,
    }


@pytest.mark.e2e
def test_max_rps_paces_requests(tmp_path: Path, reference_server: RunningServer) -> None:
    started = time.monotonic()
    run = run_suite(
        tmp_path,
        "suites/validation/fields.yaml",
        "-k",
        "val-bad-quantity and not addon",
        "--max-rps=10",
        base_url=reference_server.base_url,
        api_key=reference_server.api_key,
    )
    elapsed = time.monotonic() - started
    assert run.exit_code == 0, run.output[-2000:]
    sent = run.certificate["run"]["tests"] + 1  # one probe before the tests
    assert sent >= 10
    assert elapsed >= (sent - 1) / 10  # a lower bound: pacing never lets more through
    assert "pace: 10 requests/s" in run.output


@pytest.mark.e2e
def test_a_sandbox_profile_is_paced_by_default(
    tmp_path: Path, reference_server: RunningServer
) -> None:
    profile = tmp_path / "sandbox.yaml"
    profile.write_text(
        "name: sb\nkind: sandbox\ndata:\n  one_time_product_id: pdt_ref_one_time_ebook\n"
    )
    run = run_suite(
        tmp_path,
        "--co",
        f"--target-profile={profile}",
        f"--base-url={reference_server.base_url}",
        api_key=reference_server.api_key,
    )
    assert "pace: 20 requests/s" in run.output


@pytest.mark.e2e
def test_the_request_budget_stops_sending_and_says_so(
    tmp_path: Path, reference_server: RunningServer
) -> None:
    run = run_suite(
        tmp_path,
        "suites/auth",
        "--max-requests=4",
        "-rs",
        base_url=reference_server.base_url,
        api_key=reference_server.api_key,
    )
    assert run.exit_code == 0, run.output[-2000:]
    assert "not tested: the request budget (--max-requests 4) is spent" in run.output
    assert run.certificate["verdict"] == "incomplete"


@pytest.mark.e2e
def test_429s_are_waited_out_and_reported_not_failed(tmp_path: Path) -> None:
    server, running = start_server("--variant", "occasional-429")
    try:
        run = run_suite(
            tmp_path,
            "suites/acceptance",
            "-k",
            "currency",
            base_url=running.base_url,
            api_key=TEST_KEY,
        )
    finally:
        server.stop()
    assert run.exit_code == 0, run.output[-2000:]
    assert run.status("ACC-004") == "passed"
    assert run.certificate["run"]["rate_limit_retries"] >= 1


@pytest.mark.e2e
def test_after_a_429_the_run_slows_to_the_rate_the_server_allows(tmp_path: Path) -> None:
    """Unpaced against a mock profile, a per-second limit is hit once, then the run settles
    below it (X-RateLimit-Limit over the window, at 80%) and finishes without another 429
    storm; the certificate says where it settled.

    The limit is the sandbox's documented 40 requests a second: low enough that even a loaded
    machine (CI runs this beside other suites) sends faster and meets it."""
    limit = PerSecondRateLimit(per_second=40)
    with serve_in_thread(Rewrite(before=limit, config=ServerConfig(api_key=TEST_KEY))) as url:
        run = run_suite(
            tmp_path,
            "suites/acceptance",
            "-k",
            "currency",
            base_url=url,
            api_key=TEST_KEY,
        )
    assert run.exit_code == 0, run.output[-2000:]
    assert run.status("ACC-004") == "passed"
    pace = run.certificate["run"]["pace"]
    assert pace["max_rps"] is None
    assert pace["settled_rps"] == 38  # 40 allowed a second, at 95%
    assert 1 <= run.certificate["run"]["rate_limit_retries"] <= 5


@pytest.mark.e2e
def test_the_certificate_counts_every_request_the_server_received(tmp_path: Path) -> None:
    """Requests by origin add up to what the server saw; a repeated generated request is judged
    on its first answer instead of being sent again."""
    received: list[str] = []
    reference = rewrite_of_reference(lambda answer: None)

    async def counting(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            received.append(scope["method"])
        await reference(scope, receive, send)

    with serve_in_thread(counting) as url:
        run = run_suite(
            tmp_path,
            "suites/response",
            "suites/properties",
            "--examples=20",
            base_url=url,
            api_key=TEST_KEY,
        )
    assert run.exit_code == 0, run.output[-2000:]
    sent = run.certificate["run"]["requests"]
    # Before the run, one OPTIONS probe and one key check (a minimal POST), not tests' requests.
    assert sent["total"] == len(received) - 2 == sent["scenarios"] + sent["generated"]
    assert sent["scenarios"] > 0 and sent["generated"] > 0
    cases = run.certificate["run"]["generated_cases"]
    assert cases["positive"] + cases["negative"] == sent["generated"] + cases["repeated"]
    assert f"requests: {sent['total']} ({sent['scenarios']} scenarios" in run.output
