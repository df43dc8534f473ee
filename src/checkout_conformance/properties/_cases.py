"""Generated cases kept for replay: the requests of a clean property run, built once per seed.

With a fixed seed and budget, Hypothesis and schemathesis generate the same cases whatever the
target answers, as long as no verdict fails (a failure makes Hypothesis shrink, which depends on
the answers). So a run that held everywhere can leave its requests in a folder
(`--cases-cache`), and a later run with the same inputs sends them again and judges them without
generating (generation is most of the property test's CPU). The key covers every input that
decides the cases: the seed, the budget, the profile's ids and fields, whether charges are
allowed, the contract files, this package's code, the test module, the local modules Hypothesis
reads constants from, and the versions of Python, this package, schemathesis and Hypothesis. A
file that does not match is not used, and a run that loaded a new local module while it
generated is not kept (its key at the end differs from its key at the start).

The file holds no secret: the Authorization header is left out and added again at replay.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sys
import sysconfig
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import __version__, _resources
from .._files import write_atomically

if TYPE_CHECKING:  # for types only: the package loads `_generation` (schemathesis) lazily
    from ._generation import PropertySettings

FORMAT = 1
AUTHORIZATION = "authorization"


@dataclass(frozen=True)
class RecordedCase:
    """One generated request as sent, without its key, and the body as the checks read it."""

    method: str
    path: str  # the URL after the base URL: path and query
    headers: tuple[tuple[str, str], ...]  # without Authorization
    body: bytes | None
    shown: Any  # the body as a JSON value (None where it is not one)
    positive: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "headers": [list(pair) for pair in self.headers],
            "body": None if self.body is None else base64.b64encode(self.body).decode(),
            "shown": self.shown,
            "positive": self.positive,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RecordedCase:
        body = data["body"]
        return cls(
            method=str(data["method"]),
            path=str(data["path"]),
            headers=tuple((str(name), str(value)) for name, value in data["headers"]),
            body=None if body is None else base64.b64decode(body),
            shown=data["shown"],
            positive=bool(data["positive"]),
        )


def _local_module_files() -> list[str]:
    """The files of the loaded modules that belong neither to Python nor to an installed
    distribution. Hypothesis draws some values from constants in such modules' code (its local
    constants), so their contents decide the cases too: a docstring edited anywhere in this
    checkout, or a conftest.py, changes what a seed generates."""
    paths = sysconfig.get_paths()
    outside = tuple(
        {os.path.join(paths[name], "") for name in ("stdlib", "platstdlib", "purelib", "platlib")}
    )
    files = set()
    for module in list(sys.modules.values()):
        file = getattr(module, "__file__", None)
        if not isinstance(file, str) or "site-packages" in file or file.startswith(outside):
            continue
        files.add(file)
    return sorted(files)


def _sources(test_module: Path) -> list[Path]:
    """Every file whose content decides the generated cases: this package's code (installed or
    not), the contract files, the test module and the local modules loaded now."""
    package = Path(__file__).resolve().parent.parent
    files = set(package.rglob("*.py"))
    files |= {p for p in _resources.CONTRACTS_DIR.rglob("*") if p.is_file()}
    files.add(test_module)
    files |= {Path(file) for file in _local_module_files()}
    return sorted(file for file in files if file.is_file())


def cases_key(settings: PropertySettings, nodeid: str, test_module: Path) -> str:
    """A file name that changes whenever anything that decides the cases changes."""
    import hypothesis
    import schemathesis

    inputs = {
        "format": FORMAT,
        "nodeid": nodeid,
        "settings": asdict(settings),
        "versions": [__version__, schemathesis.__version__, hypothesis.__version__],
        "python": sys.version,
    }
    # By content, not by path: the same checkout in another folder has the same cases.
    contents = sorted(hashlib.sha256(p.read_bytes()).hexdigest() for p in _sources(test_module))
    digest = hashlib.sha256(json.dumps([inputs, contents], sort_keys=True, default=repr).encode())
    return f"seed-{settings.seed}-examples-{settings.examples}-{digest.hexdigest()[:20]}"


@dataclass(frozen=True)
class CaseCache:
    """The file of one key in a cache folder."""

    folder: Path
    key: str

    @property
    def path(self) -> Path:
        return self.folder / f"{self.key}.json"

    def load(self) -> list[RecordedCase] | None:
        """The recorded cases, or None when there are none for this key (or the file is not one
        this version wrote: it is then generated again and replaced)."""
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
            if document.get("format") != FORMAT or document.get("key") != self.key:
                return None
            return [RecordedCase.from_json(case) for case in document["cases"]]
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def save(self, cases: list[RecordedCase]) -> None:
        """Write atomically: runs side by side may save the same key; readers see one whole
        file or none."""
        self.folder.mkdir(parents=True, exist_ok=True)
        document = {
            "format": FORMAT,
            "key": self.key,
            "cases": [case.to_json() for case in cases],
        }
        write_atomically(self.path, json.dumps(document, separators=(",", ":")), mode=0o600)


def without_authorization(headers: list[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple((name, value) for name, value in headers if name.lower() != AUTHORIZATION)
