"""Start the servers the benchmarks and the peers comparison compare: ours, Steady and Prism.

Steady and Prism are pinned in `bench/package.json` (`npm install --prefix bench`) and serve the
official OpenAPI document, as the official SDKs' test suites use them; the reference server runs
as `checkout-conformance serve`. Each listens on 127.0.0.1 and a free port.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
KEY = "sk_test_bench_key_0123456789"
UPSTREAM = next((ROOT / "contracts" / "upstream").glob("*.json"))
NODE_BIN = ROOT / "bench" / "node_modules" / ".bin"


def peer_version(name: str) -> str:
    """The pinned npm version of a peer, from bench/package.json."""
    package = {"steady": "@stdy/cli", "prism": "@stoplight/prism-cli"}[name]
    manifest = json.loads((ROOT / "bench" / "package.json").read_text(encoding="utf-8"))
    return str(manifest["dependencies"][package])


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.post(url, json={}, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up within {timeout:.0f} s")


def start(name: str) -> tuple[subprocess.Popen[bytes], str] | None:
    port = free_port()
    if name == "reference":
        command = [
            sys.executable,
            "-m",
            "checkout_conformance",
            "serve",
            "--port",
            str(port),
            "--api-key",
            KEY,
        ]
    elif name == "steady":
        command = [str(NODE_BIN / "steady"), "--host", "127.0.0.1", "-p", str(port), str(UPSTREAM)]
    else:
        command = [
            str(NODE_BIN / "prism"),
            "mock",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            str(UPSTREAM),
        ]
    if not Path(command[0]).exists() and name != "reference":
        print(f"  {name}: not installed (npm install --prefix bench); skipped", file=sys.stderr)
        return None
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "NO_COLOR": "1"},
    )
    url = f"http://127.0.0.1:{port}/checkouts"
    wait_ready(url)
    return process, url
