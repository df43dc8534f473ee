"""What the mutants share: reading a request, editing its body, refusing it the documented way,
and the limits they break, taken from the contract and the server rather than restated."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from ...contract import SCHEMA_PREFIX, load_contract
from ...server import ServerConfig, errors
from .._rewrite import Answer, Before, Request, json_answer

BodyEdit = Callable[[dict[str, Any], ServerConfig], None]


def auth_header(request: Request) -> str:
    return request.headers.get(b"authorization", b"").decode("latin-1")


def with_valid_auth(request: Request, config: ServerConfig) -> Request:
    """The request as if it had carried the right key (a mutant that lets it in)."""
    request.headers[b"authorization"] = f"Bearer {config.api_key}".encode()
    return request


def json_body(request: Request) -> dict[str, Any] | None:
    return request.body if isinstance(request.body, dict) else None


def edit_body(edit: BodyEdit) -> Before:
    """A `before` hook that rewrites an authenticated JSON object body before validation."""

    def before(request: Request, config: ServerConfig) -> Request | None:
        body = json_body(request)
        if body is None or auth_header(request) != f"Bearer {config.api_key}":
            return None
        request.body = copy.deepcopy(body)
        edit(request.body, config)
        return request

    return before


def refuse(
    request: Request,
    message: str,
    *,
    code: str = errors.INVALID_REQUEST_BODY,
    status: int = 422,
) -> Answer:
    """A refusal with the documented `{code, message}` body (a mutant that is too strict)."""
    return json_answer(request, status, {"code": code, "message": message})


def ok_body(answer: Answer) -> dict[str, Any] | None:
    """The body of an accepted session, or None."""
    return answer.body if answer.status == 200 and isinstance(answer.body, dict) else None


def requested_body(answer: Answer) -> dict[str, Any]:
    return answer.request.body if isinstance(answer.request.body, dict) else {}


def contract_max_items(schema_name: str, field: str | None = None) -> int:
    """The contract's `maxItems` for a request array: a named array schema, or a field of one."""
    contract = load_contract()
    schema = contract.resolve({"$ref": SCHEMA_PREFIX + schema_name})
    if field is not None:
        schema = contract.resolve(schema)["properties"][field]
    for branch in (schema, *schema.get("anyOf", ()), *schema.get("oneOf", ())):
        limit = contract.resolve(branch).get("maxItems")
        if isinstance(limit, int):
            return limit
    raise LookupError(f"the contract sets no maxItems on {schema_name} {field or ''}".strip())
