"""Hostile and malformed input to the reference server: never a 5xx, never a crash, bounded memory.

Raw sockets are used where an HTTP client would refuse to send the request (invalid UTF-8 is fine
for clients, but whitespace-only header values, lying Content-Length and half-sent bodies are not).
"""

from __future__ import annotations

import json
import random
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from .conftest import RunningServer, start_server
from .test_server import MINIMAL


def raw_request(
    server: RunningServer, head: bytes, body: bytes = b"", read_timeout: float = 5.0
) -> tuple[int, bytes]:
    """Send bytes as they are; return the status and the raw response."""
    host, port = server.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=read_timeout) as sock:
        sock.sendall(head + body)
        data = b""
        while not _complete(data):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0
    return status, data


def _complete(data: bytes) -> bool:
    """Whether `data` holds a whole response: headers and Content-Length bytes of body."""
    head, separator, body = data.partition(b"\r\n\r\n")
    if not separator:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value.strip())
    return True


def head_for(
    server: RunningServer, length: int | None, extra: str = "", authorization: str | None = None
) -> bytes:
    auth = authorization if authorization is not None else f"Bearer {server.api_key}"
    lines = [
        "POST /checkouts HTTP/1.1",
        "Host: test",
        f"Authorization: {auth}",
        "Content-Type: application/json",
    ]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    if extra:
        lines.append(extra)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def post_bytes(server: RunningServer, body: bytes) -> httpx.Response:
    with server.client() as client:
        return client.post(
            "/checkouts",
            content=body,
            headers={**server.auth(), "Content-Type": "application/json"},
        )


@pytest.mark.parametrize(
    "body",
    [
        b'{"product_cart": "\xff\xfe\xfd"}',
        b"\xef\xbb\xbf" + json.dumps(MINIMAL).encode(),  # a UTF-8 byte order mark
        b"[" * 100_000,
        b'{"a":' * 5000 + b"1" + b"}" * 5000,
        b'{"product_cart": [{"product_id": "x", "quantity": 1e400}]}',
        b'{"product_cart": [{"product_id": "x", "quantity": ' + b"9" * 5000 + b"}]}",
        b'{"product_cart": [{"product_id": "x", "quantity": -' + b"9" * 30 + b"}]}",
        b'{"product_cart": NaN}',
        b'{"product_cart": [], "product_cart": []}',
        b"\x00\x01\x02",
        b'"\\ud800"',
        b"",
    ],
)
def test_malformed_bodies_get_a_4xx_json_error(
    reference_server: RunningServer, body: bytes
) -> None:
    response = post_bytes(reference_server, body)
    assert 400 <= response.status_code < 500, response.text
    assert set(response.json()) == {"code", "message"}


def test_whitespace_only_bearer_token_is_401(reference_server: RunningServer) -> None:
    status, _ = raw_request(
        reference_server, head_for(reference_server, 2, authorization="Bearer \t  "), b"{}"
    )
    assert status == 401


def test_an_announced_10_mb_body_gets_413_before_it_is_sent(
    reference_server: RunningServer,
) -> None:
    started = time.perf_counter()
    status, data = raw_request(reference_server, head_for(reference_server, 10_000_000))
    assert status == 413
    assert b"PAYLOAD_TOO_LARGE" in data
    assert time.perf_counter() - started < 5


def test_a_chunked_10_mb_body_gets_413(reference_server: RunningServer) -> None:
    def chunks() -> object:
        for _ in range(160):
            yield b"x" * 65536

    with reference_server.client() as client:
        response = client.post(
            "/checkouts",
            content=chunks(),  # type: ignore[arg-type]
            headers={**reference_server.auth(), "Content-Type": "application/json"},
        )
    assert response.status_code == 413


def test_a_body_shorter_than_announced_does_not_hang_the_server(
    reference_server: RunningServer,
) -> None:
    with pytest.raises(OSError):  # the client gives up; the server must still be serving after
        raw_request(
            reference_server, head_for(reference_server, 1000), b'{"product', read_timeout=0.5
        )
    assert post_bytes(reference_server, json.dumps(MINIMAL).encode()).status_code == 200


def test_garbage_bodies_never_get_a_5xx(reference_server: RunningServer) -> None:
    generator = random.Random(1234)
    alphabet = b'{}[]":,0123456789.-eE truefalsnul\\u"\xff\x00product_cartquantity'
    with reference_server.client() as client:
        for _ in range(300):
            body = bytes(generator.choice(alphabet) for _ in range(generator.randint(0, 200)))
            response = client.post(
                "/checkouts",
                content=body,
                headers={**reference_server.auth(), "Content-Type": "application/json"},
            )
            assert response.status_code < 500, body


def test_concurrent_requests_are_all_answered(reference_server: RunningServer) -> None:
    body = json.dumps(MINIMAL).encode()

    def one(_: int) -> int:
        return post_bytes(reference_server, body).status_code

    with ThreadPoolExecutor(max_workers=32) as pool:
        statuses = list(pool.map(one, range(400)))
    assert statuses == [200] * 400


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc to read memory use")
def test_memory_stays_bounded_under_sustained_load() -> None:
    server, running = start_server()
    try:
        assert server.process is not None
        body = json.dumps(MINIMAL).encode()
        with running.client() as client:

            def burst(count: int) -> None:
                for _ in range(count):
                    client.post(
                        "/checkouts",
                        content=body,
                        headers={**running.auth(), "Content-Type": "application/json"},
                    )

            burst(2000)  # warm-up: imports, caches, allocator pools
            before = _rss_kib(server.process.pid)
            burst(6000)
            after = _rss_kib(server.process.pid)
        # Nothing is stored per session: 6,000 more sessions must not grow the process noticeably.
        assert after - before < 4096, f"RSS grew by {after - before} KiB over 6,000 requests"
    finally:
        server.stop()
