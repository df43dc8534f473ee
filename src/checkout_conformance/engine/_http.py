"""Requests and responses: turning a rendered request spec into an HTTP exchange, and back to text.

One `httpx.Client` per process sends everything (keep-alive, no redirects followed, no proxy from
the environment, a read cap on response bodies). An `Exchange` records what was sent and what
came back; it renders itself for failure messages and Allure, and as a `curl` line, always
through the redactor.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from .. import __version__
from ..redact import SHELL_REFERENCE, Redactor, Secret
from ._bodies import apply_edits
from ._model import RequestSpec

MAX_RESPONSE_BYTES = 1024 * 1024
SHOWN_BODY_CHARS = 2000
NOT_JSON = object()


class TransportError(Exception):
    """The exchange did not complete (refused, timed out, cut off); the message says how."""


@dataclass(frozen=True)
class PreparedRequest:
    method: str
    url: str
    headers: list[tuple[str, str]]
    body: bytes | None

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


@dataclass
class Exchange:
    """A request and what came back (or why nothing did)."""

    request: PreparedRequest
    status: int | None = None
    headers: httpx.Headers = field(default_factory=httpx.Headers)
    body: bytes = b""
    truncated: bool = False
    elapsed_ms: float = 0.0
    error: str | None = None
    _json: Any = field(default=None, repr=False)

    @property
    def json(self) -> Any:
        """The parsed body, or NOT_JSON."""
        if self._json is None:
            try:
                self._json = json.loads(self.body) if self.body else NOT_JSON
            except (ValueError, RecursionError):
                self._json = NOT_JSON
        return self._json

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    # -- rendering (always redacted) ---------------------------------------------------------
    def render_request(self, redactor: Redactor) -> str:
        lines = [f"{self.request.method} {self.request.url}"]
        lines += [f"{name}: {value}" for name, value in self.request.headers]
        if self.request.body is not None:
            lines += ["", _shorten(self.request.body.decode("utf-8", errors="replace"))]
        return redactor.text("\n".join(lines))

    def render_response(self, redactor: Redactor) -> str:
        if self.status is None:
            return redactor.text(f"(no response: {self.error})")
        lines = [f"HTTP {self.status}  ({self.elapsed_ms:.0f} ms)"]
        lines += [f"{name}: {value}" for name, value in self.headers.items()]
        shown = _shorten(self.text) + (" … (response cut at 1 MiB)" if self.truncated else "")
        lines += ["", shown]
        return redactor.text("\n".join(lines))

    def curl(self, redactor: Redactor) -> str:
        return curl_line(self.request, redactor)


def _shorten(text: str, limit: int = SHOWN_BODY_CHARS) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]} … ({len(text) - limit} more characters)"


def _single_quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def curl_line(request: PreparedRequest, redactor: Redactor) -> str:
    """One shell line that repeats the request, with the key read from the environment."""
    parts = ["curl", "-sS", "-i", "-X", request.method, _single_quote(request.url)]
    for name, value in request.headers:
        if name.lower() in ("content-length", "user-agent", "accept-encoding"):
            continue
        parts += ["-H", _single_quote(f"{name}: {value}")]
    if request.body is not None:
        body = request.body.decode("utf-8", errors="replace")
        if len(body) > SHOWN_BODY_CHARS:
            parts += ["--data-binary", f"@body.json  # body of {len(request.body)} bytes not shown"]
        else:
            parts += ["--data-raw", _single_quote(body)]
    line = " ".join(parts)
    # The raw key sits inside single quotes: close them, expand the variable, reopen.
    quoted = redactor.text(line).replace(SHELL_REFERENCE, "'\"" + SHELL_REFERENCE + "\"'")
    return quoted.replace("\"'' ", '" ').removesuffix("''")


def encode_body(value: Any) -> bytes:
    """JSON as a client would send it; big integers and non-ASCII text survive."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def prepare(
    spec: RequestSpec,
    rendered: Mapping[str, Any],
    body_base: Any,
    base_url: str,
    api_key: Secret,
) -> PreparedRequest:
    """Build the request a step sends. `rendered` is the step's request with variables resolved."""
    url = base_url.rstrip("/") + str(rendered.get("path", spec.path))
    query = dict(rendered.get("query") or {})
    headers: dict[str, str | None] = {
        "Accept": "application/json",
        "User-Agent": f"checkout-conformance/{__version__}",
    }
    body: bytes | None = None
    if spec.raw is not None:
        body = str(rendered["raw"]).encode("utf-8")
    elif spec.body is not None:
        body_spec = rendered["body"]
        value = body_base if isinstance(body_spec, str) else apply_edits(body_base, body_spec)
        body = encode_body(value)
    if body is not None:
        headers["Content-Type"] = rendered.get("content_type") or "application/json"

    auth = rendered.get("auth", "valid")
    key = api_key.reveal()
    if auth == "valid":
        headers["Authorization"] = f"Bearer {key}"
    elif isinstance(auth, Mapping):
        if "authorization" in auth:
            headers["Authorization"] = str(auth["authorization"])
        elif "query" in auth:
            query[str(auth["query"])] = key
        elif "header" in auth:
            headers[str(auth["header"])] = key
        elif "cookie" in auth:
            headers["Cookie"] = f"{auth['cookie']}={key}"
    for name, value in (rendered.get("headers") or {}).items():
        existing = next((k for k in headers if k.lower() == str(name).lower()), None)
        if existing is not None:
            del headers[existing]
        if value is not None:
            headers[str(name)] = str(value)
    if query:
        url += ("&" if "?" in url else "?") + str(httpx.QueryParams(query))
    return PreparedRequest(
        method=str(rendered.get("method", spec.method)).upper(),
        url=url,
        headers=[(name, value) for name, value in headers.items() if value is not None],
        body=body,
    )


def new_client(timeout: float) -> httpx.Client:
    return httpx.Client(
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
        trust_env=False,
        headers={"Accept-Encoding": "identity"},
        limits=httpx.Limits(max_connections=10, max_keepalive_connections=10),
    )


def send(
    client: httpx.Client, request: PreparedRequest, deadline_s: float | None = None
) -> Exchange:
    """Send one request; transport failures are recorded, never raised.

    `deadline_s` bounds the whole exchange: a server that drips its answer a byte at a time never
    trips a per-read timeout, so the body loop checks the total time too.
    """
    exchange = Exchange(request)
    started = time.perf_counter()
    try:
        with client.stream(
            request.method, request.url, headers=request.headers, content=request.body
        ) as response:
            exchange.status = response.status_code
            exchange.headers = response.headers
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_RESPONSE_BYTES:
                    exchange.truncated = True
                    break
                if deadline_s is not None and time.perf_counter() - started > deadline_s:
                    exchange.error = f"the response was not complete after {deadline_s:g} s"
                    exchange.body = b"".join(chunks)
                    exchange.status = None
                    return exchange
            exchange.body = b"".join(chunks)[:MAX_RESPONSE_BYTES]
    except httpx.TimeoutException as exc:
        exchange.status = None  # headers may have come, but no complete response did
        exchange.error = f"timed out ({type(exc).__name__})"
    except httpx.HTTPError as exc:
        exchange.status = None
        exchange.error = f"{type(exc).__name__}: {exc}"
    exchange.elapsed_ms = (time.perf_counter() - started) * 1000
    return exchange
