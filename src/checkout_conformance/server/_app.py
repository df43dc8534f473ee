"""The reference implementation of `POST /checkouts` as a plain ASGI application.

Order of decisions, each answered with the documented error body `{code, message}`:
path (404) → method (405; OPTIONS 204) → bearer authentication (401, before anything about the
body) → rate limit (429, only when emulated) → content type (415) → size (413, without reading an
oversized body) → JSON syntax (400) → JSON object (422) → contract schema (422) → business rules
(422) → 200 with the session. Nothing a client sends can produce a 5xx.

It is written directly against ASGI, without a framework, because it sits on the hot path of every
conformance run and benchmark; the validators are compiled once when the app is built.
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
import os
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from ..contract import Contract, is_charge, load_contract
from ..profile import Profile, reference_profile
from . import _errors as errors
from ._errors import ApiError
from ._ratelimit import TIER_0, UNAUTHENTICATED, Decision, RateLimiter
from ._rules import Rule, check_rules, default_rules
from ._store import Store

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

logger = logging.getLogger("checkout_conformance.server")

DEFAULT_API_KEY = "sk_test_checkout_conformance_reference"
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
CHECKOUT_HOST = "https://test.checkout.dodopayments.com"
REQUEST_SCHEMA = "CreateCheckoutSessionRequest"
MAX_MESSAGE_CHARS = 300
_JSON_HEADERS = [(b"content-type", b"application/json")]
_ALLOW = (b"allow", b"POST, OPTIONS")
_ALLOW_GET = (b"allow", b"GET, OPTIONS")
MAX_SESSIONS = 10_000  # sessions kept for GET /checkouts/{id}, the most recent first


@dataclass(frozen=True)
class ServerConfig:
    """How a reference server behaves; every field has the documented default."""

    api_key: str = DEFAULT_API_KEY
    profile: Profile = field(default_factory=reference_profile)
    rate_limit: bool = False
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    checkout_host: str = CHECKOUT_HOST


_NOT_BASE62 = str.maketrans("", "", "+/=")


def new_id(prefix: str, length: int = 21) -> str:
    """A random id in the upstream style (`cks_` + 21 letters and digits, 125 random bits)."""
    while True:
        text = base64.b64encode(os.urandom(24)).decode().translate(_NOT_BASE62)
        if len(text) >= length:  # 32 characters less the few '+' and '/' removed
            return prefix + text[:length]


def _error_body(error: ApiError) -> bytes:
    message = error.message
    if len(message) > MAX_MESSAGE_CHARS:
        message = message[: MAX_MESSAGE_CHARS - 1] + "…"
    return orjson.dumps({"code": error.code, "message": message})


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")


def parse_json(raw: bytes) -> Any:
    """Parse a request body; ValueError for anything that is not JSON.

    orjson is fast and strict (UTF-8, nesting), but refuses integers beyond 64 bits, which are
    valid JSON: those fall back to the standard parser so that they reach validation (422)
    instead of being called malformed (400).
    """
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if "integer" not in str(exc).lower() and "number" not in str(exc).lower():
            raise ValueError(str(exc)) from None
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise ValueError(str(exc)[:200]) from None


class ReferenceApp:
    """The ASGI application. `ReferenceApp(ServerConfig(...))`, or `create_app(...)`."""

    def __init__(
        self, config: ServerConfig | None = None, contract: Contract | None = None
    ) -> None:
        self.config = config or ServerConfig()
        # Validation against the contract, with int32 formats enforced as a typed server would.
        self.contract = (contract or load_contract()).with_int32_bounds()
        self.store = Store.from_profile(self.config.profile)
        self._validator = self.contract.validator(REQUEST_SCHEMA)
        self._rules: list[Rule] = default_rules()
        self._limiter = RateLimiter() if self.config.rate_limit else None
        self._key = self.config.api_key.encode()
        # The sessions this server created, for `GET /checkouts/{id}` (the SDKs' `retrieve`):
        # the most recent MAX_SESSIONS, so a long-lived mock stays bounded in memory.
        self._sessions: OrderedDict[str, dict[str, Any]] = OrderedDict()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            try:
                await self._http(scope, receive, send)
            except Exception:  # a bug must still answer with the documented body, and be logged
                logger.exception(
                    "internal error while handling %s %s", scope["method"], scope["path"]
                )
                await self._send_error(
                    send, ApiError(500, errors.INTERNAL_SERVER_ERROR, "Something went wrong :(")
                )
        elif scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return

    # -- the request pipeline ----------------------------------------------------------------
    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        session_id = path.removeprefix("/checkouts/").removesuffix("/")
        if path.startswith("/checkouts/") and session_id and "/" not in session_id:
            await self._session_status(scope, send, session_id)
            return
        if path not in ("/checkouts", "/checkouts/"):
            await self._send_error(send, ApiError(404, errors.NOT_FOUND, "Item not found"))
            return
        method = scope["method"]
        if method == "OPTIONS":
            await self._send(send, 204, b"", [_ALLOW])
            return
        if method != "POST":
            await self._send_error(
                send,
                ApiError(405, errors.METHOD_NOT_ALLOWED, f"{method} is not allowed on /checkouts"),
                [_ALLOW],
            )
            return

        authorization = content_type = content_length = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value
            elif name == b"content-type":
                content_type = value
            elif name == b"content-length":
                content_length = value

        authenticated = self._authenticated(authorization)
        extra: list[tuple[bytes, bytes]] = []
        if self._limiter is not None:
            decision = self._rate_limit(scope, authenticated)
            extra = decision.headers()
            if not decision.allowed:
                await self._send_error(
                    send, ApiError(429, errors.TOO_MANY_REQUESTS, "Rate limit exceeded"), extra
                )
                return
        if not authenticated:
            await self._refuse_credentials(send, authorization, extra)
            return

        try:
            body = await self._read_json(content_type, content_length, receive)
            session = self._create_session(body)
        except ApiError as error:
            await self._send_error(send, error, extra)
            return
        await self._send(send, 200, orjson.dumps(session), [*_JSON_HEADERS, *extra])

    async def _refuse_credentials(
        self, send: Send, authorization: bytes | None, extra: list[tuple[bytes, bytes]]
    ) -> None:
        challenge = b'Bearer realm="dodopayments"'
        if authorization is not None:
            challenge += b', error="invalid_token"'
        await self._send_error(
            send,
            ApiError(401, errors.UNAUTHORIZED, errors.UNAUTHORIZED_MESSAGE),
            [*extra, (b"www-authenticate", challenge)],
        )

    async def _session_status(self, scope: Scope, send: Send, session_id: str) -> None:
        """`GET /checkouts/{id}` (upstream `get_checkout_sessions_status`): a session this server
        created, in the `GetCheckoutSessionsStatus` shape; 404 with the documented body for any
        other id; the same authentication as `POST /checkouts`."""
        method = scope["method"]
        if method == "OPTIONS":
            await self._send(send, 204, b"", [_ALLOW_GET])
            return
        if method != "GET":
            message = f"{method} is not allowed on /checkouts/{{id}}"
            await self._send_error(
                send, ApiError(405, errors.METHOD_NOT_ALLOWED, message), [_ALLOW_GET]
            )
            return
        authorization = next((v for n, v in scope["headers"] if n == b"authorization"), None)
        if not self._authenticated(authorization):
            await self._refuse_credentials(send, authorization, [])
            return
        status = self._sessions.get(session_id)
        if status is None:
            await self._send_error(send, ApiError(404, errors.NOT_FOUND, "Item not found"))
            return
        await self._send(send, 200, orjson.dumps(status), list(_JSON_HEADERS))

    def _remember(self, session: dict[str, Any], body: dict[str, Any]) -> None:
        given = body.get("customer")
        customer: dict[str, Any] = given if isinstance(given, dict) else {}
        charged = is_charge(body) and session["payment_id"] is not None
        self._sessions[session["session_id"]] = {
            "id": session["session_id"],
            "created_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "customer_email": customer.get("email"),
            "customer_name": customer.get("name"),
            "payment_id": session["payment_id"],
            # A charge of a saved payment method is processed at once; a confirmed session
            # without one waits for the customer's payment method.
            "payment_status": "succeeded"
            if charged
            else "requires_payment_method"
            if session["payment_id"] is not None
            else None,
        }
        while len(self._sessions) > MAX_SESSIONS:
            self._sessions.popitem(last=False)

    def _authenticated(self, authorization: bytes | None) -> bool:
        if authorization is None:
            return False
        scheme, _, token = authorization.partition(b" ")
        token = token.strip(b" \t")
        # RFC 7235 §2.1: the scheme is case-insensitive; the token is compared in constant time.
        return scheme.lower() == b"bearer" and bool(token) and hmac.compare_digest(token, self._key)

    def _rate_limit(self, scope: Scope, authenticated: bool) -> Decision:
        assert self._limiter is not None
        if authenticated:
            return self._limiter.check("key", TIER_0)
        client = scope.get("client") or ("unknown", 0)
        return self._limiter.check(f"ip:{client[0]}", UNAUTHENTICATED)

    async def _read_json(
        self, content_type: bytes | None, content_length: bytes | None, receive: Receive
    ) -> Any:
        media_type = (content_type or b"").split(b";", 1)[0].strip().lower()
        if media_type != b"application/json":
            shown = (content_type or b"(none)").decode("latin-1")[:100]
            raise ApiError(
                415,
                errors.UNSUPPORTED_MEDIA_TYPE,
                f"Expected Content-Type: application/json, got {shown}",
            )
        limit = self.config.max_body_bytes
        too_large = ApiError(
            413, errors.PAYLOAD_TOO_LARGE, f"The request body is larger than {limit} bytes"
        )
        if content_length is not None and content_length.isdigit() and int(content_length) > limit:
            raise too_large
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ApiError(400, errors.INVALID_REQUEST_BODY, "The client went away")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise too_large
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        try:
            return parse_json(b"".join(chunks))
        except ValueError as exc:
            raise ApiError(
                400,
                errors.INVALID_REQUEST_BODY,
                f"{errors.INVALID_BODY_MESSAGE} Malformed JSON: {exc}",
            ) from None

    def _create_session(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ApiError.invalid_body("The request body must be a JSON object")
        try:
            valid = self._validator.is_valid(body)
        except (ValueError, OverflowError):  # numbers the validator cannot represent
            raise ApiError.invalid_body("a number is out of range") from None
        if not valid:
            first = self.contract.errors(REQUEST_SCHEMA, body, limit=1)[0]
            raise ApiError.invalid_body(str(first))
        error = check_rules(self._rules, body, self.store)
        if error is not None:
            raise error
        return self._session(body)

    def _session(self, body: dict[str, Any]) -> dict[str, Any]:
        session_id = new_id("cks_")
        charged = is_charge(body)
        confirmed = body.get("confirm") is True
        if charged:
            checkout_url = None  # the charge is processed at once: there is no page to visit
        elif body.get("short_link") is True:
            checkout_url = f"{self.config.checkout_host}/buy/{new_id('', 12)}"
        else:
            checkout_url = f"{self.config.checkout_host}/session/{session_id}"
        payment_id = new_id("pay_") if confirmed else None
        session = {
            "session_id": session_id,
            "checkout_url": checkout_url,
            "payment_id": payment_id,
            "client_secret": f"{payment_id}_secret_{new_id('', 24)}" if payment_id else None,
            "publishable_key": "pk_test_checkout_conformance_reference" if confirmed else None,
        }
        self._remember(session, body)
        return session

    # -- sending -----------------------------------------------------------------------------
    async def _send_error(
        self, send: Send, error: ApiError, headers: list[tuple[bytes, bytes]] | None = None
    ) -> None:
        await self._send(send, error.status, _error_body(error), [*_JSON_HEADERS, *(headers or [])])

    @staticmethod
    async def _send(
        send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]
    ) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [*headers, (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})


def create_app(
    api_key: str = DEFAULT_API_KEY,
    profile: Profile | None = None,
    rate_limit: bool = False,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> ReferenceApp:
    """Build the reference server as an ASGI app, for uvicorn or any other ASGI server."""
    return ReferenceApp(
        ServerConfig(
            api_key=api_key,
            profile=profile or reference_profile(),
            rate_limit=rate_limit,
            max_body_bytes=max_body_bytes,
        )
    )
