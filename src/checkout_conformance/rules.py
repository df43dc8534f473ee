"""The documented business rules as data (`contracts/rules.yaml`): one decision per rule, read by
the reference server (which refuses what a rule refuses) and by the suite (which derives its
cases from the same decision), so that the two can never disagree.

A rule refuses a request when all its conditions hold (for a rule with `each`, when they hold
for one element of that array). From that decision `Rule.cases` derives, without a case
written by hand: every way each condition holds with the others holding (refused), each
condition failing on its own with the others holding (accepted: MC/DC), limits at their
boundaries, null beside absent, and the offending element first, in the middle and last.
From the same decision `Rule.satisfy` makes any request comply (the property tests' rewrite of
generated requests), so that the server, the scenarios and the properties read one decision.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from . import _resources
from ._yamlfile import DataFileError, load_yaml, validate_document


class Facts(Protocol):
    """What exists on a server, for the conditions that depend on it (an unknown product, a
    payment method of another customer). The reference server's store provides them."""

    def known(self, kind: str) -> Collection[str]:
        """The ids of one kind: products, subscription_products, product_collections,
        payment_methods, customers."""
        ...

    def owner(self, payment_method: str) -> str | None:
        """The customer a saved payment method belongs to, or None if there is no such one."""
        ...


class NoFacts:
    """Facts of a server with nothing in it (every id is unknown)."""

    def known(self, kind: str) -> Collection[str]:
        return ()

    def owner(self, payment_method: str) -> str | None:
        return None


class ProfileFacts:
    """Facts of a target as its profile names them (`kinds` in contracts/rules.yaml): the ids
    it has of each kind, the profile's payment method owned by the profile's customer and any
    other one by someone else. With `ids` mapping each key to `${profile.KEY}`, the facts of
    any target, for bodies not yet rendered."""

    ANOTHER_CUSTOMER = "another customer"

    def __init__(self, ids: Mapping[str, str]) -> None:
        self._ids = dict(ids)
        self._known = {
            kind: tuple(ids[key] for key in keys if ids.get(key))
            for kind, keys in load_kinds().items()
        }

    @classmethod
    def unrendered(cls) -> ProfileFacts:
        """The facts of any target, as `${profile.*}` references."""
        keys = {key for keys in load_kinds().values() for key in keys}
        keys |= {"customer_id", "discount_code", "addon_id"}
        return cls({key: f"${{profile.{key}}}" for key in keys})

    @property
    def placeholders(self) -> Mapping[str, str]:
        """The ids these facts were made of (the profile's, or `${profile.*}` references)."""
        return self._ids

    def known(self, kind: str) -> Collection[str]:
        return self._known.get(kind, ())

    def owner(self, payment_method: str) -> str | None:
        if payment_method == self._ids.get("payment_method_id"):
            return self._ids.get("customer_id")
        return self.ANOTHER_CUSTOMER if payment_method in self.known("payment_methods") else None


_REFERENCE = re.compile(r"\$\{profile\.([A-Za-z0-9_]+)\}")


def render_profile(value: Any, ids: Mapping[str, str]) -> Any:
    """`value` with its `${profile.KEY}` references replaced by the profile's ids; KeyError
    names a key the profile lacks (an edit that needs it cannot be made on that target)."""
    if isinstance(value, str):
        whole = _REFERENCE.fullmatch(value)
        if whole:
            return ids[whole.group(1)]
        return _REFERENCE.sub(lambda found: ids[found.group(1)], value)
    if isinstance(value, dict):
        return {key: render_profile(inner, ids) for key, inner in value.items()}
    if isinstance(value, list):
        return [render_profile(inner, ids) for inner in value]
    return value


class Unsatisfiable(ValueError):
    """No change the decision allows makes the request comply with a rule."""


RULES_PATH = _resources.CONTRACTS_DIR / "rules.yaml"
RULES_SCHEMA_PATH = _resources.CONTRACTS_DIR / "rules.schema.json"
MISSING: Any = object()  # a field that is not in the body
POSITIONS = ("first", "middle", "last")


def _plain(value: Any) -> Any:
    """`value` as plain dicts and lists (a loaded YAML file's mappings also carry their lines,
    which every copy of a derived request would copy again)."""
    if isinstance(value, Mapping):
        return {key: _plain(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_plain(inner) for inner in value]
    return value


def get_field(holder: Any, dotted: str) -> Any:
    """The value at `a.b.c` in nested objects, or MISSING."""
    value = holder
    for part in dotted.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return MISSING
        value = value[part]
    return value


def _set_field(holder: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    for part in parts[:-1]:
        child = holder.get(part)
        if not isinstance(child, dict):
            child = holder[part] = {}
        holder = child
    holder[parts[-1]] = value


def _remove_field(holder: dict[str, Any], dotted: str) -> None:
    parts = dotted.split(".")
    for part in parts[:-1]:
        child = holder.get(part)
        if not isinstance(child, dict):
            return
        holder = child
    holder.pop(parts[-1], None)


@dataclass(frozen=True)
class Edit:
    """One way to set a condition's field: values to set, fields to remove, and a label."""

    label: str
    set: Mapping[str, Any] = field(default_factory=dict)
    remove: tuple[str, ...] = ()
    boundary: bool = False  # a limit at its edge (N, N+1, one past a range's end)

    def rendered(self, ids: Mapping[str, str]) -> Edit:
        """This edit with the profile's ids (KeyError if the profile lacks one)."""
        return Edit(self.label, render_profile(dict(self.set), ids), self.remove, self.boundary)

    def apply(self, body: dict[str, Any]) -> None:
        for name in self.remove:
            _remove_field(body, name)
        for name, value in self.set.items():
            _set_field(body, name, copy.deepcopy(value))


def _shown(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return f"{len(value)}-items"
    if isinstance(value, str):
        return value if len(value) <= 24 and "${" not in value else "a-value"
    return str(value)


def _items(item: Any, count: int) -> list[Any]:
    """`count` copies of `item`, `{n}` in its strings numbered 1, 2, ..."""

    def number(value: Any, n: int) -> Any:
        if isinstance(value, str):
            return value.replace("{n}", str(n))
        if isinstance(value, dict):
            return {key: number(inner, n) for key, inner in value.items()}
        if isinstance(value, list):
            return [number(inner, n) for inner in value]
        return value

    return [number(item, n) for n in range(1, count + 1)]


def _given(found: Any) -> bool:
    return found is not MISSING and found is not None


def _number(found: Any) -> bool:
    return isinstance(found, int | float) and not isinstance(found, bool)


# `is` -> whether the condition holds for the field's value `found` (MISSING when absent),
# on a server holding `facts`, in a request `body`. Read on every request the reference server
# answers: plain functions, built once.
Predicate = Callable[["Condition", Any, "Facts", Mapping[str, Any]], bool]
PREDICATES: dict[str, Predicate] = {
    "present": lambda c, found, facts, body: _given(found),
    "missing": lambda c, found, facts, body: not _given(found) or found in ("", []),
    "true": lambda c, found, facts, body: found is True,
    "not_true": lambda c, found, facts, body: found is not True,
    "false": lambda c, found, facts, body: found is False,
    "equals": lambda c, found, facts, body: _given(found) and found == c.value,
    "count_above": lambda c, found, facts, body: (
        isinstance(found, list) and len(found) > int(c.value)
    ),
    "empty": lambda c, found, facts, body: found == [],
    "below": lambda c, found, facts, body: _number(found) and found < c.value,
    "outside": lambda c, found, facts, body: (
        _number(found) and not c.value[0] <= found <= c.value[1]
    ),
    "longer_than": lambda c, found, facts, body: (
        isinstance(found, str) and len(found) > int(c.value)
    ),
    "not_matching": lambda c, found, facts, body: (
        isinstance(found, str) and not re.search(c.value, found)
    ),
    "not_one_of": lambda c, found, facts, body: (
        isinstance(found, str) and found not in facts.known(c.value)
    ),
    "not_owned_by": lambda c, found, facts, body: (
        isinstance(found, str) and facts.owner(found) != get_field(body, c.value)
    ),
}


@dataclass(frozen=True)
class Condition:
    """One condition of a rule's decision, on one field."""

    field: str
    is_: str
    value: Any = None
    example: Any = MISSING
    item: Any = None
    holds: tuple[Edit, ...] = ()
    fails: tuple[Edit, ...] = ()

    # -- the decision, as the server evaluates it ---------------------------------------------
    def holds_for(
        self, scope: Mapping[str, Any], facts: Facts, body: Mapping[str, Any] | None = None
    ) -> bool:
        """Whether the condition holds in `scope` (the body, or an element of `each`); `body`
        is the whole request, for a condition that relates to another field of it."""
        found = get_field(scope, self.field)
        return PREDICATES[self.is_](self, found, facts, body if body is not None else scope)

    # -- the cases, as the suite derives them ------------------------------------------------
    def _given(self, base_value: Any) -> Any:
        return base_value if self.example is MISSING else self.example

    def hold_edits(self, base_value: Any) -> tuple[Edit, ...]:
        """Every way to make the condition hold (the first is the one other cases use)."""
        if self.holds:
            return self.holds
        name, shown = self.field, self.field.rsplit(".", 1)[-1]
        absent = Edit(f"{shown}=absent", remove=(name,))
        null = Edit(f"{shown}=null", set={name: None})
        match self.is_:
            case "present":
                value = self._given(base_value)
                return (Edit(f"{shown}={_shown(value)}", set={name: value}),)
            case "missing":
                given = self._given(base_value)
                if not isinstance(given, str | list):  # an object has no empty form
                    return (absent, null)
                empty = [] if isinstance(given, list) else ""
                return (absent, null, Edit(f"{shown}=empty", set={name: empty}))
            case "true":
                return (Edit(f"{shown}=true", set={name: True}),)
            case "not_true":
                return (Edit(f"{shown}=false", set={name: False}), absent)
            case "false":
                return (Edit(f"{shown}=false", set={name: False}),)
            case "equals":
                return (Edit(f"{shown}={_shown(self.value)}", set={name: self.value}),)
            case "count_above":
                over = int(self.value) + 1
                return (
                    Edit(
                        f"{shown}={over}-items", set={name: _items(self.item, over)}, boundary=True
                    ),
                )
            case "empty":
                return (Edit(f"{shown}=empty", set={name: []}),)
            case "below":
                return (
                    Edit(f"{shown}={self.value - 1}", set={name: self.value - 1}, boundary=True),
                )
            case "outside":
                low, high = self.value
                return (
                    Edit(f"{shown}={low - 1}", set={name: low - 1}, boundary=True),
                    Edit(f"{shown}={high + 1}", set={name: high + 1}, boundary=True),
                )
            case "longer_than":
                longer = "x" * (int(self.value) + 1)
                label = f"{shown}={len(longer)}-characters"
                return (Edit(label, set={name: longer}, boundary=True),)
            case "not_matching":  # the data names the look-alikes to send (`holds`)
                return (Edit(f"{shown}=not-matching", set={name: self._given(base_value)}),)
            case "not_one_of" | "not_owned_by":  # an unknown id: the data names it (`holds`)
                return (Edit(f"{shown}=unknown", set={name: self._given(base_value)}),)
        raise ValueError(f"unknown condition {self.is_!r}")

    def fail_edits(self, base_value: Any) -> tuple[Edit, ...]:
        """Every way to make the condition fail on its own (each an accepted case)."""
        if self.fails:
            return self.fails
        name, shown = self.field, self.field.rsplit(".", 1)[-1]
        absent = Edit(f"{shown}=absent", remove=(name,))
        null = Edit(f"{shown}=null", set={name: None})
        match self.is_:
            case "present":
                return (absent, null)
            case "missing":
                value = self._given(base_value)
                return (Edit(f"{shown}={_shown(value)}", set={name: value}),)
            case "true" | "false":
                other = self.is_ != "true"
                return (Edit(f"{shown}={_shown(other)}", set={name: other}), absent)
            case "not_true":
                return (Edit(f"{shown}=true", set={name: True}),)
            case "equals":
                return (absent,)
            case "count_above":
                at = int(self.value)
                limit = Edit(
                    f"{shown}={at}-items", set={name: _items(self.item, at)}, boundary=True
                )
                # Absent only where the base leaves the list out (a required list cannot be).
                return (limit, absent) if base_value is MISSING else (limit,)
            case "empty":
                return (absent,)
            case "below":
                return (Edit(f"{shown}={self.value}", set={name: self.value}, boundary=True),)
            case "outside":
                low, high = self.value
                return (
                    Edit(f"{shown}={low}", set={name: low}, boundary=True),
                    Edit(f"{shown}={high}", set={name: high}, boundary=True),
                    null,
                )
            case "longer_than":
                exactly = "x" * int(self.value)
                label = f"{shown}={len(exactly)}-characters"
                return (Edit(label, set={name: exactly}, boundary=True), absent)
            case "not_matching":
                value = self._given(base_value)
                return (Edit(f"{shown}={_shown(value)}", set={name: value}), absent)
            case "not_one_of" | "not_owned_by":  # the base's own, known id
                return (Edit(f"{shown}=known", set={name: base_value}),)
        raise ValueError(f"unknown condition {self.is_!r}")

    # -- compliance, as the property tests make a generated request comply -------------------
    def repairs(self, found: Any, facts: Facts) -> tuple[Edit, ...]:
        """The smallest changes that make the condition fail on `found` (the field's value),
        most preferred first: what the generated value keeps is what the property tests test."""
        name = self.field
        remove = Edit("remove", remove=(name,))

        def to(value: Any) -> Edit:
            return Edit("set", set={name: value})

        derived: tuple[Edit, ...] = ()
        match self.is_:
            case "present":
                derived = (remove,)
            case "missing" | "not_matching" if self.example is not MISSING:
                derived = (to(self.example),)
            case "true":
                derived = (to(False),)
            case "not_true" | "false":
                derived = (to(True),)
            case "count_above" | "longer_than" if isinstance(found, list | str):
                derived = (to(found[: int(self.value)]),)
            case "below":
                derived = (to(self.value),)
            case "outside" if _number(found):
                low, high = self.value
                derived = (to(min(max(found, low), high)),)
            case "not_one_of":
                derived = tuple(to(known) for known in facts.known(self.value))
            case "not_owned_by" | "not_matching":
                derived = (remove,)
        return derived + self.fails


@dataclass(frozen=True)
class ValueClass:
    """One kind of value a field takes (`value_classes`), and what it sets elsewhere wherever
    the request has the place (`where_present`: a tax id's country)."""

    label: str
    value: Any
    also: Mapping[str, Any] = field(default_factory=dict)


_CLASS_REFERENCE = re.compile(r"\$\{class\.([A-Za-z0-9_]+)\}")


def _place(template: Any, entry: Mapping[str, Any]) -> Any:
    if isinstance(template, str):
        whole = _CLASS_REFERENCE.fullmatch(template)
        if whole:
            return _plain(entry[whole.group(1)])
        return _CLASS_REFERENCE.sub(lambda found: str(entry[found.group(1)]), template)
    if isinstance(template, dict):
        return {key: _place(inner, entry) for key, inner in template.items()}
    if isinstance(template, list):
        return [_place(inner, entry) for inner in template]
    return template


def resolve_classes(
    field_name: str,
    corpus: Callable[[str], Sequence[Mapping[str, Any]]],
    enum: Callable[[str], Sequence[Any]],
) -> list[ValueClass]:
    """The classes of one field of `value_classes`, from the value corpus (`corpus(name)`) and
    the contract's enums (`enum(name)`), which the caller reads."""
    found: list[ValueClass] = []
    for source in load_value_classes()[field_name]:
        if "corpus" in source:
            entries = [dict(entry) for entry in corpus(source["corpus"])]
        elif "enum" in source:
            entries = [{"label": f"{source['enum']}-{v}", "value": v} for v in enum(source["enum"])]
        else:
            entries = [dict(entry) for entry in source["values"]]
        for entry in entries:
            found.append(
                ValueClass(
                    label=str(entry["label"]),
                    value=_place(source.get("as", "${class.value}"), entry),
                    also={
                        name: entry[attribute]
                        for name, attribute in (source.get("where_present") or {}).items()
                    },
                )
            )
    return found


@dataclass(frozen=True)
class DerivedCase:
    """One request derived from a rule's decision, and what a conformant server must do."""

    label: str
    body: dict[str, Any]  # unrendered: `${profile.*}` references resolve per target
    outcome: str  # refused | accepted
    covers: str  # condition | boundary | null | position | class
    condition: str = ""  # the field of the condition it holds or flips ("" for a position)


@dataclass(frozen=True)
class Rule:
    """One documented rule: its decision and what the reference server answers."""

    id: str
    requirement: str
    base: str
    conditions: tuple[Condition, ...]
    each: str | None = None
    classes: tuple[str, ...] = ()  # fields of `value_classes` the decision reads
    error_code: str = "INVALID_REQUEST_BODY"
    error_message: str = ""
    error_status: int = 422

    def fields_read(self) -> frozenset[str]:
        """The top-level fields the decision reads (a combination never sets them)."""
        if self.each is not None:
            return frozenset({self.each.split(".", 1)[0]})
        return frozenset(condition.field.split(".", 1)[0] for condition in self.conditions)

    def violated(self, body: Mapping[str, Any], facts: Facts | None = None) -> bool:
        """Does this request break the rule (on a server that holds `facts`)?"""
        facts = facts or NoFacts()
        if self.each is None:
            return all(condition.holds_for(body, facts) for condition in self.conditions)
        elements = get_field(body, self.each)
        return isinstance(elements, list) and any(
            isinstance(element, Mapping)
            and all(condition.holds_for(element, facts, body) for condition in self.conditions)
            for element in elements
        )

    def satisfy(self, body: dict[str, Any], facts: Facts, ids: Mapping[str, str]) -> None:
        """Change `body` in place, as little as the decision allows, so that this rule no longer
        refuses it: in every offending scope (the body, or each offending element of `each`),
        the conditions from the last to the first, each with its repairs in order (rendered
        with the profile's `ids`; one that needs an id the profile lacks is skipped), keeping
        the first change after which the conditions no longer all hold."""
        if self.each is None:
            scopes: list[dict[str, Any]] = [body]
        else:
            elements = get_field(body, self.each)
            scopes = (
                [e for e in elements if isinstance(e, dict)] if isinstance(elements, list) else []
            )
        for scope in scopes:
            if not self._holds_in(scope, facts, body):
                continue
            for edit in self._repairs(scope, facts):
                try:
                    rendered = edit.rendered(ids)
                except KeyError:
                    continue
                trial = copy.deepcopy(scope)
                rendered.apply(trial)
                if not self._holds_in(trial, facts, body):
                    scope.clear()
                    scope.update(trial)
                    break
            else:
                raise Unsatisfiable(f"{self.id}: no change the decision allows makes it comply")

    def _holds_in(self, scope: Mapping[str, Any], facts: Facts, body: Mapping[str, Any]) -> bool:
        return all(c.holds_for(scope, facts, body) for c in self.conditions)

    def _repairs(self, scope: Mapping[str, Any], facts: Facts) -> Iterator[Edit]:
        for condition in reversed(self.conditions):
            yield from condition.repairs(get_field(scope, condition.field), facts)

    # -- derivation -----------------------------------------------------------------------------
    def cases(self, base: Mapping[str, Any]) -> list[DerivedCase]:
        """The cases that cover this rule's decision, built on `base` (the named body)."""
        scope = self._scope(base)
        firsts = [c.hold_edits(get_field(scope, c.field))[0] for c in self.conditions]
        found: dict[str, DerivedCase] = {}

        def add(label: str, edits: list[Edit], outcome: str, covers: str, field: str) -> None:
            body = self._body(base, edits)
            if all(case.body != body for case in found.values()):  # one request per body
                found.setdefault(label, DerivedCase(label, body, outcome, covers, field))

        for index, condition in enumerate(self.conditions):
            others = firsts[:index] + firsts[index + 1 :]
            base_value = get_field(scope, condition.field)
            for edit in condition.hold_edits(base_value):
                covers = _covers(edit)
                add(f"holds:{edit.label}", [*others, edit], "refused", covers, condition.field)
            for edit in condition.fail_edits(base_value):
                add(
                    f"flips:{edit.label}",
                    [*others, edit],
                    "accepted",
                    _covers(edit),
                    condition.field,
                )
        if self.each is not None:
            for position in POSITIONS:
                body = self._body(base, firsts, position)
                label = f"position:{position}"
                found.setdefault(label, DerivedCase(label, body, "refused", "position"))
        return list(found.values())

    def class_cases(
        self, base: Mapping[str, Any], field_name: str, classes: Sequence[ValueClass]
    ) -> list[DerivedCase]:
        """The deciding requests in every class of one field the rule reads (`field_name` as
        `value_classes` names it): per class, every condition holding and one condition flipped
        (each condition in turn over the classes; never one whose change would replace the
        class's value), every other rule satisfied so that this one decides, and the outcome
        what the decision says of that very body (a dropdown among custom field types is
        refused where the other types are accepted)."""
        facts = ProfileFacts.unrendered()
        base = _plain(base)
        scope = self._scope(base)
        firsts = [c.hold_edits(get_field(scope, c.field))[0] for c in self.conditions]
        counted = next(
            (
                index
                for index, c in enumerate(self.conditions)
                if c.is_ == "count_above" and f"{c.field}[]" == field_name
            ),
            None,
        )
        element = self.each is not None and field_name == f"{self.each}[]"
        inside = field_name.removeprefix(f"{self.each}[].") if self.each else field_name
        # Every other rule satisfied, so that this one decides; where that would change this
        # rule's decision (removing a payment method another customer owns, beside a rule that
        # needs the customer), only the rules about other fields.
        everything = load_rules()
        others = (
            [found for found in everything if found.id != self.id],
            [found for found in everything if not found.fields_read() & self.fields_read()],
        )
        found: dict[str, DerivedCase] = {}
        for index, klass in enumerate(classes):
            if counted is not None:  # the class is what the list is made of
                variant = replace(self.conditions[counted], item=klass.value)
                start: dict[str, Any] = copy.deepcopy(dict(scope))
                holding = [*firsts]
                holding[counted] = variant.hold_edits(MISSING)[0]
                flips = {counted: variant.fail_edits(MISSING)[0]}
            elif element:  # the class is the element the conditions read
                start = copy.deepcopy(dict(klass.value))
                holding = [c.hold_edits(get_field(start, c.field))[0] for c in self.conditions]
                flips = {
                    k: c.fail_edits(get_field(start, c.field))[0]
                    for k, c in enumerate(self.conditions)
                }
            else:  # the class is the value of a field the conditions read, or read inside
                start = copy.deepcopy(dict(scope))
                _set_field(start, inside, copy.deepcopy(klass.value))
                holding, flips = self._around(start, inside, firsts, facts)
            made = [
                ("deciding", self._in_class(base, start, holding, klass, facts, others=others), "")
            ]
            # One flip per class, each condition in turn over the classes (the next one where
            # a flip would replace the class's value or leave the request refused).
            order = [(index + step) % len(self.conditions) for step in range(len(self.conditions))]
            for k in (k for k in order if k in flips):
                edits = [*holding]
                edits[k] = flips[k]
                body = self._in_class(base, start, edits, klass, facts, others=others)
                if body is not None:
                    shown = self.conditions[k].field.rsplit(".", 1)[-1]
                    made.append((f"flips:{shown}", body, self.conditions[k].field))
                    break
            for kind, made_body, condition in made:
                if made_body is None or any(case.body == made_body for case in found.values()):
                    continue
                outcome = "refused" if self.violated(made_body, facts) else "accepted"
                label = f"{klass.label}:{kind}"
                found.setdefault(label, DerivedCase(label, made_body, outcome, "class", condition))
        return list(found.values())

    def _around(
        self, start: Mapping[str, Any], inside: str, firsts: list[Edit], facts: Facts
    ) -> tuple[list[Edit], dict[int, Edit]]:
        """For a class placed at `inside`: the edits that make each condition hold (none for a
        condition on the class's own value, which decides it; a change inside it where the
        class does not make the condition hold already) and the flips that leave the class's
        value in place."""

        def replaces_class(edit: Edit) -> bool:
            names = [*edit.set, *edit.remove]
            return any(name == inside or inside.startswith(name + ".") for name in names)

        holding: list[Edit] = []
        flips: dict[int, Edit] = {}
        for index, condition in enumerate(self.conditions):
            hold = firsts[index]
            on_the_class = condition.field == inside or condition.field.startswith(inside + ".")
            if on_the_class and (condition.holds_for(start, facts) or replaces_class(hold)):
                hold = Edit("as-the-class-is")
            holding.append(hold)
            fail = condition.fail_edits(get_field(start, condition.field))[0]
            if not replaces_class(fail):
                flips[index] = fail
        return holding, flips

    def _in_class(
        self,
        base: Mapping[str, Any],
        start: Mapping[str, Any],
        edits: list[Edit],
        klass: ValueClass,
        facts: ProfileFacts,
        *,
        others: tuple[list[Rule], list[Rule]],
    ) -> dict[str, Any] | None:
        """The request: the class's scope with the edits, in the base, its attributes set where
        the request has their place, and the `others` rules satisfied (every other rule, else
        those about other fields); None when that cannot be without changing this rule's
        decision, or when a request this rule accepts is still refused by another."""
        scope = copy.deepcopy(dict(start))
        for edit in edits:
            edit.apply(scope)
        body = copy.deepcopy(dict(base))
        if self.each is None:
            body = scope
        else:
            _set_field(body, self.each, [scope])
        for name, value in klass.also.items():
            parent = name.rsplit(".", 1)[0] if "." in name else ""
            if not parent or isinstance(get_field(body, parent), dict):
                _set_field(body, name, copy.deepcopy(value))
        wanted = self.violated(body, facts)
        for satisfied in others:
            trial = copy.deepcopy(body)
            try:
                satisfy_all(trial, facts.placeholders, satisfied)
            except Unsatisfiable:
                continue
            if self.violated(trial, facts) != wanted:
                continue
            if not wanted and any(found.violated(trial, facts) for found in others[0]):
                continue
            return trial
        return None

    def _scope(self, base: Mapping[str, Any]) -> Mapping[str, Any]:
        if self.each is None:
            return base
        elements = get_field(base, self.each)
        first = elements[0] if isinstance(elements, list) and elements else {}
        return first if isinstance(first, Mapping) else {}

    def _body(
        self, base: Mapping[str, Any], edits: list[Edit], position: str = ""
    ) -> dict[str, Any]:
        body = copy.deepcopy(dict(base))
        if self.each is None:
            for edit in edits:
                edit.apply(body)
            return body
        element = copy.deepcopy(dict(self._scope(base)))
        for edit in edits:
            edit.apply(element)
        if not position:
            _set_field(body, self.each, [element])
            return body
        fine = dict(self._scope(base))
        slots = [copy.deepcopy(fine) for _ in POSITIONS]
        slots[POSITIONS.index(position)] = element
        _set_field(body, self.each, slots)
        return body


def _covers(edit: Edit) -> str:
    if edit.boundary:
        return "boundary"
    return "null" if edit.label.endswith("=null") else "condition"


def _edits(raw: Any) -> tuple[Edit, ...]:
    return tuple(
        Edit(
            label=str(entry["label"]),
            set=dict(entry.get("set") or {}),
            remove=tuple(entry.get("remove") or ()),
        )
        for entry in raw or ()
    )


@functools.cache
def _document(path: Path) -> Any:
    document = load_yaml(path)
    validate_document(path, document, RULES_SCHEMA_PATH)
    return document


@functools.cache
def load_kinds(path: Path = RULES_PATH) -> dict[str, tuple[str, ...]]:
    """For each kind of id the conditions read, the profile keys that name such ids."""
    return {kind: tuple(keys) for kind, keys in _document(path)["kinds"].items()}


@functools.cache
def load_value_classes(path: Path = RULES_PATH) -> dict[str, list[dict[str, Any]]]:
    """`value_classes`: each field's class sources, as written."""
    return {name: list(sources) for name, sources in _document(path)["value_classes"].items()}


@functools.cache
def load_rules(path: Path = RULES_PATH) -> tuple[Rule, ...]:
    """The rules, in the order the server checks them (the file's order)."""
    document = _document(path)
    rules: list[Rule] = []
    seen: set[str] = set()
    for index, raw in enumerate(document["rules"]):
        if raw["id"] in seen:
            raise DataFileError(path, document["rules"].line_of(index), f"{raw['id']} twice")
        seen.add(raw["id"])
        for name in raw.get("classes") or ():
            if name not in document.get("value_classes", {}):
                line = document["rules"][index].line_of("classes")
                raise DataFileError(path, line, f"{raw['id']}: no value class {name!r}")
        error = raw.get("error") or {}
        rules.append(
            Rule(
                id=raw["id"],
                requirement=raw["requirement"],
                base=raw["base"],
                each=raw.get("each"),
                classes=tuple(raw.get("classes") or ()),
                error_code=error.get("code", "INVALID_REQUEST_BODY"),
                error_message=error.get("message", f"{raw['requirement']}: the request breaks it"),
                error_status=int(error.get("status", 422)),
                conditions=tuple(
                    Condition(
                        field=condition["field"],
                        is_=condition["is"],
                        value=condition.get("value"),
                        example=condition.get("example", MISSING),
                        item=condition.get("item"),
                        holds=_edits(condition.get("holds")),
                        fails=_edits(condition.get("fails")),
                    )
                    for condition in raw["refused_when"]
                ),
            )
        )
    return tuple(rules)


def rule(rule_id: str) -> Rule:
    for found in load_rules():
        if found.id == rule_id:
            return found
    raise KeyError(rule_id)


# -- figures the rest of the code reads from the decisions, instead of restating them ---------
def cart_limit() -> int:
    """The most items a cart may hold (RULE-014)."""
    return int(rule("RULE-014").conditions[0].value)


def satisfy_all(
    body: dict[str, Any], ids: Mapping[str, str], rules: Iterable[Rule] | None = None
) -> None:
    """Make `body` comply with every rule on the target the profile `ids` describes (in place):
    each violated rule repaired in the file's order, again until none refuses it (a repair can
    break an earlier rule: removing a payment method, say). Unsatisfiable when it cannot."""
    chosen = tuple(rules if rules is not None else load_rules())
    facts = ProfileFacts(ids)
    for _ in range(len(chosen) + 1):
        broken = [found for found in chosen if found.violated(body, facts)]
        if not broken:
            return
        for found in broken:
            found.satisfy(body, facts, ids)
    raise Unsatisfiable("the rules' repairs undo each other: " + ", ".join(f.id for f in broken))
