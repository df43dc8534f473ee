"""Portable names: how a certificate names scenario files and the command line, so that a
certificate made in any folder (a checkout, an installed wheel) verifies in any other."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from .. import _resources

PACKAGED_PREFIX = "packaged:"


def suite_root_name(suite: Path) -> str:
    """How a certificate names the files of one suite folder, wherever the run was: the
    packaged suite (a checkout's `suites/` or an installed wheel's) as `packaged:`, a folder
    given to `--suite` by its own name (`my-scenarios/`)."""
    resolved = suite.resolve()
    if resolved == _resources.SUITES_DIR:
        return PACKAGED_PREFIX
    return f"{resolved.name}/" if resolved.is_dir() else ""


def scenario_hashes(suites: Iterable[Path]) -> dict[str, str]:
    """sha256 of every scenario and property-test file, named portably (`suite_root_name`):
    no absolute path, so a certificate made anywhere verifies anywhere."""
    hashes: dict[str, str] = {}
    for suite in suites:
        files = sorted(suite.rglob("*")) if suite.is_dir() else [suite]
        prefix = suite_root_name(suite)
        for path in files:
            if path.suffix in (".yaml", ".yml", ".py") and path.is_file():
                relative = path.relative_to(suite).as_posix() if suite.is_dir() else path.name
                hashes[prefix + relative] = hashlib.sha256(path.read_bytes()).hexdigest()
    return hashes


def portable_location(location: str) -> str:
    """A test's `file:line` as a certificate keeps it: a file of the packaged suite given by
    its absolute path (an installed wheel's site-packages) as `packaged:` and its place in the
    suite, so that the certificate names no folder of the machine it ran on."""
    path, colon, line = location.rpartition(":")
    if not colon or not line.isdigit():
        path, line = location, ""
    file = Path(path)
    if not file.is_absolute() or not file.resolve().is_relative_to(_resources.SUITES_DIR):
        return location
    named = PACKAGED_PREFIX + file.resolve().relative_to(_resources.SUITES_DIR).as_posix()
    return f"{named}:{line}" if line else named


_URL = re.compile(r"\b([a-z][a-z0-9+.-]*)://([^/\s?#]+)[^\s]*", re.IGNORECASE)


def portable_text(text: str) -> str:
    """A message as a certificate keeps it: every URL in it as its scheme and host."""
    return _URL.sub(lambda m: f"{m.group(1)}://{m.group(2).rpartition('@')[2]}", text)


def _portable_path(text: str, invocation_dir: Path) -> str:
    path = Path(text)
    if not path.is_absolute():
        return text
    if path.is_relative_to(invocation_dir):
        return path.relative_to(invocation_dir).as_posix() or "."
    return f".../{path.name}"


def portable_command(args: Iterable[str], invocation_dir: Path) -> list[str]:
    """The command line as a certificate keeps it: a URL as its scheme and host (no
    credentials, path or query), a path inside the folder it ran from relative to it, any
    other absolute path as its last part."""

    def value(text: str) -> str:
        text = portable_text(text)
        return ",".join(_portable_path(part, invocation_dir) for part in text.split(","))

    shown = []
    for arg in args:
        flag, equals, rest = arg.partition("=")
        if equals and flag.startswith("-"):
            shown.append(f"{flag}={value(rest)}")
        else:
            shown.append(value(arg))
    return shown


def combined_hash(hashes: Mapping[str, str]) -> str:
    digest = hashlib.sha256()
    for name in sorted(hashes):
        digest.update(f"{name}\0{hashes[name]}\n".encode())
    return digest.hexdigest()
