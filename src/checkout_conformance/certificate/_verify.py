"""Checking a certificate: its schema, its digest (and signature), its verdict and exit status
against its own results, and the contract, catalog and packaged scenarios it was made with."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema

from .. import _resources
from ..catalog import load_catalog
from ..contract import load_contract
from ..results import exit_status, tally, verdict_from_counts
from ._build import content_digest
from ._names import PACKAGED_PREFIX, scenario_hashes
from ._sign import _signature_problems

SCHEMA_PATH = _resources.CONTRACTS_DIR / "certificate.schema.json"


def schema_errors(certificate: Any) -> list[str]:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(top level)'}: {error.message}"
        for error in sorted(
            validator.iter_errors(certificate), key=lambda e: list(map(str, e.absolute_path))
        )
    ]


def verify(
    certificate: Mapping[str, Any],
    public_key: bytes | None = None,
    tests_file: Path | None = None,
    suites: Path | None = None,
) -> list[str]:
    """Every reason not to trust this certificate here; empty when it checks out.

    It checks that the content digest matches (which proves nothing against someone who
    rewrites an unsigned certificate and recomputes it; with `public_key`, that the holder of
    that key signed it), that its verdict and exit status follow from its own results, and that
    it was made with this suite's contract, catalog and packaged scenarios (`suites`: the
    packaged suite unless given), wherever the run and the verifier are. It does not prove
    that the run happened against the host it names: whoever ran the suite says so.
    """
    problems = schema_errors(certificate)
    if problems:
        return [f"schema: {problem}" for problem in problems]
    if content_digest(certificate) != certificate["integrity"]["sha256"]:
        problems.append(
            "content: changed after it was written (its digest does not match: the host, the"
            " dates, the verdict or the results were edited)"
        )
    elif public_key is not None or "signature" in certificate["integrity"]:
        problems += _signature_problems(certificate, public_key)
    if tests_file is not None and tests_file.is_file():
        recorded = certificate["tests_file"]["sha256"]
        if hashlib.sha256(tests_file.read_bytes()).hexdigest() != recorded:
            problems.append(f"tests file: {tests_file.name} differs from the one certified")
    suite = certificate["suite"]
    if suite["contract_sha256"] != load_contract().sha256():
        problems.append("contract: contracts/checkouts.openapi.yaml differs from the one certified")
    if suite["catalog_sha256"] != load_catalog().sha256():
        problems.append("catalog: contracts/requirements.yaml differs from the one certified")
    recorded = {
        name: digest
        for name, digest in suite["scenario_files"].items()
        if name.startswith(PACKAGED_PREFIX)
    }
    if recorded:  # the packaged suite, compared with the verifier's (a checkout's or a wheel's)
        current = scenario_hashes([suites or _resources.SUITES_DIR])
        for name in sorted(set(recorded) | set(current)):
            if name not in current:
                problems.append(f"scenarios: {name} was certified but is not in this suite")
            elif name not in recorded:
                problems.append(f"scenarios: {name} is new since the certificate")
            elif current[name] != recorded[name]:
                problems.append(f"scenarios: {name} differs from the one certified")
    listed = certificate["requirements"]
    table = tally((requirement["level"], requirement["status"]) for requirement in listed)
    levels = {requirement["id"]: requirement["level"] for requirement in listed}
    if table != certificate["summary"]:
        problems.append("summary: the counts do not match the requirements listed")
    expected = verdict_from_counts(
        table,
        certificate["run"]["partial"],
        broken=certificate.get("broken") is not None,
        suite_errors=bool(certificate["suite_errors"]),
    )
    if expected != certificate["verdict"]:
        problems.append(
            f"verdict: the requirements give {expected!r},"
            f" the certificate says {certificate['verdict']!r}"
        )
    if certificate.get("exit_status") != exit_status(certificate):
        problems.append(
            f"exit status: the certificate gives {exit_status(certificate)},"
            f" it says {certificate.get('exit_status')}"
        )
    catalog = load_catalog()
    for requirement_id, level in levels.items():
        if requirement_id not in catalog:
            problems.append(f"requirements: {requirement_id} is not in this checkout's catalog")
        elif catalog[requirement_id].level != level:
            problems.append(
                f"requirements: {requirement_id} is {catalog[requirement_id].level}"
                f" in the catalog, {level} here"
            )
    return problems
