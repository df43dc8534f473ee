"""Shared helpers for the project's own tests: real servers on loopback, real suite runs."""

from __future__ import annotations

import fcntl
import json
import os
import re
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from checkout_conformance.certificate import schema_errors
from checkout_conformance.redact import Secret
from checkout_conformance.selfcheck import suite_command, suite_environment
from checkout_conformance.server import EmbeddedServer

ROOT = Path(__file__).resolve().parent.parent
TEST_KEY = "sk_test_project_tests_key_9f8e7d6c5b4a"


@dataclass
class RunningServer:
    base_url: str
    api_key: str

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=10, trust_env=False, **kwargs)

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


def start_server(*extra_args: str, api_key: str = TEST_KEY) -> tuple[EmbeddedServer, RunningServer]:
    server = EmbeddedServer(api_key=Secret(api_key), extra_args=extra_args)
    return server, RunningServer(server.start(), api_key)


@pytest.fixture(scope="session")
def reference_server() -> Iterator[RunningServer]:
    """The reference server as users run it: `checkout-conformance serve`, a real process."""
    server, running = start_server()
    yield running
    server.stop()


@dataclass
class SuiteRun:
    exit_code: int
    output: str
    certificate_path: Path

    @property
    def certificate(self) -> dict[str, Any]:
        """The run's certificate; every certificate a test reads is checked against the schema."""
        document = dict(json.loads(self.certificate_path.read_text()))
        errors = schema_errors(document)
        assert errors == [], (
            f"{self.certificate_path} does not match certificate.schema.json: {errors}"
        )
        return document

    def status(self, requirement_id: str) -> str:
        for requirement in self.certificate["requirements"]:
            if requirement["id"] == requirement_id:
                return str(requirement["status"])
        raise KeyError(requirement_id)


def run_suite(
    tmp_path: Path,
    *args: str,
    base_url: str | None = None,
    api_key: str | None = None,
    env: dict[str, str] | None = None,
    cwd: Path = ROOT,
    timeout: float = 600,
) -> SuiteRun:
    """Run the conformance suite in a child pytest, as a user would, and collect what it wrote."""
    certificate = tmp_path / "certificate.json"
    command = suite_command(certificate)
    if base_url is not None:
        command += [f"--base-url={base_url}", "--target-profile=fixtures/profiles/reference.yaml"]
    command += list(args)
    child_env = {**suite_environment(api_key), **(env or {})}
    result = subprocess.run(
        command,
        cwd=cwd,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return SuiteRun(result.returncode, result.stdout + result.stderr, certificate)


def session_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of this test session that every xdist worker sees (their temporary folders
    share a parent)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def shared_run(
    tmp_path_factory: pytest.TempPathFactory, name: str, run: Callable[[Path], SuiteRun]
) -> SuiteRun:
    """A suite run that the tests of a module share, run once per session whatever worker
    asks: the first one runs it under a lock, the others read what it left. (xdist_group
    cannot do this: xdist 3.8 groups by renaming `_nodeid`, which pytest 9 no longer reads;
    pytest-dev/pytest-xdist#1386.)"""
    base = session_folder(tmp_path_factory)
    folder = base / f"shared-{name}"
    with (base / f"shared-{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = folder / "run.json"
        if done.is_file():
            data = json.loads(done.read_text())
            return SuiteRun(data["exit_code"], data["output"], Path(data["certificate_path"]))
        folder.mkdir(parents=True, exist_ok=True)
        result = run(folder)
        done.write_text(
            json.dumps(
                {
                    "exit_code": result.exit_code,
                    "output": result.output,
                    "certificate_path": str(result.certificate_path),
                }
            )
        )
        return result


def certificate_without_timings(path: Path) -> dict[str, Any]:
    """The certificate's verdict, requirements and tests, with response times and dates out:
    what two runs that sent the same requests to the same server must agree on."""
    text = re.sub(r"HTTP (\d+)  \(\d+ ms\)", r"HTTP \1", path.read_text())
    document = json.loads(re.sub(r"\\ndate: [^\\]*", "", text))
    tests = json.loads(path.with_name(path.stem + "-tests.json").read_text())
    return {
        "verdict": document["verdict"],
        "summary": document["summary"],
        "requirements": document["requirements"],
        "scenario_requests": document["run"]["requests"]["scenarios"],
        "tests": tests,
    }


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "e2e: runs the conformance suite as a child pytest (seconds each); deselect with"
        ' -m "not e2e" for a quick loop',
    )
    config.addinivalue_line(
        "markers",
        "heavy(seconds): a long test, run first (longest first), so that xdist spreads the"
        " rest around it",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The heavy tests first: with `--dist loadgroup --no-loadscope-reorder` (scripts/test)
    xdist hands out tests a few at a time in this order, and a heavy test that starts last keeps
    one worker busy long after the others are done."""

    def weight(item: pytest.Item) -> float:
        marker = item.get_closest_marker("heavy")
        return -float(marker.args[0]) if marker is not None else 0.0

    items.sort(key=weight)
