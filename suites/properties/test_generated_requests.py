"""Property-based tests: requests generated from the contract, against the suite's target.

Schemathesis generates valid and invalid bodies from `contracts/checkouts.openapi.yaml`; valid
ones are rewritten onto the profile's real ids and rules (some become charges with its saved
payment method), invalid ones keep their defect. Each case goes through the run's one send path
and every answer is judged as the catalog words it: ROB-001 (no 5xx), ROB-002 (invalid is
rejected), ROB-003 (valid is accepted, or rejected with the documented error body), RESP-001/004
(the shape of an accepted answer), VAL-015 (the error body) and CURL-001/003 (the checkout_url
rule). The budget is `--examples N` and the seed, printed in the header, is `--conformance-seed`.
"""

from __future__ import annotations

from typing import Any

import hypothesis

from checkout_conformance.properties import PropertyRun, contract_schema

# Configured with the run's seed, budget (--examples) and profile by the plugin at collection.
schema = contract_schema()


@schema.parametrize()
@hypothesis.settings(
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
    database=None,
)
def test_generated_requests(case: Any, conformance_properties: PropertyRun) -> None:
    conformance_properties.check(case)
