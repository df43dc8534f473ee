"""What `--concurrency` buys against a slow or rate-limited target; figures, side by side.

    python bench/concurrency.py [--scope scenarios|default] [--latency 0 50 200] [--bucket 40]

The reference server runs in this process (uvicorn on a loopback port) behind added latency
(`Delayed`, as `checkout-conformance serve --latency-ms` does) or behind a token bucket of
`--bucket` requests per second that answers 429 with `Retry-After` and `X-RateLimit-*`, as the
sandbox documents. The suite runs as users run it (`pytest --base-url=...`), serially
(`--concurrency 1`) and overlapped (`--concurrency 8`), one after the other in one run; each line
gives the wall time, the requests sent (from the certificate), and the ratio.

`--scope scenarios` runs the scenario suites only (the part `--concurrency` overlaps);
`--scope default` the whole default run, property test included (its generated requests are
still sent one at a time). Writes JSON to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvicorn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from checkout_conformance.selfcheck import suite_command, suite_environment  # noqa: E402
from checkout_conformance.server import Delayed, bind_socket, create_app  # noqa: E402

KEY = "sk_test_bench_concurrency_0123456789"


class TokenBucket:
    """`rate` requests per second with bursts of `rate`; beyond, a 429 with the figures."""

    def __init__(self, app: Any, rate: float) -> None:
        self.app, self.rate = app, rate
        self.tokens, self.stamp = rate, time.monotonic()
        self.refused = 0

    def figures(self, wait: int) -> list[tuple[bytes, bytes]]:
        """What a 429 says of the limit: `Retry-After` and `X-RateLimit-*`."""
        return [
            (b"retry-after", str(wait).encode()),
            (b"x-ratelimit-limit", str(int(self.rate)).encode()),
            (b"x-ratelimit-remaining", b"0"),
            (b"x-ratelimit-reset", b"1"),
        ]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            now = time.monotonic()
            self.tokens = min(self.rate, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens < 1:
                self.refused += 1
                wait = max(1, math.ceil((1 - self.tokens) / self.rate))
                headers = [(b"content-type", b"application/json"), *self.figures(wait)]
                await send({"type": "http.response.start", "status": 429, "headers": headers})
                await send(
                    {"type": "http.response.body", "body": b'{"message":"Too many requests"}'}
                )
                return
            self.tokens -= 1
        await self.app(scope, receive, send)


@contextmanager
def served(app: Any) -> Iterator[str]:
    sock = bind_socket("127.0.0.1", 0)
    config = uvicorn.Config(
        app, lifespan="off", log_level="error", access_log=False, http="httptools"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def timed_run(url: str, *args: str) -> tuple[float, Any, dict[str, Any], dict[str, Any]]:
    """The suite as users run it against `url`: (seconds, the process, certificate, tests)."""
    with tempfile.TemporaryDirectory() as tmp:
        certificate = Path(tmp) / "c.json"
        command = suite_command(
            certificate,
            "-q",
            f"--base-url={url}",
            "--target-profile=fixtures/profiles/reference.yaml",
            *args,
        )
        started = time.perf_counter()
        result = subprocess.run(
            command,
            cwd=ROOT,
            env=suite_environment(KEY),
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.perf_counter() - started
        document = json.loads(certificate.read_text()) if certificate.is_file() else {}
        tests_file = certificate.with_name("c-tests.json")
        tests = json.loads(tests_file.read_text()) if tests_file.is_file() else {}
    return seconds, result, document, tests


def run_suite(url: str, concurrency: int, scope: str, extra: list[str]) -> dict[str, Any]:
    paths = ["suites"] if scope == "default" else ["suites", "--ignore=suites/properties"]
    elapsed, result, certificate, _tests = timed_run(
        url, f"--concurrency={concurrency}", *paths, *extra
    )
    if result.returncode != 0:
        raise RuntimeError(f"the run failed (exit {result.returncode}):\n{result.stdout[-3000:]}")
    return {"seconds": round(elapsed, 2), "requests": certificate["run"]["requests"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scope", choices=["scenarios", "default"], default="scenarios")
    parser.add_argument("--latency", type=float, nargs="*", default=[0, 50, 200], metavar="MS")
    parser.add_argument(
        "--bucket", type=float, default=40, help="req/s of the token bucket (0: none)"
    )
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    settings: list[tuple[str, Any, list[str]]] = []
    for latency in args.latency:
        app = create_app(api_key=KEY)
        settings.append((f"{latency:g} ms latency", Delayed(app, latency / 1000), []))
    if args.bucket:
        app = create_app(api_key=KEY)
        settings.append((f"{args.bucket:g} req/s token bucket", TokenBucket(app, args.bucket), []))
    print(f"scope: {args.scope}; serial (--concurrency 1) vs --concurrency {args.concurrency}")
    for name, app, extra in settings:
        with served(app) as url:
            serial = run_suite(url, 1, args.scope, extra)
            overlapped = run_suite(url, args.concurrency, args.scope, extra)
        total = serial["requests"]["total"]
        row: dict[str, Any] = {"setting": name, "serial": serial, "concurrent": overlapped}
        if isinstance(app, TokenBucket):
            row["floor_seconds"] = round(overlapped["requests"]["total"] / app.rate, 1)
            row["refused_429"] = app.refused
        rows.append(row)
        ratio = serial["seconds"] / overlapped["seconds"]
        floor = (
            f"; requests/{app.rate:g} = {row['floor_seconds']} s" if "floor_seconds" in row else ""
        )
        print(
            f"  {name:>24}: serial {serial['seconds']:7.1f} s, concurrent"
            f" {overlapped['seconds']:6.1f} s ({ratio:.1f}x faster); requests {total} /"
            f" {overlapped['requests']['total']}{floor}"
        )
    out = ROOT / "bench" / "results" / f"concurrency-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.write_text(json.dumps({"scope": args.scope, "rows": rows}, indent=2) + "\n")
    print(f"written: {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
