"""The reference server under sustained concurrent load: 5xx count, errors and memory.

    python bench/server_soak.py [--connections 64] [--duration 30]

wrk sends a mix of valid and invalid requests (a valid session, a charge, a schema violation, a
business-rule violation, malformed JSON, a bad key) over many connections; the script reads the
server's resident memory before and after, counts 5xx answers and crashes, and writes JSON to
bench/results/. Needs `wrk`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from checkout_conformance.redact import Secret  # noqa: E402
from checkout_conformance.server import EmbeddedServer  # noqa: E402

KEY = "sk_test_soak_0123456789"
# One request of each kind, round-robin per connection; the Lua counts 5xx answers.
SCRIPT = r"""
local bodies = {
  '{"product_cart":[{"product_id":"pdt_ref_one_time_ebook","quantity":1}]}',
  '{"product_cart":[{"product_id":"pdt_ref_one_time_ebook","quantity":1}],"confirm":true,'
    .. '"customer":{"customer_id":"cus_ref_ada_lovelace"},'
    .. '"payment_method_id":"pm_ref_ada_visa_4242",'
    .. '"billing_address":{"country":"US","state":"CA","city":"SF","street":"1 Main",'
    .. '"zipcode":"94105"}}',
  '{"product_cart":[{"product_id":"pdt_ref_one_time_ebook","quantity":-1}]}',
  '{"product_cart":[{"product_id":"pdt_missing","quantity":1}]}',
  '{"product_cart": [',
}
local keys = {"Bearer KEY", "Bearer KEY", "Bearer KEY", "Bearer KEY", "Bearer KEY", "Bearer wrong"}
local counter = 0
server_errors = 0
request = function()
  counter = counter + 1
  local body = bodies[(counter % #bodies) + 1]
  local headers = {["Content-Type"] = "application/json"}
  headers["Authorization"] = keys[(counter % #keys) + 1]
  return wrk.format("POST", "/checkouts", headers, body)
end
response = function(status, headers, body)
  if status >= 500 then server_errors = server_errors + 1 end
end
done = function(summary, latency, requests)
  io.write(string.format("server_errors %d\n", server_errors))
end
""".replace("KEY", KEY)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--duration", type=int, default=30)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    server = EmbeddedServer(api_key=Secret(KEY))
    base_url = server.start()
    assert server.process is not None
    pid = server.process.pid
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(SCRIPT)
    try:
        warm = ["wrk", "-t1", "-c16", "-d3s", "-s", handle.name, base_url + "/checkouts"]
        subprocess.run(warm, capture_output=True, check=True)
        before = rss_kib(pid)
        started = time.perf_counter()
        output = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{args.connections}",
                f"-d{args.duration}s",
                "--latency",
                "-s",
                handle.name,
                base_url + "/checkouts",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        elapsed = time.perf_counter() - started
        after = rss_kib(pid)
        alive = server.process.poll() is None
    finally:
        os.unlink(handle.name)
        server.stop()
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    server_errors = int(re.search(r"server_errors (\d+)", output).group(1))  # type: ignore[union-attr]
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    result = {
        "connections": args.connections,
        "duration_s": round(elapsed, 1),
        "requests": requests,
        "requests_per_second": round(requests / elapsed),
        "server_errors_5xx": server_errors,
        "socket_errors": sum(int(g) for g in socket_errors.groups()) if socket_errors else 0,
        "server_alive_after": alive,
        "rss_kib_before": before,
        "rss_kib_after": after,
        "rss_growth_kib": after - before,
    }
    print(json.dumps(result, indent=2))
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = args.out / f"soak-{stamp}.json"
    path.write_text(
        json.dumps({"benchmark": "server_soak", "date": stamp, "results": result}, indent=2) + "\n"
    )
    print(f"results: {path.relative_to(ROOT)}")
    return 0 if server_errors == 0 and alive else 1


if __name__ == "__main__":
    sys.exit(main())
