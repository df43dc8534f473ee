"""The suite against the peers (the mocks of `bench/_servers.py`, pinned npm versions serving the
official OpenAPI document): their certificates, kept, and one row per requirement each gets wrong.

    python bench/peers.py [--peers prism,stainless-prism,...] [--examples 150] [--seed 20261126]

For each peer: start it, run the whole suite against it exactly as a user would (a child
`pytest --base-url=...` with the reference profile, a mock profile), check that it still answers
afterwards, and write `bench/results/peers/<peer>/certificate.{json,md}` plus
`bench/results/peers/summary.json`. Prints the Markdown table the README carries. Each row is
confirmed by one direct request: `python bench/peers_confirm.py`.
Needs `npm install --prefix bench`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from typing import Any

import httpx
from _servers import KEY, PEERS, ROOT, TITLES, peer_version, start

sys.path.insert(0, str(ROOT / "src"))
from checkout_conformance.selfcheck import suite_command, suite_environment

OUT = ROOT / "bench" / "results" / "peers"
PROFILE = ROOT / "fixtures" / "profiles" / "reference.yaml"


def still_answers(url: str) -> bool:
    try:
        httpx.post(url, json={}, headers={"Authorization": f"Bearer {KEY}"}, timeout=5)
    except httpx.HTTPError:
        return False
    return True


def run_peer(name: str, examples: int, seed: int) -> dict[str, Any]:
    started = start(name)
    if started is None:
        return {"peer": name, "skipped": "not installed (npm install --prefix bench)"}
    process, url = started
    base_url = url.removesuffix("/checkouts")
    directory = OUT / name
    directory.mkdir(parents=True, exist_ok=True)
    certificate = directory / "certificate.json"
    command = suite_command(
        certificate,
        "-q",
        "--tb=no",
        "--no-header",
        f"--base-url={base_url}",
        f"--target-profile={PROFILE}",
        f"--examples={examples}",
        f"--conformance-seed={seed}",
        f"--implementation-name={name}",
        f"--implementation-version={peer_version(name)}",
    )
    env = suite_environment(KEY)
    clock = time.perf_counter()
    try:
        result = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=1800
        )
        seconds = time.perf_counter() - clock
        crashed = process.poll() is not None
        alive = not crashed and still_answers(url)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
    (directory / "terminal.txt").write_text(result.stdout[-20000:] + result.stderr[-5000:])
    summary: dict[str, Any] = {
        "peer": name,
        "version": peer_version(name),
        "exit_code": result.returncode,
        "seconds": round(seconds, 1),
        "still_answering_after_the_run": alive,
    }
    if not certificate.exists():
        summary["error"] = (result.stdout[-500:] + result.stderr[-500:]).strip()
        return summary
    document = json.loads(certificate.read_text(encoding="utf-8"))
    summary["verdict"] = document["verdict"]
    summary["summary"] = document["summary"]
    summary["suite_errors"] = document["suite_errors"]
    summary["statuses"] = {r["id"]: r["status"] for r in document["requirements"]}
    summary["failed"] = [
        {"id": r["id"], "level": r["level"], "reason": (r.get("reasons") or [""])[0]}
        for r in document["requirements"]
        if r["status"] == "failed"
    ]
    return summary


def _short(reason: str, limit: int = 90) -> str:
    """`test-id: where: expected X, got Y` -> one table cell."""
    text = reason.replace("|", "\\|").replace("\n", " ")
    text = text.replace("status: expected a 4xx status (rejected), got", "accepted with").replace(
        "status: expected status", "expected"
    )
    return text if len(text) <= limit else text[: limit - 1] + "…"


def table(summaries: list[dict[str, Any]]) -> str:
    """One row per requirement any peer fails, one column per peer (a cell: the first reason)."""
    ran = [s for s in summaries if "failed" in s]
    heads = [f"{TITLES[s['peer']]} {s['version']}" for s in ran]
    lines = [
        "| requirement | level | " + " | ".join(heads) + " |",
        "|---|---|" + "---|" * len(heads),
    ]
    for summary in summaries:
        if "failed" not in summary:
            why = summary.get("skipped") or summary.get("error", "no certificate")
            lines.append(f"| (no run: {summary['peer']}) | | {why} |")
        elif not summary["still_answering_after_the_run"]:
            lines.append(f"| (whole run) | | {summary['peer']} stopped answering during the run |")
    levels = {f["id"]: f["level"] for s in ran for f in s["failed"]}
    catalog_order = [f["id"] for s in ran for f in s["failed"]]
    order = sorted(dict.fromkeys(catalog_order), key=_catalog_position)
    for requirement in order:
        cells = []
        for summary in ran:
            found = next((f for f in summary["failed"] if f["id"] == requirement), None)
            status = summary.get("statuses", {}).get(requirement, "passed")
            cells.append(_short(found["reason"]) if found else status.replace("_", " "))
        lines.append(f"| {requirement} | {levels[requirement]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _catalog_position(requirement: str) -> int:
    from checkout_conformance.catalog import load_catalog

    return load_catalog().ids.index(requirement)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peers", default=",".join(PEERS))
    parser.add_argument("--examples", type=int, default=150)
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument(
        "--table-only", action="store_true", help="print the table of the last run, run nothing"
    )
    args = parser.parse_args()
    if args.table_only:
        summaries = json.loads((OUT / "summary.json").read_text(encoding="utf-8"))
        print(table(summaries))
        return 0
    summaries = [run_peer(name, args.examples, args.seed) for name in args.peers.split(",")]
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "summary.json").write_text(json.dumps(summaries, indent=2) + "\n", encoding="utf-8")
    for summary in summaries:
        verdict = summary.get("verdict", summary.get("skipped", "no certificate"))
        print(f"{summary['peer']}: {verdict} (exit {summary.get('exit_code')})", file=sys.stderr)
    print(table(summaries))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
