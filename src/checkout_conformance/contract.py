"""The contract: `contracts/checkouts.openapi.yaml`, read once, asked many questions.

Everything the suite and the reference server know about the shape of `POST /checkouts` comes from
here: named schemas, compiled validators, enum values, nullable and typed fields. Matrices in the
scenarios (every currency, every nullable field, a wrong type for every typed field) are read from
this object, never typed by hand.
"""

from __future__ import annotations

import copy
import functools
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema_rs

from . import _resources
from ._contract_build import find_operation
from ._yamlfile import safe_load

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
JSON_TYPES = ("string", "integer", "number", "boolean", "array", "object", "null")
SCHEMA_PREFIX = "#/components/schemas/"


@dataclass(frozen=True)
class SchemaError:
    """One reason a value does not match a schema: where (a JSON path) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass(frozen=True)
class Field:
    """A property of a request object, found by walking the contract."""

    path: tuple[str, ...]
    schema: dict[str, Any]
    types: frozenset[str]
    nullable: bool
    enum: str | None  # the component name of the field's enum, if any

    @property
    def dotted(self) -> str:
        return ".".join(self.path)


def json_path(parts: list[str | int] | tuple[str | int, ...]) -> str:
    """Render a path the way failure messages show it: `$.product_cart[0].quantity`."""
    text = "$"
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


class Contract:
    """The parsed contract document and the questions the suite asks of it."""

    def __init__(self, document: dict[str, Any], path: Path | None = None) -> None:
        self.document = document
        self.path = path
        self._schemas: dict[str, Any] = document["components"]["schemas"]

    @classmethod
    def load(cls, path: Path = _resources.CONTRACT_PATH) -> Contract:
        return cls(safe_load(path.read_text(encoding="utf-8")), path)

    # -- identity ----------------------------------------------------------------------------
    @property
    def upstream_version(self) -> str:
        return str(self.document["info"].get("x-upstream", {}).get("version", "unknown"))

    def sha256(self) -> str:
        if self.path is None:
            raise ValueError("an in-memory contract has no file to hash")
        return hashlib.sha256(self.path.read_bytes()).hexdigest()

    @property
    def operation(self) -> dict[str, Any]:
        return dict(find_operation(self.document))

    # -- schemas -----------------------------------------------------------------------------
    @property
    def schema_names(self) -> list[str]:
        return list(self._schemas)

    def has_schema(self, name: str) -> bool:
        return name in self._schemas

    def schema(self, name: str) -> dict[str, Any]:
        """A self-contained JSON Schema for the named component (its references resolve)."""
        if name not in self._schemas:
            raise KeyError(f"the contract has no schema named {name!r}")
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$ref": SCHEMA_PREFIX + name,
            "components": {"schemas": self._schemas},
        }

    @functools.cache  # noqa: B019 - one Contract per process; validators are costly to compile
    def validator(self, name: str) -> Any:
        """A compiled validator for the named schema, built once and reused."""
        return jsonschema_rs.Draft202012Validator(self.schema(name))

    def errors(self, name: str, instance: Any, limit: int = 5) -> list[SchemaError]:
        """Why `instance` does not match the named schema; empty when it does."""
        found: list[SchemaError] = []
        for error in self.validator(name).iter_errors(instance):
            found.append(SchemaError(json_path(list(error.instance_path)), error.message))
            if len(found) >= limit:
                break
        return found

    def is_valid(self, name: str, instance: Any) -> bool:
        return bool(self.validator(name).is_valid(instance))

    def with_int32_bounds(self) -> Contract:
        """This contract with `format: int32` enforced as bounds (formats are annotations only).

        A server written in a typed language rejects a quantity of 2**31 when it parses the body;
        the reference server does the same through its validator, at no cost per request.
        """
        document = copy.deepcopy(self.document)

        def bound(node: Any) -> None:
            if isinstance(node, dict):
                if node.get("format") == "int32":
                    node["minimum"] = max(node.get("minimum", INT32_MIN), INT32_MIN)
                    node["maximum"] = min(node.get("maximum", INT32_MAX), INT32_MAX)
                for value in node.values():
                    bound(value)
            elif isinstance(node, list):
                for value in node:
                    bound(value)

        bound(document["components"]["schemas"])
        return Contract(document, self.path)

    def without_limits_of(
        self, requirement_ids: set[str], overlay_path: Path = _resources.OVERLAY_PATH
    ) -> Contract:
        """This contract minus the overlay limits that implement the given requirements.

        A request valid against the result but not against this contract breaks only those
        requirements (e.g. a 101-character pay button text breaks RULE-010, a SHOULD).
        """
        overlay = safe_load(overlay_path.read_text(encoding="utf-8"))
        document = copy.deepcopy(self.document)
        for action in overlay.get("actions", []):
            if action.get("requirement") not in requirement_ids or "update" not in action:
                continue
            node: Any = document
            for token in action["target"].lstrip("/").split("/"):
                node = node[token.replace("~1", "/").replace("~0", "~")]
            for key in action["update"]:
                node.pop(key, None)
        return Contract(document)

    # -- walking -----------------------------------------------------------------------------
    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        """Follow `$ref`s until a schema with content."""
        while "$ref" in schema:
            ref = schema["$ref"]
            schema = self._schemas[ref[len(SCHEMA_PREFIX) :]]
        return schema

    def _branches(self, schema: dict[str, Any]) -> list[dict[str, Any]]:
        schema = self.resolve(schema)
        for key in ("oneOf", "anyOf"):
            if key in schema:
                out: list[dict[str, Any]] = []
                for branch in schema[key]:
                    out.extend(self._branches(branch))
                return out
        return [schema]

    def _ref_name(self, schema: dict[str, Any]) -> str | None:
        for branch in [schema, *schema.get("oneOf", []), *schema.get("anyOf", [])]:
            ref = branch.get("$ref")
            if ref:
                return str(ref)[len(SCHEMA_PREFIX) :]
        return None

    def describe(self, schema: dict[str, Any]) -> tuple[frozenset[str], bool, str | None]:
        """The JSON types a schema admits, whether it admits null, and its enum's name."""
        types: set[str] = set()
        enum_name: str | None = None
        for branch in self._branches(schema):
            declared = branch.get("type")
            if isinstance(declared, list):
                types.update(declared)
            elif isinstance(declared, str):
                types.add(declared)
            if "enum" in branch:
                types.update(json_type(value) for value in branch["enum"])
        name = self._ref_name(schema)
        while name is not None:
            target = self._schemas[name]
            if "enum" in target:
                enum_name = name
                break
            name = self._ref_name(target)
        return frozenset(types - {"null"}), "null" in types, enum_name

    def object_schema(self, schema: dict[str, Any]) -> dict[str, Any] | None:
        """The object branch of a (possibly nullable) schema, if it has one with properties."""
        for branch in self._branches(schema):
            if "properties" in branch:
                return branch
        return None

    def fields(self, schema_name: str, depth: int = 1) -> Iterator[Field]:
        """Every property of the named object schema, descending `depth` levels into objects."""
        yield from self._fields(self._schemas[schema_name], (), depth)

    def _fields(
        self, schema: dict[str, Any], prefix: tuple[str, ...], depth: int
    ) -> Iterator[Field]:
        obj = self.object_schema(schema)
        if obj is None:
            return
        for name, prop in obj.get("properties", {}).items():
            types, nullable, enum_name = self.describe(prop)
            path = (*prefix, name)
            yield Field(path, prop, types, nullable, enum_name)
            if depth > 1 and "object" in types:
                yield from self._fields(prop, path, depth - 1)

    def enum_values(self, name: str) -> list[Any]:
        """The values of a named enum schema, in contract order."""
        schema = self.resolve(self._schemas[name])
        if "enum" not in schema:
            raise KeyError(f"the contract schema {name!r} is not an enum")
        return list(schema["enum"])

    def enum_names(self) -> list[str]:
        return [name for name, schema in self._schemas.items() if "enum" in schema]


def is_charge(body: Any) -> bool:
    """Does this request body ask to charge a saved payment method? (A `payment_method_id`
    that is not null: the CURL rules' condition, what `--allow-live-charges` guards, what the
    reference server charges.) One definition for scenarios, generated cases and the server;
    `confirm` is left out on purpose: a server that charged without it would still charge."""
    return isinstance(body, dict) and body.get("payment_method_id") is not None


def json_type(value: Any) -> str:
    """The JSON Schema type name of a Python value decoded from JSON."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


@functools.cache
def load_contract(path: Path = _resources.CONTRACT_PATH) -> Contract:
    """The process-wide contract, parsed once."""
    return Contract.load(path)
