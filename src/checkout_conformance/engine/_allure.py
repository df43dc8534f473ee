"""Allure labels and attachments for scenario items and the property test (inert when Allure
is not recording).

epic = requirement area, feature = scenario file, story = requirement, severity from the level,
tags from the item's markers (scenario tags, levels, areas); one link per requirement to its
catalog entry; the redacted request, response and curl line as attachments, in full (a large
body as its own attachment, which the curl line sends with `--data-binary @request-body.json`).

The `requirement` label (the Allure 3 tree groups by it) names what the scenario is written
for, plus any requirement that failed in it: a RESP-001 failure of a currency scenario is
listed under RESP-001 too, while the 600 tests that merely check RESP-001 along the way are not.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ..catalog import Catalog
from ..records import Record
from ..redact import Redactor
from ..transport import SHOWN_BODY_CHARS, evidence

if TYPE_CHECKING:
    from ._items import ScenarioItem
    from ._runner import CaseRun

SEVERITY = {"MUST": "critical", "SHOULD": "normal", "MAY": "minor"}


def recording(config: pytest.Config) -> bool:
    return bool(getattr(config.option, "allure_report_dir", None))


def label(item: ScenarioItem, catalog: Catalog, catalog_url: str) -> None:
    if not recording(item.config):
        return
    import allure

    requirements = [catalog[r] for r in item.scenario.all_requirements()]
    primary = requirements[0]
    allure.dynamic.title(
        f"{item.scenario.title}" + (f" [{item.case.label}]" if item.case.label else "")
    )
    allure.dynamic.description(
        f"{item.scenario.description}\n\nScenario `{item.scenario.id}` at {item.scenario.location}."
        + "".join(f"\n\n**{r.id} ({r.level})**: {r.text}" for r in requirements)
    )
    allure.dynamic.epic(primary.area_title)
    allure.dynamic.feature(item.path.stem)
    allure.dynamic.story(*[f"{r.id}: {r.title}" for r in requirements])
    allure.dynamic.severity(SEVERITY[primary.level])
    # Tags: allure-pytest makes one of every marker (the scenario's tags, levels and areas).
    # Each expanded case is its own Allure test: its parameters make its history id.
    for name, value in item.case.variables.items():
        shown = value.get("label", value) if isinstance(value, dict) else value
        allure.dynamic.parameter(name, shown)
    for requirement in requirements:
        allure.dynamic.link(f"{catalog_url}#{requirement.id}", name=requirement.id, link_type="tms")


def label_requirements(item: pytest.Item, record: Record) -> None:
    """The `requirement` labels the Allure tree groups by, from the test's outcome: the
    requirements it failed or warned on; when it passed (or was left out), those it is written
    for (a property test: those it judged)."""
    if not recording(item.config):
        return
    import allure

    failed = list(dict.fromkeys(failure["requirement"] for failure in record["failures"]))
    shown = failed or record.get("written_for") or sorted(record["requirements"])
    for requirement_id in shown:
        allure.dynamic.label("requirement", requirement_id)
    if failed and not record["blocking"]:
        allure.dynamic.tag("warning")


def label_property_test(
    item: pytest.Item, catalog: Catalog, catalog_url: str, requirements: list[str], seed: int
) -> None:
    """The property test as QA sees a scenario: a title, links, severity (its requirement
    labels follow its outcome: `label_requirements`)."""
    if not recording(item.config):
        return
    import allure

    judged = [catalog[r] for r in requirements]
    allure.dynamic.title(f"Requests generated from the contract (seed {seed})")
    allure.dynamic.description(
        "Schemathesis generates valid and invalid bodies from the contract; each answer is"
        f" judged as the catalog words the requirement. Replay with --conformance-seed={seed}."
        + "".join(f"\n\n**{r.id} ({r.level})**: {r.text}" for r in judged)
    )
    allure.dynamic.epic("Generated requests")
    allure.dynamic.feature("properties")
    allure.dynamic.story(*[f"{r.id}: {r.title}" for r in judged])
    allure.dynamic.severity(SEVERITY["MUST"])
    allure.dynamic.parameter("seed", seed)
    for requirement in judged:
        allure.dynamic.link(f"{catalog_url}#{requirement.id}", name=requirement.id, link_type="tms")


def attach_file(config: pytest.Config, path: Path, name: str) -> None:
    """Attach a file of the run (a failing exchange in full) to the current Allure test."""
    if recording(config) and path.is_file():
        import allure

        allure.attach.file(str(path), name=name, attachment_type=allure.attachment_type.TEXT)


def attach_run(item: ScenarioItem, run: CaseRun, redactor: Redactor) -> None:
    if not run.steps or not recording(item.config):
        return
    import allure

    for index, step in enumerate(run.steps, start=1):
        suffix = f" (step {index}: {step.step.name})" if len(run.scenario.steps) > 1 else ""
        exchange = step.exchange
        # Bounded like the evidence on disk: a large body is cut here (failures/ keeps it once).
        allure.attach(
            exchange.render_request(redactor, limit=evidence.SHARED_BODY_CHARS),
            f"request{suffix}",
            allure.attachment_type.TEXT,
        )
        allure.attach(
            exchange.render_response(redactor, limit=evidence.SHARED_BODY_CHARS),
            f"response{suffix}",
            allure.attachment_type.TEXT,
        )
        body = exchange.request.body
        if body is not None and len(body) > SHOWN_BODY_CHARS:  # the curl line sends it from a file
            allure.attach(
                redactor.text(body.decode("utf-8", errors="replace")),
                f"{evidence.BODY_FILE}{suffix}",
                allure.attachment_type.JSON,
            )
            curl = exchange.curl(redactor, body_file=evidence.BODY_FILE)
        else:
            curl = exchange.curl(redactor)
        allure.attach(curl, f"curl{suffix}", allure.attachment_type.TEXT)


# Categories (Allure 2's categories.json; tools/allure/allurerc.mjs has the same rules for
# Allure 3) separate what QA triages differently. Failure messages start with the worst level
# that failed ("[MUST] ...", "[SHOULD] ...") after the exception's name; transport and suite
# problems are "broken" tests.
CATEGORIES = [
    {
        "name": "implementation non-conformant (MUST)",
        "matchedStatuses": ["failed"],
        "messageRegex": r"(?s)(?:[\w.]+: )?\[MUST\].*",
    },
    {
        "name": "SHOULD warnings",
        "matchedStatuses": ["passed", "failed"],
        "messageRegex": r"(?s)(?:[\w.]+: )?\[(SHOULD|MAY)\].*",
    },
    {
        "name": "not tested (profile lacks data, budget, preconditions, run stopped)",
        "matchedStatuses": ["skipped"],
        "messageRegex": r"(?s).*not (tested|covered).*",
    },
    {"name": "suite errors and broken runs", "matchedStatuses": ["broken"]},
]


RESULT_FILES = ("*-result.json", "*-container.json", "*-attachment.*")


def clear_results(config: pytest.Config) -> None:
    """Remove an earlier run's results from the Allure results folder (the folder stays:
    allure-pytest has opened it already)."""
    folder = getattr(config.option, "allure_report_dir", None)
    if not folder or not Path(folder).is_dir():
        return
    for pattern in (*RESULT_FILES, "categories.json", "environment.properties"):
        for stale in Path(folder).glob(pattern):
            stale.unlink(missing_ok=True)


def _broken_result(directory: Path, certificate: dict[str, Any]) -> None:
    """One *broken* test result that says why the run broke, so the report says so too."""
    now = int(time.time() * 1000)
    reason = str(certificate["broken"])
    result = {
        "uuid": str(uuid.uuid4()),
        "historyId": hashlib.md5(b"checkout-conformance run").hexdigest(),
        "testCaseId": hashlib.md5(b"checkout-conformance run").hexdigest(),
        "fullName": "checkout-conformance run",
        "name": "checkout-conformance run: broken",
        "status": "broken",
        "statusDetails": {"message": f"the run broke: {reason}", "trace": ""},
        "stage": "finished",
        "description": (
            "The run could not be completed, so nothing is certified. Verdict: broken"
            f" (exit status {certificate['exit_status']})."
        ),
        "start": now,
        "stop": now,
        "labels": [
            {"name": "requirement", "value": "run"},
            {"name": "severity", "value": "blocker"},
            {"name": "epic", "value": "The run"},
        ],
    }
    path = directory / f"{result['uuid']}-result.json"
    path.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


def write_run_files(config: pytest.Config, certificate: dict[str, Any]) -> None:
    """environment.properties and categories.json in the Allure results folder; for a run
    that broke, a broken result saying why."""
    folder = getattr(config.option, "allure_report_dir", None)
    if not folder:
        return
    directory = Path(folder)
    directory.mkdir(parents=True, exist_ok=True)
    if certificate.get("broken"):
        _broken_result(directory, certificate)
    implementation = certificate["implementation"]
    suite = certificate["suite"]
    environment = {
        "target.host": implementation["host"],
        "target.name": implementation.get("name", ""),
        "target.version": implementation.get("version", ""),
        "profile": f"{implementation['profile']['name']} ({implementation['profile']['kind']})",
        "suite.version": suite["version"],
        "suite.commit": suite["git_commit"] or "",
        "contract.upstream_openapi_version": suite["upstream_openapi_version"],
        "contract.sha256": suite["contract_sha256"],
        "verdict": certificate["verdict"],
        "seed": str(certificate["run"]["seed"]),
    }
    lines = [f"{key}={value.replace(chr(10), ' ')}" for key, value in environment.items()]
    (directory / "environment.properties").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (directory / "categories.json").write_text(
        json.dumps(CATEGORIES, indent=2) + "\n", encoding="utf-8"
    )
