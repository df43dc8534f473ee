"""Start the servers the benchmarks and the peers comparison compare: ours and the mocks.

The mocks are pinned in `bench/package.json` (`npm install --prefix bench`) and serve the
official OpenAPI document as their users run them: Prism (`@stoplight/prism-cli`), the Stainless
fork of Prism that SDK generators use (`@stainless-api/prism-cli`), Mockoon (`@mockoon/cli`,
which serves an OpenAPI document directly) and Steady (`@stdy/cli`) in its default mode, which
refuses requests its validator finds wrong, and relaxed (`--reject-on-sdk-error=false`), which
lets them through. The reference server runs as `checkout-conformance serve`. Each listens on
127.0.0.1 and a free port.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
KEY = "sk_test_bench_key_0123456789"
UPSTREAM = next((ROOT / "contracts" / "upstream").glob("*.json"))
NODE_BIN = ROOT / "bench" / "node_modules" / ".bin"


NODE_MODULES = ROOT / "bench" / "node_modules"
# name -> (npm package, its entry point, the arguments before the port and document). Both Prism
# packages install a `prism` command, so each is started from its own entry point.
PEERS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "prism": ("@stoplight/prism-cli", "dist/index.js", ("mock", "-h", "127.0.0.1")),
    "stainless-prism": ("@stainless-api/prism-cli", "dist/index.js", ("mock", "-h", "127.0.0.1")),
    "mockoon": (
        "@mockoon/cli",
        "bin/run.js",
        ("start", "-l", "127.0.0.1", "-X", "--disable-admin-api"),
    ),
    "steady": ("@stdy/cli", "", ("--host", "127.0.0.1")),
    "steady-relaxed": ("@stdy/cli", "", ("--host", "127.0.0.1", "--reject-on-sdk-error=false")),
}
TITLES = {
    "prism": "Prism",
    "stainless-prism": "Stainless Prism",
    "mockoon": "Mockoon",
    "steady": "Steady",
    "steady-relaxed": "Steady relaxed",
}


def peer_version(name: str) -> str:
    """The pinned npm version of a peer, from bench/package.json."""
    package = PEERS[name][0]
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
    else:
        package, entry, arguments = PEERS[name]
        installed = NODE_MODULES / package / entry if entry else NODE_BIN / "steady"
        if not installed.exists():
            print(f"  {name}: not installed (npm install --prefix bench); skipped", file=sys.stderr)
            return None
        program = [shutil.which("node") or "node", str(installed)] if entry else [str(installed)]
        document = ["-d", str(UPSTREAM)] if name == "mockoon" else [str(UPSTREAM)]
        command = [*program, *arguments, "-p", str(port), *document]
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "NO_COLOR": "1"},
    )
    url = f"http://127.0.0.1:{port}/checkouts"
    wait_ready(url)
    return process, url
