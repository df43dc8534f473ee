"""`checkout-conformance show`: print the data files an error or the README refers to.

An installed user has no checkout, so an error that says "bodies are in fixtures/bodies.yaml"
points at nothing. Errors name `checkout-conformance show TOPIC` instead (`hint`), and this
module prints that topic from the files the package carries: the requirement catalog, the named
bodies and expectation groups, the value classes, the bundled profiles, and the JSON Schemas of
every file format.
A topic given a name prints that one entry; without one, the list.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from . import _resources
from ._yamlfile import DataFileError, closest

EXPECTATIONS_PATH = _resources.FIXTURES_DIR / "expectations.yaml"
VALUES_PATH = _resources.VALUES_PATH

# `show schema NAME`: every format a person writes or reads, and the contract itself.
SCHEMAS: dict[str, Path] = {
    "scenario": _resources.SCENARIO_SCHEMA_PATH,
    "profile": _resources.PROFILE_SCHEMA_PATH,
    "certificate": _resources.CONTRACTS_DIR / "certificate.schema.json",
    "requirements": _resources.CATALOG_SCHEMA_PATH,
    "rules": _resources.CONTRACTS_DIR / "rules.schema.json",
    "contract": _resources.CONTRACT_PATH,
}


class ShowError(Exception):
    """The topic or name does not exist; the message lists what does."""


def hint(topic: str, path: Path | None = None) -> str:
    """Where a person finds the entries of `topic`: the `show` command for the packaged file,
    the file itself when the run uses its own (`--conformance-fixtures`)."""
    packaged = {
        "bodies": _resources.BODIES_PATH,
        "groups": EXPECTATIONS_PATH,
        "requirements": _resources.CATALOG_PATH,
        "values": VALUES_PATH,
    }.get(topic)
    if path is not None and (packaged is None or path.resolve() != packaged.resolve()):
        return str(path)
    return f"`checkout-conformance show {topic}`"


def schema_hint(schema_path: Path) -> str:
    """`checkout-conformance show schema scenario` for a packaged schema, else its path."""
    for name, path in SCHEMAS.items():
        if schema_path.resolve() == path.resolve():
            return f"`checkout-conformance show schema {name}`"
    return str(schema_path)


def _unknown(kind: str, name: str, known: list[str]) -> ShowError:
    close = closest(name, known)
    maybe = f"; did you mean {close!r}?" if close else ""
    return ShowError(f"no {kind} {name!r}{maybe} (known: {', '.join(known)})")


def _yaml(value: Any) -> str:
    plain = json.loads(json.dumps(value))  # line-keeping YAML types become plain ones
    return yaml.safe_dump(plain, sort_keys=False, allow_unicode=True, width=96).rstrip()


def _one_line(text: Any) -> str:
    return " ".join(str(text or "").split())


def show_requirements(name: str | None) -> str:
    from .catalog import load_catalog

    catalog = load_catalog()
    if name is None:
        return "\n".join(f"{r.id}\t{r.level}\t{r.text}" for r in catalog)
    wanted = name.upper()
    if wanted not in catalog:
        raise _unknown("requirement", name, [r.id for r in catalog])
    found = catalog[wanted]
    return (
        f"{found.id} ({found.level}, {found.area}: {found.area_title})\n"
        f"  {found.text}\n  source: {found.source}"
    )


def show_bodies(name: str | None) -> str:
    from .engine._bodies import BodyLibrary

    library = BodyLibrary.load(_resources.BODIES_PATH)
    if name is None:
        width = max(map(len, library.specs))
        return "\n".join(
            f"{body:<{width}}  {_one_line(spec.get('description'))}"
            for body, spec in library.specs.items()
        )
    if name not in library.specs:
        raise _unknown("body", name, list(library.specs))
    spec = library.specs[name]
    built_from = f" (built from {spec['from']})" if "from" in spec else ""
    return (
        f"# {name}{built_from}: {_one_line(spec.get('description'))}\n"
        "# ${profile.KEY} is replaced by the target profile's value\n"
        + _yaml(library.unrendered(name))
    )


def show_groups(name: str | None) -> str:
    from ._yamlfile import load_yaml

    groups = load_yaml(EXPECTATIONS_PATH)["groups"]
    if name is None:
        width = max(map(len, groups))
        return "\n".join(
            f"{group:<{width}}  {_one_line(spec.get('description'))}"
            for group, spec in groups.items()
        )
    if name not in groups:
        raise _unknown("expectation group", name, list(groups))
    spec = groups[name]
    return f"# {name}: {_one_line(spec.get('description'))}\n" + _yaml({"expect": spec["expect"]})


def show_values(name: str | None) -> str:
    from .engine._values import ValueClasses

    classes = ValueClasses.load(VALUES_PATH)
    if name is None:
        width = max(map(len, classes.lists))
        return "\n".join(
            f"{listed:<{width}}  {len(entries)} classes"
            for listed, entries in classes.lists.items()
        )
    if name not in classes:
        raise _unknown("value class list", name, list(classes.lists))
    return _yaml(classes[name])


def show_rules(name: str | None) -> str:
    from .engine._bodies import BodyLibrary
    from .rules import load_rules

    rules = {found.id: found for found in load_rules()}
    if name is None:
        return "\n".join(
            f"{found.id}\t{found.requirement}\trefused when "
            + (f"an element of {found.each} has " if found.each else "")
            + " and ".join(
                f"{c.field} {c.is_.replace('_', ' ')}"
                + (f" {c.value}" if c.value is not None else "")
                for c in found.conditions
            )
            for found in rules.values()
        )
    wanted = name.upper()
    if wanted not in rules:
        raise _unknown("rule", name, list(rules))
    found = rules[wanted]
    base = BodyLibrary.load(_resources.BODIES_PATH).unrendered(found.base)
    lines = [f"# {found.id} ({found.requirement}), derived from body {found.base!r}:"]
    lines += [f"{case.outcome:<8} {case.covers:<10} {case.label}" for case in found.cases(base)]
    if found.classes:
        from .contract import load_contract
        from .engine._values import ValueClasses
        from .rules import resolve_classes

        values, contract = ValueClasses.load(VALUES_PATH), load_contract()
        for field in found.classes:
            classes = resolve_classes(field, values.__getitem__, contract.enum_values)
            lines.append(f"# in every value class of {field} (value_classes):")
            lines += [
                f"{case.outcome:<8} {case.covers:<10} {case.label}"
                for case in found.class_cases(base, field, classes)
            ]
    return "\n".join(lines)


def show_profile(name: str | None) -> str:
    profiles = {path.stem: path for path in sorted(_resources.PROFILES_DIR.glob("*.yaml"))}
    if name is None:
        lines = [f"{stem}\t(checkout-conformance show profile {stem})" for stem in profiles]
        lines.append(
            "the format: checkout-conformance show schema profile; start from the reference"
            " profile and name the ids that exist on your server"
        )
        return "\n".join(lines)
    if name not in profiles:
        raise _unknown("bundled profile", name, list(profiles))
    return profiles[name].read_text(encoding="utf-8").rstrip()


def show_schema(name: str | None) -> str:
    if name is None:
        return "\n".join(
            f"{schema}\t{path.name}\t(checkout-conformance show schema {schema})"
            for schema, path in SCHEMAS.items()
        )
    if name not in SCHEMAS:
        raise _unknown("schema", name, list(SCHEMAS))
    return SCHEMAS[name].read_text(encoding="utf-8").rstrip()


TOPICS: dict[str, Callable[[str | None], str]] = {
    "requirements": show_requirements,
    "bodies": show_bodies,
    "groups": show_groups,
    "values": show_values,
    "rules": show_rules,
    "profile": show_profile,
    "schema": show_schema,
}


def show(topic: str, name: str | None = None) -> str:
    """The text `checkout-conformance show TOPIC [NAME]` prints."""
    if topic not in TOPICS:
        raise _unknown("topic", topic, list(TOPICS))
    try:
        return TOPICS[topic](name)
    except DataFileError as error:  # a packaged file is broken: say which
        raise ShowError(str(error)) from None
