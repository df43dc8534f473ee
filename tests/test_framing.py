"""Requests whose HTTP framing lies, sent on a raw socket: what goes on the wire, what comes back,
how a failure reproduces them, and how a `no-response` expectation judges a closed connection."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from checkout_conformance.contract import load_contract
from checkout_conformance.engine._matchers import check
from checkout_conformance.engine._model import Expectation
from checkout_conformance.redact import Redactor
from checkout_conformance.transport import (
    FRAMINGS,
    Exchange,
    PreparedRequest,
    curl_line,
    new_client,
    send,
)
from checkout_conformance.transport._framing import wire_head

from .conftest import TEST_KEY, RunningServer

BODY = json.dumps({"product_cart": [{"product_id": "pdt_ref_one_time_ebook", "quantity": 1}]})


def framed(base_url: str, framing: str) -> PreparedRequest:
    return PreparedRequest(
        "POST",
        base_url + "/checkouts",
        [("Content-Type", "application/json"), ("Authorization", f"Bearer {TEST_KEY}")],
        BODY.encode(),
        framing=framing,
    )


@pytest.mark.parametrize(
    ("framing", "expected"),
    [
        ("chunked", 200),
        ("chunked-with-content-length", 400),
        ("short-content-length", 400),
        ("invalid-content-length", 400),
        ("conflicting-content-lengths", 400),
        ("lying-chunk-size", 400),
        ("long-content-length", None),
        ("unfinished-chunks", None),
    ],
)
def test_the_reference_server_answers_each_framing_as_rfc_9112_asks(
    reference_server: RunningServer, framing: str, expected: int | None
) -> None:
    with new_client(5) as client:
        exchange = send(client, framed(reference_server.base_url, framing), deadline_s=10)
        ordinary = framed(reference_server.base_url, "chunked")
        after = send(
            client,
            PreparedRequest(ordinary.method, ordinary.url, ordinary.headers, ordinary.body),
            deadline_s=10,
        )
    assert exchange.status == expected, exchange.error
    if expected is None:  # closed at once, not after our deadline
        assert not exchange.timed_out and "closed the connection" in str(exchange.error)
        assert exchange.elapsed_ms < 5000
    assert after.status == 200  # and the server still answers


def test_every_framing_is_in_the_scenario_schema() -> None:
    schema = (Path(__file__).parent.parent / "contracts" / "scenario.schema.json").read_text()
    for name in FRAMINGS:
        assert name in schema


@contextmanager
def recording_server(answer: bytes | None) -> Iterator[tuple[str, list[bytes]]]:
    """A one-connection TCP server that records the bytes it gets, then answers (or closes)."""
    listener = socket.create_server(("127.0.0.1", 0))
    received: list[bytes] = []

    def serve() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.settimeout(2)
            data = b""
            try:
                while chunk := connection.recv(65536):
                    data += chunk
                    if answer is not None and data.endswith((b"}", b"0\r\n\r\n")):
                        break
            except TimeoutError:
                pass
            received.append(data)
            if answer is not None:
                connection.sendall(answer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", received
    finally:
        thread.join(5)
        listener.close()


@pytest.mark.parametrize("framing", sorted(FRAMINGS))
def test_the_wire_bytes_are_the_framing_and_the_shell_line_sends_the_same(
    framing: str, tmp_path: Path
) -> None:
    reply = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
    complete = FRAMINGS[framing].complete
    with recording_server(reply if complete else None) as (url, received):
        request = framed(url, framing)
        with new_client(5) as client:
            exchange = send(client, request, deadline_s=5)
    expected = wire_head(request) + FRAMINGS[framing].framed_body(request.body or b"")
    assert received == [expected]
    assert exchange.status == (400 if complete else None)
    assert f"(framing: {FRAMINGS[framing].description})" in exchange.render_request(Redactor())

    redactor = Redactor()
    redactor.add(TEST_KEY)
    line = curl_line(request, redactor)
    assert TEST_KEY not in line and "$DODO_PAYMENTS_API_KEY" in line
    replayed = tmp_path / "replayed"
    script = line.rsplit(" | ", 1)[0] + f" > {replayed}"
    subprocess.run(
        ["bash", "-c", script], env={"DODO_PAYMENTS_API_KEY": TEST_KEY}, check=True, timeout=10
    )
    assert replayed.read_bytes() == expected


def test_no_response_passes_for_a_closed_connection_but_not_for_a_timeout() -> None:
    contract = load_contract()
    expectation = Expectation("status", {"status": ["4xx", "no-response"]}, "ROB-001", "here:1")
    request = framed("http://127.0.0.1:1", "long-content-length")
    closed = Exchange(request, error="the server closed the connection without a response")
    assert check(expectation, closed, contract) is None
    waited = Exchange(request, error="no complete response within 30 s", timed_out=True)
    mismatch = check(expectation, waited, contract)
    assert mismatch is not None and "no complete response" in mismatch.actual
    refused = Exchange(request, status=500)
    assert check(expectation, refused, contract) is not None
