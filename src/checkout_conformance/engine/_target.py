"""The implementation under test: a base URL, its key and profile, and one HTTP client.

With no `--base-url`, the bundled reference server is started as a child process on 127.0.0.1
and an ephemeral port, with a fresh random key, and stopped at the end (it also stops by itself
if the test process dies, because it watches its standard input).
"""

from __future__ import annotations

import email.utils
import os
import re
import secrets
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

import httpx

from ..profile import Profile
from ..redact import API_KEY_ENV, Redactor, Secret
from ._http import Exchange, PreparedRequest, new_client, send

STARTUP_TIMEOUT_S = 30.0
MAX_RATE_LIMIT_RETRIES = 3
MAX_RATE_LIMIT_WAIT_S = 30.0
MAX_CONSECUTIVE_TRANSPORT_ERRORS = 5
_LISTENING = re.compile(r"listening on (http://\S+)")


class TargetUnreachable(Exception):
    """The target did not answer at all; one session-level error, not one failure per test."""


class EmbeddedServer:
    """The reference server in a child process, for the duration of a test session."""

    def __init__(self, api_key: Secret | None = None, extra_args: tuple[str, ...] = ()) -> None:
        self.api_key = api_key or Secret("sk_test_embedded_" + secrets.token_urlsafe(24))
        self.extra_args = extra_args
        self.process: subprocess.Popen[bytes] | None = None
        self.base_url: str | None = None

    def start(self) -> str:
        env = {**os.environ, API_KEY_ENV: self.api_key.reveal()}
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "checkout_conformance",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--stop-on-stdin-eof",
                *self.extra_args,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        stdout = self.process.stdout
        assert stdout is not None
        found: list[str] = []

        def read_first_line() -> None:
            found.append(stdout.readline().decode(errors="replace"))

        reader = threading.Thread(target=read_first_line, daemon=True)
        reader.start()
        reader.join(STARTUP_TIMEOUT_S)
        match = _LISTENING.search(found[0]) if found else None
        if match is None:
            self.stop()
            stderr = (
                self.process.stderr.read().decode(errors="replace")[-2000:]
                if self.process.stderr
                else ""
            )
            raise TargetUnreachable(
                f"the embedded reference server did not start within {STARTUP_TIMEOUT_S:.0f} s"
                + (f": {stderr.strip()}" if stderr.strip() else "")
            )
        self.base_url = match.group(1)
        return self.base_url

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


class BudgetExhausted(Exception):
    """`--max-requests` is spent: later tests are not tested."""


@dataclass
class Pacer:
    """At most `rate` requests per second from this process (a simple spacing, no bursts)."""

    rate: float | None
    _next: float = 0.0

    def wait(self) -> None:
        if not self.rate:
            return
        now = time.monotonic()
        if now < self._next:
            time.sleep(self._next - now)
            now = self._next
        self._next = now + 1.0 / self.rate


def retry_delay(exchange: Exchange, attempt: int) -> float:
    """Seconds to wait after a 429: Retry-After (seconds or a date), X-RateLimit-Reset, backoff."""
    for header in ("retry-after", "x-ratelimit-reset"):
        value = exchange.headers.get(header)
        if value is None:
            continue
        try:
            return max(0.0, float(str(value)))
        except ValueError:
            try:
                return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
            except (TypeError, ValueError):
                continue
    return 0.5 * 2.0**attempt


@dataclass
class Target:
    """Where requests go, with what key, and the ids that exist there.

    Every request goes through `exchange`: paced (`--max-rps`), counted (`--max-requests`),
    retried after a 429 within bounds, and watched for a target that stopped answering.
    """

    base_url: str
    api_key: Secret
    profile: Profile
    embedded: bool
    timeout: float
    redactor: Redactor = field(default_factory=Redactor)
    max_rps: float | None = None
    max_requests: int | None = None
    client: httpx.Client = field(init=False)
    sent: int = 0
    rate_limited: int = 0  # 429s that were waited out
    waited_s: float = 0.0
    consecutive_transport_errors: int = 0

    def __post_init__(self) -> None:
        self.redactor.add(self.api_key.reveal())
        self.client = new_client(self.timeout)
        self.pacer = Pacer(self.max_rps)

    def before_request(self) -> None:
        """Pace, and count against the budget; raises BudgetExhausted."""
        if self.max_requests is not None and self.sent >= self.max_requests:
            raise BudgetExhausted(
                f"the request budget (--max-requests {self.max_requests}) is spent"
            )
        self.pacer.wait()
        self.sent += 1

    def exchange(self, request: PreparedRequest) -> Exchange:
        for attempt in range(MAX_RATE_LIMIT_RETRIES + 1):
            self.before_request()
            result = send(self.client, request, deadline_s=self.timeout * 3)
            if result.status != 429 or attempt == MAX_RATE_LIMIT_RETRIES:
                break
            delay = min(retry_delay(result, attempt), MAX_RATE_LIMIT_WAIT_S)
            self.rate_limited += 1
            self.waited_s += delay
            time.sleep(delay)
        self.consecutive_transport_errors = (
            self.consecutive_transport_errors + 1 if result.status is None else 0
        )
        return result

    def probe(self) -> None:
        """One credential-less OPTIONS request: any HTTP answer proves the target is there."""
        url = self.base_url.rstrip("/") + "/checkouts"
        try:
            self.client.request("OPTIONS", url)
        except httpx.TimeoutException:
            raise TargetUnreachable(
                f"{url} did not answer within {self.timeout:g} s (raise --request-timeout if"
                " the server is slow, or check --base-url)"
            ) from None
        except httpx.HTTPError as exc:
            raise TargetUnreachable(
                f"cannot reach {url}: {type(exc).__name__}: {self.redactor.text(str(exc))}"
                " (check --base-url and that the server is running)"
            ) from None

    def close(self) -> None:
        self.client.close()
