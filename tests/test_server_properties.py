"""Schemathesis against the reference server's own contract: generated valid and invalid requests.

No generated request, valid or not, may get a 5xx; invalid ones must be rejected; every response
must match the contract (bodies, statuses, content types); authentication must be enforced.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from checkout_conformance import _resources

from .conftest import RunningServer

schema = schemathesis.openapi.from_path(_resources.CONTRACT_PATH)
schema.config.generation.update(
    modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]
)
CHECKS = [
    not_a_server_error,
    negative_data_rejection,
    response_schema_conformance,
    content_type_conformance,
    status_code_conformance,
    ignored_auth,
]


@schema.parametrize()
@settings(
    max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)
def test_reference_server_meets_its_own_contract(
    case: schemathesis.Case[Any], reference_server: RunningServer
) -> None:
    case.call_and_validate(
        base_url=reference_server.base_url, headers=reference_server.auth(), checks=CHECKS
    )
