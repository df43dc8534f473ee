"""How fast the suite runs, and what the YAML engine costs per request; figures and ratios.

    python bench/suite_speed.py [--repeat 3]

1. The whole default run (`pytest`: embedded server, every scenario, default property budget),
   serial and with `-n 2`.
2. Growth with the number of scenarios (the scenario files copied 1x, 2x, 4x) and with the
   property-test example budget (1x, 2x, 4x).
3. Engine overhead: the same requests (the ACC-004 matrix) sent by the engine (render, build,
   send, check) and by a plain loop over one httpx.Client, against the same server, side by side
   in one process; the ratio per request.

Wall times are medians of `--repeat` runs. Writes JSON to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from checkout_conformance import _resources  # noqa: E402
from checkout_conformance.catalog import load_catalog  # noqa: E402
from checkout_conformance.contract import load_contract  # noqa: E402
from checkout_conformance.engine._bodies import BodyLibrary  # noqa: E402
from checkout_conformance.engine._expand import expand  # noqa: E402
from checkout_conformance.engine._model import ExpectationGroups, Library, load_scenario_file  # noqa: E402
from checkout_conformance.engine._runner import run_case  # noqa: E402
from checkout_conformance.engine._template import Context, render  # noqa: E402
from checkout_conformance.engine._values import ValueClasses  # noqa: E402
from checkout_conformance.profile import reference_profile  # noqa: E402
from checkout_conformance.selfcheck import suite_command, suite_environment  # noqa: E402
from checkout_conformance.server import EmbeddedServer  # noqa: E402
from checkout_conformance.transport import Target, encode_body  # noqa: E402


def timed_pytest(*args: str) -> float:
    env = suite_environment(None)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        result = subprocess.run(
            suite_command(Path(tmp) / "c.json", "-q", *args),
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"pytest {' '.join(args)} failed:\n{result.stdout[-2000:]}")
    return elapsed


def median_of(repeat: int, *args: str) -> float:
    return round(statistics.median(timed_pytest(*args) for _ in range(repeat)), 2)


def scenario_copies(factor: int, directory: Path) -> Path:
    """The YAML scenario files, `factor` times (ids are unique per file, so copies coexist)."""
    suites = directory / f"suites-x{factor}"
    for copy in range(factor):
        for path in (ROOT / "suites").rglob("*.yaml"):
            target = suites / f"copy{copy}" / path.relative_to(ROOT / "suites")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    return suites


def engine_overhead(rounds: int = 3) -> dict[str, Any]:
    """Per-request cost of the engine vs a plain httpx loop, same requests, same server."""
    library = Library(
        catalog=load_catalog(),
        contract=load_contract(),
        bodies=BodyLibrary.load(_resources.BODIES_PATH),
        groups=ExpectationGroups.load(_resources.FIXTURES_DIR / "expectations.yaml"),
        values=ValueClasses.load(_resources.FIXTURES_DIR / "values.yaml"),
    )
    scenarios = load_scenario_file(ROOT / "suites" / "acceptance" / "valid_requests.yaml", library)
    scenario = next(s for s in scenarios if s.id == "acc-every-billing-country")
    cases = expand(scenario.expand, library.contract, library.bodies, library.values)
    server = EmbeddedServer()
    base_url = server.start()
    profile = reference_profile()
    target = Target(base_url, server.api_key, profile, embedded=True, timeout=10)
    # The plain loop sends exactly the bodies the engine sends, encoded beforehand.
    context = Context(profile=profile.data)
    base = render(library.bodies.unrendered("minimal"), context)
    bodies = [
        encode_body({**base, "billing_address": {"country": case.variables["country"]}})
        for case in cases
    ]
    headers = {
        "Authorization": f"Bearer {server.api_key.reveal()}",
        "Content-Type": "application/json",
        "Accept": "application/json",
    }
    engine_times, plain_times = [], []
    try:
        for _ in range(rounds):  # interleaved, so both see the same machine state
            started = time.perf_counter()
            for case in cases:
                run = run_case(scenario, case, target, library)
                assert not run.mismatches
            engine_times.append((time.perf_counter() - started) / len(cases))
            started = time.perf_counter()
            for body in bodies:
                response = target.client.post(
                    base_url + "/checkouts", content=body, headers=headers
                )
                assert response.status_code == 200
                response.json()
            plain_times.append((time.perf_counter() - started) / len(bodies))
    finally:
        target.close()
        server.stop()
    engine, plain = min(engine_times), min(plain_times)
    return {
        "requests_per_round": len(cases),
        "engine_us_per_request": round(engine * 1e6, 1),
        "plain_httpx_us_per_request": round(plain * 1e6, 1),
        "ratio": round(engine / plain, 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    results: dict[str, Any] = {}

    print("engine overhead (ACC-004 country matrix, in one process) ...", flush=True)
    results["engine_overhead"] = engine_overhead()
    overhead = results["engine_overhead"]
    print(
        f"  engine {overhead['engine_us_per_request']} us/request, plain httpx"
        f" {overhead['plain_httpx_us_per_request']} us/request, ratio {overhead['ratio']}"
    )

    print("whole default run ...", flush=True)
    results["whole_run_s"] = {
        "serial": median_of(args.repeat),
        "xdist_n2": median_of(args.repeat, "-n", "2"),
    }
    print(
        f"  pytest: {results['whole_run_s']['serial']} s;"
        f" pytest -n 2: {results['whole_run_s']['xdist_n2']} s"
    )

    print("scenarios 1x/2x/4x (YAML only) ...", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        scaling = {}
        for factor in (1, 2, 4):
            suites = scenario_copies(factor, Path(tmp))
            scaling[f"{factor}x"] = median_of(
                args.repeat,
                "-c",
                str(ROOT / "pyproject.toml"),
                "-p",
                "checkout_conformance.engine.plugin",
                f"--conformance-suites={suites}",
                str(suites),
            )
            print(f"  {factor}x: {scaling[f'{factor}x']} s", flush=True)
    results["scenario_scaling_s"] = scaling

    print("property budget 1x/2x/4x (150/300/600 examples) ...", flush=True)
    budget = {}
    for factor in (1, 2, 4):
        budget[f"{factor}x"] = median_of(
            args.repeat, "suites/properties", f"--examples={150 * factor}"
        )
        print(f"  {factor}x: {budget[f'{factor}x']} s", flush=True)
    results["property_budget_s"] = budget

    args.out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    document = {
        "benchmark": "suite_speed",
        "date": stamp,
        "command": " ".join(["python", "bench/suite_speed.py", *sys.argv[1:]]),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "results": results,
    }
    path = args.out / f"suite-{stamp}.json"
    path.write_text(json.dumps(document, indent=2) + "\n")
    print(f"results: {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
