"""The suite against the peers (Prism and Steady, pinned npm versions serving the official
OpenAPI document): their certificates, kept, and one row per requirement each gets wrong.

    python bench/peers.py [--peers prism,steady] [--examples 150] [--seed 20261126]

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
import os
import subprocess
import sys
import time
from typing import Any

import httpx
from _servers import KEY, ROOT, peer_version, start

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
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-q",
        "--tb=no",
        "--no-header",
        f"--base-url={base_url}",
        f"--target-profile={PROFILE}",
        f"--certificate={certificate}",
        f"--examples={examples}",
        f"--conformance-seed={seed}",
        f"--implementation-name={name}",
        f"--implementation-version={peer_version(name)}",
    ]
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST_", "CHECKOUT_CONFORMANCE_"))
    }
    env["DODO_PAYMENTS_API_KEY"] = KEY
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
    summary["failed"] = [
        {"id": r["id"], "level": r["level"], "reason": (r.get("reasons") or [""])[0]}
        for r in document["requirements"]
        if r["status"] == "failed"
    ]
    return summary


def table(summaries: list[dict[str, Any]]) -> str:
    lines = ["| peer | requirement | level | what the suite saw |", "|---|---|---|---|"]
    for summary in summaries:
        peer = f"{summary['peer']} {summary.get('version', '')}".strip()
        if "skipped" in summary or "error" in summary:
            lines.append(f"| {peer} | (no run) | | {summary.get('skipped') or summary['error']} |")
            continue
        if not summary["still_answering_after_the_run"]:
            lines.append(f"| {peer} | (whole run) | | stopped answering during the run |")
        for failure in summary["failed"]:
            reason = failure["reason"].replace("|", "\\|").replace("\n", " ")[:160]
            lines.append(f"| {peer} | {failure['id']} | {failure['level']} | {reason} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peers", default="prism,steady")
    parser.add_argument("--examples", type=int, default=150)
    parser.add_argument("--seed", type=int, default=20261126)
    args = parser.parse_args()
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
