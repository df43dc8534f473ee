"""Requests whose HTTP framing is wrong on purpose, sent on a raw socket.

httpx (through h11) refuses to send a `Content-Length` that disagrees with the body, or a chunk
size that lies, which is right for a client and useless for a robustness check. These requests
are written byte for byte to a socket (TLS for https targets); the answer is parsed by h11, the
same parser httpx uses. Each framing has a name a scenario uses (`framing:` in a request):

- `chunked`: the body in two well-formed chunks (a valid request);
- `chunked-with-content-length`: chunked, plus a Content-Length that does not match (RFC 9112
  §6.3: Transfer-Encoding wins, or the server refuses; either is right);
- `short-content-length`: Content-Length half the body's size (the server reads half a JSON
  document; the rest follows on a connection the request asked to close);
- `invalid-content-length`, `conflicting-content-lengths`: framing a server must refuse with 400
  (RFC 9112 §6.3);
- `lying-chunk-size`: a chunk size that says fewer bytes than follow;
- `long-content-length`, `unfinished-chunks`: the message stops early and the client closes its
  side; RFC 9112 §8 has the server close without an answer (a 4xx is right too).

Every request says `Connection: close`, so nothing sent after a lie is read as a second request.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import h11
import httpx

from ..redact import SHELL_REFERENCE, Redactor

if TYPE_CHECKING:
    from ._http import PreparedRequest


@dataclass(frozen=True)
class Framing:
    description: str
    framing_headers: Callable[[bytes], list[tuple[str, str]]]
    framed_body: Callable[[bytes], bytes]
    complete: bool = True  # False: the message stops early and the client closes its side


def _chunks(body: bytes, sizes: list[int] | None = None, end: bool = True) -> bytes:
    half = max(1, len(body) // 2)
    parts = [body[:half], body[half:]]
    out = b""
    for index, part in enumerate(parts):
        size = len(part) if sizes is None else sizes[index]
        out += f"{size:x}".encode() + b"\r\n" + part + b"\r\n"
    return out + (b"0\r\n\r\n" if end else b"")


FRAMINGS: dict[str, Framing] = {
    "chunked": Framing(
        "the body in two chunks (Transfer-Encoding: chunked)",
        lambda body: [("Transfer-Encoding", "chunked")],
        _chunks,
    ),
    "chunked-with-content-length": Framing(
        "chunked, with a Content-Length of 5 beside it",
        lambda body: [("Transfer-Encoding", "chunked"), ("Content-Length", "5")],
        _chunks,
    ),
    "short-content-length": Framing(
        "a Content-Length of half the body's size",
        lambda body: [("Content-Length", str(len(body) // 2))],
        lambda body: body,
    ),
    "invalid-content-length": Framing(
        "a Content-Length that is not a number",
        lambda body: [("Content-Length", f"{len(body)}abc")],
        lambda body: body,
    ),
    "conflicting-content-lengths": Framing(
        "two Content-Length headers that disagree",
        lambda body: [("Content-Length", str(len(body))), ("Content-Length", str(len(body) + 7))],
        lambda body: body,
    ),
    "lying-chunk-size": Framing(
        "a first chunk whose size says 3 bytes although more follow",
        lambda body: [("Transfer-Encoding", "chunked")],
        lambda body: _chunks(body, sizes=[3, len(body) - max(1, len(body) // 2)]),
    ),
    "long-content-length": Framing(
        "a Content-Length 100 bytes longer than the body, then the client closes its side",
        lambda body: [("Content-Length", str(len(body) + 100))],
        lambda body: body,
        complete=False,
    ),
    "unfinished-chunks": Framing(
        "chunks without the final zero-size chunk, then the client closes its side",
        lambda body: [("Transfer-Encoding", "chunked")],
        lambda body: _chunks(body, end=False),
        complete=False,
    ),
}


def wire_head(request: PreparedRequest) -> bytes:
    """The request line and headers as sent (the framing's own headers replace any other)."""
    framing, body = FRAMINGS[str(request.framing)], request.body or b""
    parts = urlsplit(request.url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    lines = [f"{request.method} {target} HTTP/1.1", f"Host: {parts.netloc}"]
    framing_names = {"content-length", "transfer-encoding", "connection", "host"}
    lines += [
        f"{name}: {value}" for name, value in request.headers if name.lower() not in framing_names
    ]
    lines += [f"{name}: {value}" for name, value in framing.framing_headers(body)]
    lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


def describe(name: str) -> str:
    return FRAMINGS[name].description


def shell_line(request: PreparedRequest, redactor: Redactor) -> str:
    """A shell line that sends the same bytes (printf into nc, or openssl for https), with the
    key read from the environment."""
    framing = FRAMINGS[str(request.framing)]
    head = redactor.text(wire_head(request).decode("utf-8"))
    payload = framing.framed_body(request.body or b"").decode("utf-8", errors="replace")
    parts = urlsplit(request.url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    connect = (
        f"openssl s_client -quiet -connect {parts.hostname}:{port}"
        if parts.scheme == "https"
        else f"nc {parts.hostname} {port}"
    )

    def printf_format(text: str) -> str:
        escaped = text.replace("\\", "\\\\").replace("%", "%%").replace("\r\n", "\\r\\n")
        return escaped.replace("'", "'\\''")

    fmt = printf_format(head).replace(SHELL_REFERENCE, "%s")
    keys = ' "$DODO_PAYMENTS_API_KEY"' * head.count(SHELL_REFERENCE)
    escaped = printf_format(payload)
    end = "" if framing.complete else "; sleep 1"
    return f"{{ printf '{fmt}'{keys}; printf '{escaped}'{end}; }} | {connect}"


@dataclass
class FramedAnswer:
    status: int | None
    headers: httpx.Headers
    body: bytes
    truncated: bool
    error: str | None
    timed_out: bool


def send_framed(request: PreparedRequest, deadline_s: float, max_body: int) -> FramedAnswer:
    """Write the framed request on a new connection and read one response (or its absence)."""
    framing = FRAMINGS[str(request.framing)]
    parts = urlsplit(request.url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    deadline = time.monotonic() + deadline_s

    def left() -> float:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        return remaining

    wire = wire_head(request) + framing.framed_body(request.body or b"")
    answer = FramedAnswer(None, httpx.Headers(), b"", False, None, False)
    try:
        raw = socket.create_connection((parts.hostname or "localhost", port), timeout=left())
        sock: socket.socket = raw
        if parts.scheme == "https":
            sock = ssl.create_default_context().wrap_socket(raw, server_hostname=parts.hostname)
        with sock:
            try:
                sock.settimeout(left())
                sock.sendall(wire)
                if not framing.complete:
                    sock.shutdown(socket.SHUT_WR)
            except (BrokenPipeError, ConnectionResetError):
                pass  # a server may answer and close before reading everything: read its answer
            _read_response(sock, request.method, answer, left, max_body)
    except TimeoutError:
        answer.status = None
        answer.timed_out = True
        answer.error = f"no complete response within {deadline_s:g} s"
    except (OSError, h11.ProtocolError) as error:
        answer.status = None
        answer.error = f"{type(error).__name__}: {error}"
    return answer


def _read_response(
    sock: socket.socket,
    method: str,
    answer: FramedAnswer,
    left: Callable[[], float],
    max_body: int,
) -> None:
    connection = h11.Connection(h11.CLIENT)
    # h11 tracks the exchange's state: it is told of a request like the one sent (the bytes it
    # would write are not used), then parses what comes back.
    connection.send(
        h11.Request(method=method, target="/", headers=[("Host", "x"), ("Content-Length", "0")])
    )
    connection.send(h11.EndOfMessage())
    chunks: list[bytes] = []
    size = 0
    while True:
        try:
            event = connection.next_event()
        except h11.RemoteProtocolError as error:
            closed = answer.status is None
            answer.status = None
            answer.error = (
                "the server closed the connection without a response"
                if closed
                else f"the response was cut off or malformed ({error})"
            )
            return
        if event is h11.NEED_DATA:
            sock.settimeout(left())
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                data = b""
            connection.receive_data(data)
            continue
        if isinstance(event, h11.Response):
            answer.status = event.status_code
            answer.headers = httpx.Headers(
                [(k.decode("latin-1"), v.decode("latin-1")) for k, v in event.headers]
            )
        elif isinstance(event, h11.Data):
            chunks.append(bytes(event.data))
            size += len(event.data)
            if size > max_body:
                answer.truncated = True
                break
        elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
            break
    answer.body = b"".join(chunks)[:max_body]
    if answer.status is None:
        answer.error = "the server closed the connection without a response"
