"""The conformance certificate: the run's verdict, per requirement, as a JSON document.

Built from the test records of one run (see `results`), the catalog and the run's settings.
Secrets never reach it: evidence is redacted where it is recorded, and the target appears as
its host only.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from . import __version__
from .catalog import Catalog
from .contract import Contract
from .results import VERDICT_RULES, counts, requirement_results, verdict

CERTIFICATE_VERSION = 1


@dataclass(frozen=True)
class RunInfo:
    """What the certificate says about the run itself."""

    target_host: str
    embedded: bool
    profile_name: str
    profile_kind: str
    fail_on_should: bool
    partial: bool
    started: datetime
    finished: datetime


def build(
    records: Iterable[Mapping[str, Any]],
    catalog: Catalog,
    contract: Contract,
    run: RunInfo,
) -> dict[str, Any]:
    records = list(records)
    results = requirement_results(records, catalog)
    outcome = verdict(results, partial=run.partial)
    suite_errors = sorted({str(r["error"]) for r in records if r.get("kind") == "suite_error"})
    return {
        "certificate_version": CERTIFICATE_VERSION,
        "verdict": outcome,
        "verdict_rule": VERDICT_RULES[outcome],
        "implementation": {
            "host": run.target_host,
            "embedded_reference_server": run.embedded,
            "profile": {"name": run.profile_name, "kind": run.profile_kind},
        },
        "suite": {
            "name": "checkout-conformance",
            "version": __version__,
            "contract_sha256": contract.sha256(),
            "catalog_sha256": catalog.sha256(),
            "upstream_openapi_version": contract.upstream_version,
        },
        "run": {
            "started": run.started.isoformat(timespec="seconds"),
            "finished": run.finished.isoformat(timespec="seconds"),
            "fail_on_should": run.fail_on_should,
            "partial": run.partial,
            "tests": len(records),
            "generated_cases": {
                kind: sum(r.get("generated", {}).get(kind, 0) for r in records)
                for kind in ("positive", "negative", "charged")
            },
        },
        "summary": counts(results),
        "suite_errors": suite_errors,
        "requirements": [
            {key: value for key, value in asdict(result).items() if value or key == "tests"}
            for result in results
        ],
    }


def write(certificate: Mapping[str, Any], path: Path) -> None:
    """Write atomically, so a reader never sees half a certificate."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=".certificate-", suffix=".json"
    )
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(certificate, handle, indent=2, ensure_ascii=False)
        handle.write("\n")
    os.replace(temporary, path)
