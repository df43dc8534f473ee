"""`checkout-conformance report`: one self-contained HTML report from a run's Allure results.

Allure 3 is a Node.js program. In a checkout it is pinned and installed under `tools/allure`
(`npm install --prefix tools/allure`); an installed package runs the same pinned version through
`npx`. Either way the configuration is the package's `allurerc.mjs` (grouped by requirement,
the verdict in the title, categories per outcome), `requirements.html` (the catalog with an
anchor per requirement, where the tests' links point) is written beside `index.html`, and the
analytics tag Allure embeds in every report is removed: the report calls nowhere.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import _resources

ALLURE_DIR = _resources.DATA_DIR / "allure"
CONFIG_PATH = ALLURE_DIR / "allurerc.mjs"

_ANALYTICS = re.compile(
    r'<script async src="https://www\.googletagmanager\.com/[^"]*"></script>\s*<script>.*?</script>',
    re.S,
)

Runner = Callable[[Sequence[str], dict[str, str]], "subprocess.CompletedProcess[str]"]


class ReportError(Exception):
    """The report cannot be built; the message says what to do."""


def allure_version() -> str:
    """The pinned Allure 3 version (tools/allure/package.json, the one source of it)."""
    package = json.loads((ALLURE_DIR / "package.json").read_text(encoding="utf-8"))
    return str(package["dependencies"]["allure"])


@dataclass(frozen=True)
class Allure:
    """How to call Allure 3 on this machine: the checkout's install, else npx."""

    command: tuple[str, ...]
    how: str
    install: tuple[str, ...] = ()  # run first when not empty (the checkout's pinned install)

    @classmethod
    def find(
        cls,
        which: Callable[[str], str | None] = shutil.which,
        checkout: Callable[[], Path | None] = _resources.project_root,
    ) -> Allure:
        """`which` finds programs on PATH, `checkout` the repository (None when installed)."""
        root = checkout()
        if root is not None:
            installed = root / "tools" / "allure" / "node_modules" / ".bin" / "allure"
            if installed.is_file():
                return cls((str(installed),), f"Allure {allure_version()} from tools/allure")
            npm = which("npm")
            if npm is not None:
                folder = str(root / "tools" / "allure")
                return cls(
                    (str(installed),),
                    f"Allure {allure_version()} from tools/allure",
                    install=(npm, "install", "--silent", "--prefix", folder),
                )
        npx = which("npx")
        if npx is None:
            raise ReportError(
                "the HTML report needs Allure 3, a Node.js program: install Node.js 20 or newer"
                " with npm (e.g. `apt-get install nodejs npm`, or https://nodejs.org), then rerun"
                " `checkout-conformance report`; the Allure results themselves are complete"
                " without it"
            )
        version = allure_version()
        return cls((npx, "--yes", f"allure@{version}"), f"Allure {version} through npx")


def _default_run(command: Sequence[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(command), env=env, capture_output=True, text=True, check=False, timeout=900
    )


def require_results(results: Path) -> None:
    """Refuse a folder without Allure results, before looking for Node.js."""
    if not results.is_dir() or not any(results.glob("*-result.json")):
        raise ReportError(
            f"no Allure results in {results}: run the suite first (`checkout-conformance run`"
            " writes them to reports/allure-results), or name the folder: checkout-conformance"
            " report RESULTS_DIR"
        )


def build_report(
    results: Path,
    output: Path,
    certificate: Path | None = None,
    allure: Allure | None = None,
    run: Runner = _default_run,
) -> Path:
    """Build `output/index.html` and `output/requirements.html` from `results`; returns the
    index. `certificate` (default: `certificate.json` beside the results) names the verdict."""
    require_results(results)
    allure = allure or Allure.find()
    if allure.install:
        installed = run(allure.install, dict(os.environ))
        if installed.returncode != 0:
            said = installed.stderr.strip()[-500:]
            raise ReportError(f"{' '.join(allure.install)} failed: {said}")
    certificate = certificate or results.parent / "certificate.json"
    env = dict(os.environ)
    env["CHECKOUT_CONFORMANCE_CERTIFICATE"] = str(certificate)
    env["CHECKOUT_CONFORMANCE_ALLURE_HISTORY"] = str(results.parent / "allure-history.jsonl")
    generated = run(
        [
            *allure.command,
            "generate",
            str(results),
            "-o",
            str(output),
            "--config",
            str(CONFIG_PATH.resolve()),
        ],
        env,
    )
    index = output / "index.html"
    if generated.returncode != 0 or not index.is_file():
        said = (generated.stderr or generated.stdout).strip()[-800:]
        raise ReportError(f"{allure.how} could not build the report: {said or 'no output'}")
    index.write_text(_ANALYTICS.sub("", index.read_text(encoding="utf-8")), encoding="utf-8")
    from .catalog import load_catalog

    (output / "requirements.html").write_text(load_catalog().html(), encoding="utf-8")
    return index
