"""Spec drift: what changed for `POST /checkouts` between the recorded upstream and a newer one.

Both documents are flattened into one line per field (`request.customer.email`,
`response.200.checkout_url`, `request.product_cart[].quantity`) with what a maintainer cares
about: JSON types, nullability, whether it is required, enum values, numeric and size limits,
deprecation. The difference of the two flattenings, in those terms, is the report.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._contract_build import (
    UpstreamRecord,
    find_operation,
    load_openapi,
)

LIMIT_KEYWORDS = (
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "uniqueItems",
    "pattern",
    "format",
)


@dataclass(frozen=True)
class FieldShape:
    types: frozenset[str]
    required: bool
    enum: frozenset[str] | None
    limits: tuple[tuple[str, str], ...]
    deprecated: bool

    def summary(self) -> str:
        parts = ["|".join(sorted(self.types)) or "any", "required" if self.required else "optional"]
        if self.enum is not None:
            parts.append(f"enum of {len(self.enum)}")
        return ", ".join(parts)


class _Flattener:
    def __init__(self, document: dict[str, Any]) -> None:
        self.schemas = document.get("components", {}).get("schemas", {})
        self.fields: dict[str, FieldShape] = {}

    def resolve(self, schema: Any, seen: frozenset[str]) -> tuple[dict[str, Any], frozenset[str]]:
        while isinstance(schema, dict) and "$ref" in schema:
            name = str(schema["$ref"]).rsplit("/", 1)[-1]
            if name in seen or name not in self.schemas:
                return {}, seen
            seen = seen | {name}
            schema = self.schemas[name]
        return (schema if isinstance(schema, dict) else {}), seen

    def branches(
        self, schema: Any, seen: frozenset[str]
    ) -> list[tuple[dict[str, Any], frozenset[str]]]:
        resolved, seen = self.resolve(schema, seen)
        out: list[tuple[dict[str, Any], frozenset[str]]] = []
        for key in ("oneOf", "anyOf", "allOf"):
            for branch in resolved.get(key, []):
                out.extend(self.branches(branch, seen))
        return out or [(resolved, seen)]

    def walk(self, path: str, schema: Any, required: bool, seen: frozenset[str]) -> None:
        branches = self.branches(schema, seen)
        types: set[str] = set()
        enum: set[str] | None = None
        limits: dict[str, str] = {}
        deprecated = False
        for branch, _ in branches:
            declared = branch.get("type")
            types.update(declared if isinstance(declared, list) else [declared] if declared else [])
            if "enum" in branch:
                enum = (enum or set()) | {str(value) for value in branch["enum"]}
            limits.update({k: str(branch[k]) for k in LIMIT_KEYWORDS if k in branch})
            deprecated = deprecated or bool(branch.get("deprecated"))
        top, _ = self.resolve(schema, seen)
        deprecated = deprecated or bool(top.get("deprecated"))
        self.fields[path] = FieldShape(
            frozenset(types),
            required,
            frozenset(enum) if enum is not None else None,
            tuple(sorted(limits.items())),
            deprecated,
        )
        for branch, branch_seen in branches:
            needed = set(branch.get("required", []))
            for name, prop in branch.get("properties", {}).items():
                self.walk(f"{path}.{name}", prop, name in needed, branch_seen)
            if "items" in branch:
                self.walk(f"{path}[]", branch["items"], False, branch_seen)
            extra = branch.get("additionalProperties")
            if isinstance(extra, dict):
                self.walk(f"{path}.*", extra, False, branch_seen)


def flatten(document: dict[str, Any]) -> dict[str, FieldShape]:
    """One entry per request/response field of `POST /checkouts`, plus one per declared status."""
    operation = find_operation(document)
    flattener = _Flattener(document)
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    flattener.walk("request", body.get("schema", {}), True, frozenset())
    for status, response in operation.get("responses", {}).items():
        flattener.fields[f"response {status}"] = FieldShape(frozenset(), True, None, (), False)
        content = (response or {}).get("content", {}).get("application/json")
        if content:
            flattener.walk(f"response.{status}", content.get("schema", {}), True, frozenset())
    return flattener.fields


def compare(old: dict[str, FieldShape], new: dict[str, FieldShape]) -> list[str]:
    """Human-readable changes, most structural first."""
    lines: list[str] = []
    for path in sorted(new.keys() - old.keys()):
        lines.append(f"+ {path}: added ({new[path].summary()})")
    for path in sorted(old.keys() - new.keys()):
        lines.append(f"- {path}: removed (was {old[path].summary()})")
    for path in sorted(old.keys() & new.keys()):
        before, after = old[path], new[path]
        if before.types - {"null"} != after.types - {"null"}:
            old_types = "|".join(sorted(before.types - {"null"})) or "any"
            new_types = "|".join(sorted(after.types - {"null"})) or "any"
            lines.append(f"~ {path}: type {old_types} -> {new_types}")
        if ("null" in before.types) != ("null" in after.types):
            lines.append(
                f"~ {path}: {'now nullable' if 'null' in after.types else 'no longer nullable'}"
            )
        if before.required != after.required:
            lines.append(f"~ {path}: {'now required' if after.required else 'now optional'}")
        if before.enum != after.enum:
            added = sorted((after.enum or set()) - (before.enum or set()))
            removed = sorted((before.enum or set()) - (after.enum or set()))
            if added:
                lines.append(f"~ {path}: enum values added: {', '.join(added)}")
            if removed:
                lines.append(f"~ {path}: enum values removed: {', '.join(removed)}")
        if before.limits != after.limits:
            lines.append(f"~ {path}: limits {dict(before.limits)} -> {dict(after.limits)}")
        if before.deprecated != after.deprecated:
            lines.append(
                f"~ {path}: {'now deprecated' if after.deprecated else 'no longer deprecated'}"
            )
    return lines


def drift(new_upstream: Path, recorded: Path | None = None) -> list[str]:
    """Changes from the recorded upstream document (or `recorded`) to `new_upstream`."""
    old_document = load_openapi(recorded or UpstreamRecord.load().path)
    new_document = load_openapi(new_upstream)
    return compare(flatten(old_document), flatten(new_document))
