"""Hostile and broken servers: every one ends in a clear failure or one clear session error,
in bounded time, and nothing leaks the key."""

from __future__ import annotations

import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from checkout_conformance.redact import scan

from .conftest import run_suite

CANARY = "sk_live_HOSTILE_canary_5t7u9w1y3"
FEW_TESTS = (
    "suites/acceptance/valid_requests.yaml::acc-minimal-request",
    "suites/checkout_url/payment_method.yaml::curl-minimal-confirmed",
    "--request-timeout=2",
)

Behaviour = Callable[[socket.socket, bytes], None]


def _read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
        if not data[:1].isalpha():  # not HTTP at all (a TLS handshake): answer at once
            return data
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head


def _respond(conn: socket.socket, status: str, headers: list[str], body: bytes) -> None:
    head = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", "Connection: close", *headers]
    conn.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)


@contextmanager
def hostile_server(behaviour: Behaviour) -> Iterator[int]:
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.settimeout(0.2)
    stop = threading.Event()

    def handle(conn: socket.socket) -> None:
        with conn:
            try:
                head = _read_request(conn)
                behaviour(conn, head)
            except OSError:
                pass

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def never_answers(conn: socket.socket, head: bytes) -> None:
    time.sleep(60)


def drips(conn: socket.socket, head: bytes) -> None:
    if head.startswith(b"OPTIONS"):
        _respond(conn, "204 No Content", [], b"")
        return
    conn.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n"
    )
    for byte in b'{"session_id": "cks_' + b"x" * 180:
        conn.sendall(bytes([byte]))
        time.sleep(1)


def drips_headers(conn: socket.socket, head: bytes) -> None:
    """The status line and headers a byte at a time: no single read ever times out."""
    if head.startswith(b"OPTIONS"):
        _respond(conn, "204 No Content", [], b"")
        return
    for byte in b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Padding: " + b"x" * 200:
        conn.sendall(bytes([byte]))
        time.sleep(0.5)


def rate_limits_everything(conn: socket.socket, head: bytes) -> None:
    body = b'{"code": "TOO_MANY_REQUESTS", "message": "slow down"}'
    _respond(conn, "429 Too Many Requests", ["Retry-After: 1", "X-RateLimit-Limit: 1"], body)


def closes_mid_response(conn: socket.socket, head: bytes) -> None:
    if head.startswith(b"OPTIONS"):
        _respond(conn, "204 No Content", [], b"")
        return
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n"
    conn.sendall(head + b'{"session_')


def html_500(conn: socket.socket, head: bytes) -> None:
    _respond(
        conn,
        "500 Internal Server Error",
        ["Content-Type: text/html"],
        b"<html><h1>Oops</h1></html>",
    )


def invalid_json_200(conn: socket.socket, head: bytes) -> None:
    _respond(conn, "200 OK", ["Content-Type: application/json"], b'{"session_id": "cks_1", oops')


def json_array_200(conn: socket.socket, head: bytes) -> None:
    _respond(conn, "200 OK", ["Content-Type: application/json"], b'[{"session_id": "cks_1"}]')


def wrong_content_length(conn: socket.socket, head: bytes) -> None:
    body = b'{"session_id": "cks_1", "checkout_url": "https://x.example/s"}'
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
    conn.sendall(head + b"Content-Length: 20\r\n\r\n" + body)


def fifty_megabytes(conn: socket.socket, head: bytes) -> None:
    size = 50 * 1024 * 1024
    status_line = (
        f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {size}\r\n\r\n"
    )
    conn.sendall(status_line.encode())
    conn.sendall(b'{"session_id": "')
    chunk = b"x" * 65536
    for _ in range(size // len(chunk)):
        conn.sendall(chunk)


def redirect_loop(conn: socket.socket, head: bytes) -> None:
    _respond(conn, "307 Temporary Redirect", ["Location: /checkouts"], b"")


def redirect_elsewhere(conn: socket.socket, head: bytes) -> None:
    _respond(conn, "308 Permanent Redirect", ["Location: http://collector.example:8080/steal"], b"")


CASES: dict[str, tuple[Behaviour, str]] = {
    # behaviour: (server, what the output must say)
    "never-answers": (never_answers, "target unreachable"),
    "drips-a-byte-a-second": (drips, "no complete response within"),
    "drips-headers-a-byte-at-a-time": (drips_headers, "no complete response within"),
    "429-to-everything": (rate_limits_everything, "lower the pace with --max-rps"),
    "closes-mid-response": (closes_mid_response, "RemoteProtocolError"),
    "html-500": (html_500, "expected status 200, got 500"),
    "invalid-json-200": (invalid_json_200, "expected a JSON body"),
    "json-array-200": (json_array_200, "expected a JSON object"),
    "wrong-content-length": (wrong_content_length, "expected a JSON body"),
    "50-mb-response": (fifty_megabytes, "expected a JSON body"),
    "redirect-loop": (redirect_loop, "got 307 (redirect to /checkouts)"),
    "redirect-to-another-host": (
        redirect_elsewhere,
        "redirect to http://collector.example:8080/steal",
    ),
}
RUN_BREAKERS = {"never-answers", "429-to-everything"}


@pytest.mark.e2e
@pytest.mark.parametrize("name", list(CASES))
def test_a_hostile_server_ends_in_a_clear_failure_quickly_without_leaks(
    tmp_path: Path, name: str
) -> None:
    behaviour, expected = CASES[name]
    started = time.monotonic()
    with hostile_server(behaviour) as port:
        run = run_suite(
            tmp_path,
            *FEW_TESTS,
            f"--junitxml={tmp_path / 'junit.xml'}",
            base_url=f"http://127.0.0.1:{port}",
            api_key=CANARY,
            timeout=120,
        )
    elapsed = time.monotonic() - started
    # A target that never answers, or only with 429s, breaks the run (exit 3); every other
    # behaviour is an answer the suite can judge: a failed requirement (exit 1).
    assert run.exit_code == (3 if name in RUN_BREAKERS else 1), run.output[-2000:]
    assert expected in run.output, run.output[-3000:]
    assert elapsed < 60
    assert "Traceback" not in run.output
    (tmp_path / "terminal.txt").write_text(run.output)
    assert scan([tmp_path], CANARY) == []
    if name not in RUN_BREAKERS:  # a verdict was reached: the failure sits on a requirement
        reasons = [
            reason for r in run.certificate["requirements"] for reason in r.get("reasons", [])
        ]
        assert any(expected in reason for reason in reasons), reasons


@pytest.mark.e2e
def test_a_429_storm_is_one_session_error_naming_the_option(tmp_path: Path) -> None:
    with hostile_server(rate_limits_everything) as port:
        run = run_suite(tmp_path, *FEW_TESTS, base_url=f"http://127.0.0.1:{port}", api_key=CANARY)
    assert run.exit_code == 3, run.output[-2000:]
    assert run.output.count("answers 429 (rate limited) to every request") == 1
    assert "--max-rps" in run.output


@pytest.mark.e2e
@pytest.mark.heavy(40)
def test_a_huge_body_to_generated_requests_is_cut_at_the_cap(tmp_path: Path) -> None:
    """The property tests read at most 1 MiB of a 50 MB answer, and end in bounded time."""
    started = time.monotonic()
    with hostile_server(fifty_megabytes) as port:
        run = run_suite(
            tmp_path,
            "suites/properties",
            "--examples=5",
            "--conformance-seed=1",
            base_url=f"http://127.0.0.1:{port}",
            api_key=CANARY,
            timeout=300,
        )
    assert run.exit_code == 1, run.output[-2000:]
    assert run.status("RESP-001") == "failed"
    assert "response cut at 1 MiB" in run.output
    assert time.monotonic() - started < 240
    assert scan([tmp_path], CANARY) == []


@pytest.mark.e2e
def test_a_429_storm_that_starts_during_the_property_tests_ends_the_run(tmp_path: Path) -> None:
    from .conftest import TEST_KEY
    from .servers import Answer, rewrite_of_reference, serve_in_thread

    answered = {"count": 0}

    def storm_after_forty(answer: Answer) -> None:
        answered["count"] += 1
        if answered["count"] > 40:
            answer.status = 429
            answer.body = {"code": "TOO_MANY_REQUESTS", "message": "Rate limit exceeded"}
            answer.set_header(b"retry-after", b"1")

    started = time.monotonic()
    with serve_in_thread(rewrite_of_reference(storm_after_forty)) as url:
        run = run_suite(
            tmp_path, "suites/properties", "--conformance-seed=1", base_url=url, api_key=TEST_KEY
        )
    assert run.exit_code == 3, run.output[-2000:]
    assert run.output.count("answers 429 (rate limited) to every request") == 1
    assert "Traceback" not in run.output
    assert time.monotonic() - started < 60


@pytest.mark.e2e
def test_tls_against_a_plain_server_is_one_session_error(tmp_path: Path) -> None:
    with hostile_server(html_500) as port:
        run = run_suite(tmp_path, *FEW_TESTS, base_url=f"https://127.0.0.1:{port}", api_key=CANARY)
    assert run.exit_code == 3
    assert run.output.count("target unreachable") == 1
    assert "SSL" in run.output or "ConnectError" in run.output


def test_the_scan_command_reports_places_not_the_key(tmp_path: Path) -> None:
    import base64
    import os
    import subprocess
    import sys

    (tmp_path / "clean.txt").write_text("nothing here\n")
    (tmp_path / "leaky.log").write_text(
        "a\nAuthorization: Basic " + base64.b64encode(CANARY.encode()).decode() + "\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "checkout_conformance", "scan-secrets", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "DODO_PAYMENTS_API_KEY": CANARY},
    )
    assert result.returncode == 1
    assert "leaky.log:2: the key ($DODO_PAYMENTS_API_KEY, base64)" in result.stdout
    assert CANARY not in result.stdout
    assert result.stdout.count("leaky.log:2:") == 1  # one occurrence, one hit


@pytest.mark.parametrize("around", ["user:{}", ":{}", "ab:{}", "{}:x", "abcd:{}:efg"])
def test_the_key_is_found_and_redacted_inside_other_base64(around: str) -> None:
    import base64

    from checkout_conformance.redact import Redactor

    header = "Authorization: Basic " + base64.b64encode(around.format(CANARY).encode()).decode()
    path = Path(tempfile.mkdtemp()) / "basic.log"
    path.write_text(header + "\n")
    labels = [label for _, _, label in scan([path], CANARY)]
    assert len(labels) == 1 and labels[0].startswith("base64"), labels  # found, once
    redactor = Redactor()
    redactor.add(CANARY)
    cleaned = redactor.text(header)
    assert cleaned != header
    path.write_text(cleaned + "\n")
    assert scan([path], CANARY) == []
