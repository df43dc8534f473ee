"""The scenario model: what a scenario file says, checked and resolved at collection time.

A file is validated against `contracts/scenario.schema.json`, then against what the schema cannot
know: requirement IDs exist in the catalog, named bodies and expectation groups exist, contract
schemas and enums exist, variables are defined. Any problem is a `DataFileError` naming the file
and line, and fails only that file's items.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import _resources
from .._yamlfile import (
    DataFileError,
    YamlList,
    YamlMap,
    closest,
    display_path,
    document_errors,
    load_yaml,
)
from ..catalog import Catalog
from ..contract import Contract
from ..rules import load_rules
from ..show import hint
from ._bodies import BodyLibrary
from ._template import FILTERS, references
from ._values import ValueClasses

EXPECTATION_KINDS = ("status", "rejected", "json", "header", "schema", "body_excludes")
VALUE_MATCHERS = ("is", "equals", "not_equals", "matches", "one_of", "schema")


@dataclass(frozen=True)
class Expectation:
    """One check of a response, attributed to one requirement."""

    kind: str
    spec: Mapping[str, Any]
    requirement: str
    where: str  # file:line of the expectation (a scenario file or fixtures/expectations.yaml)
    if_status: Any = None  # evaluate only when the response status matches this

    @functools.cached_property
    def templated(self) -> bool:
        """Whether the spec holds `${...}` references (rendered per case only if so)."""
        return any(True for _ in references(dict(self.spec)))


@dataclass(frozen=True)
class RequestSpec:
    method: str = "POST"
    path: str = "/checkouts"
    auth: str | Mapping[str, str] = "valid"
    headers: Mapping[str, str | None] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    body: str | Mapping[str, Any] | None = None
    raw: Any = None  # text, or {base64: ...} for bytes
    content_type: str | None = None
    framing: str | None = None  # a deliberately wrong HTTP framing (transport/_framing.py)


@dataclass(frozen=True)
class Step:
    name: str
    request: RequestSpec
    expectations: tuple[Expectation, ...]
    capture: Mapping[str, str]
    line: int


@dataclass(frozen=True)
class Scenario:
    id: str
    title: str
    description: str
    requirements: tuple[str, ...]
    tags: tuple[str, ...]
    expand: Mapping[str, Mapping[str, Any]]
    steps: tuple[Step, ...]
    path: Path
    line: int
    # `ID` or `ID[case]` (expansion variables allowed): the accepted request this case changes
    # one thing of. If that case did not get its expected status, this one is not tested.
    precondition: str | None = None
    # Scenarios of one file with the same `share_requests` name send their i-th cases as one
    # request (their `set` edits merged); a case whose shared request fails is sent alone.
    share_requests: str | None = None

    @property
    def location(self) -> str:
        return f"{display_path(self.path)}:{self.line}"

    def all_requirements(self) -> list[str]:
        """The scenario's own requirements, then any its expectations name, without repeats."""
        found = list(self.requirements)
        for step in self.steps:
            for expectation in step.expectations:
                if expectation.requirement not in found:
                    found.append(expectation.requirement)
        return found


@dataclass(frozen=True)
class ExpectationGroups:
    """Named, reusable lists of expectations (`fixtures/expectations.yaml`), used with `use:`."""

    groups: Mapping[str, YamlList]
    path: Path | None = None

    @classmethod
    def load(cls, path: Path) -> ExpectationGroups:
        document = load_yaml(path)
        if not isinstance(document, YamlMap) or not isinstance(document.get("groups"), YamlMap):
            raise DataFileError(path, 1, "expected a top-level `groups:` mapping")
        groups = {}
        for name, group in document["groups"].items():
            if not isinstance(group, YamlMap) or not isinstance(group.get("expect"), YamlList):
                raise DataFileError(
                    path,
                    document["groups"].line_of(name),
                    f"group {name!r} needs an `expect:` list",
                )
            groups[name] = group["expect"]
        return cls(groups, path)


@dataclass(frozen=True)
class Library:
    """Everything a scenario file may refer to, loaded once per session."""

    catalog: Catalog
    contract: Contract
    bodies: BodyLibrary
    groups: ExpectationGroups
    values: ValueClasses | None = None  # fixtures/values.yaml, for `{corpus: NAME}`


class _Parser:
    def __init__(self, path: Path, library: Library) -> None:
        self.path = path
        self.library = library

    def fail(self, line: int | None, message: str) -> DataFileError:
        return DataFileError(self.path, line, message)

    def requirement(self, value: str, line: int) -> str:
        if value not in self.library.catalog:
            raise self.fail(
                line,
                f"unknown requirement {value!r}"
                f"{_did_you_mean(value, (r.id for r in self.library.catalog))}"
                f" (the IDs: {hint('requirements')})",
            )
        return value

    # -- expectations ------------------------------------------------------------------------
    def expectations(
        self,
        items: YamlList,
        default_requirement: str,
        via: tuple[str, ...] = (),
        default_if_status: Any = None,
    ) -> list[Expectation]:
        out: list[Expectation] = []
        for index, item in enumerate(items):
            line = items.line_of(index)
            requirement = default_requirement
            if_status = item.get("if_status", default_if_status)
            if "requirement" in item:
                requirement = self.requirement(item["requirement"], item.line_of("requirement"))
            if "use" in item:
                name = item["use"]
                if name not in self.library.groups.groups:
                    raise self.fail(
                        item.line_of("use"),
                        f"unknown expectation group {name!r}"
                        f"{_did_you_mean(str(name), self.library.groups.groups)}"
                        f" (the groups: {hint('groups', self.library.groups.path)})",
                    )
                if name in via:
                    raise self.fail(item.line_of("use"), f"expectation group {name!r} uses itself")
                group_parser = _Parser(self.library.groups.path or self.path, self.library)
                out.extend(
                    group_parser.expectations(
                        self.library.groups.groups[name], requirement, (*via, name), if_status
                    )
                )
                continue
            kind = next(key for key in EXPECTATION_KINDS if key in item)
            spec = {
                key: value for key, value in item.items() if key not in ("requirement", "if_status")
            }
            if "is" in spec and spec["is"] is None:
                spec["is"] = "null"  # `is: null` in YAML is the null value, meaning "is null"
            self.check_expectation(kind, spec, item, line)
            out.append(
                Expectation(
                    kind,
                    spec,
                    requirement,
                    f"{display_path(self.path)}:{line}",
                    if_status,
                )
            )
        return out

    def check_expectation(
        self, kind: str, spec: Mapping[str, Any], item: YamlMap, line: int
    ) -> None:
        matchers = [key for key in VALUE_MATCHERS if key in spec]
        if kind in ("json", "header") and not matchers:
            raise self.fail(
                line, f"a `{kind}` expectation needs one of: {', '.join(VALUE_MATCHERS)}"
            )
        if kind == "header" and "schema" in spec:
            raise self.fail(line, "a `header` expectation cannot use `schema`")
        if len(matchers) > 1 and kind != "schema":
            raise self.fail(line, f"use one matcher per expectation, not {', '.join(matchers)}")
        schema = spec.get("schema")
        if schema is not None and not self.library.contract.has_schema(schema):
            raise self.fail(
                item.line_of("schema"),
                f"the contract has no schema {schema!r}"
                f" (known: {', '.join(self.library.contract.schema_names)})",
            )

    @staticmethod
    def implied_no_session(expectations: list[Expectation]) -> list[Expectation]:
        """A scenario that expects only 4xx statuses also asserts that no session was created."""
        extra = []
        if any(expectation.kind == "rejected" for expectation in expectations):
            return expectations
        for expectation in expectations:
            if expectation.kind != "status":
                continue
            statuses = expectation.spec["status"]
            allowed = statuses if isinstance(statuses, list) else [statuses]
            if all(str(status).startswith("4") for status in allowed):
                extra.append(
                    Expectation(
                        "json",
                        {"json": "session_id", "is": "null_or_absent"},
                        expectation.requirement,
                        expectation.where,
                    )
                )
                break
        return expectations + extra

    # -- requests ----------------------------------------------------------------------------
    def request(self, raw: YamlMap) -> RequestSpec:
        body = raw.get("body")
        if isinstance(body, str) and body not in self.library.bodies:
            raise self.fail(
                raw.line_of("body"),
                f"unknown body {body!r}{_did_you_mean(body, self.library.bodies.specs)}"
                f" (the bodies: {hint('bodies', self.library.bodies.path)})",
            )
        if isinstance(body, Mapping) and "from" in body and body["from"] not in self.library.bodies:
            raise self.fail(
                body.line_of("from") if isinstance(body, YamlMap) else raw.line,
                f"unknown body {body['from']!r}"
                f"{_did_you_mean(str(body['from']), self.library.bodies.specs)}"
                f" (the bodies: {hint('bodies', self.library.bodies.path)})",
            )
        return RequestSpec(
            method=raw.get("method", "POST"),
            path=raw.get("path", "/checkouts"),
            auth=raw.get("auth", "valid"),
            headers=dict(raw.get("headers") or {}),
            query=dict(raw.get("query") or {}),
            body=body,
            raw=raw.get("raw"),
            content_type=raw.get("content_type"),
            framing=raw.get("framing"),
        )

    def step(self, raw: YamlMap, name: str, default_requirement: str) -> Step:
        expectations = self.implied_no_session(
            self.expectations(raw["expect"], default_requirement)
        )
        return Step(
            name=name,
            request=self.request(raw["request"]),
            expectations=tuple(expectations),
            capture=dict(raw.get("capture") or {}),
            line=raw.line,
        )

    # -- scenarios ---------------------------------------------------------------------------
    def expansion(self, name: str, spec: YamlMap) -> None:
        contract = self.library.contract
        line = spec.line
        for source in ("enum", "not_in_enum"):
            if source in spec and spec[source] not in contract.enum_names():
                raise self.fail(line, f"expand {name}: the contract has no enum {spec[source]!r}")
        for source in ("nullable_fields", "wrong_types"):
            if source in spec and not contract.has_schema(spec[source]):
                raise self.fail(line, f"expand {name}: the contract has no schema {spec[source]!r}")
        if "corpus" in spec and (
            self.library.values is None or spec["corpus"] not in self.library.values
        ):
            values = self.library.values
            known = list(values.lists) if values else []
            where = hint("values", values.path if values else None)
            raise self.fail(
                line,
                f"expand {name}: unknown value class {spec['corpus']!r}"
                f"{_did_you_mean(str(spec['corpus']), known)} (the classes: {where})",
            )
        if "rule_cases" in spec:
            rules = {found.id: found for found in load_rules()}
            if spec["rule_cases"] not in rules:
                raise self.fail(
                    line,
                    f"expand {name}: no rule {spec['rule_cases']!r} in contracts/rules.yaml"
                    f"{_did_you_mean(str(spec['rule_cases']), list(rules))}",
                )
            if spec.get("classes") and not rules[spec["rule_cases"]].classes:
                raise self.fail(
                    line,
                    f"expand {name}: rule {spec['rule_cases']} names no value classes (its"
                    " `classes` in contracts/rules.yaml), so `classes: true` would send nothing",
                )
        if "body_fields" in spec and spec["body_fields"] not in self.library.bodies:
            raise self.fail(
                line,
                f"expand {name}: unknown body {spec['body_fields']!r}"
                f"{_did_you_mean(str(spec['body_fields']), self.library.bodies.specs)}",
            )

    def scenario(self, raw: YamlMap, seen_ids: dict[str, int]) -> Scenario:
        scenario_id = raw["id"]
        if scenario_id in seen_ids:
            raise self.fail(
                raw.line_of("id"),
                f"scenario id {scenario_id!r} is used twice"
                f" (first at line {seen_ids[scenario_id]})",
            )
        seen_ids[scenario_id] = raw.line_of("id")
        requirements = tuple(
            self.requirement(value, raw["requirements"].line_of(index))
            for index, value in enumerate(raw["requirements"])
        )
        expand = raw.get("expand") or YamlMap()
        for name, spec in expand.items():
            self.expansion(name, spec)
        if "steps" in raw:
            steps = tuple(
                self.step(step, step.get("name", f"step {index + 1}"), requirements[0])
                for index, step in enumerate(raw["steps"])
            )
        else:
            steps = (self.step(raw, "request", requirements[0]),)
        self.check_variables(raw, set(expand), steps)
        return Scenario(
            id=scenario_id,
            title=raw["title"],
            description=raw.get("description", ""),
            requirements=requirements,
            tags=tuple(raw.get("tags") or ()),
            expand=dict(expand),
            steps=steps,
            path=self.path,
            line=raw.line,
            precondition=raw.get("precondition"),
            share_requests=raw.get("share_requests"),
        )

    def check_variables(
        self, raw: YamlMap, expansion_names: set[str], steps: tuple[Step, ...]
    ) -> None:
        """Every `${...}` names something that will exist when the step runs."""
        captured: set[str] = set()
        for index, step in enumerate(steps):
            raw_step = raw["steps"][index] if "steps" in raw else raw
            for key in ("request", "expect"):
                for name, filter_name in references(raw_step.get(key)):
                    line = raw_step.line_of(key)
                    self.check_reference(name, expansion_names, captured, line)
                    self.check_filter(filter_name, line)
            captured.update(step.capture)
        for name, filter_name in references(raw.get("expand")):
            self.check_reference(name, set(), set(), raw.line_of("expand"))
            self.check_filter(filter_name, raw.line_of("expand"))
        for name, filter_name in references(raw.get("precondition")):
            self.check_reference(name, expansion_names, set(), raw.line_of("precondition"))
            self.check_filter(filter_name, raw.line_of("precondition"))

    def check_filter(self, name: str | None, line: int) -> None:
        if name is not None and name not in FILTERS:
            raise self.fail(line, f"unknown filter |{name}{_did_you_mean(name, FILTERS)}")

    def check_reference(
        self, name: str, expansion_names: set[str], captured: set[str], line: int
    ) -> None:
        head, _, rest = name.partition(".")
        if head == "profile":
            keys = profile_keys()
            if rest not in keys:
                raise self.fail(
                    line,
                    f"unknown profile key ${{{name}}}{_did_you_mean(rest, keys)}"
                    f" (profile keys: {', '.join(keys)})",
                )
            return
        if head == "api_key":
            return
        if head == "captured":
            if rest not in captured:
                raise self.fail(line, f"${{{name}}} is used before a step captures {rest!r}")
        elif head not in expansion_names:
            raise self.fail(
                line,
                f"unknown variable ${{{name}}} (define it under `expand:`, or use"
                " ${profile.KEY}, ${api_key}, ${captured.NAME})",
            )


def _did_you_mean(name: str, known: Iterable[str]) -> str:
    close = closest(name, known)
    return f"; did you mean {close!r}?" if close else ""


@functools.cache
def profile_keys() -> tuple[str, ...]:
    """The keys a profile may name (`${profile.KEY}`), from the profile's JSON Schema."""
    schema = json.loads(_resources.PROFILE_SCHEMA_PATH.read_text(encoding="utf-8"))
    return tuple(schema["properties"]["data"]["properties"])


def load_scenario_file(path: Path, library: Library) -> list[Scenario]:
    """Parse and check one scenario file; a problem raises DataFileError with file:line."""
    scenarios, errors = load_scenarios(path, library)
    if errors:
        raise errors[0]
    return scenarios


def load_scenarios(path: Path, library: Library) -> tuple[list[Scenario], list[DataFileError]]:
    """Every valid scenario of a file, and an error (file:line) for each one that is not, so
    that one wrong scenario does not keep the rest of its file from running.

    A file that cannot be read as a whole (not YAML, empty, no `scenarios` list) raises
    DataFileError.
    """
    document = load_yaml(path)
    if document is None:
        raise DataFileError(path, 1, "the file is empty; expected `scenarios:`")
    errors = document_errors(path, document, _resources.SCENARIO_SCHEMA_PATH, "scenarios")
    if None in errors:
        raise errors[None]
    parser = _Parser(path, library)
    seen: dict[str, int] = {}
    scenarios: list[Scenario] = []
    failed: list[DataFileError] = []
    for index, raw in enumerate(document["scenarios"]):
        if index in errors:
            failed.append(errors[index])
            continue
        try:
            scenarios.append(parser.scenario(raw, seen))
        except DataFileError as error:
            failed.append(error)
    for wrong in _unshareable(scenarios):
        failed.append(DataFileError(path, wrong.line, _SHARE_RULE.format(wrong.share_requests)))
        scenarios.remove(wrong)
    return scenarios, failed


_SHARE_RULE = (
    "share_requests {!r}: scenarios that share requests must each have one step whose body is"
    " {{from: BODY, set: {{...}}}} on the same BODY, set different fields, use different"
    " expansion variables, and have the same precondition and the same expectations"
)


def shared_edit(scenario: Scenario) -> tuple[str, Mapping[str, Any]] | None:
    """(the body a sharing scenario starts from, its `set` edits), or None if it cannot share."""
    if len(scenario.steps) != 1:
        return None
    body = scenario.steps[0].request.body
    if not isinstance(body, Mapping) or set(body) != {"from", "set"}:
        return None
    return str(body["from"]), body["set"]


def _unshareable(scenarios: list[Scenario]) -> list[Scenario]:
    """The scenarios whose `share_requests` group breaks the rule (all of the group)."""
    groups: dict[str, list[Scenario]] = {}
    for scenario in scenarios:
        if scenario.share_requests:
            groups.setdefault(scenario.share_requests, []).append(scenario)
    wrong: list[Scenario] = []
    for members in groups.values():
        edits = [shared_edit(member) for member in members]
        first = members[0]
        fields = [key for edit in edits if edit is not None for key in edit[1]]
        names = [name for member in members for name in member.expand]
        if (
            any(edit is None for edit in edits)
            or len({edit[0] for edit in edits if edit is not None}) != 1
            or len(fields) != len(set(fields))
            or len(names) != len(set(names))
            or any(m.precondition != first.precondition for m in members)
            or any(m.steps[0].expectations != first.steps[0].expectations for m in members)
        ):
            wrong += members
    return wrong
