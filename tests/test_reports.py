"""The certificate, its renderings and its verification; Allure results; JUnit; the HTML report."""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from checkout_conformance import certificate as certificates
from checkout_conformance.catalog import load_catalog

from .conftest import ROOT, TEST_KEY, SuiteRun, run_suite, shared_run
from .servers import Answer, rewrite_of_reference, serve_in_thread


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory: pytest.TempPathFactory) -> SuiteRun:
    """A small run with Allure and JUnit output, shared by several checks (once per session,
    whichever xdist worker asks first)."""

    def run(tmp_path: Path) -> SuiteRun:
        return run_suite(
            tmp_path,
            "suites/auth",
            "suites/checkout_url",
            "suites/properties",
            "--examples=20",
            f"--alluredir={tmp_path / 'allure'}",
            f"--junitxml={tmp_path / 'junit.xml'}",
            "--implementation-name=reference-under-test",
            "--implementation-version=9.9.9",
        )

    return shared_run(tmp_path_factory, "smoke", run)


@pytest.mark.e2e
def test_certificate_content(smoke_run: SuiteRun) -> None:
    certificate = smoke_run.certificate
    assert certificates.schema_errors(certificate) == []
    assert certificate["implementation"] == {
        "host": "127.0.0.1",
        "embedded_reference_server": True,
        "profile": {"name": "reference", "kind": "mock"},
        "name": "reference-under-test",
        "version": "9.9.9",
    }
    suite = certificate["suite"]
    assert set(suite["tools"]) == {"pytest", "schemathesis", "hypothesis"}
    assert "packaged:auth/authentication.yaml" in suite["scenario_files"]
    assert certificate["run"]["partial"] is True  # paths and -m select part of the suite
    assert certificate["verdict"] == "incomplete"
    assert "--implementation-name=reference-under-test" in certificate["run"]["command"]
    curl = next(r for r in certificate["requirements"] if r["id"] == "CURL-001")
    assert curl["status"] == "passed" and curl["tests"]["passed"] > 0
    assert curl["tests"]["failed"] == curl["tests"]["not_tested"] == 0
    assert "failing_tests" not in curl
    # Every test of every requirement is in the tests file, whose hash the certificate holds.
    tests_file = certificates.tests_path(smoke_run.certificate_path)
    listed = json.loads(tests_file.read_text())["requirements"]["CURL-001"]
    assert len(listed) == curl["tests"]["passed"]
    assert all(test["outcome"] == "passed" for test in listed)
    assert certificate["tests_file"]["name"] == tests_file.name


@pytest.mark.e2e
def test_markdown_and_badge_are_written_beside_the_certificate(smoke_run: SuiteRun) -> None:
    markdown_path, badge_path = certificates.companion_paths(smoke_run.certificate_path)
    markdown = markdown_path.read_text()
    assert markdown.startswith("# `POST /checkouts` conformance: **incomplete**")
    assert "| MUST |" in markdown and "## Not tested" in markdown
    badge = json.loads(badge_path.read_text())
    must = smoke_run.certificate["summary"]["MUST"]
    assert badge == {
        "schemaVersion": 1,
        "label": "checkouts conformance",
        "message": f"{must['passed']}/{must['total']} MUST",
        "color": "lightgrey",
    }


def verify_cli(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "checkout_conformance", "certificate", "verify", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.e2e
def test_verify_accepts_a_fresh_certificate(smoke_run: SuiteRun) -> None:
    result = verify_cli(smoke_run.certificate_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verified - incomplete for 127.0.0.1" in result.stdout


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (lambda c: c.update(verdict="conformant"), "verdict: the requirements give 'incomplete'"),
        (lambda c: c["summary"]["MUST"].update(passed=99), "summary: the counts do not match"),
        (
            lambda c: c["suite"].update(contract_sha256="0" * 64),
            "contract: contracts/checkouts.openapi.yaml differs",
        ),
        (
            lambda c: c["suite"]["scenario_files"].update(
                {"packaged:auth/authentication.yaml": "1" * 64}
            ),
            "scenarios: packaged:auth/authentication.yaml differs",
        ),
        (
            lambda c: c["requirements"][0].update(level="MAY"),
            "AUTH-001 is MUST in the catalog, MAY here",
        ),
        (lambda c: c.pop("run"), "schema: (top level): 'run' is a required property"),
        # Edits that keep the certificate consistent are caught by its digest alone.
        (
            lambda c: c["implementation"].update(host="sandbox.acme.example"),
            "content: changed after it was written",
        ),
        (
            lambda c: c["run"].update(started="2020-01-01T00:00:00+00:00"),
            "content: changed after it was written",
        ),
    ],
)
def test_verify_names_what_does_not_match(
    smoke_run: SuiteRun, tmp_path: Path, tamper: Any, message: str
) -> None:
    certificate = copy.deepcopy(smoke_run.certificate)
    tamper(certificate)
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(certificate))
    result = verify_cli(path)
    assert result.returncode == 1
    assert message in result.stdout
    assert "content: changed after it was written" in result.stdout or "schema:" in result.stdout


@pytest.mark.e2e
def test_a_signed_certificate_verifies_only_with_its_key(
    smoke_run: SuiteRun, tmp_path: Path
) -> None:
    path = tmp_path / "certificate.json"
    shutil.copy(smoke_run.certificate_path, path)
    shutil.copy(certificates.tests_path(smoke_run.certificate_path), certificates.tests_path(path))
    for prefix in ("ours", "theirs"):
        assert _cli("certificate", "keygen", str(tmp_path / prefix)).returncode == 0
    assert (tmp_path / "ours.pem").stat().st_mode & 0o077 == 0  # the private key is private
    signed = _cli("certificate", "sign", str(path), "--private-key", str(tmp_path / "ours.pem"))
    assert signed.returncode == 0, signed.stderr
    ours = _cli("certificate", "verify", str(path), "--public-key", str(tmp_path / "ours.pub.pem"))
    assert ours.returncode == 0 and "signed by the key given" in ours.stdout, ours.stdout
    theirs = _cli(
        "certificate", "verify", str(path), "--public-key", str(tmp_path / "theirs.pub.pem")
    )
    assert theirs.returncode == 1 and "signed with another key" in theirs.stdout
    document = json.loads(path.read_text())
    document["integrity"]["signature"]["value"] = document["integrity"]["signature"]["value"][::-1]
    path.write_text(json.dumps(document))
    forged = _cli("certificate", "verify", str(path))
    assert forged.returncode == 1 and "does not match the certificate's digest" in forged.stdout
    unsigned = tmp_path / "unsigned.json"
    shutil.copy(smoke_run.certificate_path, unsigned)
    public = str(tmp_path / "ours.pub.pem")
    needs = _cli("certificate", "verify", str(unsigned), "--public-key", public)
    assert needs.returncode == 1 and "not signed" in needs.stdout


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "checkout_conformance", *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_verify_of_a_missing_file_is_one_line_exit_2(tmp_path: Path) -> None:
    result = verify_cli(tmp_path / "nope.json")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.e2e
def test_allure_results_carry_labels_links_and_unique_history(smoke_run: SuiteRun) -> None:
    allure = smoke_run.certificate_path.parent / "allure"
    results = [json.loads(path.read_text()) for path in allure.glob("*-result.json")]
    assert len(results) == smoke_run.certificate["run"]["tests"]
    history_ids = [result["historyId"] for result in results]
    assert len(set(history_ids)) == len(history_ids), "each expanded case is its own Allure test"
    curl = next(r for r in results if "curl-minimal-confirmed" in r["fullName"])
    curl_labels = [(label["name"], label["value"]) for label in curl["labels"]]
    labels = set(curl_labels)
    assert ("epic", "The checkout_url rule") in labels
    assert ("severity", "critical") in labels
    assert ("requirement", "CURL-001") in labels
    assert any(name == "story" and value.startswith("CURL-001: ") for name, value in labels)
    link = next(link for link in curl["links"] if link["name"] == "CURL-001")
    assert link["type"] == "tms"
    assert link["url"] == "requirements.html#CURL-001"  # beside the HTML report, anywhere
    tags = [value for name, value in curl_labels if name == "tag"]
    assert len(tags) == len(set(tags)), tags
    prop = next(r for r in results if "test_generated_requests" in r["fullName"])
    prop_labels = {(label["name"], label["value"]) for label in prop["labels"]}
    assert ("requirement", "CURL-001") in prop_labels and ("severity", "critical") in prop_labels
    assert prop["name"].startswith("Requests generated from the contract (seed ")
    attachments = {attachment["name"] for attachment in curl["attachments"]}
    assert {"request", "response", "curl"} <= attachments
    environment = (allure / "environment.properties").read_text()
    assert (
        "target.host=127.0.0.1" in environment and "target.name=reference-under-test" in environment
    )
    categories = json.loads((allure / "categories.json").read_text())
    assert [c["name"] for c in categories] == [
        "implementation non-conformant (MUST)",
        "SHOULD warnings",
        "not tested (profile lacks data, budget, preconditions, run stopped)",
        "suite errors and broken runs",
    ]


@pytest.mark.e2e
def test_junit_carries_requirement_ids(smoke_run: SuiteRun) -> None:
    tree = ET.parse(smoke_run.certificate_path.parent / "junit.xml")
    title = "(the minimal confirmed request)"
    case = next(c for c in tree.iter("testcase") if title in c.get("name", ""))
    properties = {(p.get("name"), p.get("value")) for p in case.iter("property")}
    assert ("requirement", "CURL-001") in properties and ("requirement", "CURL-002") in properties
    # Dashboards show the ids and the title, under a class that is not a file suffix.
    assert case.get("name", "").startswith("CURL-001: With a saved payment method")
    assert case.get("classname") == "checkouts.checkout_url.payment_method"
    assert not any(c.get("classname", "").endswith(".yaml") for c in tree.iter("testcase"))


@pytest.mark.e2e
def test_junit_writes_a_should_warning_as_passed_with_the_finding(tmp_path: Path) -> None:
    """A run that exits 0 with SHOULD warnings is green on a dashboard; a MUST failure is red."""

    def constant_ids_and_leak(answer: Answer) -> None:
        if isinstance(answer.body, dict) and "session_id" in answer.body:
            answer.body["session_id"] = "cks_always_the_same"  # RESP-005, a SHOULD
            if (answer.request.body or {}).get("payment_method_id"):
                answer.body["checkout_url"] = "https://checkout.example/leak"  # CURL-001, a MUST

    with serve_in_thread(rewrite_of_reference(constant_ids_and_leak)) as url:
        run = run_suite(
            tmp_path,
            "suites/response",
            "suites/checkout_url",
            f"--junitxml={tmp_path / 'junit.xml'}",
            base_url=url,
            api_key=TEST_KEY,
        )
    assert run.exit_code == 1, run.output[-2000:]
    tree = ET.parse(tmp_path / "junit.xml")
    cases = {c.get("name", ""): c for c in tree.iter("testcase")}
    warned = [c for c in cases.values() if _property(c, "conformance_outcome") == "warned"]
    assert warned, sorted(cases)
    for case in warned:
        assert case.find("failure") is None and case.find("error") is None
        assert "RESP-005" in (_property(case, "warning") or "")
        assert "WARNING RESP-005" in (case.findtext("system-out") or "")
    failed = [c for c in cases.values() if c.find("failure") is not None]
    assert failed
    for case in failed:
        failure = case.find("failure")
        assert failure is not None and "CURL-001" in (failure.text or ""), case.get("name")
    suite = next(tree.iter("testsuite"))
    assert suite.get("failures") == str(len(failed))


def _property(case: ET.Element, name: str) -> str | None:
    return next((p.get("value") for p in case.iter("property") if p.get("name") == name), None)


@pytest.mark.e2e
def test_allure_categories_match_what_failures_say(tmp_path: Path) -> None:
    def leak(answer: Answer) -> None:
        if isinstance(answer.body, dict) and "session_id" in answer.body:
            answer.body["checkout_url"] = "https://checkout.example/leak"
        if answer.status == 401:
            answer.status = 403

    with serve_in_thread(rewrite_of_reference(leak)) as url:
        run = run_suite(
            tmp_path,
            "suites/checkout_url",
            "suites/auth",
            f"--alluredir={tmp_path / 'allure'}",
            base_url=url,
            api_key=TEST_KEY,
        )
    assert run.exit_code == 1
    categories = json.loads((tmp_path / "allure" / "categories.json").read_text())
    messages = [
        json.loads(path.read_text()).get("statusDetails", {}).get("message", "")
        for path in (tmp_path / "allure").glob("*-result.json")
    ]
    failed = [m for m in messages if m]
    must = re.compile(categories[0]["messageRegex"])
    should = re.compile(categories[1]["messageRegex"])
    assert any(must.match(m) for m in failed) and any(
        should.match(m) and not must.match(m) for m in failed
    )


def _leak_and_forbid(answer: Answer) -> None:
    """A server with one MUST fault (CURL-001) and one SHOULD fault (403 for a missing key)."""
    if isinstance(answer.body, dict) and "session_id" in answer.body:
        answer.body["checkout_url"] = "https://checkout.example/leak"
    if answer.status == 401:
        answer.status = 403


needs_chromium_and_allure = pytest.mark.skipif(
    shutil.which("chromium") is None
    or (
        not (ROOT / "tools" / "allure" / "node_modules" / ".bin" / "allure").exists()
        and shutil.which("npm") is None
    ),
    reason="the HTML report checks need Debian chromium and Allure 3 (npm)",
)


@dataclass
class Page:
    """A view of the HTML report as headless Chromium renders it: its text and a screenshot."""

    text: str
    screenshot: Path

    def colour_counts(self) -> list[tuple[int, tuple[int, int, int]]]:
        from PIL import Image

        with Image.open(self.screenshot) as image:
            rgb = image.convert("RGB")
            counts = rgb.getcolors(rgb.width * rgb.height) or []
        return [(n, (c[0], c[1], c[2])) for n, c in counts if isinstance(c, tuple)]

    def share(self, colour: Callable[[int, int, int], bool]) -> float:
        """The share of the screenshot's pixels of one colour family."""
        counts = self.colour_counts()
        return sum(n for n, rgb in counts if colour(*rgb)) / sum(n for n, _ in counts)

    def reddish_share(self) -> float:
        """Pixels in the report's failure red: the ring, the bars, the Failed badge."""
        return self.share(lambda r, g, b: r > 180 and r - g > 60 and r - b > 60)

    def error_pink_share(self) -> float:
        """Pixels of the pale red background of an error block."""
        return self.share(lambda r, g, b: r >= 245 and 225 <= g <= 245 and abs(g - b) < 8)

    def colours(self) -> int:
        return len(self.colour_counts())


def _render(report: Path, view: str, tmp_path: Path, name: str) -> Page:
    """Open one view (`#/categories`, `#/<test id>`) of the single-file report in Chromium."""
    common = [
        "chromium",
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=20000",
        "--window-size=1400,1400",
    ]
    url = (report / "index.html").as_uri() + view
    screenshot = tmp_path / f"{name}.png"
    shot = subprocess.run(
        [*common, f"--screenshot={screenshot}", url],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert screenshot.is_file(), shot.stderr[-2000:]
    dom = subprocess.run(
        [*common, "--dump-dom", url], capture_output=True, text=True, check=False, timeout=120
    ).stdout
    visible = re.sub(r"(?s)<(script|style).*?</\1>", "", dom)
    return Page(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", visible)), screenshot)


def _build_report(results: Path, report: Path) -> None:
    built = subprocess.run(
        [str(ROOT / "scripts" / "allure-report"), str(results), str(report)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr


@pytest.mark.e2e
@needs_chromium_and_allure
@pytest.mark.heavy(40)
def test_the_html_report_shows_the_verdict_a_failed_test_and_the_categories(
    tmp_path: Path,
) -> None:
    """Screenshots of the overview, a failed test and the categories, checked for what they show."""
    with serve_in_thread(rewrite_of_reference(_leak_and_forbid)) as url:
        run = run_suite(
            tmp_path,
            "suites/checkout_url",
            "suites/auth",
            "suites/properties",
            "--examples=20",
            f"--alluredir={tmp_path / 'allure'}",
            f"--junitxml={tmp_path / 'junit.xml'}",
            base_url=url,
            api_key=TEST_KEY,
        )
    assert run.exit_code == 1, run.output[-2000:]
    results = [json.loads(p.read_text()) for p in (tmp_path / "allure").glob("*-result.json")]
    # The property test's MUST failure is a failure of its requirement, never "broken".
    assert [r["status"] for r in results if r["status"] not in ("passed", "failed")] == []
    assert "ExceptionGroup" not in json.dumps(results)
    cases = list(ET.parse(tmp_path / "junit.xml").iter("testcase"))
    failed = [c for c in cases if c.find("failure") is not None]
    warned = [c for c in cases if _property(c, "conformance_outcome") == "warned"]
    assert failed and warned
    report = tmp_path / "report"
    _build_report(tmp_path / "allure", report)
    pages = sorted(path.name for path in report.glob("*.html"))
    assert pages == ["index.html", "requirements.html"]
    html = (report / "index.html").read_text()
    assert "googletagmanager" not in html and "gtag(" not in html  # the report calls nowhere
    catalog = (report / "requirements.html").read_text()
    assert "id='CURL-001'" in catalog and "id='AUTH-001'" in catalog

    overview = _render(report, "", tmp_path, "overview")
    must = run.certificate["summary"]["MUST"]
    verdict = f"non-conformant (MUST {must['passed']}/{must['total']})"
    assert f"POST /checkouts conformance: {verdict}" in overview.text  # at the top
    assert f"Total {len(cases)} " in overview.text
    assert "target.host 127.0.0.1" in overview.text
    assert f"CURL-001 {len(failed)} " in overview.text  # the tree, grouped by requirement
    assert overview.colours() > 50 and overview.reddish_share() > 0.001  # the failure ring

    categories = _render(report, "#/categories", tmp_path, "categories")
    assert f"implementation non-conformant (MUST) {len(failed)} " in categories.text
    assert f"SHOULD warnings {len(warned)} " in categories.text
    assert "suite errors and broken runs" not in categories.text
    curl_failures = [
        c
        for c in failed
        if c.get("classname") == "checkouts.checkout_url.payment_method"
        or "CURL-001" in str(c.find("failure").get("message"))  # type: ignore[union-attr]
    ]
    # The property test's MUST failure is *failed* under its requirement, like a scenario's.
    assert f"requirement CURL-001 {len(curl_failures)} " in categories.text
    assert "ScenarioFailed" not in categories.text  # grouped by requirement, not by message
    assert categories.reddish_share() > 0.001  # the MUST bar

    results = json.loads((report / "test-results.json").read_text())["byId"]
    failed_id = next(
        key
        for key, result in results.items()
        if result["status"] == "failed" and result["name"].startswith("With a saved payment method")
    )
    test = _render(report, f"#/{failed_id}", tmp_path, "failed-test")
    for shown in (
        "Failed",
        "Critical",
        "Category: implementation non-conformant (MUST)",
        "[MUST] CURL-001 · curl-",
        "$.checkout_url: expected not a string (null or absent), got",
        "reproduce: curl -sS -i -X POST",
        "Links",
        "request",
        "response",
        "curl",
    ):
        assert shown in test.text, shown
    assert TEST_KEY not in test.text and "Bearer sk_test" not in test.text
    assert " story " not in test.text  # the requirement label says it once
    assert test.reddish_share() > 0.0005  # the Failed badge, the error block's border
    assert test.error_pink_share() > 0.05  # the error block, drawn in full


@pytest.mark.e2e
def test_catalog_levels_in_the_certificate_come_from_the_catalog(smoke_run: SuiteRun) -> None:
    catalog = load_catalog()
    for requirement in smoke_run.certificate["requirements"]:
        assert requirement["level"] == catalog[requirement["id"]].level
        assert requirement["title"] == catalog[requirement["id"]].title


@pytest.mark.e2e
@needs_chromium_and_allure
@pytest.mark.heavy(40)
def test_the_html_report_of_warnings_is_not_red_and_of_a_broken_run_says_broken(
    tmp_path: Path,
) -> None:
    """A run whose only findings are SHOULD warnings exits 0: its report shows nothing red, its
    warnings under their category and requirement. A run that broke: the report says broken."""

    def forbid(answer: Answer) -> None:  # 403 where 401 is recommended: AUTH-006, a SHOULD
        if answer.status == 401:
            answer.status = 403

    def run_auth(folder: Path, api_key: str) -> SuiteRun:
        with serve_in_thread(rewrite_of_reference(forbid)) as url:
            return run_suite(
                folder,
                "suites/auth",
                f"--certificate={folder / 'certificate.json'}",
                f"--alluredir={folder / 'allure'}",
                base_url=url,
                api_key=api_key,
            )

    warnings = tmp_path / "warnings"
    run = run_auth(warnings, TEST_KEY)
    assert run.exit_code == 0, run.output[-2000:]
    assert run.certificate["verdict"] == "incomplete"  # a selection of the suite
    # Each test is grouped under what it warned on (AUTH-006), not under what it passed.
    for path in (warnings / "allure").glob("*-result.json"):
        result = json.loads(path.read_text())
        labels = {label["value"] for label in result["labels"] if label["name"] == "requirement"}
        assert result["status"] in ("passed", "skipped"), result["name"]
        if "[SHOULD] AUTH-006" in result.get("statusDetails", {}).get("message", ""):
            assert labels == {"AUTH-006"}, (result["name"], labels)
    warned = next(r for r in run.certificate["requirements"] if r["id"] == "AUTH-006")
    assert warned["status"] == "failed"
    _build_report(warnings / "allure", warnings / "report")
    overview = _render(warnings / "report", "", tmp_path, "warnings-overview")
    assert "POST /checkouts conformance: incomplete" in overview.text
    assert "Failed" not in overview.text or " Failed 0 " in overview.text
    assert overview.reddish_share() < 0.0002, overview.reddish_share()  # nothing red
    categories = _render(warnings / "report", "#/categories", tmp_path, "warnings-categories")
    assert f"SHOULD warnings {warned['tests']['failed']} " in categories.text
    assert "requirement AUTH-006" in categories.text
    assert "implementation non-conformant (MUST)" not in categories.text
    assert categories.reddish_share() < 0.0002

    broken = tmp_path / "broken"
    run = run_auth(broken, "sk_test_a_key_this_server_never_issued_0000")
    assert run.exit_code == 3, run.output[-2000:]
    _build_report(broken / "allure", broken / "report")
    overview = _render(broken / "report", "", tmp_path, "broken-overview")
    assert "POST /checkouts conformance: broken (the run could not be completed)" in overview.text
    assert "conformant" not in overview.text.replace("non-conformant", "")
    categories = _render(broken / "report", "#/categories", tmp_path, "broken-categories")
    assert "suite errors and broken runs 1 " in categories.text
    assert "checkout-conformance run: broken" in categories.text
