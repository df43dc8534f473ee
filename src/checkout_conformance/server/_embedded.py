"""The reference server in a child process: what `--base-url`-less runs and the tests start.

It listens on 127.0.0.1 and an ephemeral port with a fresh random key, announces the port on
its first line of output, and stops by itself if its parent dies (it watches its standard input).
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import threading

from ..redact import API_KEY_ENV, Secret

STARTUP_TIMEOUT_S = 30.0
_LISTENING = re.compile(r"listening on (http://\S+)")


class ServerDidNotStart(Exception):
    """The child process did not announce its port; the message holds its last output."""


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
            raise ServerDidNotStart(
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
