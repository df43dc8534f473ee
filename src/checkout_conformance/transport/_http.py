"""Requests and responses: turning a rendered request spec into an HTTP exchange, and back to text.

One `httpx.Client` per process sends everything (keep-alive, no redirects followed, no proxy from
the environment, a read cap on response bodies, and a deadline per exchange that holds while
connecting, while the headers arrive and while the body does). An `Exchange` records what was
sent and what came back; it renders itself for failure messages and Allure, and as a `curl`
line, always through the redactor.
"""

from __future__ import annotations

import contextlib
import contextvars
import http.cookiejar
import json
import ssl
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from ..redact import SHELL_REFERENCE, Redactor
from . import _framing

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
    framing: str | None = None  # a deliberately wrong framing (transport/_framing.py), else None

    @property
    def line(self) -> str:
        """`POST /checkouts?...`: the method and the target without the host (certificates
        name the host once, in `implementation`)."""
        parts = urlsplit(self.url)
        return f"{self.method} {parts.path or '/'}" + (f"?{parts.query}" if parts.query else "")

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
    timed_out: bool = False
    attempts: int = 1  # sends it took (more than one after a 429 that was waited out)
    sent_headers: list[tuple[str, str]] | None = None  # as they went on the wire
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

    def trim(self, limit: int) -> None:
        """Keep at most `limit` bytes of the body once it has been judged and reported, so that a
        run against a server with huge answers does not keep them all in memory."""
        if len(self.body) > limit:
            self.body = self.body[:limit]
            self.truncated = True

    # -- rendering (always redacted) ---------------------------------------------------------
    def render_request(self, redactor: Redactor, limit: int | None = SHOWN_BODY_CHARS) -> str:
        """The request as text; the body cut at `limit` characters (None: in full)."""
        request = self.request
        lines = [f"{request.method} {request.url}"]
        if request.framing is not None:  # the head exactly as it went on the wire
            head = _framing.wire_head(request)
            lines[0] += f"  (framing: {_framing.describe(request.framing)})"
            lines += head.decode("utf-8").split("\r\n")[1:-2]
        else:  # what was sent, the client's own headers included, when it was sent; Host is
            # the URL's (on the first line), so the host stays out of what is shown by path
            sent = self.sent_headers if self.sent_headers is not None else request.headers
            lines += [f"{name}: {value}" for name, value in sent if name.lower() != "host"]
        if self.request.body is not None:
            lines += ["", _shorten(self.request.body.decode("utf-8", errors="replace"), limit)]
        return redactor.text("\n".join(lines))

    def render_response(self, redactor: Redactor, limit: int | None = SHOWN_BODY_CHARS) -> str:
        """The response as text; the body cut at `limit` characters (None: as read)."""
        if self.status is None:
            return redactor.text(f"(no response: {self.error})")
        lines = [f"HTTP {self.status}  ({self.elapsed_ms:.0f} ms)"]
        lines += [f"{name}: {value}" for name, value in self.headers.items()]
        shown = _shorten(self.text, limit) + (
            " … (response cut at 1 MiB)" if self.truncated else ""
        )
        lines += ["", shown]
        return redactor.text("\n".join(lines))

    def curl(self, redactor: Redactor, body_file: str | None = None) -> str:
        """The curl line that sends this request again, with the headers that were sent."""
        return curl_line(self.request, redactor, body_file=body_file, headers=self.sent_headers)


def _shorten(text: str, limit: int | None = SHOWN_BODY_CHARS) -> str:
    if limit is None or len(text) <= limit:
        return text
    return f"{text[:limit]} … ({len(text) - limit} more characters)"


def _single_quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def curl_line(
    request: PreparedRequest,
    redactor: Redactor,
    body_file: str | None = None,
    headers: list[tuple[str, str]] | None = None,
) -> str:
    """One shell line that repeats the request, with the key read from the environment.

    `headers`: the headers that were sent (the client's own included), all but those curl sets
    to the same values itself (Host, Content-Length); without them, the request's own headers.
    A body longer than the terminal shows is sent from a file: `body_file` names it (the failure
    folder holds it), else the line says where the full exchange is.
    """
    if request.framing is not None:  # curl cannot send a framing that lies
        return _framing.shell_line(request, redactor)
    parts = ["curl", "-sS", "-i", "-X", request.method, _single_quote(request.url)]
    for name, value in headers if headers is not None else request.headers:
        if name.lower() in ("content-length", "host"):
            continue
        parts += ["-H", _single_quote(f"{name}: {value}")]
    if request.body is not None:
        body = request.body.decode("utf-8", errors="replace")
        if body_file is not None:
            parts += ["--data-binary", f"@{body_file}"]
        elif len(body) > SHOWN_BODY_CHARS:
            parts += [
                "--data-binary",
                f"@request-body.json  # {len(request.body)} bytes: see the failure's folder",
            ]
        else:
            parts += ["--data-raw", _single_quote(body)]
    line = " ".join(parts)
    # The raw key sits inside single quotes: close them, expand the variable, reopen.
    quoted = redactor.text(line).replace(SHELL_REFERENCE, "'\"" + SHELL_REFERENCE + "\"'")
    return quoted.replace("\"'' ", '" ').removesuffix("''")


def encode_body(value: Any) -> bytes:
    """JSON as a client would send it; big integers and non-ASCII text survive."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def no_cookie_jar() -> http.cookiejar.CookieJar:
    """A cookie jar that keeps nothing: every exchange stands on its own. A cookie a server
    sets is never sent back, so a server that authenticates by session cookie is judged on the
    requests the scenarios wrote, and what is printed (request, curl line) is what was sent."""
    return http.cookiejar.CookieJar(policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))


def new_client(
    timeout: float, max_connections: int = 10, transport: httpx.BaseTransport | None = None
) -> httpx.Client:
    """The one client a process sends with: no redirects, no proxies, no cookies kept, the
    deadline transport (or `transport`, given from outside: `httpx.MockTransport` in unit
    tests). httpx clients are safe to share between threads (`--concurrency`)."""
    return httpx.Client(
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
        trust_env=False,
        headers={"Accept-Encoding": "identity"},
        cookies=no_cookie_jar(),
        transport=transport or DeadlineTransport(max_connections=max_connections),
    )


# -- a deadline that holds in every phase --------------------------------------------------------
# httpx's timeouts bound each network operation, not the exchange: a server that sends its
# headers a byte at a time never trips a read timeout. The deadline transport gives every
# connect, write and read of an exchange only the time left until the exchange's deadline.
# The deadline of the exchange in progress, with the clock it is read on (injected through
# `send`, so the deadline is unit-tested on a fake clock).
_DEADLINE: contextvars.ContextVar[tuple[float, Callable[[], float]] | None] = (
    contextvars.ContextVar("checkout_conformance_deadline", default=None)
)


def _time_left(timeout: float | None, expired: type[httpcore.TimeoutException]) -> float | None:
    found = _DEADLINE.get()
    if found is None:
        return timeout
    deadline, monotonic = found
    left = deadline - monotonic()
    if left <= 0:
        raise expired("the exchange did not complete before its deadline")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _time_left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _time_left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        left = _time_left(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, left))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self._backend = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        left = _time_left(timeout, httpcore.ConnectTimeout)
        stream = self._backend.connect_tcp(host, port, left, local_address, socket_options)
        return _DeadlineStream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        left = _time_left(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._backend.connect_unix_socket(path, left, socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def _httpx_error(error: Exception, request: httpx.Request) -> httpx.HTTPError:
    message = str(error) or type(error).__name__
    if isinstance(error, httpcore.ConnectTimeout):
        return httpx.ConnectTimeout(message, request=request)
    if isinstance(error, httpcore.TimeoutException):
        return httpx.ReadTimeout(message, request=request)
    if isinstance(error, httpcore.ConnectError):
        return httpx.ConnectError(message, request=request)
    if isinstance(error, httpcore.ProtocolError):
        return httpx.RemoteProtocolError(message, request=request)
    return httpx.ReadError(message, request=request)


class _ResponseStream(httpx.SyncByteStream):
    def __init__(self, stream: Iterable[bytes], request: httpx.Request) -> None:
        self._stream = stream
        self._request = request

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._stream
        except httpcore.TimeoutException as error:
            raise _httpx_error(error, self._request) from None
        except (httpcore.NetworkError, httpcore.ProtocolError) as error:
            raise _httpx_error(error, self._request) from None

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if close is not None:
            close()


class DeadlineTransport(httpx.BaseTransport):
    """httpx over an httpcore pool whose network streams honour the exchange's deadline."""

    def __init__(self, max_connections: int = 10) -> None:
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            network_backend=_DeadlineBackend(),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.SyncByteStream)
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        try:
            response = self._pool.handle_request(core_request)
        except (httpcore.TimeoutException, httpcore.NetworkError, httpcore.ProtocolError) as error:
            raise _httpx_error(error, request) from None
        except httpcore.UnsupportedProtocol as error:
            raise httpx.UnsupportedProtocol(str(error), request=request) from None
        assert isinstance(response.stream, Iterable)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_ResponseStream(response.stream, request),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self._pool.close()


def send(
    client: httpx.Client,
    request: PreparedRequest,
    deadline_s: float | None = None,
    monotonic: Callable[[], float] = time.monotonic,
) -> Exchange:
    """Send one request; transport failures are recorded, never raised.

    `deadline_s` bounds the whole exchange, in every phase: connecting, sending, waiting for and
    reading the headers, reading the body (see `DeadlineTransport`). At most `MAX_RESPONSE_BYTES`
    of the body are read.
    """
    exchange = Exchange(request)
    started = time.perf_counter()
    if request.framing is not None:
        answer = _framing.send_framed(request, deadline_s or 60.0, MAX_RESPONSE_BYTES)
        exchange.status, exchange.headers, exchange.body = (
            answer.status,
            answer.headers,
            answer.body,
        )
        exchange.truncated, exchange.error = answer.truncated, answer.error
        exchange.timed_out = answer.timed_out
        exchange.elapsed_ms = (time.perf_counter() - started) * 1000
        return exchange
    token = _DEADLINE.set(None if deadline_s is None else (monotonic() + deadline_s, monotonic))
    try:
        built = client.build_request(
            request.method, request.url, headers=request.headers, content=request.body
        )
        # What goes on the wire, the client's own headers included: printed and replayed as is.
        exchange.sent_headers = [
            (name.decode("latin-1"), value.decode("latin-1")) for name, value in built.headers.raw
        ]
        with contextlib.closing(client.send(built, stream=True)) as response:
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
            exchange.body = b"".join(chunks)[:MAX_RESPONSE_BYTES]
    except httpx.TimeoutException:
        exchange.status = None  # headers may have come, but no complete response did
        exchange.timed_out = True
        exchange.error = (
            f"no complete response within {deadline_s:g} s"
            if deadline_s is not None and time.perf_counter() - started >= deadline_s * 0.99
            else "timed out"
        )
    except httpx.HTTPError as exc:
        exchange.status = None
        exchange.error = f"{type(exc).__name__}: {exc}"
    finally:
        _DEADLINE.reset(token)
    exchange.elapsed_ms = (time.perf_counter() - started) * 1000
    return exchange
