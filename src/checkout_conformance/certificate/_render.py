"""Renderings of a certificate: the terminal summary, Markdown (a CI job summary) and a
badge. Each reads the certificate and nothing else: no rendering recomputes the outcome."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

BADGE_COLOURS = {
    "conformant": "brightgreen",
    "conformant-with-warnings": "yellowgreen",
    "incomplete": "lightgrey",
    "non-conformant": "red",
    "broken": "critical",
}


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
        + (" This was a partial run (a selection of the suite)." if run.get("selected") else "")
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
    decided = [r for r in certificate["requirements"] if "decision" in r]
    if decided:
        lines += [
            "",
            "## Business rules: how the cases cover each decision",
            "",
            "Derived from each rule's decision (contracts/rules.yaml): every way it holds"
            " refused, each condition flipped on its own accepted, limits at their boundaries,"
            " null beside absent, the offending element at every position, and the deciding"
            " requests combined with the rows of a covering array over the other optional"
            " fields and sent in every value class of the fields the rule reads (countries,"
            " kinds of customer and item, custom field types).",
            "",
            "| requirement | status | cases passed | refused | accepted | conditions shown to"
            " decide alone | boundaries | nulls | positions | combinations | value classes |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for requirement in decided:
            seen = requirement["decision"]
            lines.append(
                f"| {requirement['id']} | {requirement['status']}"
                f" | {seen['passed']}/{seen['cases']} | {seen['refused']} | {seen['accepted']}"
                f" | {seen['conditions_flipped']}/{seen['conditions']} | {seen['boundaries']}"
                f" | {seen['nulls']} | {seen['positions']} | {seen['combinations']}"
                f" | {seen.get('classes', 0)} |"
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


# The last lines of a run are read in a CI log's tail: the failures block is kept within this
# many lines (warnings shorten first, then reproducers) so the verdict and every failed MUST
# requirement fit in the last 30 lines of the output with the counts below them.
FAILURE_LINES = 22


def terminal_lines(certificate: Mapping[str, Any], headline: str = "") -> list[str]:
    """The run's outcome for the terminal, rendered from the certificate and read from the
    bottom up: the verdict last, the counts per level above it, above them each failed
    requirement (blocking ones first, the `headline` area first among them) with its smallest
    reproducer, and above those what the run sent and covered."""
    run = certificate["run"]
    sent = run["requests"]
    lines = [
        f"requests: {sent['total']} ({sent['scenarios']} scenarios, {sent['generated']}"
        f" generated; {sent['retries_after_429']} retries after a 429)"
    ]
    for combo in run["combinations"]:
        lines.append(
            f"combinations: {combo['scenario']}: {combo['fields']} fields,"
            f" {combo['passed_rows']}/{combo['rows']} rows passed; pairwise"
            f" {combo['pairwise']:.0%}, three-way {combo['three_way']:.0%}"
        )
    partly = [r for r in certificate["requirements"] if "coverage" in r]
    if partly:
        keys = sorted({key for r in partly for key in r["coverage"]["profile_keys"]})
        left_out = sum(r["coverage"]["not_covered"] for r in partly)
        lines.append(
            f"coverage: {left_out} tests of {len(partly)} requirements not covered for want"
            f" of profile keys: {', '.join(keys)}"
        )
    lines += [f"SUITE ERROR {error}" for error in certificate["suite_errors"]]
    lines += _failure_lines(certificate, headline)
    for level in ("MUST", "SHOULD", "MAY"):
        row = certificate["summary"][level]
        lines.append(
            f"{level:<6} {row['passed']:>3}/{row['total']:<3} passed, {row['failed']} failed,"
            f" {row['not_tested']} not tested"
        )
    if certificate.get("broken"):
        lines.append(f"the run broke: {certificate['broken']}")
    if run.get("not_run"):
        lines.append(
            f"{run['not_run']} collected tests never ran (their requirements are not tested)"
        )
    partial = "  [partial run]" if run["partial"] else ""
    lines.append(f"verdict: {certificate['verdict']} ({certificate['verdict_rule']}){partial}")
    lines.append(f"exit status: {certificate['exit_status']}")
    return lines


def _failure_lines(certificate: Mapping[str, Any], headline: str) -> list[str]:
    """One entry per failed requirement, blocking ones first (the headline area first among
    them), each with its reason and smallest reproducer; shortened to fit FAILURE_LINES."""
    strict = certificate["run"]["fail_on_should"]
    failed = [r for r in certificate["requirements"] if r["status"] == "failed"]

    def blocks(requirement: Mapping[str, Any]) -> bool:
        return requirement["level"] == "MUST" or bool(strict and requirement["level"] == "SHOULD")

    # A stable sort: catalog order within each group.
    failed.sort(key=lambda r: (not blocks(r), r["area"] != headline))
    blocking = [r for r in failed if blocks(r)]
    warnings = [r for r in failed if not blocks(r)]
    warned_ids = [
        f"  {len(warnings)} requirements warned (failed without failing the run):"
        f" {', '.join(r['id'] for r in warnings)} (certificate.md has each reason)"
    ]
    # From the longest form to the shortest, the first that fits: reproducers for every
    # failure; warnings on one line each; warnings as one list; blocking failures on one line
    # each; then the first of them on one line each and the rest as one list.
    forms: list[list[list[str]]] = [
        [_failure(r, "FAILED", True) for r in blocking]
        + [_failure(r, "warned", style) for r in warnings]
        for style in (True, False)
    ]
    listed = [warned_ids] if warnings else []
    forms.append([_failure(r, "FAILED", True) for r in blocking] + listed)
    forms.append([_failure(r, "FAILED", False) for r in blocking] + listed)
    for form in forms:
        lines = [line for entry in form for line in entry]
        if len(lines) <= FAILURE_LINES:
            return lines
    room = max(FAILURE_LINES - 1 - len(listed), 1)
    shown, rest = blocking[:room], blocking[room:]
    lines = [_failure(r, "FAILED", False)[0] for r in shown]
    lines.append(
        f"  and {len(rest)} more {'/'.join(sorted({r['level'] for r in rest}))} requirements"
        f" FAILED: {', '.join(r['id'] for r in rest)} (certificate.md has each reason)"
    )
    return lines + [line for entry in listed for line in entry]


def _failure(requirement: Mapping[str, Any], mark: str, reproducer: bool) -> list[str]:
    """`  CURL-001 (MUST) FAILED in 3 tests: reason`, and the smallest reproducer below it.
    (Not `FAILED CURL-001`: lines that start with FAILED are pytest's, one per failed test.)"""
    count = requirement["tests"]["failed"]
    reason = (requirement.get("reasons") or [""])[0]
    lines = [
        f"  {requirement['id']} ({requirement['level']}) {mark} in {count}"
        f" test{'s' if count != 1 else ''}: {reason}"
    ]
    if reproducer:
        failing = requirement.get("failing_tests") or [{}]
        first = failing[0]
        others = [_short(str(t["test"])) for t in failing[1:]]
        more = f" and {len(others) - 8} more" if len(others) > 8 else ""
        also = f"; also: {', '.join(others[:8])}{more}" if others else ""
        lines.append(
            f"      smallest reproducer: {_short(str(first.get('test', '')))}"
            f" ({first.get('location') or ''}){also}"
        )
    return lines


def _short(test: str) -> str:
    """A test's name without its file: the scenario id and case, or the property test."""
    return test.rsplit("::", 1)[-1]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
