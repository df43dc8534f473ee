"""The implementation under test: a base URL, its key and profile, and one HTTP client.

With no `--base-url`, the bundled reference server is started as a child process on 127.0.0.1
and an ephemeral port, with a fresh random key, and stopped at the end (it also stops by itself
if the test process dies, because it watches its standard input).
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import threading
from dataclasses import dataclass, field

import httpx

from ..profile import Profile
from ..redact import API_KEY_ENV, Redactor, Secret
from ._http import new_client

STARTUP_TIMEOUT_S = 30.0
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


@dataclass
class Target:
    """Where requests go, with what key, and the ids that exist there."""

    base_url: str
    api_key: Secret
    profile: Profile
    embedded: bool
    timeout: float
    redactor: Redactor = field(default_factory=Redactor)
    client: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.redactor.add(self.api_key.reveal())
        self.client = new_client(self.timeout)

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
