"""Strings that break the layers below an API (storage, parsing, scripting): one class of them
placed into every free-text field of a body and as its metadata keys, so that a 5xx names the
class. The hostile-body scenarios (`{breaking_strings: BODY}`) and the property tests'
generated requests (half of the valid ones carry a class) place them the same way; the classes
are `breaking.strings` of fixtures/values.yaml.
"""

from __future__ import annotations

import itertools
from typing import Any

from .contract import Contract


def constrained_names(contract: Contract) -> frozenset[str]:
    """Names of the request's string fields that are not free text: an enum, a pattern or a
    length limit decides them (a strange string there is refused before it is stored)."""
    schemas = contract.document["components"]["schemas"]

    def constrained(schema: Any) -> bool:
        if not isinstance(schema, dict):
            return False
        if any(key in schema for key in ("enum", "pattern", "maxLength")):
            return True
        ref = schema.get("$ref")
        if isinstance(ref, str) and constrained(schemas.get(ref.rsplit("/", 1)[-1])):
            return True
        branches = [*schema.get("oneOf", []), *schema.get("anyOf", []), schema.get("items")]
        return any(constrained(branch) for branch in branches if branch is not None)

    return frozenset(
        name
        for schema in schemas.values()
        for name, property_schema in (schema.get("properties") or {}).items()
        if constrained(property_schema)
    )


def place_strings(body: Any, strings: list[str], constrained: frozenset[str]) -> Any:
    """`body` with every free-text string (not a `${...}` template, not a constrained field)
    replaced by the class's strings in turn, and metadata keyed by them too, so that one
    request carries the class into every text field and key."""
    turn = itertools.cycle(strings)

    def walk(value: Any, name: str) -> Any:
        if isinstance(value, dict):
            return {key: walk(item, key) for key, item in value.items()}
        if isinstance(value, list):
            return [walk(item, name) for item in value]
        if isinstance(value, str) and "${" not in value and name not in constrained:
            return next(turn)
        return value

    placed = walk(body, "")
    if isinstance(placed, dict):
        keys = list(dict.fromkeys(strings))
        placed["metadata"] = dict(zip(keys, itertools.cycle(strings), strict=False))
    return placed
