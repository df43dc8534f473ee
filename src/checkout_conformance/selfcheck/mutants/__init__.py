"""Mutants: the reference server, each broken in one realistic way.

Every mutant names the requirement it breaks (`target`) and does so the way a hand-written mock
or a buggy backend would: a check skipped, a value coerced, a status changed, a field renamed.
Some faults only show for some combinations of fields or some string contents; only the property
tests can find those. The suite must kill every mutant: a non-zero exit (with `--fail-on-should`)
and a certificate that marks the target requirement failed.

One module per area of the catalog; each hook is registered where it is written
(`_registry.before`, `after`, `edits_body`). Importing this package fills `MUTANTS`.
"""

from __future__ import annotations

from . import acceptance, auth, checkout_url, response, robustness, rules, validation
from ._registry import MUTANTS, Mutant

AREAS = (auth, validation, rules, acceptance, response, checkout_url, robustness)

__all__ = ["AREAS", "MUTANTS", "Mutant"]
