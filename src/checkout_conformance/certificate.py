"""The conformance certificate: the run's verdict, per requirement, as JSON, Markdown and a badge.

Built from the test records of one run (see `results`), the catalog and the run's settings.
Secrets never reach it: evidence is redacted where it is recorded, the target appears as its host
only, and the command line is redacted before it is stored. `verify` re-checks a certificate
against its schema, this checkout's files and its own results.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import jsonschema

from . import __version__, _resources
from .catalog import Catalog, load_catalog
from .contract import Contract, load_contract
from .records import OUTCOMES, GeneratedCases, Record, total
from .results import (
    VERDICT_RULES,
    RequirementResult,
    combination_coverage,
    counts,
    exit_status,
    requirement_results,
    smallest_first,
    tally,
    verdict,
    verdict_from_counts,
)

CERTIFICATE_VERSION = 3
TESTS_FILE_SUFFIX = "-tests.json"
SCHEMA_PATH = _resources.CONTRACTS_DIR / "certificate.schema.json"
BADGE_COLOURS = {
    "conformant": "brightgreen",
    "conformant-with-warnings": "yellowgreen",
    "incomplete": "lightgrey",
    "non-conformant": "red",
    "broken": "critical",
}


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
    seed: int | None = None
    command_line: str = ""
    implementation_name: str | None = None
    implementation_version: str | None = None
    scenario_files: dict[str, str] = field(default_factory=dict)  # path -> sha256
    switches: dict[str, bool] = field(default_factory=dict)  # e.g. allow_live
    max_rps: float | None = None  # the pace the run started with (--max-rps), None if unpaced
    broken: str | None = None  # why the run could not be completed (then nothing is certified)
    not_run: int = 0  # collected tests that never ran (-x, --maxfail, an interrupt)


def _package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


def git_commit() -> str | None:
    """The checkout's commit, or None outside a git checkout."""
    root = _resources.project_root()
    if root is None:
        return None
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = result.stdout.strip()
    return commit if result.returncode == 0 and len(commit) == 40 else None


PACKAGED_PREFIX = "packaged:"


def suite_root_name(suite: Path) -> str:
    """How a certificate names the files of one suite folder, wherever the run was: the
    packaged suite (a checkout's `suites/` or an installed wheel's) as `packaged:`, a folder
    given to `--suite` by its own name (`my-scenarios/`)."""
    resolved = suite.resolve()
    if resolved == _resources.SUITES_DIR:
        return PACKAGED_PREFIX
    return f"{resolved.name}/" if resolved.is_dir() else ""


def scenario_hashes(suites: Iterable[Path]) -> dict[str, str]:
    """sha256 of every scenario and property-test file, named portably (`suite_root_name`):
    no absolute path, so a certificate made anywhere verifies anywhere."""
    hashes: dict[str, str] = {}
    for suite in suites:
        files = sorted(suite.rglob("*")) if suite.is_dir() else [suite]
        prefix = suite_root_name(suite)
        for path in files:
            if path.suffix in (".yaml", ".yml", ".py") and path.is_file():
                relative = path.relative_to(suite).as_posix() if suite.is_dir() else path.name
                hashes[prefix + relative] = hashlib.sha256(path.read_bytes()).hexdigest()
    return hashes


_URL = re.compile(r"\b([a-z][a-z0-9+.-]*)://([^/\s?#]+)[^\s]*", re.IGNORECASE)


def _portable_path(text: str, invocation_dir: Path) -> str:
    path = Path(text)
    if not path.is_absolute():
        return text
    if path.is_relative_to(invocation_dir):
        return path.relative_to(invocation_dir).as_posix() or "."
    return f".../{path.name}"


def portable_command(args: Iterable[str], invocation_dir: Path) -> list[str]:
    """The command line as a certificate keeps it: a URL as its scheme and host (no
    credentials, path or query), a path inside the folder it ran from relative to it, any
    other absolute path as its last part."""

    def value(text: str) -> str:
        text = _URL.sub(lambda m: f"{m.group(1)}://{m.group(2).rpartition('@')[2]}", text)
        return ",".join(_portable_path(part, invocation_dir) for part in text.split(","))

    shown = []
    for arg in args:
        flag, equals, rest = arg.partition("=")
        if equals and flag.startswith("-"):
            shown.append(f"{flag}={value(rest)}")
        else:
            shown.append(value(arg))
    return shown


def combined_hash(hashes: Mapping[str, str]) -> str:
    digest = hashlib.sha256()
    for name in sorted(hashes):
        digest.update(f"{name}\0{hashes[name]}\n".encode())
    return digest.hexdigest()


def _requirement_entry(result: RequirementResult) -> dict[str, Any]:
    """A requirement in the certificate: counts of its tests, and the failing ones in full
    (the smallest reproducer first). Every test is listed in the tests file."""
    outcomes = [test["outcome"] for test in result.tests]
    entry: dict[str, Any] = {
        "id": result.id,
        "level": result.level,
        "area": result.area,
        "title": result.title,
        "status": result.status,
        "tests": {k: outcomes.count(k) for k in OUTCOMES},
    }
    covered = result.coverage()
    if covered is not None:
        entry["coverage"] = covered
    failing = [test for test in result.tests if test["outcome"] == "failed"]
    if failing:
        entry["failing_tests"] = sorted(failing, key=smallest_first)
    if result.reasons:
        entry["reasons"] = result.reasons
    return entry


def tests_index(records: Iterable[Record], catalog: Catalog) -> dict[str, Any]:
    """The companion file: every test of every requirement, with its outcome."""
    results = requirement_results(list(records), catalog)
    return {
        "requirements": {
            result.id: [
                {
                    key: test[key]
                    for key in ("test", "location", "outcome", "reason", "missing_key")
                    if key in test
                }
                for test in result.tests
            ]
            for result in results
        }
    }


def content_digest(certificate: Mapping[str, Any]) -> str:
    """sha256 of the certificate's canonical JSON, without its `integrity` member."""
    content = {key: value for key, value in certificate.items() if key != "integrity"}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _requests(records: list[Record]) -> dict[str, int]:
    """Requests the run sent, by origin: scenario steps (and the preconditions they ran first),
    generated cases, and the retries after a 429 (counted in their origin too)."""
    by_kind = {"scenarios": "scenario", "generated": "property"}
    counts = {
        origin: total((r for r in records if r["kind"] == kind), "requests")
        for origin, kind in by_kind.items()
    }
    counts["retries_after_429"] = total(records, "rate_limited")
    counts["total"] = total(records, "requests")
    return counts


def _generated_cases(records: list[Record]) -> GeneratedCases:
    """The property tests' cases, added up over xdist workers."""
    cases = GeneratedCases(positive=0, negative=0, charged=0, repeated=0)
    for record in records:
        if "generated" in record:
            for kind in ("positive", "negative", "charged", "repeated"):
                cases[kind] += record["generated"][kind]
    return cases


def _pace(records: list[Record], max_rps: float | None) -> dict[str, float | None]:
    """The pace the run started at and the slowest it settled at after 429s (requests/s)."""
    paces = [r["pace"] for r in records if "pace" in r]
    return {"max_rps": max_rps, "settled_rps": min(paces) if paces else max_rps}


def build(
    records: Iterable[Record],
    catalog: Catalog,
    contract: Contract,
    run: RunInfo,
) -> dict[str, Any]:
    records = list(records)
    results = requirement_results(records, catalog)
    suite_errors = sorted({r.get("error", "") for r in records if r["kind"] == "suite_error"})
    outcome = verdict(
        results,
        partial=run.partial,
        broken=run.broken is not None,
        suite_errors=bool(suite_errors),
    )
    implementation: dict[str, Any] = {
        "host": run.target_host,
        "embedded_reference_server": run.embedded,
        "profile": {"name": run.profile_name, "kind": run.profile_kind},
    }
    if run.implementation_name:
        implementation["name"] = run.implementation_name
    if run.implementation_version:
        implementation["version"] = run.implementation_version
    document: dict[str, Any] = {
        "certificate_version": CERTIFICATE_VERSION,
        "verdict": outcome,
        "verdict_rule": VERDICT_RULES[outcome],
        "broken": run.broken,
        "verdict_rules": VERDICT_RULES,
        "implementation": implementation,
        "suite": {
            "name": "checkout-conformance",
            "version": __version__,
            "git_commit": git_commit(),
            "contract_sha256": contract.sha256(),
            "catalog_sha256": catalog.sha256(),
            "scenarios_sha256": combined_hash(run.scenario_files),
            "scenario_files": run.scenario_files,
            "upstream_openapi_version": contract.upstream_version,
            "tools": {
                name: _package_version(name) for name in ("pytest", "schemathesis", "hypothesis")
            },
        },
        "run": {
            "started": run.started.isoformat(timespec="seconds"),
            "finished": run.finished.isoformat(timespec="seconds"),
            "command": run.command_line,
            "seed": run.seed,
            "fail_on_should": run.fail_on_should,
            "partial": run.partial,
            "switches": run.switches,
            "tests": len(records),
            "not_run": run.not_run,
            "rate_limit_retries": total(records, "rate_limited"),
            "pace": _pace(records, run.max_rps),
            "requests": _requests(records),
            "generated_cases": _generated_cases(records),
            "combinations": combination_coverage(records),
        },
        "summary": counts(results),
        "suite_errors": suite_errors,
        "requirements": [_requirement_entry(result) for result in results],
    }
    document["exit_status"] = exit_status(document)
    return document


# -- renderings ----------------------------------------------------------------------------------
def badge(certificate: Mapping[str, Any]) -> dict[str, Any]:
    """A shields.io endpoint badge: `checkouts conformance | 42/42 MUST`."""
    must = certificate["summary"]["MUST"]
    broken = certificate["verdict"] == "broken"
    return {
        "schemaVersion": 1,
        "label": "checkouts conformance",
        "message": "run broken" if broken else f"{must['passed']}/{must['total']} MUST",
        "color": BADGE_COLOURS[certificate["verdict"]],
    }


def markdown(certificate: Mapping[str, Any]) -> str:
    """A summary fit for a CI job summary page."""
    implementation = certificate["implementation"]
    name = implementation.get("name", implementation["host"])
    if implementation.get("version"):
        name += f" {implementation['version']}"
    run = certificate["run"]
    suite = certificate["suite"]
    lines = [
        f"# `POST /checkouts` conformance: **{certificate['verdict']}**",
        "",
        f"{certificate['verdict_rule'][0].upper()}{certificate['verdict_rule'][1:]}."
        + (" This was a partial run (a selection of the suite)." if run["partial"] else "")
        + (
            f" {run['not_run']} collected tests never ran (the run stopped early)."
            if run.get("not_run")
            else ""
        )
        + f" Exit status {certificate['exit_status']}.",
        "",
        *(
            [f"**The run broke: {_cell(certificate['broken'])}**", ""]
            if certificate.get("broken")
            else []
        ),
        f"- Implementation: **{name}** (host `{implementation['host']}`, profile"
        f" `{implementation['profile']['name']}`, {implementation['profile']['kind']})",
        f"- Suite: checkout-conformance {suite['version']}, contract from upstream OpenAPI"
        f" {suite['upstream_openapi_version']}"
        + (f", commit `{suite['git_commit'][:12]}`" if suite["git_commit"] else ""),
        f"- Run: {run['started']} to {run['finished']}, {run['tests']} tests, seed {run['seed']}"
        + (", `--fail-on-should`" if run["fail_on_should"] else ""),
        f"- Requests: {run['requests']['total']} ({run['requests']['scenarios']} from scenarios,"
        f" {run['requests']['generated']} generated cases,"
        f" {run['requests']['retries_after_429']} of them retries after a 429)",
        *(
            f"- Combinations ({combo['scenario']}): {combo['fields']} optional fields,"
            f" {combo['passed_rows']}/{combo['rows']} rows passed; pairwise coverage"
            f" {combo['pairwise']:.0%}, three-way {combo['three_way']:.0%}"
            for combo in run.get("combinations", [])
        ),
        *(
            [
                f"- Rate limits: {run['rate_limit_retries']} answers were 429 and waited out;"
                f" the run settled at {run['pace']['settled_rps']:g} requests/s"
            ]
            if run["rate_limit_retries"] and run["pace"]["settled_rps"]
            else []
        ),
        "",
        "| level | passed | failed | not tested | total |",
        "|---|---:|---:|---:|---:|",
    ]
    for level, row in certificate["summary"].items():
        cells = [level, *(str(row[key]) for key in ("passed", "failed", "not_tested", "total"))]
        lines.append("| " + " | ".join(cells) + " |")
    failed = [r for r in certificate["requirements"] if r["status"] == "failed"]
    if failed:
        lines += [
            "",
            "## Failed requirements",
            "",
            "| requirement | level | failing tests | smallest reproducer | first reason |",
            "|---|---|---:|---|---|",
        ]
        for requirement in failed:
            reason = _cell((requirement.get("reasons") or [""])[0])[:200]
            first = (requirement.get("failing_tests") or [{}])[0]
            reproducer = (
                f"`{str(first['test']).rsplit('::', 1)[-1]}` ({first.get('location') or ''})"
                if first
                else ""
            )
            lines.append(
                f"| **{requirement['id']}**: {_cell(requirement['title'])} | {requirement['level']}"
                f" | {requirement['tests']['failed']} | {_cell(reproducer)} | {reason} |"
            )
    partly = [r for r in certificate["requirements"] if "coverage" in r]
    if partly:
        lines += [
            "",
            "## Coverage",
            "",
            "Tests left out only because the profile lacks an optional key do not stop a"
            " requirement from passing on the tests that ran (the product spec's rule); the keys"
            " below would cover them.",
            "",
            "| requirement | level | status | tests run | not covered | profile keys that would"
            " cover the rest |",
            "|---|---|---|---:|---:|---|",
        ]
        for requirement in partly:
            covered = requirement["coverage"]
            keys = ", ".join(f"`{key}`" for key in covered["profile_keys"])
            lines.append(
                f"| {requirement['id']} | {requirement['level']} | {requirement['status']}"
                f" | {covered['tests_run']} | {covered['not_covered']} | {keys} |"
            )
    untested = [r for r in certificate["requirements"] if r["status"] == "not_tested"]
    if untested:
        lines += ["", "## Not tested", "", "| requirement | level | why |", "|---|---|---|"]
        for requirement in untested:
            reason = "; ".join(requirement.get("reasons") or [])[:200].replace("|", "\\|")
            lines.append(f"| {requirement['id']} | {requirement['level']} | {reason} |")
    if certificate["suite_errors"]:
        lines += ["", "## Suite errors", ""] + [
            f"- {error}" for error in certificate["suite_errors"]
        ]
    signed = "signed" if certificate.get("integrity", {}).get("signature") else "not signed"
    lines += [
        "",
        "## Checking this certificate",
        "",
        f"`checkout-conformance certificate verify certificate.json` (this one is {signed};"
        " add `--public-key PUBLIC.pem` to require the signer's key). It checks that the"
        " content digest matches (a sha256 over its content: anyone can rewrite an unsigned"
        " certificate and its digest; a signature shows who vouches for it), that the verdict"
        " follows from the results, and that the contract, catalog and packaged scenarios are"
        " the verifier's. It cannot prove which host was tested: the signer vouches for"
        " that. Every test of every requirement is in the tests file"
        f" (`{certificate.get('tests_file', {}).get('name', 'certificate-tests.json')}`).",
    ]
    return "\n".join(lines) + "\n"


def terminal_lines(certificate: Mapping[str, Any]) -> list[str]:
    """The run's outcome for the terminal, rendered from the certificate: the verdict, the
    counts per level, coverage, and each failed requirement with its smallest reproducer."""
    run = certificate["run"]
    partial = "  [partial run]" if run["partial"] else ""
    lines = [f"verdict: {certificate['verdict']} ({certificate['verdict_rule']}){partial}"]
    if certificate.get("broken"):
        lines.append(f"  the run broke: {certificate['broken']}")
    if run.get("not_run"):
        lines.append(
            f"  {run['not_run']} collected tests never ran (their requirements are not tested)"
        )
    for level in ("MUST", "SHOULD", "MAY"):
        row = certificate["summary"][level]
        lines.append(
            f"  {level:<6} {row['passed']:>3}/{row['total']:<3} passed, {row['failed']} failed,"
            f" {row['not_tested']} not tested"
        )
    sent = run["requests"]
    lines.append(
        f"  requests: {sent['total']} ({sent['scenarios']} scenarios, {sent['generated']}"
        f" generated; {sent['retries_after_429']} retries after a 429)"
    )
    for combo in run["combinations"]:
        lines.append(
            f"  combinations: {combo['scenario']}: {combo['fields']} fields,"
            f" {combo['passed_rows']}/{combo['rows']} rows passed; pairwise"
            f" {combo['pairwise']:.0%}, three-way {combo['three_way']:.0%}"
        )
    partly = [r for r in certificate["requirements"] if "coverage" in r]
    if partly:
        keys = sorted({key for r in partly for key in r["coverage"]["profile_keys"]})
        left_out = sum(r["coverage"]["not_covered"] for r in partly)
        lines.append(
            f"  coverage: {left_out} tests of {len(partly)} requirements not covered for want"
            f" of profile keys: {', '.join(keys)}"
        )
    strict = run["fail_on_should"]
    for requirement in certificate["requirements"]:
        if requirement["status"] != "failed":
            continue
        blocks = requirement["level"] == "MUST" or (strict and requirement["level"] == "SHOULD")
        failing = requirement.get("failing_tests") or [{}]
        count = requirement["tests"]["failed"]
        lines.append(
            f"  {'FAILED ' if blocks else 'WARNING'} {requirement['id']} ({requirement['level']})"
            f" failed in {count} test{'s' if count != 1 else ''}:"
            f" {(requirement.get('reasons') or [''])[0]}"
        )
        first = failing[0]
        lines.append(
            f"          smallest reproducer: {_short(str(first.get('test', '')))}"
            f" ({first.get('location') or ''})"
        )
        others = [_short(str(t["test"])) for t in failing[1:]]
        if others:
            more = f" and {len(others) - 8} more" if len(others) > 8 else ""
            lines.append(f"          also: {', '.join(others[:8])}{more}")
    lines += [f"  SUITE ERROR {error}" for error in certificate["suite_errors"]]
    lines.append(f"exit status: {certificate['exit_status']}")
    return lines


def _short(test: str) -> str:
    """A test's name without its file: the scenario id and case, or the property test."""
    return test.rsplit("::", 1)[-1]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def companion_paths(path: Path) -> tuple[Path, Path]:
    """certificate.json -> certificate.md and certificate-badge.json beside it."""
    return path.with_suffix(".md"), path.with_name(f"{path.stem}-badge.json")


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(temporary, 0o644)  # a report to publish, not a secret (mkstemp makes it 0600)
    os.replace(temporary, path)


def tests_path(path: Path) -> Path:
    """certificate.json -> certificate-tests.json beside it."""
    return path.with_name(f"{path.stem}{TESTS_FILE_SUFFIX}")


def write(certificate: dict[str, Any], tests: Mapping[str, Any], path: Path) -> None:
    """Write the tests file, then the certificate (with the tests file's hash and its own
    digest), its Markdown and its badge; atomically, so no reader sees half."""
    markdown_path, badge_path = companion_paths(path)
    tests_text = json.dumps(tests, indent=1, ensure_ascii=False) + "\n"
    _write_atomically(tests_path(path), tests_text)
    certificate["tests_file"] = {
        "name": tests_path(path).name,
        "sha256": hashlib.sha256(tests_text.encode("utf-8")).hexdigest(),
    }
    certificate["integrity"] = {"sha256": content_digest(certificate)}
    _write_atomically(path, json.dumps(certificate, indent=2, ensure_ascii=False) + "\n")
    _write_atomically(markdown_path, markdown(certificate))
    _write_atomically(badge_path, json.dumps(badge(certificate), indent=2) + "\n")


# -- verification --------------------------------------------------------------------------------
def schema_errors(certificate: Any) -> list[str]:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(top level)'}: {error.message}"
        for error in sorted(
            validator.iter_errors(certificate), key=lambda e: list(map(str, e.absolute_path))
        )
    ]


class SigningError(Exception):
    """A key that cannot sign or verify (not Ed25519 PEM, unreadable); the message says why."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def generate_key() -> tuple[bytes, bytes]:
    """A new Ed25519 key pair as PEM: (private, public)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


def _raw_public(public_pem: bytes) -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = serialization.load_pem_public_key(public_pem)
    except ValueError as error:
        raise SigningError(f"not a PEM public key ({error})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SigningError("not an Ed25519 public key")
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def sign(certificate: dict[str, Any], private_pem: bytes) -> None:
    """Sign the certificate's digest with an Ed25519 key (PEM, unencrypted), in place."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        key = serialization.load_pem_private_key(private_pem, password=None)
    except (ValueError, TypeError) as error:
        raise SigningError(f"not an unencrypted PEM private key ({error})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningError("not an Ed25519 private key")
    digest = content_digest(certificate)
    public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    certificate["integrity"] = {
        "sha256": digest,
        "signature": {
            "algorithm": "ed25519",
            "public_key": _b64(public),
            "value": _b64(key.sign(digest.encode("ascii"))),
        },
    }


def _signature_problems(certificate: Mapping[str, Any], public_pem: bytes | None) -> list[str]:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    signature = certificate["integrity"].get("signature")
    if signature is None:
        return ["signature: the certificate is not signed (--public-key needs a signed one)"]
    embedded = base64.b64decode(signature["public_key"])
    if public_pem is not None and _raw_public(public_pem) != embedded:
        return ["signature: signed with another key than the one given"]
    try:
        Ed25519PublicKey.from_public_bytes(embedded).verify(
            base64.b64decode(signature["value"]),
            certificate["integrity"]["sha256"].encode("ascii"),
        )
    except (InvalidSignature, ValueError):
        return ["signature: does not match the certificate's digest"]
    return []


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
