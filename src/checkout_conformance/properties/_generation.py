"""Generation: the contract as a schemathesis schema, with this run's seed, budget and hooks.

Positive cases are rewritten onto the profile and every documented rule (two in three become
charges with the profile's saved payment method, each with a random subset of the optional
fields at contract-derived valid values, half with a class of strings that break layers below
in every free-text field); negative cases only get their ids replaced.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import hypothesis.strategies as st
import schemathesis

from .. import _resources
from .._strings import constrained_names, place_strings
from ..contract import Contract, load_contract
from ._checks import REQUEST_SCHEMA
from ._mapping import business_valid, real_ids


@dataclass(frozen=True)
class PropertySettings:
    """What the plugin gives the schema before the property tests are collected."""

    examples: int
    seed: int
    profile_ids: dict[str, str]
    rich_fields: dict[str, Any]  # valid values for optional fields, on the profile's ids
    charges_allowed: bool = True  # False on a live target without --allow-live-charges
    # The classes of strings that break layers below (label, strings): half of the valid
    # generated requests carry one in every free-text field and as metadata keys.
    breaking_strings: tuple[tuple[str, tuple[str, ...]], ...] = ()


SETTINGS_ATTRIBUTE = "_checkout_conformance_settings"


def contract_schema() -> Any:
    """The contract as a schemathesis schema, not yet configured for a run.

    A suite module creates it at import (schemathesis parametrizes the test from it); the plugin
    configures it with the run's settings (`configure_schema`) before the test is collected, so
    that no setting travels through a module-level global.
    """
    schema = schemathesis.openapi.from_path(_resources.CONTRACT_PATH)
    setattr(schema, SETTINGS_ATTRIBUTE, None)
    return schema


def is_contract_schema(value: Any) -> bool:
    """Whether `value` came from `contract_schema` (and so waits for `configure_schema`)."""
    return hasattr(value, SETTINGS_ATTRIBUTE)


def configure_schema(schema: Any, settings: PropertySettings) -> None:
    """Give the schema this run's seed, budget and generation hooks (once; later calls keep the
    first settings, as a schema is collected once per process)."""
    if getattr(schema, SETTINGS_ATTRIBUTE, None) is not None:
        return
    setattr(schema, SETTINGS_ATTRIBUTE, settings)
    schema.config.generation.update(
        modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE],
        max_examples=settings.examples,
        with_security_parameters=False,  # the key is ours to send; generated ones prove nothing
    )
    schema.config.seed = settings.seed
    ids = settings.profile_ids

    # Leaving a field out comes last: Hypothesis favours the first choices, and combinations of
    # set fields are what the hand-written scenarios cannot reach.
    omit = object()
    extra_fields = st.fixed_dictionaries(
        {
            name: st.sampled_from([*values, omit])
            for name, values in field_alternatives(load_contract(), settings.rich_fields).items()
        }
    ).map(lambda drawn: {name: value for name, value in drawn.items() if value is not omit})

    constrained = constrained_names(load_contract())
    classes = settings.breaking_strings
    breaking: st.SearchStrategy[tuple[str, tuple[str, ...]] | None] = (
        st.booleans().flatmap(lambda use: st.sampled_from(classes) if use else st.none())
        if classes
        else st.none()
    )

    def flatmap_case(context: Any, case: Any) -> Any:
        original = case.body
        if case.meta is not None and case.meta.generation.mode.is_positive:

            def as_business_case(choice: tuple[bool, dict[str, Any], Any]) -> Any:
                charge, extra, strings = choice
                merged = {**original, **extra} if isinstance(original, dict) else original
                if strings is not None and isinstance(merged, dict):
                    merged = place_strings(merged, list(strings[1]), constrained)
                case.body = business_valid(merged, ids, charge)
                return case

            # Two cases in three are charges; each also gets a random subset of the optional
            # fields with contract-derived valid values, so that combinations are explored, and
            # half of them a class of strings that break layers below in every text field.
            charges = [True, True, False] if settings.charges_allowed else [False]
            return st.tuples(st.sampled_from(charges), extra_fields, breaking).map(as_business_case)
        case.body = real_ids(original, ids)
        return st.just(case)

    schema.hook(flatmap_case)  # schemathesis finds the hook by its name


def field_alternatives(contract: Contract, rich_fields: dict[str, Any]) -> dict[str, list[Any]]:
    """For each optional top-level field: valid values to combine, read from the contract.

    The profile-based value of the `full` body, both booleans, null where the field is nullable,
    and a few enum values; the generated value is always a possibility too (the field left as is).
    """
    alternatives: dict[str, list[Any]] = {}
    for field_ in contract.fields(REQUEST_SCHEMA):
        name = field_.dotted
        if name in ("product_cart", "payment_method_id", "confirm", "customer"):
            continue  # the charge decides these
        values: list[Any] = []
        if name in rich_fields:
            values.append(rich_fields[name])
        if field_.types == {"boolean"}:
            values += [True, False]
        if field_.enum and field_.types == {"string"}:
            values += contract.enum_values(field_.enum)[:3]
        if field_.nullable:
            values.append(None)
        unique: list[Any] = []
        for value in values:
            if value not in unique:
                unique.append(value)
        if unique:
            alternatives[name] = unique
    return alternatives
