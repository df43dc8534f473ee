"""One outcome, told the same everywhere: the certificate is the single source of a run's
outcome, and every other output (exit status, terminal, Markdown, badge, JUnit, Allure) renders
it. A property test over generated record sets checks the rules; child runs check each way a
run used to say something it had not proved (issue 21)."""

from __future__ import annotations

import json
import textwrap
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checkout_conformance import certificate
from checkout_conformance._resources import SUITES_DIR
from checkout_conformance.catalog import load_catalog
from checkout_conformance.contract import load_contract
from checkout_conformance.engine import _junit
from checkout_conformance.records import Record, new_record, not_covered, settle, suite_error
from checkout_conformance.results import exit_status

from .conftest import ROOT, TEST_KEY, run_suite, start_server
from .test_engine_runs import GOOD_FILE, PLUGIN_ARGS, custom_suite

CATALOG = load_catalog()
REQUIREMENTS = [requirement.id for requirement in CATALOG]
LEVEL = {requirement.id: requirement.level for requirement in CATALOG}
OPTIONAL_KEYS = ("subscription_product_id", "addon_id", "discount_code")


# -- the rules, over generated records ----------------------------------------------------------
@st.composite
def records(draw: st.DrawFn, fail_on_should: bool) -> Record:
    """One test's record: requirements it checked and how each fared, as the engine writes
    them (a skipped test is wholly not tested or not covered; failures carry evidence)."""
    index = draw(st.integers(0, 10_000))
    test = f"suites/x.yaml::case-{index}"
    kind = draw(st.sampled_from(["ran", "ran", "ran", "not_covered", "not_tested", "error"]))
    checked = draw(st.lists(st.sampled_from(REQUIREMENTS), min_size=1, max_size=3, unique=True))
    if kind == "error":
        return suite_error(test, "suites/x.yaml:1", "suites/x.yaml:1: something is wrong")
    record = new_record("scenario", test, f"suites/x.yaml:{index}")
    record["written_for"] = checked[:1]
    if kind == "not_covered":
        not_covered(record, checked, draw(st.sampled_from(OPTIONAL_KEYS)), "not covered: ...")
        return record
    if kind == "not_tested":
        record["requirements"] = dict.fromkeys(checked, "not_tested")
        record["skip_reason"] = "not tested: precondition failed"
        return record
    for requirement in checked:
        failed = draw(st.booleans())
        record["requirements"][requirement] = "failed" if failed else "passed"
        if failed:
            record["failures"].append(
                {"requirement": requirement, "reason": f"{requirement} broke", "evidence": {}}
            )
    settle(record, CATALOG, fail_on_should)
    return record


@st.composite
def runs(draw: st.DrawFn) -> tuple[list[Record], bool, bool, str | None]:
    fail_on_should = draw(st.booleans())
    found = draw(st.lists(records(fail_on_should), max_size=25))
    unique = {record["test"]: record for record in found}  # one record per test
    broken = draw(st.sampled_from([None, None, None, "the API key was refused"]))
    return list(unique.values()), fail_on_should, draw(st.booleans()), broken


def expected_statuses(found: list[Record]) -> dict[str, str]:
    """The product spec's rules, written out again independently of results.py."""
    outcomes: dict[str, list[str]] = {requirement: [] for requirement in REQUIREMENTS}
    for record in found:
        for requirement, outcome in record["requirements"].items():
            outcomes[requirement].append(outcome)
    statuses = {}
    for requirement, seen in outcomes.items():
        if "failed" in seen:
            statuses[requirement] = "failed"
        elif "passed" in seen and "not_tested" not in seen:
            statuses[requirement] = "passed"  # not covered tests do not stop it
        else:
            statuses[requirement] = "not_tested"
    return statuses


def build(found: list[Record], fail_on_should: bool, partial: bool, broken: str | None) -> Any:
    now = datetime(2026, 12, 6, tzinfo=UTC)
    info = certificate.RunInfo(
        target_host="127.0.0.1",
        embedded=True,
        profile_name="p",
        profile_kind="mock",
        fail_on_should=fail_on_should,
        partial=partial,
        started=now,
        finished=now,
        broken=broken,
    )
    return certificate.build(found, CATALOG, load_contract(), info)


def pytest_outcome(record: Record) -> str:
    """What pytest reports for the record's test (the plugin's makereport): failed, passed with
    a warning, skipped, or passed."""
    if record["kind"] == "suite_error" or (record["failures"] and record["blocking"]):
        return "failed"
    if record["failures"]:
        return "warned"
    if record["requirements"] and all(
        s in ("not_tested", "not_covered") for s in record["requirements"].values()
    ):
        return "skipped"
    return "passed"


def junit_as_pytest_writes_it(found: list[Record], path: Path) -> None:
    """A JUnit file as pytest writes it before the plugin rewrites it: a `<failure>` for every
    test that failed any requirement (warnings included), an `<error>` for suite errors."""
    suite = ET.Element("testsuite", name="pytest", errors="0", failures="0", tests="0")
    for record in found:
        classname, name = _junit._pytest_address(record["test"])
        case = ET.SubElement(suite, "testcase", classname=classname, name=name)
        if record["kind"] == "suite_error":
            ET.SubElement(case, "failure", message="suite error")
        elif record["failures"]:
            ET.SubElement(case, "failure", message="[MUST] ...")
    root = ET.Element("testsuites")
    root.append(suite)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


@settings(max_examples=150, deadline=None)
@given(run=runs())
def test_every_output_agrees_with_the_certificate(
    run: tuple[list[Record], bool, bool, str | None], tmp_path_factory: pytest.TempPathFactory
) -> None:
    found, fail_on_should, partial, broken = run
    document = build(found, fail_on_should, partial, broken)
    written = {**document, "tests_file": {"name": "t.json", "sha256": "0" * 64}}
    written["integrity"] = {"sha256": certificate.content_digest(written)}
    assert certificate.schema_errors(written) == []
    assert certificate.verify(written) == []

    # Requirement statuses and the verdict follow the spec's rules.
    statuses = {r["id"]: r["status"] for r in document["requirements"]}
    assert statuses == expected_statuses(found)
    must_failed = any(statuses[r] == "failed" and LEVEL[r] == "MUST" for r in statuses)
    must_untested = any(statuses[r] == "not_tested" and LEVEL[r] == "MUST" for r in statuses)
    should_failed = any(statuses[r] == "failed" and LEVEL[r] == "SHOULD" for r in statuses)
    errors = any(record["kind"] == "suite_error" for record in found)
    if broken:
        assert document["verdict"] == "broken"
    elif must_failed:
        assert document["verdict"] == "non-conformant"
    elif must_untested or partial or errors:
        assert document["verdict"] == "incomplete"
    else:
        assert document["verdict"] == (
            "conformant-with-warnings" if should_failed else "conformant"
        )

    # The exit status agrees with the certificate and with what pytest reported per test.
    code = exit_status(document)
    assert document["exit_status"] == code
    outcomes = [pytest_outcome(record) for record in found]
    if broken or errors:
        assert code == 3
    else:
        assert (code == 1) == ("failed" in outcomes)
        assert code in (0, 1)

    # Every not-covered test names its key in the requirement's coverage.
    for requirement in document["requirements"]:
        keys = {
            str(record.get("missing_key"))
            for record in found
            if record["requirements"].get(requirement["id"]) == "not_covered"
        }
        assert set(requirement.get("coverage", {}).get("profile_keys", [])) == keys

    # Markdown, badge and terminal render the certificate's verdict and failures.
    markdown = certificate.markdown(document)
    assert f"**{document['verdict']}**" in markdown.splitlines()[0]
    # Read from the bottom (a CI log's tail): the exit status, the verdict, and within the
    # last 29 lines (pytest's own count line is the 30th) every requirement that failed.
    tail = certificate.terminal_lines(document, CATALOG.headline)[-29:]
    assert tail[-1] == f"exit status: {code}" and f"Exit status {code}." in markdown
    assert tail[-2].startswith(f"verdict: {document['verdict']} ")
    failed_lines = [line for line in tail if " FAILED" in line or " warned" in line]
    for requirement_id, status in statuses.items():
        if status == "failed":
            assert f"**{requirement_id}**" in markdown
            assert any(requirement_id in line for line in failed_lines), requirement_id
    blocking = [
        r["id"]
        for r in document["requirements"]
        if r["status"] == "failed"
        and (r["level"] == "MUST" or (fail_on_should and r["level"] == "SHOULD"))
    ]
    if blocking:  # blocking failures first, the headline rule first among them
        first = failed_lines[0]
        headline = [i for i in blocking if i.startswith(CATALOG.headline + "-")]
        assert first.startswith(f"  {(headline or blocking)[0]} (")
    badge = certificate.badge(document)
    assert (badge["message"] == "run broken") == bool(broken)

    # JUnit, once rewritten, fails exactly the tests pytest failed, and says a run broke.
    folder = tmp_path_factory.mktemp("junit")
    path = folder / "junit.xml"
    junit_as_pytest_writes_it(found, path)
    _junit.rewrite(path, found, document)
    tree = ET.parse(path)
    failing = [c for c in tree.iter("testcase") if c.find("failure") is not None]
    assert len(failing) == outcomes.count("failed")
    warned = [
        c
        for c in tree.iter("testcase")
        if any(p.get("value") == "warned" for p in c.iter("property"))
    ]
    assert len(warned) == outcomes.count("warned")
    assert (len([c for c in tree.iter("testcase") if c.find("error") is not None]) == 1) == bool(
        broken
    )


# -- child runs: each finding of issue 21 ---------------------------------------------------------
def profile(tmp_path: Path, *keys: str) -> Path:
    """The reference profile with only `keys` in its data."""
    reference = (ROOT / "fixtures/profiles/reference.yaml").read_text()
    lines = [
        line
        for line in reference.splitlines()
        if not line.startswith("  ") or line.strip().split(":")[0] in keys
    ]
    path = tmp_path / "profile.yaml"
    path.write_text("\n".join(lines).replace("name: reference", "name: partial") + "\n")
    return path


@pytest.mark.e2e
@pytest.mark.heavy(15)
def test_a_broken_run_leaves_its_own_outcome_everywhere(tmp_path: Path) -> None:
    """A wrong key: no output of an earlier run stays; the certificate, its Markdown, its badge,
    JUnit and Allure all say the run broke, and nothing says conformant."""
    server, running = start_server()
    try:
        reports = tmp_path / "reports"
        allure = reports / "allure-results"
        allure.mkdir(parents=True)
        earlier = {"verdict": "conformant", "summary": {"MUST": {"passed": 42, "total": 42}}}
        (reports / "certificate.json").write_text(json.dumps(earlier))
        (reports / "certificate.md").write_text("# conformant\n")
        (reports / "certificate-badge.json").write_text('{"message": "42/42 MUST"}')
        (allure / "old-result.json").write_text('{"status": "passed"}')
        (allure / "0123-result.json").write_text('{"status": "passed"}')
        run = run_suite(
            tmp_path,
            f"--certificate={reports / 'certificate.json'}",
            f"--junitxml={reports / 'junit.xml'}",
            f"--alluredir={allure}",
            base_url=running.base_url,
            api_key="sk_test_a_key_the_server_never_issued_1234",
        )
    finally:
        server.stop()
    assert run.exit_code == 3, run.output
    document = json.loads((reports / "certificate.json").read_text())
    assert document["verdict"] == "broken"
    assert "refused" in document["broken"]
    assert "/checkouts" not in document["broken"]  # a URL as scheme and host, no more
    assert document["run"]["tests"] == 0 and document["run"]["not_run"] > 1000
    assert document["run"]["selected"] is False  # partial, but not a selection
    markdown = (reports / "certificate.md").read_text()
    assert "a selection of the suite" not in markdown
    assert markdown.count("refused") == 1  # the reason once, not once per requirement
    assert document["exit_status"] == 3
    assert certificate.verify(document) == []
    assert "verdict: broken" in run.output and "Traceback" not in run.output
    assert "**broken**" in (reports / "certificate.md").read_text()
    assert "The run broke: " in (reports / "certificate.md").read_text()
    assert json.loads((reports / "certificate-badge.json").read_text())["message"] == "run broken"
    junit = ET.parse(reports / "junit.xml")
    errors = [case for case in junit.iter("testcase") if case.find("error") is not None]
    assert len(errors) == 1 and "refused" in str(errors[0].find("error").get("message"))  # type: ignore[union-attr]
    results = [json.loads(p.read_text()) for p in allure.glob("*-result.json")]
    assert [result["status"] for result in results] == ["broken"]
    assert "refused" in results[0]["statusDetails"]["message"]
    assert "verdict=broken" in (allure / "environment.properties").read_text()
    for path in reports.rglob("*"):
        if path.is_file():
            text = path.read_text()
            assert '"verdict": "conformant' not in text and "42/42" not in text, path
            assert "sk_test_a_key_the_server_never_issued_1234" not in text


@pytest.mark.e2e
@pytest.mark.heavy(20)
def test_a_correct_server_with_a_partial_profile_passes_on_the_tests_that_ran(
    tmp_path: Path,
) -> None:
    """The spec's allowance: tests left out for want of an optional key are *not covered*; the
    requirement passes on the tests that ran, with its coverage and the keys that would cover
    the rest. With the three keys of the issue only, the requirements none of whose tests can
    run without a key stay not tested (the spec: "none of whose tests ran"), naming the key."""
    minimal = profile(tmp_path, "one_time_product_id", "customer_id", "payment_method_id")
    run = run_suite(tmp_path, "-q", "-p", "no:randomly", f"--target-profile={minimal}")
    assert run.exit_code == 0, run.output
    document = run.certificate
    statuses = {r["id"]: r for r in document["requirements"]}
    # RULE-005 passes on the derived cases that need no discount code (each of its decisions'
    # conditions flipped to absent), the others not covered for want of `discount_code`.
    for requirement_id in ("ACC-002", "ACC-003", "RESP-001", "RESP-004", "CURL-003", "RULE-005"):
        requirement = statuses[requirement_id]
        assert requirement["status"] == "passed", requirement
        assert requirement["coverage"]["not_covered"] >= 1
        assert requirement["coverage"]["tests_run"] >= 1
        assert requirement["coverage"]["profile_keys"]
    assert "discount_code" in statuses["RULE-005"]["coverage"]["profile_keys"]
    untested = {r for r, entry in statuses.items() if entry["status"] != "passed"}
    assert untested == {"ACC-011", "RULE-015"}, untested
    assert statuses["ACC-011"]["reasons"] == [
        "every test of it needs a profile key the profile lacks: subscription_product_id"
    ]
    assert "## Coverage" in run.certificate_path.with_suffix(".md").read_text()
    assert "not covered for want of profile keys" in run.output

    # The profile format of the product spec (no on_demand_product_id and other optional
    # keys): a correct server is conformant, its coverage stated.
    spec_format = profile(
        tmp_path,
        "one_time_product_id",
        "subscription_product_id",
        "addon_id",
        "customer_id",
        "payment_method_id",
        "discount_code",
    )
    run = run_suite(tmp_path, "-q", "-p", "no:randomly", f"--target-profile={spec_format}")
    assert run.exit_code == 0, run.output
    assert run.certificate["verdict"] == "conformant", run.output
    covered = [r for r in run.certificate["requirements"] if "coverage" in r]
    assert covered and all(r["status"] == "passed" for r in covered)


SAME_ID = GOOD_FILE.replace("good-minimal", "same-id")


@pytest.mark.e2e
def test_two_scenarios_with_one_id_are_one_suite_error_naming_both(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    for folder in (first, second):
        folder.mkdir()
        (folder / "mine.yaml").write_text(textwrap.dedent(SAME_ID))
    run = run_suite(
        tmp_path,
        *PLUGIN_ARGS,
        f"--conformance-suites={first},{second}",
        str(first),
        str(second),
        "-q",
        "-rA",
    )
    assert run.exit_code == 3, run.output
    errors = run.certificate["suite_errors"]
    assert len(errors) == 1, errors
    assert "b/mine.yaml:2" in errors[0] and "a/mine.yaml:2" in errors[0]
    assert run.certificate["verdict"] == "incomplete"
    assert "1 passed" in run.output


HEADER = "scenarios:\n  - id: x\n    title: t\n"


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "    requirements: [AUTH-002]\n"
            "    request: {body: minimal, headers: {Authorization: 'Token ${api_key|base46}'}}\n",
            ":5: unknown filter |base46; did you mean 'base64'?",
        ),
        (
            "    requirements: [AUTH-002]\n"
            "    request: {body: minimal, headers: {Authorization: '${profile.custmer_id}'}}\n",
            ":5: unknown profile key ${profile.custmer_id}; did you mean 'customer_id'?",
        ),
        (
            "    requirements: [ACX-001]\n    request: {body: minimal}\n",
            ":4: unknown requirement 'ACX-001'; did you mean 'ACC-001'?",
        ),
        (
            "    requirements: [ACC-001]\n    request: {body: minimall}\n",
            ":5: unknown body 'minimall'; did you mean 'minimal'?",
        ),
    ],
)
def test_a_misspelled_name_is_refused_at_load_with_file_line_and_a_suggestion(
    tmp_path: Path, text: str, message: str
) -> None:
    scenario = HEADER + text + "    expect: [{status: 401}]\n"
    args = custom_suite(tmp_path, {"bad.yaml": scenario})
    run = run_suite(tmp_path, *args, "-q")
    assert run.exit_code == 3, run.output
    assert f"bad.yaml{message}" in run.output
    assert "Traceback" not in run.output and "KeyError" not in run.output


@pytest.mark.e2e
def test_an_unexpected_exception_is_a_suite_error_with_file_and_line(tmp_path: Path) -> None:
    args = custom_suite(
        tmp_path,
        {
            "mine.yaml": """\
                scenarios:
                  - id: explodes
                    title: the suite's own code raises
                    requirements: [ACC-001]
                    request: {body: minimal}
                    expect:
                      - status: 200
            """
        },
    )
    (tmp_path / "suites" / "conftest.py").write_text(
        textwrap.dedent(
            """\
            from checkout_conformance.engine import _case_runs

            def _explode(*args, **kwargs):
                raise RuntimeError("a bug in the suite")

            _case_runs.run_case = _explode
            """
        )
    )
    run = run_suite(tmp_path, *args, "-q")
    assert run.exit_code == 3, run.output
    errors = run.certificate["suite_errors"]
    assert len(errors) == 1 and "mine.yaml:2" in errors[0] and "a bug in the suite" in errors[0]
    assert "Traceback" not in run.output


@pytest.mark.e2e
@pytest.mark.heavy(20)
def test_x_stops_on_a_must_failure_only_and_never_certifies_what_did_not_run(
    tmp_path: Path,
) -> None:
    """-x: a SHOULD warning is a pass with a warning (the run goes on); a MUST failure stops it,
    and the tests that never ran make their requirements not tested and the run partial."""

    def run_x_against(*server_args: str) -> Any:
        server, running = start_server(*server_args)
        try:
            return run_suite(
                tmp_path,
                "-x",
                "-q",
                "-p",
                "no:randomly",
                base_url=running.base_url,
                api_key=TEST_KEY,
            )
        finally:
            server.stop()

    run = run_x_against("--variant", "403-for-401")
    assert run.exit_code == 0, run.output
    assert run.certificate["verdict"] == "conformant-with-warnings"
    assert run.certificate["run"]["not_run"] == 0 and "warned" in run.output
    # AUTH-010 (a 401's WWW-Authenticate) applied nowhere: no 401 came. Said so, not "no test".
    auth_010 = next(r for r in run.certificate["requirements"] if r["id"] == "AUTH-010")
    assert auth_010["status"] == "not_tested" and "conditional" in auth_010["reasons"][0]

    run = run_x_against("--mutant", "curl-url-with-payment-method")
    assert run.exit_code == 1, run.output
    document = run.certificate
    assert document["verdict"] == "non-conformant"
    assert document["run"]["not_run"] > 100 and document["run"]["partial"] is True
    assert "collected tests never ran" in run.output
    # A requirement with a test that never ran is not tested, never passed.
    not_run = json.loads(certificate.tests_path(run.certificate_path).read_text())
    for requirement in document["requirements"]:
        outcomes = {t["outcome"] for t in not_run["requirements"][requirement["id"]]}
        if "not_tested" in outcomes:
            assert requirement["status"] != "passed", requirement


def test_a_certificate_names_files_and_command_portably(tmp_path: Path) -> None:
    invocation = tmp_path / "work"
    command = certificate.portable_command(
        [
            f"--rootdir={invocation}",
            f"--conformance-suites={SUITES_DIR},{invocation / 'mine'}",
            "--base-url=https://user:secret@sandbox.example.test:8443/v1/?q=1",
            "/elsewhere/profile.yaml",
            "-k",
            "CURL",
        ],
        invocation,
    )
    text = " ".join(command)
    assert "secret" not in text and "/v1" not in text and "user" not in text
    assert "--base-url=https://sandbox.example.test:8443" in text
    said = "refused: POST https://u:p@sandbox.example.test/v1/checkouts?x=1 got 401"
    assert certificate.portable_text(said) == "refused: POST https://sandbox.example.test got 401"
    assert str(tmp_path) not in text and "/elsewhere" not in text
    assert command[0] == "--rootdir=." and ".../profile.yaml" in command
    names = certificate.scenario_hashes([SUITES_DIR, ROOT / "tests"])
    assert "packaged:auth/authentication.yaml" in names
    assert "tests/test_outcome.py" in names
    assert not any(name.startswith("/") for name in names)
    # A failing test's place in the packaged suite, as an installed run reports it.
    installed = f"{SUITES_DIR / 'rules' / 'decisions.yaml'}:1168"
    assert certificate.portable_location(installed) == "packaged:rules/decisions.yaml:1168"
    assert certificate.portable_location("suites/auth/x.yaml:3") == "suites/auth/x.yaml:3"
    assert certificate.portable_location("/elsewhere/mine.yaml:7") == "/elsewhere/mine.yaml:7"


def test_verify_says_what_an_unsigned_digest_proves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from checkout_conformance.cli import main

    document = build([], False, True, None)
    path = tmp_path / "certificate.json"
    certificate.write(document, certificate.tests_index([], CATALOG), path)
    assert main(["certificate", "verify", str(path)]) == 0
    said = capsys.readouterr().out
    assert "content digest matches; not signed: anyone can rewrite an unsigned certificate" in said
    assert "unchanged since written" not in said


def test_verify_exits_2_on_what_is_not_a_certificate(tmp_path: Path) -> None:
    from checkout_conformance.cli import main

    path = tmp_path / "not.json"
    path.write_text("[1, 2]")
    assert main(["certificate", "verify", str(path)]) == 2


@pytest.mark.e2e
def test_a_certificate_made_outside_the_checkout_verifies_in_it(tmp_path: Path) -> None:
    """`checkout-conformance run` from another folder: files named `packaged:...`, no absolute
    path or full URL in the command, and the checkout's verify accepts it."""
    from .test_engine_runs import _run_command

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = _run_command(elsewhere, "-q", "-k", "acc-minimal-request", "-p", "no:cacheprovider")
    assert result.returncode == 0, result.stdout + result.stderr
    path = elsewhere / "reports" / "certificate.json"
    document = json.loads(path.read_text())
    assert document["run"]["partial"] is True
    assert str(tmp_path) not in document["run"]["command"]
    assert str(ROOT) not in json.dumps(document)
    assert all(name.startswith("packaged:") for name in document["suite"]["scenario_files"])
    assert certificate.verify(document, tests_file=certificate.tests_path(path)) == []


# -- one deviation, one requirement --------------------------------------------------------------
def exchange(method: str, status: int | None, body: bytes = b"", content_type: str = "") -> Any:
    import httpx

    from checkout_conformance.transport import Exchange, PreparedRequest

    request = PreparedRequest(method, "http://127.0.0.1:1/checkouts", [], b"{}")
    headers = httpx.Headers({"content-type": content_type} if content_type else {})
    return Exchange(request, status=status, headers=headers, body=body)


def judged(answer: Any, positive: bool = True) -> dict[str, str | None]:
    from checkout_conformance.properties._checks import judge

    body = {"product_cart": [{"product_id": "pdt_x", "quantity": 1}]}
    verdicts = judge(answer, body, positive, load_contract(), lambda: "ROB-002")
    return {verdict.requirement: verdict.problem for verdict in verdicts}


def test_an_error_body_in_another_format_is_val_015_alone() -> None:
    """A refusal of a valid request as problem+json: ROB-003 holds (a 4xx, a JSON body); only
    VAL-015 (the documented {code, message}) warns."""
    problem = b'{"type": "about:blank", "title": "no", "status": 422}'
    found = judged(exchange("POST", 422, problem, "application/problem+json"))
    assert found["ROB-003"] is None
    assert found["VAL-015"] is not None and "documented JSON error body" in found["VAL-015"]
    found = judged(exchange("POST", 422, b"<html>no</html>", "text/html"))
    assert found["ROB-003"] is not None and "not a JSON object" in found["ROB-003"]


@pytest.mark.parametrize(
    ("method", "status", "problem"),
    [
        ("OPTIONS", 501, None),  # Not Implemented: a fine answer to a method it does not serve
        ("OPTIONS", 204, None),  # a CORS preflight
        ("OPTIONS", 500, "OPTIONS /checkouts got status 500"),
        ("DELETE", 501, "DELETE /checkouts got status 501, not 405 (or 404)"),
        ("GET", 405, None),
        ("GET", 200, "GET /checkouts got status 200, not 405 (or 404)"),
    ],
)
def test_one_rule_decides_an_unsupported_method_and_it_is_rob_005(
    method: str, status: int, problem: str | None
) -> None:
    assert judged(exchange(method, status), positive=False) == {"ROB-005": problem}


def test_a_5xx_in_any_scenario_fails_rob_001_too() -> None:
    from checkout_conformance.engine._runner import _server_error

    class Scenario:
        location = "suites/acceptance/valid_requests.yaml:10"

    class Step:
        line = 12

    failure = _server_error(exchange("POST", 500), [], Scenario(), Step())  # type: ignore[arg-type]
    assert failure is not None and failure.requirement == "ROB-001"
    assert failure.source == "suites/acceptance/valid_requests.yaml:12"
    assert _server_error(exchange("DELETE", 500), [], Scenario(), Step()) is None  # type: ignore[arg-type]
    assert _server_error(exchange("POST", 422), [], Scenario(), Step()) is None  # type: ignore[arg-type]


@pytest.mark.e2e
def test_every_junit_case_follows_the_naming_scheme_control_characters_included(
    tmp_path: Path,
) -> None:
    """A control character of a case label is written as an escape (`\\x00`) in the case id,
    so that terminals, CI logs and JUnit readers get printable text; the rewrite finds those
    cases and writes well-formed XML."""
    junit = tmp_path / "junit.xml"
    run = run_suite(tmp_path, "-q", "-k", "rob-odd-strings", f"--junitxml={junit}")
    assert run.exit_code == 0, run.output
    cases = list(ET.parse(junit).iter("testcase"))
    assert len(cases) >= 4
    assert [c.get("classname") for c in cases] == ["checkouts.robustness.hostile"] * len(cases)
    assert any("\\x00" in str(c.get("name")) for c in cases)
    assert not any(char < " " for c in cases for char in str(c.get("name")))
    assert all(str(c.get("name")).startswith("ROB-001: ") for c in cases)


# -- the output ends with the verdict (issue 24) ---------------------------------------------
def _accepts_everything(answer: Any) -> None:
    """A stand-in that says yes to anything (as a permissive mock does): every refusal becomes
    a session with a checkout_url, and charges get one too."""
    if answer.status in (400, 401, 403, 404, 409, 422):
        answer.status = 200
        answer.body = {"session_id": "cks_faulty", "checkout_url": "https://checkout.example/x"}
    elif isinstance(answer.body, dict) and "session_id" in answer.body:
        answer.body["checkout_url"] = "https://checkout.example/leak"


@pytest.mark.e2e
@pytest.mark.heavy(15)
def test_against_a_faulty_server_the_last_30_lines_hold_the_verdict_and_every_failed_must(
    tmp_path: Path,
) -> None:
    from .servers import rewrite_of_reference, serve_in_thread

    with serve_in_thread(rewrite_of_reference(_accepts_everything)) as url:
        run = run_suite(tmp_path, "--examples=20", base_url=url, api_key=TEST_KEY)
        short = run_suite(
            tmp_path / "short",
            "suites/auth",
            "--conformance-output=short",
            base_url=url,
            api_key=TEST_KEY,
        )
    assert run.exit_code == 1, run.output[-3000:]
    document = run.certificate
    failed_must = [
        r["id"]
        for r in document["requirements"]
        if r["status"] == "failed" and r["level"] == "MUST"
    ]
    assert len(failed_must) > 20  # more than fit one per line: the tail still names them all
    output = run.output.splitlines()
    assert len(output) > 1000  # tracebacks and the failed-test list come first
    tail = output[-30:]
    assert any(line.startswith(f"verdict: {document['verdict']} (") for line in tail)
    assert tail[-1].startswith("=") and " failed, " in tail[-1]  # pytest's count line, last
    for requirement_id in failed_must:
        assert any(" FAILED" in line and requirement_id in line for line in tail), requirement_id
    first_failed = next(line for line in output if " (MUST) FAILED in " in line)
    assert first_failed.startswith("  CURL-001 (MUST) FAILED in ")
    # pytest's own lines, one per failed test, are the only ones that start with FAILED.
    assert all("::" in line for line in output if line.startswith("FAILED "))

    # The short output for CI logs: no tracebacks, no per-test list, the same ending.
    assert short.exit_code == 1, short.output[-3000:]
    assert "Traceback" not in short.output and "FAILED suites/" not in short.output
    assert "___ " not in short.output  # no per-test failure sections
    assert len(short.output.splitlines()) < 50, short.output  # the header, dots, the summary
    assert short.output.splitlines()[-2].startswith("exit status: 1")


@pytest.mark.e2e
def test_a_misspelled_option_gets_a_suggestion_with_the_suites_own_names(tmp_path: Path) -> None:
    run = run_suite(tmp_path, "--target-profle=fixtures/profiles/reference.yaml")
    assert run.exit_code == 4
    assert "did you mean --target-profile=fixtures/profiles/reference.yaml?" in run.output
    bad = run_suite(tmp_path, "--conformance-output=shrt")
    assert bad.exit_code == 4
    assert "expected one of full, short, got 'shrt'; did you mean 'short'?" in bad.output
