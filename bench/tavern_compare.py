"""The YAML engine against Tavern on the same 145 requests (every billing currency), side by side.

    python bench/tavern_compare.py [--repeat 3]

Tavern 3.7.1 imports a pytest internal that pytest 9.2 removed, so it runs from its own
environment, `bench/.venv-tavern` (created on first use: `tavern==3.7.1`, `pytest<9.2`). Both
suites send the same 145 requests (the minimal request with each currency of the contract's
`Currency` enum) to one reference server, expect 200 and check the same thing (status 200 and a
`session_id`); each run's own figure is pytest's ("145 passed in X s": collection and the tests,
without interpreter start-up), median of `--repeat` interleaved runs, per test.
Writes JSON to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import venv
from datetime import UTC, datetime
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from _servers import KEY, start  # noqa: E402

from checkout_conformance.contract import load_contract  # noqa: E402
from checkout_conformance.selfcheck import suite_environment  # noqa: E402

TAVERN_VENV = ROOT / "bench" / ".venv-tavern"
PRODUCT = "pdt_ref_one_time_ebook"  # the reference profile's one-time product


def tavern_python() -> Path:
    python = TAVERN_VENV / "bin" / "python"
    if not python.exists():
        print("creating bench/.venv-tavern (tavern 3.7.1, pytest<9.2)", file=sys.stderr)
        venv.create(TAVERN_VENV, with_pip=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "tavern==3.7.1", "pytest<9.2"], check=True
        )
    return python


def write_tavern(folder: Path, base_url: str, currencies: list[str]) -> None:
    test = {
        "test_name": "every billing currency is accepted",
        "marks": [{"parametrize": {"key": "currency", "vals": currencies}}],
        "stages": [
            {
                "name": "create a session",
                "request": {
                    "url": f"{base_url}/checkouts",
                    "method": "POST",
                    "headers": {"Authorization": f"Bearer {KEY}"},
                    "json": {
                        "product_cart": [{"product_id": PRODUCT, "quantity": 1}],
                        "billing_currency": "{currency}",
                    },
                },
                "response": {
                    "status_code": 200,
                    "strict": ["json:off"],  # other keys allowed, as the engine's check does
                    "json": {"session_id": "!anystr"},
                },
            }
        ],
    }
    text = yaml.safe_dump(test, sort_keys=False).replace("'!anystr'", "!anystr")  # a Tavern tag
    (folder / "test_currencies.tavern.yaml").write_text(text)


def write_engine(folder: Path) -> None:
    scenario = {
        "scenarios": [
            {
                "id": "every-currency",
                "title": "Every documented billing currency is accepted",
                "requirements": ["ACC-004"],
                "expand": {"currency": {"enum": "Currency"}},
                "request": {
                    "body": {"from": "minimal", "set": {"billing_currency": "${currency}"}}
                },
                "expect": [{"status": 200}, {"json": "session_id", "is": "non_empty_string"}],
            }
        ]
    }
    (folder / "currencies.yaml").write_text(yaml.safe_dump(scenario, sort_keys=False))


def pytest_seconds(result: subprocess.CompletedProcess[str]) -> float:
    found = re.search(r"(\d+) passed(?:, \d+ \w+)* in ([\d.]+)s", result.stdout)
    if found is None or found.group(1) != "145":
        shown = (result.stdout + result.stderr)[-2000:]
        raise RuntimeError(f"the run did not pass 145 tests:\n{shown}")
    return float(found.group(2))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    currencies = load_contract().enum_values("Currency")
    assert len(currencies) == 145, len(currencies)
    python = tavern_python()
    started = start("reference")
    assert started is not None
    process, url = started
    base_url = url.removesuffix("/checkouts")
    times: dict[str, list[float]] = {"engine": [], "tavern": []}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            tavern_dir, engine_dir = Path(tmp, "tavern"), Path(tmp, "engine")
            tavern_dir.mkdir()
            engine_dir.mkdir()
            write_tavern(tavern_dir, base_url, currencies)
            write_engine(engine_dir)
            for _ in range(args.repeat):
                engine = subprocess.run(
                    [sys.executable, "-m", "checkout_conformance", "run", "--suite",
                     str(engine_dir), "-q", "-p", "no:cacheprovider", f"--base-url={base_url}",
                     f"--target-profile={ROOT / 'fixtures/profiles/reference.yaml'}",
                     f"--certificate={tmp}/c.json", "--concurrency=1"],
                    cwd=tmp, env=suite_environment(KEY), capture_output=True, text=True,
                    check=False,
                )  # fmt: skip
                times["engine"].append(pytest_seconds(engine))
                tavern = subprocess.run(
                    [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tavern_dir)],
                    cwd=tavern_dir, capture_output=True, text=True, check=False,
                )  # fmt: skip
                times["tavern"].append(pytest_seconds(tavern))
    finally:
        process.terminate()
        process.wait(10)
    engine_ms = statistics.median(times["engine"]) / 145 * 1000
    tavern_ms = statistics.median(times["tavern"]) / 145 * 1000
    print(
        f"145 currency requests: engine {engine_ms:.1f} ms per test, Tavern {tavern_ms:.1f} ms"
        f" per test (Tavern/engine {tavern_ms / engine_ms:.1f}x); runs: {times}"
    )
    out = ROOT / "bench" / "results" / f"tavern-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    result = {"engine_ms_per_test": engine_ms, "tavern_ms_per_test": tavern_ms, "runs": times}
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written: {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
