"""Authentication mutants (AUTH-*): keys taken from the wrong place, schemes, refusals."""

from __future__ import annotations

import base64
import urllib.parse

from ...server import ServerConfig, errors
from .._rewrite import Answer, Request
from ._helpers import auth_header, json_body, refuse, with_valid_auth
from ._registry import after, before


@before("auth-missing-header-accepted", "AUTH-001", "no Authorization header is anonymous access")
def _no_header_is_anonymous_ok(request: Request, config: ServerConfig) -> Request | None:
    return with_valid_auth(request, config) if b"authorization" not in request.headers else None


@before("auth-any-scheme", "AUTH-002", "the key is taken from any scheme (Basic, Token, bare)")
def _any_scheme(request: Request, config: ServerConfig) -> Request | None:
    token = auth_header(request).split(" ")[-1]
    if token == config.api_key or token == _b64(config.api_key):
        return with_valid_auth(request, config)
    return None


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@before("auth-empty-bearer", "AUTH-003", "`Bearer` with no token passes")
def _empty_bearer_ok(request: Request, config: ServerConfig) -> Request | None:
    return (
        with_valid_auth(request, config)
        if auth_header(request).strip().lower() == "bearer"
        else None
    )


@before("auth-any-bearer-token", "AUTH-004", "any non-empty bearer token passes")
def _any_bearer_ok(request: Request, config: ServerConfig) -> Request | None:
    scheme, _, token = auth_header(request).partition(" ")
    return (
        with_valid_auth(request, config) if scheme.lower() == "bearer" and token.strip() else None
    )


@before("auth-key-anywhere", "AUTH-005", "the key is also read from X-API-Key, cookies, the query")
def _key_anywhere(request: Request, config: ServerConfig) -> Request | None:
    places = [request.headers.get(b"x-api-key", b""), request.headers.get(b"cookie", b"")]
    if any(config.api_key.encode() in place for place in places) or config.api_key in request.query:
        return with_valid_auth(request, config)
    return None


@after("auth-403-without-header", "AUTH-006", "403 instead of 401 when the header is missing")
def _forbidden_without_header(answer: Answer) -> None:
    if answer.status == 401 and b"authorization" not in answer.request.headers:
        answer.status = 403


@before("auth-after-validation", "AUTH-007", "the body is validated before the credentials")
def _validate_before_auth(request: Request, config: ServerConfig) -> Answer | None:
    if auth_header(request) == f"Bearer {config.api_key}":
        return None
    body = request.body
    if not isinstance(body, dict) or not isinstance(body.get("product_cart"), list):
        return refuse(request, "product_cart is required")
    return None


@after("auth-echoes-token", "AUTH-008", "the 401 message repeats the presented token")
def _echo_token(answer: Answer) -> None:
    if answer.status == 401 and isinstance(answer.body, dict):
        answer.body["message"] = f"Invalid token: {auth_header(answer.request)}"


@before("auth-case-sensitive-scheme", "AUTH-009", "`bearer` in lower case is refused")
def _case_sensitive_scheme(request: Request, config: ServerConfig) -> Answer | None:
    if auth_header(request).startswith(("bearer ", "BEARER ", "BeArEr ")):
        return refuse(request, "Use the Bearer scheme", code=errors.UNAUTHORIZED, status=401)
    return None


def _bearer_token(request: Request) -> str | None:
    scheme, _, token = auth_header(request).partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


@before("auth-key-case-insensitive", "AUTH-004", "the key is compared without regard to case")
def _key_case_insensitive(request: Request, config: ServerConfig) -> Request | None:
    token = _bearer_token(request)
    if token is not None and token.lower() == config.api_key.lower():
        return with_valid_auth(request, config)
    return None


@before("auth-key-prefix-accepted", "AUTH-004", "a prefix of the key (8 characters or more) passes")
def _key_prefix_accepted(request: Request, config: ServerConfig) -> Request | None:
    token = _bearer_token(request)
    if token is not None and len(token) >= 8 and config.api_key.startswith(token):
        return with_valid_auth(request, config)
    return None


@before(
    "auth-key-last-character-ignored",
    "AUTH-004",
    "keys are compared without their last character (an off-by-one slice)",
)
def _key_last_character_ignored(request: Request, config: ServerConfig) -> Request | None:
    token = _bearer_token(request)
    key = config.api_key
    if token is not None and len(token) == len(key) and token[:-1] == key[:-1]:
        return with_valid_auth(request, config)
    return None


@before(
    "auth-key-any-environment",
    "AUTH-004",
    "a live key is taken for the test key of the same account",
)
def _key_any_environment(request: Request, config: ServerConfig) -> Request | None:
    token = _bearer_token(request)
    if token is None:
        return None
    prefixes = ("sk_test_", "sk_live_")
    both_keys = token.startswith(prefixes) and config.api_key.startswith(prefixes)
    if both_keys and token[8:] == config.api_key[8:]:
        return with_valid_auth(request, config)
    return None


# -- the key in places the first four never looked (RFC 6750, API gateways, body fields) -------
def _query_value(request: Request, name: str) -> str | None:
    values = urllib.parse.parse_qs(request.query).get(name)
    return values[0] if values else None


@before(
    "auth-key-in-access-token-query",
    "AUTH-005",
    "the key is read from the `access_token` query parameter (RFC 6750 section 2.3)",
)
def _key_in_access_token_query(request: Request, config: ServerConfig) -> Request | None:
    if _query_value(request, "access_token") == config.api_key:
        return with_valid_auth(request, config)
    return None


@before(
    "auth-key-in-form-body",
    "AUTH-005",
    "the key is read from a form-encoded `access_token` body parameter (RFC 6750 section 2.2)",
)
def _key_in_form_body(request: Request, config: ServerConfig) -> Answer | Request | None:
    content_type = request.headers.get(b"content-type", b"").decode("latin-1")
    if not content_type.startswith("application/x-www-form-urlencoded"):
        return None
    form = urllib.parse.parse_qs(request.raw_body.decode("latin-1"))
    if form.get("access_token") == [config.api_key]:
        # Authenticated; then the body is not JSON: the server's ordinary 415, not a 401.
        return refuse(request, "Content-Type must be application/json", status=415)
    return None


@before(
    "auth-key-in-json-body",
    "AUTH-005",
    "the key is read from an `api_key` field of the JSON body",
)
def _key_in_json_body(request: Request, config: ServerConfig) -> Request | None:
    body = json_body(request)
    if body is not None and body.get("api_key") == config.api_key:
        return with_valid_auth(request, config)
    return None


@before(
    "auth-key-in-proxy-authorization",
    "AUTH-005",
    "`Proxy-Authorization: Bearer KEY` is taken for the Authorization header",
)
def _key_in_proxy_authorization(request: Request, config: ServerConfig) -> Request | None:
    proxy = request.headers.get(b"proxy-authorization", b"").decode("latin-1")
    if proxy == f"Bearer {config.api_key}":
        return with_valid_auth(request, config)
    return None


@before(
    "auth-key-in-gateway-header",
    "AUTH-005",
    "the key is read from `X-Auth-Token`, as some API gateways pass it on",
)
def _key_in_gateway_header(request: Request, config: ServerConfig) -> Request | None:
    if request.headers.get(b"x-auth-token", b"").decode("latin-1") == config.api_key:
        return with_valid_auth(request, config)
    return None
