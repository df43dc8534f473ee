"""The suite as users run it: a child `pytest` against real servers on loopback."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from checkout_conformance.selfcheck import suite_environment

from .conftest import ROOT, TEST_KEY, RunningServer, run_suite, start_server
from .servers import Answer, rewrite_of_reference, serve_in_thread

PLUGIN_ARGS = ("-c", str(ROOT / "pyproject.toml"), "-p", "checkout_conformance.engine.plugin")


def custom_suite(tmp_path: Path, files: dict[str, str]) -> list[str]:
    """Scenario files in a folder of their own, and the arguments that run exactly them."""
    suites = tmp_path / "suites"
    suites.mkdir()
    for name, text in files.items():
        (suites / name).write_text(textwrap.dedent(text))
    return [*PLUGIN_ARGS, f"--conformance-suites={suites}", str(suites)]


GOOD_FILE = """\
    scenarios:
      - id: good-minimal
        title: minimal works
        requirements: [ACC-001]
        request: {body: minimal}
        expect:
          - status: 200
"""


# -- the default run --------------------------------------------------------------------------
@pytest.mark.e2e
def test_plain_pytest_runs_the_suite_against_the_embedded_server(tmp_path: Path) -> None:
    run = run_suite(tmp_path, "-q")
    assert run.exit_code == 0, run.output
    assert "verdict: conformant (every MUST requirement was tested and passed" in run.output
    certificate = run.certificate
    assert certificate["implementation"]["embedded_reference_server"] is True
    assert certificate["summary"]["MUST"]["failed"] == 0
    assert run.status("CURL-001") == "passed"


@pytest.mark.e2e
def test_report_header_shows_the_effective_settings(tmp_path: Path) -> None:
    run = run_suite(tmp_path, "--co", "--request-timeout=3", "--fail-on-should")
    assert "target embedded reference server" in run.output
    assert "profile: reference (mock" in run.output
    assert "MUST and SHOULD fail the run" in run.output
    assert "request timeout: 3 s" in run.output


# -- errors a person can act on ---------------------------------------------------------------
@pytest.mark.e2e
@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("scenarios:\n  - id: x\n    title: [unclosed\n", ":3", "invalid YAML"),
        (
            "scenarios:\n  - id: x\n    title: t\n    requirements: [NOPE-001]\n"
            "    request: {}\n"
            "    expect: [{status: 200}]\n",
            ":4",
            "unknown requirement 'NOPE-001'",
        ),
        (
            "scenarios:\n  - id: x\n    title: t\n    requirements: [ACC-001]\n"
            "    request: {body: nope}\n"
            "    expect: [{status: 200}]\n",
            ":5",
            "unknown body 'nope'",
        ),
        (
            "scenarios:\n  - id: x\n    title: t\n    requirements: [ACC-001]\n"
            "    request: {bodyy: minimal}\n"
            "    expect: [{status: 200}]\n",
            ":5",
            "'bodyy' was unexpected",
        ),
        (
            "scenarios:\n  - id: x\n    title: t\n    requirements: [ACC-001]\n"
            "    request: {body: {from: minimal, set: {a: '${typo}'}}}\n"
            "    expect: [{status: 200}]\n",
            ":5",
            "unknown variable ${typo}",
        ),
        (
            "scenarios:\n  - id: x\n    title: t\n    requirements: [ACC-001]\n    request: {}\n"
            "    expect:\n      - json: session_id\n",
            ":7",
            "needs one of: is, equals",
        ),
    ],
)
def test_a_bad_scenario_file_fails_alone_with_file_and_line(
    tmp_path: Path, text: str, where: str, message: str
) -> None:
    args = custom_suite(tmp_path, {"bad.yaml": text, "good.yaml": GOOD_FILE})
    run = run_suite(tmp_path, *args, "-q", "-rA")
    assert run.exit_code == 3, run.output  # the run is not whole: exit 3, as the README says
    assert f"bad.yaml{where}: " in run.output
    assert message in run.output
    assert "good-minimal" in run.output and "1 passed" in run.output
    assert "Traceback" not in run.output
    assert run.certificate["suite_errors"]


@pytest.mark.e2e
def test_missing_key_for_a_remote_target_is_a_usage_error(tmp_path: Path) -> None:
    run = run_suite(tmp_path, "-q", base_url="http://127.0.0.1:9")
    assert run.exit_code == 4
    assert "set DODO_PAYMENTS_API_KEY" in run.output
    assert "Traceback" not in run.output


@pytest.mark.e2e
def test_a_base_url_with_credentials_is_refused_without_echoing_them(tmp_path: Path) -> None:
    run = run_suite(
        tmp_path, "-q", base_url="http://ada:hunter2secret@127.0.0.1:9", api_key=TEST_KEY
    )
    assert run.exit_code == 4, run.output
    assert "--base-url carries credentials" in run.output
    assert "DODO_PAYMENTS_API_KEY" in run.output
    assert "hunter2secret" not in run.output and "Traceback" not in run.output


@pytest.mark.e2e
def test_a_bad_profile_names_file_and_line(tmp_path: Path) -> None:
    profile = tmp_path / "profile.yaml"
    profile.write_text("name: x\nkind: mock\ndata:\n  one_time_product_id: 42\n")
    run = run_suite(tmp_path, "-q", f"--target-profile={profile}")
    assert run.exit_code == 4
    assert "profile.yaml:4: data.one_time_product_id: 42 is not of type 'string'" in run.output


@pytest.mark.e2e
def test_an_unreachable_target_is_one_session_error(tmp_path: Path) -> None:
    run = run_suite(tmp_path, "-q", base_url="http://127.0.0.1:9", api_key=TEST_KEY)
    assert run.exit_code == 3, run.output
    assert run.output.count("target unreachable") == 1
    assert "Connection refused" in run.output or "ConnectError" in run.output
    assert "failed" not in run.output.splitlines()[-1]


@pytest.mark.e2e
def test_a_refused_key_is_one_session_error_not_a_flood_of_failures(
    tmp_path: Path, reference_server: RunningServer
) -> None:
    """A wrong or expired key against a correct server blames the key, once, before any test."""
    wrong = "sk_test_wrong_key_0123456789abcdef"
    run = run_suite(tmp_path, "-q", base_url=reference_server.base_url, api_key=wrong)
    assert run.exit_code == 3, run.output[-2000:]
    assert run.output.count("API key in $DODO_PAYMENTS_API_KEY was refused") == 1
    assert "got 401" in run.output
    assert wrong not in run.output
    assert "failed" not in run.output.splitlines()[-1]
    assert len(run.output.splitlines()) < 40


# -- verdicts and exit status -----------------------------------------------------------------
def forbid_instead_of_unauthorized(answer: Answer) -> None:
    if answer.status == 401:
        answer.status = 403


def checkout_url_despite_payment_method(answer: Answer) -> None:
    if isinstance(answer.body, dict) and "session_id" in answer.body:
        answer.body["checkout_url"] = (
            "https://checkout.example/session/" + answer.body["session_id"]
        )


@pytest.mark.e2e
def test_a_should_failure_warns_and_exits_0_unless_strict(tmp_path: Path) -> None:
    with serve_in_thread(rewrite_of_reference(forbid_instead_of_unauthorized)) as url:
        run = run_suite(tmp_path, "suites/auth", base_url=url, api_key=TEST_KEY)
        strict = run_suite(
            tmp_path / "strict", "suites/auth", "--fail-on-should", base_url=url, api_key=TEST_KEY
        )
    assert run.exit_code == 0, run.output
    assert re.search(
        r"  AUTH-006 \(SHOULD\) warned in \d+ tests: auth-\S+: status: expected status 401,"
        r" got 403",
        run.output,
    ), run.output[-3000:]
    assert "warned" in run.output.splitlines()[-1]
    assert run.status("AUTH-006") == "failed"
    assert run.status("AUTH-001") == "passed"
    assert strict.exit_code == 1
    assert "  AUTH-006 (SHOULD) FAILED in " in strict.output


@pytest.mark.e2e
def test_a_must_failure_shows_expected_actual_exchange_and_curl(tmp_path: Path) -> None:
    with serve_in_thread(rewrite_of_reference(checkout_url_despite_payment_method)) as url:
        run = run_suite(tmp_path, "suites/checkout_url", base_url=url, api_key=TEST_KEY)
    assert run.exit_code == 1
    output = run.output
    # The scenario proves CURL-001 only: a string checkout_url is CURL-001's failure, not also
    # CURL-002's (which judges only what is not a string).
    assert "[MUST] CURL-001 · curl-minimal-confirmed · suites/checkout_url/" in output
    assert (
        '$.checkout_url: expected not a string (null or absent), got "https://checkout.example'
        in output
    )
    assert "request (step 1 of 1" in output and "response:" in output
    assert "curl -sS -i -X POST" in output and '"$DODO_PAYMENTS_API_KEY"' in output
    assert TEST_KEY not in output
    assert "_pytest" not in output and "Traceback" not in output
    assert run.certificate["verdict"] == "non-conformant"
    failure = next(r for r in run.certificate["requirements"] if r["id"] == "CURL-001")
    assert failure["status"] == "failed"
    assert "expected not a string" in failure["reasons"][0]


@pytest.mark.e2e
def test_a_profile_without_optional_ids_gives_not_covered_never_failed(tmp_path: Path) -> None:
    profile = tmp_path / "bare.yaml"
    profile.write_text(
        "name: bare\nkind: mock\ndata:\n  one_time_product_id: pdt_ref_one_time_ebook\n"
    )
    run = run_suite(tmp_path, "-q", "-rs", "--examples=30", f"--target-profile={profile}")
    assert run.exit_code == 0, run.output
    assert "not covered: the profile 'bare' has no `customer_id`" in run.output
    assert run.status("CURL-001") == "not_tested"  # none of its tests could run
    assert run.certificate["verdict"] == "incomplete"


@pytest.mark.e2e
def test_selection_with_k_or_m_is_a_partial_run(tmp_path: Path) -> None:
    run = run_suite(tmp_path, "-q", "-m", "must", "--examples=30")
    assert run.exit_code == 0
    assert run.certificate["run"]["partial"] is True
    assert run.certificate["verdict"] == "incomplete"


# -- xdist and other plugins ------------------------------------------------------------------
@pytest.mark.e2e
@pytest.mark.heavy(45)
def test_xdist_beside_common_plugins_gives_the_serial_results_and_one_certificate(
    tmp_path: Path,
) -> None:
    """Under pytest-xdist, beside the plugins a team's CI often has (html, timeout,
    rerunfailures, allure), the run gives the statuses and test counts of a serial run, one
    certificate, and each plugin's own report."""
    others = tmp_path / "plugins"
    serial = run_suite(tmp_path / "serial", "-q", "--examples=30")
    parallel = run_suite(
        tmp_path / "parallel",
        "-q",
        "-n",
        "2",
        "--examples=30",
        f"--html={others / 'report.html'}",
        "--timeout=60",
        "--reruns=0",
        f"--alluredir={others / 'allure'}",
    )
    assert parallel.exit_code == serial.exit_code == 0, parallel.output

    def statuses(certificate: dict[str, object]) -> dict[str, str]:
        return {r["id"]: r["status"] for r in certificate["requirements"]}  # type: ignore[attr-defined]

    assert statuses(parallel.certificate) == statuses(serial.certificate)
    assert parallel.certificate["run"]["tests"] == serial.certificate["run"]["tests"]
    written = sorted(path.name for path in (tmp_path / "parallel").iterdir())
    assert written == [
        "certificate-badge.json",
        "certificate-tests.json",
        "certificate.json",
        "certificate.md",
    ]
    assert (others / "report.html").is_file()
    assert any((others / "allure").glob("*-result.json"))
    plugins = next(
        line
        for line in run_suite(tmp_path, "--co").output.splitlines()
        if line.startswith("plugins:")
    )
    for name in (
        "html",
        "timeout",
        "rerunfailures",
        "profiling",
        "allure-pytest",
        "xdist",
        "base-url",
    ):
        assert name in plugins


# -- secrets ------------------------------------------------------------------------------------
@pytest.mark.e2e
def test_a_canary_key_never_reaches_any_artifact(tmp_path: Path) -> None:
    canary = "sk_live_CANARY_8f3k2j5h7g/+="
    from checkout_conformance.redact import encoded_forms, look_alikes

    forms = [canary, *encoded_forms(canary), *look_alikes(canary).values()]
    with serve_in_thread(
        rewrite_of_reference(checkout_url_despite_payment_method, api_key=canary)
    ) as url:
        run = run_suite(
            tmp_path,
            "-l",
            "--tb=long",
            "-rA",
            "--log-level=DEBUG",
            "--examples=30",
            f"--junitxml={tmp_path / 'junit.xml'}",
            f"--alluredir={tmp_path / 'allure'}",
            base_url=url,
            api_key=canary,
        )
    assert run.exit_code == 1, (
        run.output
    )  # the rewritten server fails CURL-001: failures are in every artifact
    texts = {"terminal": run.output}
    for path in tmp_path.rglob("*"):
        if path.is_file():
            texts[str(path)] = path.read_text(errors="replace")
    assert any(
        "expected not a string" in text for name, text in texts.items() if name.endswith(".xml")
    )
    hits = [(name, form) for name, text in texts.items() for form in forms if form in text]
    assert hits == []
    certificate = json.loads((tmp_path / "certificate.json").read_text())
    assert certificate["verdict"] == "non-conformant"


@pytest.mark.e2e
def test_expectations_see_captured_values_and_variables(tmp_path: Path) -> None:
    """`not_equals: ${captured.first_id}` compares with the captured id, not with the text."""

    def constant_ids(answer: Answer) -> None:
        if isinstance(answer.body, dict) and "session_id" in answer.body:
            answer.body["session_id"] = "cks_always_the_same"

    with serve_in_thread(rewrite_of_reference(constant_ids)) as url:
        run = run_suite(tmp_path, "suites/response", base_url=url, api_key=TEST_KEY)
    assert run.status("RESP-005") == "failed"
    assert 'expected anything but "cks_always_the_same"' in run.output


# -- exact attribution: preconditions ---------------------------------------------------------
@pytest.mark.e2e
def test_a_broken_base_request_fails_its_requirement_and_leaves_dependants_not_tested(
    tmp_path: Path,
) -> None:
    """A server that answers 201 fails ACC-001 once; the matrices built on the minimal request
    are not tested (precondition failed), not 145 more ACC-004 failures."""

    def created_is_201(answer: Answer) -> None:
        if answer.status == 200:
            answer.status = 201

    with serve_in_thread(rewrite_of_reference(created_is_201)) as url:
        run = run_suite(tmp_path, "suites/acceptance", base_url=url, api_key=TEST_KEY)
    assert run.exit_code == 1
    statuses = {r["id"]: r for r in run.certificate["requirements"]}
    assert statuses["ACC-001"]["status"] == "failed"
    for dependant in ("ACC-003", "ACC-004", "ACC-006"):
        assert statuses[dependant]["status"] == "not_tested"
        reasons = statuses[dependant]["reasons"]
        assert all(r.startswith("not tested: precondition failed (ACC-00") for r in reasons)
        assert any("(ACC-001)" in r and "acc-minimal-request" in r for r in reasons), reasons
        assert all("got 201" in r for r in reasons), reasons


@pytest.mark.e2e
def test_one_wrong_scenario_does_not_stop_the_rest_of_its_file(tmp_path: Path) -> None:
    mixed = GOOD_FILE + textwrap.indent(
        textwrap.dedent(
            """\
            - id: names-an-unknown-body
              title: wrong
              requirements: [ACC-001]
              request: {body: no-such-body}
              expect:
                - status: 200
            - id: another-good-one
              title: also works
              requirements: [ACC-001]
              request: {body: minimal}
              expect:
                - status: 200
            """
        ),
        "      ",
    )
    run = run_suite(tmp_path, *custom_suite(tmp_path, {"mixed.yaml": mixed}), "-q", "-rA")
    assert run.exit_code == 3, run.output
    assert "mixed.yaml:11: " in run.output and "unknown body 'no-such-body'" in run.output
    assert "1 failed, 2 passed" in run.output
    assert run.certificate["suite_errors"] == [
        next(e for e in run.certificate["suite_errors"] if "mixed.yaml:11" in e)
    ]


@pytest.mark.e2e
def test_a_precondition_runs_once_whichever_case_runs_first(tmp_path: Path) -> None:
    requests: list[str] = []

    def count(answer: Answer) -> None:
        requests.append(answer.request.method)

    files = {
        "a.yaml": """\
            scenarios:
              - id: dependant
                title: runs first, needs the base
                requirements: [ACC-004]
                precondition: base-request
                expand:
                  currency: {values: [EUR, USD]}
                request: {body: {from: minimal, set: {billing_currency: "${currency}"}}}
                expect:
                  - status: 200
        """,
        "b.yaml": GOOD_FILE.replace("good-minimal", "base-request"),
    }
    with serve_in_thread(rewrite_of_reference(count)) as url:
        run = run_suite(
            tmp_path,
            *custom_suite(tmp_path, files),
            "-p",
            "no:randomly",
            base_url=url,
            api_key=TEST_KEY,
        )
    assert run.exit_code == 0, run.output[-2000:]
    # The key check before the run (a minimal POST), then the base once and each currency once.
    assert requests.count("POST") == 1 + 1 + 2
    assert run.status("ACC-001") == "passed" and run.status("ACC-004") == "passed"


@pytest.mark.e2e
def test_a_precondition_that_names_nothing_is_a_suite_error(tmp_path: Path) -> None:
    files = {
        "a.yaml": """\
            scenarios:
              - id: dependant
                title: needs a base that does not exist
                requirements: [ACC-001]
                precondition: no-such-scenario
                request: {body: minimal}
                expect:
                  - status: 200
        """
    }
    run = run_suite(tmp_path, *custom_suite(tmp_path, files))
    assert run.exit_code == 3  # a suite error: the run is not whole
    assert "a.yaml:2: precondition 'no-such-scenario': no scenario has the id" in run.output


# -- your own scenarios, from any folder ------------------------------------------------------
def _run_command(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "checkout_conformance", "run", *args],
        cwd=cwd,
        env=suite_environment(None),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.mark.e2e
def test_run_takes_your_own_scenario_folder_from_any_folder(tmp_path: Path) -> None:
    mine = tmp_path / "my-scenarios"
    mine.mkdir()
    (mine / "mine.yaml").write_text(textwrap.dedent(GOOD_FILE))
    work = tmp_path / "elsewhere"
    work.mkdir()
    result = _run_command(work, "--suite", str(mine), "-q", "-p", "no:randomly")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
    # Beside the full run's reports, never over them, and the output says where.
    reports = work / "reports" / "my-scenarios"
    assert not (work / "reports" / "certificate.json").exists()
    assert (reports / "junit.xml").is_file() and (reports / "allure-results").is_dir()
    assert f"certificate: {reports / 'certificate.json'} (your own scenarios" in result.stdout
    certificate = json.loads((reports / "certificate.json").read_text())
    statuses = {r["id"]: r["status"] for r in certificate["requirements"]}
    assert statuses["ACC-001"] == "passed"
    assert certificate["run"]["requests"]["scenarios"] == 1


@pytest.mark.e2e
@pytest.mark.parametrize("kind", ["empty", "missing"])
def test_run_refuses_a_folder_without_scenarios_loudly(tmp_path: Path, kind: str) -> None:
    folder = tmp_path / "nothing-here"
    if kind == "empty":
        folder.mkdir()
        (folder / "notes.txt").write_text("no scenarios")
    result = _run_command(tmp_path, "--suite", str(folder), "-q")
    output = result.stdout + result.stderr
    assert result.returncode == 2, output  # named by the option the user gave: --suite
    if kind == "empty":
        assert f"--suite {folder}: holds no scenario files" in output
    else:
        assert f"--suite {folder}: no such file or folder" in output
    assert "Traceback" not in output


# -- one fault reads as one fault ---------------------------------------------------------------
@pytest.mark.e2e
def test_one_broken_rule_reads_as_one_grouped_fault_with_files_to_reproduce(
    tmp_path: Path,
) -> None:
    server, running = start_server("--mutant", "curl-url-with-payment-method")
    try:
        run = run_suite(
            tmp_path,
            "-p",
            "no:randomly",
            "--examples=30",
            base_url=running.base_url,
            api_key=TEST_KEY,
        )
    finally:
        server.stop()
    assert run.exit_code == 1, run.output[-3000:]
    output = run.output
    group = re.search(r"  CURL-001 \(MUST\) FAILED in (\d+) tests: ", output)
    assert group is not None, output[-3000:]
    failed = int(group.group(1))
    assert failed > 10
    assert "smallest reproducer: curl-minimal-confirmed" in output
    # The whole exchange once for the requirement; its other failures add their own lines.
    # (A failure of other requirements, say a SHOULD that a loaded machine makes slow, is shown
    # whole once for those.)
    # The failures section only: in CI (CI=true) pytest's short summary repeats messages whole.
    failures = output.split("short test summary info")[0]
    blocks = re.split(r"\n(?=\[(?:MUST|SHOULD|MAY)\] )", failures)
    curl_only = [b for b in blocks if b.startswith("[MUST] CURL-001 · ")]
    assert len(curl_only) >= failed - 1  # the property test's block has its own header
    assert sum("\nrequest (step 1 of 1" in block for block in curl_only) == 1
    assert failures.count("full exchange and curl.sh: ") == failed
    # The property test's failure: the finding, not the suite's source or Hypothesis' hints.
    assert "[MUST] CURL-001 · generated request · " in output
    assert "CURL-001 (MUST)" not in output.split("= checkout-conformance =")[0]
    assert "def _fail" not in output and "Verbosity" not in output and "Traceback" not in output
    # Each failing test's exchange in full, with a curl line that sends the same body.
    folder = tmp_path / "failures"
    case = folder / "suites_checkout_url_payment_method.yaml__curl-every-optional-field"
    curl = (case / "curl.sh").read_text()
    assert "--data-binary @request-body.json" in curl and "$DODO_PAYMENTS_API_KEY" in curl
    sent = json.loads((case / "request-body.json").read_text())
    assert sent["payment_method_id"] and len(json.dumps(sent)) > 1000
    assert "request-body.json" not in (case / "exchange.txt").read_text().split("response:")[0]
    assert f"failing exchanges in full: {folder}" in output
    assert len(list(folder.iterdir())) == failed + 1  # and the marker file
