"""Expansion: one scenario becomes many pytest items, from values the contract holds.

Sources: literal `values`, every value of a contract `enum`, every `nullable_fields` path of a
contract object, a `wrong_types` value for every typed field (with `within: BODY`, each case also
names the top-level field of that body it lives in, `top` and `top_value`), every `body_fields`
entry of a named body, the rows of a `pairwise` covering array over a named body's top-level
fields, the `hostile_bodies` derived from a named body. Several variables combine as a cartesian
product. Each combination gets a readable, stable id, which becomes the item's id and the Allure
test's history.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .._strings import constrained_names, place_strings
from ..contract import Contract, json_type
from ..pairwise import covering_rows
from ..rules import DerivedCase, resolve_classes, rule
from ..transport import FRAMINGS
from ._bodies import BodyLibrary, get_path
from ._values import ValueClasses

# A value of the wrong JSON type for each declared type (VAL-009: no coercion).
WRONG_VALUES: dict[str, list[Any]] = {
    "boolean": ["true", 1],
    "string": [42, {"value": "x"}],
    "integer": ["1", True],
    "number": ["1.5", True],
    "array": ["x", {"value": "x"}],
    "object": ["x", [1]],
}
MAX_LABEL = 40


@dataclass(frozen=True)
class Case:
    """One combination of expansion values: the variables, and the id suffix they give."""

    label: str
    variables: Mapping[str, Any]


def label_for(value: Any) -> str:
    """A short, stable, id-safe label for a value."""
    if isinstance(value, Mapping) and "label" in value:
        return str(value["label"])
    text = (
        value
        if isinstance(value, str)
        else json.dumps(value, separators=(",", ":"), sort_keys=True)
    )
    text = text.replace("[", "(").replace("]", ")")  # pytest ids use brackets themselves
    # Control characters written as escapes: an id is printed, and a NUL or ESC in a terminal
    # or CI log makes it "binary" (grep stops reading) or recolours it.
    text = "".join(
        char if char.isprintable() or char == " " else char.encode("unicode_escape").decode()
        for char in text
    )
    if len(text) > MAX_LABEL:
        digest = hashlib.sha256(text.encode()).hexdigest()[:8]
        text = f"{text[: MAX_LABEL - 10]}~{digest}"
    return text


def outside_enum(values: list[Any]) -> list[Any]:
    """Values a strict server must refuse for this enum, derived from the enum itself."""
    text = [str(value) for value in values]
    first = text[0]
    candidates = [
        first.lower() if first.lower() != first else first.upper(),
        first[:1].swapcase() + first[1:],  # mixed case: "uSD", "Ach"; a server must not fold it
        first + "_X",
        "",
        "not_a_" + first.lower(),
        f" {first}",
    ]
    seen = set(text)
    out: list[Any] = []
    for candidate in candidates:
        if candidate not in seen:
            seen.add(candidate)
            out.append(candidate)
    return out


NESTING = 5000  # deeper than recursive parsers manage with their default stack
LONG = 300_000  # characters: a long string or key, well inside a 1 MiB body


def hostile_bodies(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The classic hostile JSON bodies, derived from a named (accepted) body.

    Each case is `{label, raw, framing, valid, complete}`: `raw` is the body's text (templates
    in it are rendered at request time) or `{base64: ...}` for bytes that are not UTF-8;
    `framing` is how the message is delimited (`content-length`, the ordinary way, or a framing
    that lies, from `transport/_framing.py`, around the body itself); `valid` says whether the
    message is still a valid request (then a 2xx is as right as a 4xx; otherwise only a 4xx
    is); `complete` is False for a message that stops early (closing without an answer is
    right then).
    """
    text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    inner = text[1:-1]  # the body's members, to add one next to them

    def with_member(member: str) -> str:
        return "{" + inner + "," + member + "}"

    first = next(iter(body))
    first_member = json.dumps({first: body[first]}, separators=(",", ":"), ensure_ascii=False)[1:-1]
    deep_array = "[" * NESTING + "]" * NESTING
    deep_object = '{"x":' * NESTING + "1" + "}" * NESTING

    def quantity(number: str) -> str:
        return text.replace('"quantity":1', f'"quantity":{number}', 1)

    many_types = '"allowed_payment_method_types":[' + '"credit",' * 50_000 + '"debit"]'
    controls = '"customer_business_name":"a\u0000b\u0007c\u001b"'  # raw, unescaped
    cases = [
        ("deep-array-known-field", '{"product_cart":' + deep_array + "}", False),
        ("deep-object-unknown-field", with_member('"x":' + deep_object), False),
        ("deep-object-in-metadata", with_member('"metadata":' + deep_object), False),
        ("int32-overflow", quantity("2147483648"), False),
        ("int64-overflow", quantity("9223372036854775808"), False),
        ("float-1e400", quantity("1e400"), False),
        ("long-string", with_member('"customer_business_name":"' + "x" * LONG + '"'), True),
        ("long-key", with_member('"' + "k" * LONG + '":1'), True),
        ("large-array", with_member(many_types), False),
        ("duplicate-keys", with_member(first_member), True),
        ("lone-surrogate", with_member('"customer_business_name":"\\ud800"'), True),
        ("nul-and-controls", with_member(controls), False),
        ("bom", "\ufeff" + text, True),
    ]
    found = [
        {"label": label, "raw": raw, "framing": "content-length", "valid": valid, "complete": True}
        for label, raw, valid in cases
    ]
    invalid_utf8 = b'{"product_cart":[{"product_id":"\xff\xfe\xfd","quantity":1}]}'
    found.append(
        {
            "label": "invalid-utf8",
            "raw": {"base64": base64.b64encode(invalid_utf8).decode()},
            "framing": "content-length",
            "valid": False,
            "complete": True,
        }
    )
    valid_framings = ("chunked", "chunked-with-content-length")
    for name, framing in FRAMINGS.items():
        found.append(
            {
                "label": name,
                "raw": text,
                "framing": name,
                "valid": name in valid_framings,
                "complete": framing.complete,
            }
        )
    return found


def rule_case_values(
    spec: Mapping[str, Any], bodies: BodyLibrary, contract: Contract, values: ValueClasses | None
) -> list[dict[str, Any]]:
    """`{rule_cases: ID}`: the cases derived from the rule's decision (`outcome` keeps one
    kind). With `combine: BODY`, instead: the rule's deciding requests (every condition holding;
    each condition flipped) merged with the rows of a covering array over that body's other
    top-level fields, so that a rule that holds only when another optional field is absent (or
    present) shows it; `requires: {FIELD: OTHER}` as for `pairwise`. With `classes: true`,
    instead: the deciding requests in every value class of each field the rule reads
    (`value_classes` in contracts/rules.yaml: countries, kinds of customer and item, custom
    field types), from the value corpus and the contract's enums."""
    found = rule(spec["rule_cases"])
    skip = set(spec.get("except", []))
    base = bodies.unrendered(found.base)
    if spec.get("classes"):
        if values is None:
            raise ValueError("value classes need fixtures/values.yaml")
        derived = [
            case
            for name in found.classes
            for case in found.class_cases(
                base, name, resolve_classes(name, values.__getitem__, contract.enum_values)
            )
        ]
    else:
        derived = found.cases(base)
    cases = [
        case
        for case in derived
        if case.outcome == spec.get("outcome", case.outcome) and case.label not in skip
    ]

    def value(label: str, body: dict[str, Any], case: DerivedCase, covers: str) -> dict[str, Any]:
        decision = {
            "rule": found.id,
            "requirement": found.requirement,
            "covers": covers,
            "outcome": case.outcome,
            "condition": case.condition,
            "conditions": len(found.conditions),
        }
        return {"label": label, "body": body, "decision": decision}

    if "combine" not in spec:
        return [value(case.label, case.body, case, case.covers) for case in cases]
    rich = bodies.unrendered(spec["combine"])
    read = found.fields_read()
    requires = {k: v for k, v in dict(spec.get("requires") or {}).items() if v not in read}
    names = sorted(
        name
        for name in rich
        if name not in read
        and name != "product_cart"
        and name not in skip
        and dict(spec.get("requires") or {}).get(name) not in read
    )
    deciding = [c for c in cases if c.covers != "position"][:1]  # use `outcome` for each kind
    found_values = []
    for case in deciding:
        for index, row in enumerate(covering_rows(names, requires), start=1):
            body = {**{name: rich[name] for name in sorted(row)}, **case.body}
            label = f"{case.label}+row-{index:02d}"
            found_values.append(value(label, body, case, "combination"))
    return found_values


def source_values(
    spec: Mapping[str, Any],
    contract: Contract,
    bodies: BodyLibrary,
    values: ValueClasses | None,
) -> list[Any]:
    """The values one expansion variable takes, in a stable order."""
    skip = set(spec.get("except", []))
    depth = int(spec.get("depth", 1))
    if "values" in spec:
        return list(spec["values"])
    if "corpus" in spec:
        if values is None or spec["corpus"] not in values:
            raise ValueError(f"unknown value class {spec['corpus']!r}")
        return [entry for entry in values[spec["corpus"]] if entry["label"] not in skip]
    if "enum" in spec:
        return [value for value in contract.enum_values(spec["enum"]) if value not in skip]
    if "not_in_enum" in spec:
        return [
            value
            for value in outside_enum(contract.enum_values(spec["not_in_enum"]))
            if value not in skip
        ]
    nested_only = bool(spec.get("nested_only"))
    within = bodies.unrendered(spec["within"]) if "within" in spec else None

    def parent_exists(path: tuple[Any, ...]) -> bool:
        if within is None or len(path) == 1:
            return True
        return get_path(within, ".".join(map(str, path[:-1])))[0]

    def base(path: tuple[Any, ...]) -> dict[str, Any]:
        """With `within`: the top-level field of that body a nested case lives in, and its
        value, so that a case can start from the minimal body plus that one field."""
        if within is None:
            return {}
        return {"top": str(path[0]), "top_value": within.get(str(path[0]))}

    if "nullable_fields" in spec:
        paths = [
            field
            for field in contract.fields(spec["nullable_fields"], depth)
            if field.nullable
            and field.dotted not in skip
            and (len(field.path) > 1 or not nested_only)
            and parent_exists(field.path)
        ]
        if within is None:
            return [field.dotted for field in paths]
        return [
            {"label": field.dotted, "path": field.dotted, **base(field.path)} for field in paths
        ]
    if "wrong_types" in spec:
        cases = []
        for field in contract.fields(spec["wrong_types"], depth):
            if field.dotted in skip or not field.types or (nested_only and len(field.path) == 1):
                continue
            if not parent_exists(field.path):
                continue
            for declared in sorted(field.types):
                for wrong in WRONG_VALUES.get(declared, []):
                    if json_type(wrong) in field.types or (
                        json_type(wrong) == "integer" and "number" in field.types
                    ):
                        continue
                    cases.append(
                        {
                            "label": f"{field.dotted}={json_type(wrong)}",
                            "path": field.dotted,
                            "value": wrong,
                            "expected": "|".join(sorted(field.types)),
                            **base(field.path),
                        }
                    )
        unique: dict[str, dict[str, Any]] = {case["label"]: case for case in cases}
        return list(unique.values())
    if "breaking_strings" in spec:
        if values is None or "breaking.strings" not in values:
            raise ValueError("no value class list 'breaking.strings' (fixtures/values.yaml)")
        body = bodies.unrendered(spec["breaking_strings"])
        constrained = constrained_names(contract)
        return [
            {
                "label": entry["label"],
                "body": place_strings(body, entry["value"], constrained),
                "strings": len(entry["value"]),
            }
            for entry in values["breaking.strings"]
            if entry["label"] not in skip
        ]
    if "rule_cases" in spec:
        return rule_case_values(spec, bodies, contract, values)
    if "hostile_bodies" in spec:
        return [
            case
            for case in hostile_bodies(bodies.unrendered(spec["hostile_bodies"]))
            if case["label"] not in skip
            and spec.get("valid", case["valid"]) == case["valid"]
            and spec.get("complete", case["complete"]) == case["complete"]
        ]
    if "pairwise" in spec:
        body = bodies.unrendered(spec["pairwise"])
        names = sorted(name for name in body if name not in skip)
        requires = dict(spec.get("requires") or {})
        rows = covering_rows(names, requires)
        return [
            {
                "label": f"pair-row-{index:02d}",
                "fields": {name: body[name] for name in names if name in row},
                "pairwise": {"set": sorted(row), "of": names, "requires": requires},
            }
            for index, row in enumerate(rows, start=1)
        ]
    if "body_fields" in spec:
        body = bodies.unrendered(spec["body_fields"])
        return [
            {"label": name, "name": name, "value": value}
            for name, value in body.items()
            if name not in skip
        ]
    raise ValueError(f"unknown expansion source in {dict(spec)}")


def expand(
    variables: Mapping[str, Mapping[str, Any]],
    contract: Contract,
    bodies: BodyLibrary,
    values: ValueClasses | None,
) -> list[Case]:
    """Every combination of the variables' values; a single Case with no label when none."""
    if not variables:
        return [Case("", {})]
    names = list(variables)
    columns = [source_values(variables[name], contract, bodies, values) for name in names]
    cases: list[Case] = []
    seen: dict[str, int] = {}
    for combination in itertools.product(*columns):
        if len(names) == 1:
            label = label_for(combination[0])
        else:
            label = ",".join(f"{n}={label_for(v)}" for n, v in zip(names, combination, strict=True))
        if label in seen:
            seen[label] += 1
            label = f"{label}#{seen[label]}"
        else:
            seen[label] = 1
        cases.append(Case(label, dict(zip(names, combination, strict=True))))
    return cases
