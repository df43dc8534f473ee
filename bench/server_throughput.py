"""Reference server throughput and latency, side by side with Steady and Prism, in one run.

Each server is loaded by the same generator (wrk) with the same requests: the minimal valid
request and a large valid request (every optional field set). Steady and Prism serve the official
OpenAPI document, as the official SDKs' test suites use them. Prints a table with ratios and
writes JSON to bench/results/.

    python bench/server_throughput.py [--duration 10] [--connections 16] [--rounds 1]

Needs `wrk` (Debian package `wrk`) and, for the peers, `npm install --prefix bench`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from _servers import KEY, start  # noqa: E402

from checkout_conformance import _resources  # noqa: E402
from checkout_conformance.engine._bodies import BodyLibrary  # noqa: E402
from checkout_conformance.engine._template import Context, render  # noqa: E402
from checkout_conformance.profile import reference_profile  # noqa: E402


@dataclass
class Result:
    server: str
    request: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int


def bodies() -> dict[str, str]:
    library = BodyLibrary.load(_resources.BODIES_PATH)
    context = Context(profile=reference_profile().data)
    return {
        name: json.dumps(render(library.unrendered(name), context), separators=(",", ":"))
        for name in ("minimal", "full")
    }


def wrk(
    url: str, body: str, duration: int, connections: int
) -> tuple[float, float, float, int, int]:
    script = (
        'wrk.method = "POST"\n'
        f"wrk.body = {json.dumps(body)}\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "Bearer {KEY}"\n'
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        output = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{duration}s",
                "--latency",
                "-s",
                handle.name,
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(handle.name)

    def latency(label: str) -> float:
        match = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        if not match:
            raise RuntimeError(f"no {label}% latency in wrk output:\n{output}")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return (
        rps,
        latency("50"),
        latency("99"),
        int(non_2xx.group(1)) if non_2xx else 0,
        sum(int(g) for g in errors.groups()) if errors else 0,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--duration", type=int, default=10, help="seconds per measurement (default 10)"
    )
    parser.add_argument(
        "--connections", type=int, default=16, help="concurrent connections (default 16)"
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="measure each pair this many times, best kept"
    )
    parser.add_argument("--servers", default="reference,steady,prism")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("bench: wrk is not installed (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    payloads = bodies()
    started = {name: start(name) for name in args.servers.split(",")}
    running = {name: pair for name, pair in started.items() if pair is not None}
    results: list[Result] = []
    try:
        for request, body in payloads.items():
            for name, (_, url) in running.items():
                wrk(url, body, 2, args.connections)  # warm-up
                best: tuple[float, float, float, int, int] | None = None
                for _ in range(args.rounds):
                    measured = wrk(url, body, args.duration, args.connections)
                    if best is None or measured[0] > best[0]:
                        best = measured
                assert best is not None
                results.append(Result(name, request, *best))
    finally:
        for process, _ in running.values():
            process.terminate()
            process.wait(10)

    print(
        f"\n{'server':<10} {'request':<8} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}"
    )
    for result in results:
        print(
            f"{result.server:<10} {result.request:<8} {result.requests_per_second:>9.0f}"
            f" {result.p50_ms:>8.2f} {result.p99_ms:>8.2f} {result.non_2xx:>8}"
        )
    ratios: dict[str, float] = {}
    for request in payloads:
        reference = next(
            (r for r in results if r.server == "reference" and r.request == request), None
        )
        for peer in ("steady", "prism"):
            other = next((r for r in results if r.server == peer and r.request == request), None)
            if reference and other and other.requests_per_second:
                ratio = reference.requests_per_second / other.requests_per_second
                ratios[f"{request}: reference / {peer}"] = round(ratio, 2)
                print(f"{request}: reference / {peer} = {ratio:.2f}x")
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    document = {
        "benchmark": "server_throughput",
        "date": stamp,
        "command": " ".join(["python", "bench/server_throughput.py", *sys.argv[1:]]),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "settings": {
            "duration_s": args.duration,
            "connections": args.connections,
            "rounds": args.rounds,
        },
        "results": [asdict(result) for result in results],
        "ratios": ratios,
    }
    path = args.out / f"server-{stamp}.json"
    path.write_text(json.dumps(document, indent=2) + "\n")
    print(f"results: {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
