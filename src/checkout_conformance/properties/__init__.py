"""Property-based tests with schemathesis: generated requests against the same target and profile.

- `_generation`: the contract as a schemathesis schema; the plugin gives it the run's seed,
  budget and hooks before collection (`configure_schema`), so no setting is a global.
- `_mapping`: generated bodies rewritten onto the profile's ids and the documented rules.
- `_checks`: the verdict on each answer, worded as the requirement it proves.
- `_cases`: the cases of a run that held, kept per seed and inputs for replay (--cases-cache).
- `_run`: `PropertyRun.check(case)` sends one case through the target's send path and records
  what each requirement made of it, for the certificate.
"""

from typing import TYPE_CHECKING, Any

from ._cases import CaseCache, RecordedCase, cases_key
from ._checks import JUDGED, REQUEST_SCHEMA, judge
from ._run import Progress, PropertyFailure, PropertyRun, limit_requirements

if TYPE_CHECKING:
    from ._generation import (
        PropertySettings,
        configure_schema,
        contract_schema,
        field_alternatives,
        is_contract_schema,
    )

_FROM_GENERATION = frozenset(
    {
        "PropertySettings",
        "configure_schema",
        "contract_schema",
        "field_alternatives",
        "is_contract_schema",
    }
)


def __getattr__(name: str) -> Any:
    """`_generation` (schemathesis and Hypothesis, about half a second) loads when a property
    test asks for it: a run of scenarios only, such as the kill matrix's first run per mutant,
    never pays for it."""
    if name in _FROM_GENERATION:
        from . import _generation

        return getattr(_generation, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "JUDGED",
    "REQUEST_SCHEMA",
    "CaseCache",
    "Progress",
    "PropertyFailure",
    "PropertyRun",
    "PropertySettings",
    "RecordedCase",
    "cases_key",
    "configure_schema",
    "contract_schema",
    "field_alternatives",
    "is_contract_schema",
    "judge",
    "limit_requirements",
]
