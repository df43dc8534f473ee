"""Build `contracts/checkouts.openapi.yaml` from the upstream OpenAPI document and the overlay.

The contract is derived, never edited by hand: the upstream `POST /checkouts` operation with the
closure of the component schemas it references, then the overlay's corrections applied in order.
A new upstream version is one command away (`checkout-conformance contract build --upstream F`).
"""

from __future__ import annotations

import copy
import hashlib
import json
import shutil
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from . import _resources
from ._yamlfile import safe_load

OPERATION_PATH = "/checkouts"
OPERATION_METHOD = "post"

CONTRACT_HEADER = """\
# GENERATED FILE: do not edit. `checkout-conformance contract build` writes it from
# contracts/upstream/{upstream_file} (OpenAPI {upstream_version}, sha256 {sha_short}…)
# and contracts/overlay.yaml. The overlay's corrections, in order:
{overlay_lines}
"""


class ContractBuildError(Exception):
    """The upstream document or the overlay cannot produce a contract; the message says why."""


@dataclass(frozen=True)
class UpstreamRecord:
    """Which upstream document the contract was built from (contracts/upstream/UPSTREAM.yaml)."""

    file: str
    version: str
    sha256: str
    origin: str

    @property
    def path(self) -> Path:
        return _resources.UPSTREAM_DIR / self.file

    @classmethod
    def load(cls, path: Path = _resources.UPSTREAM_RECORD_PATH) -> UpstreamRecord:
        raw = safe_load(path.read_text(encoding="utf-8"))
        return cls(
            file=str(raw["file"]),
            version=str(raw["version"]),
            sha256=str(raw["sha256"]),
            origin=str(raw.get("origin", "")),
        )

    def dump(self, path: Path = _resources.UPSTREAM_RECORD_PATH) -> None:
        text = (
            "# The upstream OpenAPI document the contract is built from. Written by\n"
            "# `checkout-conformance contract build --upstream FILE`; checked by the tests.\n"
            + yaml.safe_dump(
                {
                    "file": self.file,
                    "version": self.version,
                    "sha256": self.sha256,
                    "origin": self.origin,
                },
                sort_keys=False,
                width=100,
            )
        )
        path.write_text(text, encoding="utf-8")


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_openapi(path: Path) -> dict[str, Any]:
    """Read an OpenAPI document (JSON or YAML), with one clear error for anything else."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ContractBuildError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ContractBuildError(f"{path}: not UTF-8 text") from None
    try:
        doc = json.loads(text) if path.suffix == ".json" else safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ContractBuildError(f"{path}: not valid JSON/YAML: {exc}") from None
    if not isinstance(doc, dict) or "openapi" not in doc or "paths" not in doc:
        raise ContractBuildError(f"{path}: not an OpenAPI document (no `openapi` and `paths` keys)")
    return doc


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield ref
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def schema_closure(doc: dict[str, Any], root: Any) -> dict[str, Any]:
    """The component schemas reachable from `root`, by name, in upstream order."""
    schemas = doc.get("components", {}).get("schemas", {})
    seen: set[str] = set()
    pending = list(_refs(root))
    while pending:
        ref = pending.pop()
        prefix = "#/components/schemas/"
        if not ref.startswith(prefix):
            raise ContractBuildError(f"unsupported reference {ref!r} (only {prefix}… is handled)")
        name = ref[len(prefix) :]
        if name in seen:
            continue
        if name not in schemas:
            raise ContractBuildError(f"reference {ref!r} points to no schema")
        seen.add(name)
        pending.extend(_refs(schemas[name]))
    return {name: schemas[name] for name in schemas if name in seen}


def find_operation(doc: Any) -> dict[str, Any]:
    """`POST /checkouts` in an OpenAPI document: the one lookup of the operation (the build,
    drift, the contract); a document without it is a ContractBuildError saying so."""
    try:
        operation = doc["paths"][OPERATION_PATH][OPERATION_METHOD]
    except (KeyError, TypeError):
        operation = None
    if not isinstance(operation, dict):
        raise ContractBuildError(
            f"the document has no `{OPERATION_METHOD.upper()} {OPERATION_PATH}` operation"
        )
    return operation


def extract_operation(doc: dict[str, Any]) -> dict[str, Any]:
    """The standalone document for `POST /checkouts` alone, before any correction."""
    operation = copy.deepcopy(find_operation(doc))
    security_schemes = {
        name: copy.deepcopy(scheme)
        for name, scheme in doc.get("components", {}).get("securitySchemes", {}).items()
        if any(name in requirement for requirement in operation.get("security", []))
    }
    info = doc.get("info", {})
    return {
        "openapi": doc["openapi"],
        "info": {
            "title": "Dodo Payments: create a checkout session (conformance contract)",
            "version": str(info.get("version", "unknown")),
            "description": (
                "The official operation POST /checkouts with its schema closure, plus the"
                " corrections of contracts/overlay.yaml. Generated; do not edit."
            ),
        },
        "servers": copy.deepcopy(doc.get("servers", [])),
        "paths": {OPERATION_PATH: {OPERATION_METHOD: operation}},
        "components": {
            "schemas": copy.deepcopy(schema_closure(doc, operation)),
            "securitySchemes": security_schemes,
        },
    }


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def _deep_merge(target: dict[str, Any], update: dict[str, Any]) -> None:
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _deep_merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def apply_overlay(doc: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """Apply the overlay's actions in order; a target that does not exist is an error."""
    result = copy.deepcopy(doc)
    for number, action in enumerate(overlay.get("actions", []), start=1):
        target = action["target"]
        tokens = [_unescape(token) for token in target.lstrip("/").split("/")]
        parent: Any = result
        for token in tokens[:-1]:
            if not isinstance(parent, dict) or token not in parent:
                raise ContractBuildError(f"overlay action {number}: target {target} does not exist")
            parent = parent[token]
        last = tokens[-1]
        if "set" in action:
            parent[last] = copy.deepcopy(action["set"])
        elif last not in parent:
            raise ContractBuildError(f"overlay action {number}: target {target} does not exist")
        elif "update" in action:
            _deep_merge(parent[last], action["update"])
        elif action.get("remove") is True:
            del parent[last]
        else:
            raise ContractBuildError(f"overlay action {number}: needs one of set, update, remove")
    missing = [
        ref for ref in _refs(result) if ref.split("/")[-1] not in result["components"]["schemas"]
    ]
    if missing:
        raise ContractBuildError(f"after the overlay, references point nowhere: {missing}")
    return result


def render_contract(doc: dict[str, Any], overlay: dict[str, Any], record: UpstreamRecord) -> str:
    overlay_lines = "\n".join(
        f"#   {number}. {action['target']}\n"
        + textwrap.fill(
            " ".join(str(action["reason"]).split()),
            width=100,
            initial_indent="#      ",
            subsequent_indent="#      ",
        )
        for number, action in enumerate(overlay.get("actions", []), start=1)
    )
    header = CONTRACT_HEADER.format(
        upstream_file=record.file,
        upstream_version=record.version,
        sha_short=record.sha256[:16],
        overlay_lines=overlay_lines,
    )
    doc = dict(doc)
    doc["info"] = {
        **doc["info"],
        "x-upstream": {"file": record.file, "version": record.version, "sha256": record.sha256},
    }
    body = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
    return header + body


def build_contract_text(
    upstream_path: Path | None = None, overlay_path: Path = _resources.OVERLAY_PATH
) -> str:
    """The exact text `contracts/checkouts.openapi.yaml` must have."""
    record = UpstreamRecord.load()
    upstream_path = upstream_path or record.path
    if sha256_file(upstream_path) != record.sha256:
        raise ContractBuildError(
            f"{upstream_path}: sha256 differs from contracts/upstream/UPSTREAM.yaml;"
            " record a new upstream with `checkout-conformance contract build --upstream FILE`"
        )
    overlay = safe_load(overlay_path.read_text(encoding="utf-8"))
    doc = apply_overlay(extract_operation(load_openapi(upstream_path)), overlay)
    return render_contract(doc, overlay, record)


def record_upstream(new_upstream: Path, origin: str = "") -> UpstreamRecord:
    """Copy a new upstream document into contracts/upstream/ and record it as the current one."""
    doc = load_openapi(new_upstream)
    extract_operation(doc)  # fails early if the operation is missing
    old = UpstreamRecord.load()
    destination = _resources.UPSTREAM_DIR / new_upstream.name
    if new_upstream.resolve() != destination.resolve():
        shutil.copyfile(new_upstream, destination)
        if old.path.exists() and old.path.resolve() != destination.resolve():
            old.path.unlink()
    record = UpstreamRecord(
        file=destination.name,
        version=str(doc.get("info", {}).get("version", "unknown")),
        sha256=sha256_file(destination),
        origin=origin or old.origin,
    )
    record.dump()
    return record


def write_contract(path: Path = _resources.CONTRACT_PATH) -> bool:
    """Rebuild the contract file; True when its text changed."""
    text = build_contract_text()
    old = path.read_text(encoding="utf-8") if path.exists() else None
    if old != text:
        path.write_text(text, encoding="utf-8")
        return True
    return False
