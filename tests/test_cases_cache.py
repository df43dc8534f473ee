"""--cases-cache: a property test that held keeps its generated requests; a later run with the
same inputs sends them again instead of generating them, with the same certificate, and a
failure found on replay is generated again so that Hypothesis reports and shrinks it."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from checkout_conformance.properties import (
    CaseCache,
    PropertySettings,
    RecordedCase,
    cases_key,
)

from .conftest import (
    ROOT,
    TEST_KEY,
    RunningServer,
    SuiteRun,
    certificate_without_timings,
    run_suite,
    shared_run,
    start_server,
)
from .servers import leaks_checkout_url_on_charges_with, rewrite_of_reference, serve_in_thread

PROPERTY_TEST = ROOT / "suites" / "properties" / "test_generated_requests.py"
NODE = "suites/properties/test_generated_requests.py::test_generated_requests"
SETTINGS = PropertySettings(
    examples=40,
    seed=515,
    profile_ids={"customer_id": "cus_1"},
    rich_fields={"metadata": {"order": "1"}},
)


def _one_case_file(folder: Path) -> Path:
    files = sorted(folder.glob("*.json"))
    assert len(files) == 1, files
    return files[0]


def _run(folder: Path, server: RunningServer, cache: Path | None) -> tuple[int, str, Path]:
    folder.mkdir(parents=True)
    extra = [f"--cases-cache={cache}"] if cache is not None else []
    run = run_suite(
        folder,
        "suites/properties",
        "--conformance-seed=515",
        "--examples=40",
        *extra,
        base_url=server.base_url,
        api_key=server.api_key,
    )
    return run.exit_code, run.output, run.certificate_path


@pytest.fixture(scope="module")
def kept_cases(
    tmp_path_factory: pytest.TempPathFactory, reference_server: RunningServer
) -> tuple[Path, Path]:
    """A run against the reference server that keeps its cases: (its folder, its certificate);
    once per session, whichever xdist worker asks first."""

    def generate(folder: Path) -> SuiteRun:
        return run_suite(
            folder,
            "suites/properties",
            "--conformance-seed=515",
            "--examples=40",
            f"--cases-cache={folder / 'kept'}",
            base_url=reference_server.base_url,
            api_key=reference_server.api_key,
        )

    run = shared_run(tmp_path_factory, "kept-cases", generate)
    kept = run.certificate_path.parent / "kept"
    assert run.exit_code == 0, run.output[-3000:]
    assert f"kept in {_one_case_file(kept)}" in run.output
    assert "seed 515" in run.output and "cases cache:" in run.output
    return kept, run.certificate_path


@pytest.mark.e2e
@pytest.mark.heavy(30)
def test_cases_kept_by_one_target_replay_on_another_with_the_certificate_of_a_generated_run(
    tmp_path: Path, reference_server: RunningServer, kept_cases: tuple[Path, Path]
) -> None:
    kept, generated = kept_cases
    case_file = _one_case_file(kept)
    text = case_file.read_text()
    assert TEST_KEY not in text and "authorization" not in text.lower()

    # Another correct implementation, answering differently (it refuses odd values), generates
    # the very same requests: the cases depend on the seed and the inputs, not on the answers.
    variant, other = start_server("--variant", "refuses-odd-values")
    try:
        elsewhere = tmp_path / "elsewhere"
        code, output, _ = _run(tmp_path / "variant", other, elsewhere)
        assert code == 0, output[-3000:]
        assert _one_case_file(elsewhere).read_bytes() == case_file.read_bytes()
    finally:
        variant.stop()

    code, output, replayed = _run(tmp_path / "replay", reference_server, kept)
    assert code == 0, output[-3000:]
    assert f"replayed from {case_file}" in output
    assert certificate_without_timings(replayed) == certificate_without_timings(generated)
    sent = [json.loads(path.read_text())["run"]["requests"] for path in (generated, replayed)]
    assert sent[0] == sent[1]
    assert json.loads(replayed.read_text())["run"]["requests"]["generated"] > 0


def _smallest_failing_request(certificate: dict[str, Any], requirement: str) -> str:
    """The request part of a requirement's first failure, as the certificate shows it."""
    for entry in certificate["requirements"]:
        if entry["id"] == requirement:
            detail = entry["failing_tests"][0]["failures"][0]["evidence"]["detail"]
            return str(detail).split("\nresponse:")[0]
    raise KeyError(requirement)


@pytest.mark.e2e
@pytest.mark.heavy(30)
def test_a_failure_on_replay_is_generated_again_and_shrunk_as_without_the_cache(
    tmp_path: Path, kept_cases: tuple[Path, Path]
) -> None:
    kept, _ = kept_cases
    case_file = _one_case_file(kept)
    kept_bytes = case_file.read_bytes()
    faulty = rewrite_of_reference(leaks_checkout_url_on_charges_with("metadata"))
    with serve_in_thread(faulty) as url:
        server = RunningServer(url, TEST_KEY)
        runs = [
            _run(tmp_path / name, server, cache)
            for name, cache in [("plain", None), ("replay", kept)]
        ]
    for code, output, _certificate in runs:
        assert code == 1, output[-3000:]
        assert "checkout_url must be null or absent" in output
        assert "replayed from" not in output  # a replay that failed is not the test's result
        assert TEST_KEY not in output
    # The replay met the fault; the generation that followed reported and shrank it to the
    # request a run without the cache reports.
    smallest = [
        _smallest_failing_request(json.loads(certificate.read_text()), "CURL-001")
        for _, _, certificate in runs
    ]
    assert smallest[0] == smallest[1]
    assert case_file.read_bytes() == kept_bytes  # a failing run keeps nothing


def test_a_kept_case_reads_back_byte_for_byte(tmp_path: Path) -> None:
    cases = [
        RecordedCase(
            "POST",
            "/checkouts?x=1",
            (("Content-Type", "application/json"), ("Accept", "application/json")),
            b'{"a":"\xed\xa0\x80"}',  # a lone surrogate, as surrogatepass encodes it
            {"a": "\ud800", "n": math.inf, "nested": [1, 2.5, None, True]},
            False,
        ),
        RecordedCase("POST", "/checkouts", (), None, None, True),
    ]
    cache = CaseCache(tmp_path / "cases", "k")
    cache.save(cases)
    assert cache.load() == cases
    assert [p.name for p in cache.folder.iterdir()] == ["k.json"]  # no temporary file left


@pytest.mark.parametrize(
    "content",
    ["", "not json", "[]", '{"format": 1, "key": "k"}', '{"format": 99, "key": "k", "cases": []}'],
)
def test_an_unreadable_or_foreign_case_file_is_not_used(tmp_path: Path, content: str) -> None:
    (tmp_path / "k.json").write_text(content)
    assert CaseCache(tmp_path, "k").load() is None


def test_the_key_changes_with_every_input_that_decides_the_cases(tmp_path: Path) -> None:
    base = cases_key(SETTINGS, NODE, PROPERTY_TEST)
    assert base.startswith("seed-515-examples-40-")
    assert cases_key(SETTINGS, NODE, PROPERTY_TEST) == base
    changed = [
        replace(SETTINGS, seed=516),
        replace(SETTINGS, examples=41),
        replace(SETTINGS, profile_ids={"customer_id": "cus_2"}),
        replace(SETTINGS, rich_fields={"metadata": {"order": "2"}}),
        replace(SETTINGS, charges_allowed=False),
    ]
    keys = {cases_key(settings, NODE, PROPERTY_TEST) for settings in changed}
    assert base not in keys and len(keys) == len(changed)
    assert cases_key(SETTINGS, NODE + "x", PROPERTY_TEST) != base
    edited = tmp_path / PROPERTY_TEST.name
    edited.write_text(PROPERTY_TEST.read_text() + "\n# edited\n")
    assert cases_key(SETTINGS, NODE, edited) != base


def test_a_run_keeps_its_cases_only_under_the_key_it_started_with(tmp_path: Path) -> None:
    """A local module loaded while the cases were generated changes the key: nothing is kept."""
    from types import SimpleNamespace
    from typing import cast

    from checkout_conformance.catalog import load_catalog
    from checkout_conformance.contract import load_contract
    from checkout_conformance.properties import PropertyRun
    from checkout_conformance.records import new_record

    def run_with_cache() -> PropertyRun:
        target = SimpleNamespace(rate_limited=0, sent=0, base_url="http://127.0.0.1:1")
        run = PropertyRun(
            target=cast(Any, target),
            catalog=load_catalog(),
            contract=load_contract(),
            seed=1,
            record=new_record("property", "test", "here"),
        )
        run.use_cache(CaseCache(tmp_path, "start"))
        return run

    first = run_with_cache()
    assert first.will_keep and not first.will_replay
    message = first.keep_cases("changed")
    assert message == "not kept: a local module was loaded while the cases were generated"
    assert not (tmp_path / "start.json").exists()
    second = run_with_cache()
    assert second.keep_cases("start") == f"kept in {tmp_path / 'start.json'}"
    assert CaseCache(tmp_path, "start").load() == []
    third = run_with_cache()  # the next run with that key replays, and keeps nothing
    assert third.will_replay and not third.will_keep
