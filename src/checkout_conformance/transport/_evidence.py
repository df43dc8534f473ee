"""Every failing exchange in full, redacted, on disk: what the terminal and Allure cut short.

A failure's folder (`<reports>/failures/<test>/`) holds `exchange.txt` (the request and the
response, untruncated), `request-body.json` (the body exactly as sent, the key redacted) and
`curl.sh`, which sends that body again (`--data-binary @request-body.json`) with the key taken
from `$DODO_PAYMENTS_API_KEY`. The folder is emptied at the start of each run.

What one run writes is bounded (`Evidence`): a large body (over `SHARED_BODY_CHARS`) is kept once,
by its digest, in `failures/_bodies/`, and every exchange that met it points there, so a server
that answers every failing request with the same 50 MB body fills the disk once, not a thousand
times; and past `MAX_EVIDENCE_BYTES` a failure keeps its summary and its curl line only, and the
run says so (`cut`).
"""

from __future__ import annotations

import hashlib
import re
import shutil
import threading
from pathlib import Path

from ..redact import Redactor
from ._http import Exchange

MARKER = ".checkout-conformance-failures"
BODY_FILE = "request-body.json"
BODIES = "_bodies"
SHARED_BODY_CHARS = 64 * 1024  # a body longer than this is kept once, by its digest
MAX_EVIDENCE_BYTES = 64 * 1024 * 1024  # what one run writes under failures/ at most


def reset(folder: Path) -> None:
    """Empty a failures folder this suite made (never a folder it did not make)."""
    if (folder / MARKER).is_file():
        shutil.rmtree(folder, ignore_errors=True)


def slug(test: str) -> str:
    """A folder name for a test's node id."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", test.replace("::", "__")).strip("_")[:150]


class Evidence:
    """The failing exchanges of one run, on disk within `limit` bytes (thread-safe)."""

    def __init__(self, folder: Path, limit: int = MAX_EVIDENCE_BYTES) -> None:
        self.folder = folder
        self.limit = limit
        self.written = 0  # bytes written under the folder by this run
        self.cut = 0  # failures kept short because the limit was reached
        self._shared: set[str] = set()
        self._lock = threading.Lock()

    def _write(self, path: Path, text: str) -> None:
        data = text.encode("utf-8")
        path.write_bytes(data)
        self.written += len(data)

    def _body(self, text: str, suffix: str) -> str:
        """Keep a large body once, by digest; returns its path relative to a failure folder."""
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
        name = f"{digest}{suffix}"
        if name not in self._shared:
            (self.folder / BODIES).mkdir(exist_ok=True)
            self._write(self.folder / BODIES / name, text)
            self._shared.add(name)
        return f"../{BODIES}/{name}"

    def write(self, test: str, exchange: Exchange, redactor: Redactor, summary: str) -> Path:
        """Write one failing exchange; returns its folder. A later failure of the same test (a
        property test shrinking its example) replaces it."""
        with self._lock:
            return self._write_failure(test, exchange, redactor, summary)

    def _write_failure(
        self, test: str, exchange: Exchange, redactor: Redactor, summary: str
    ) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / MARKER).touch()
        where = self.folder / slug(test)
        where.mkdir(exist_ok=True)
        request_body = (
            redactor.text(exchange.request.body.decode("utf-8", errors="replace"))
            if exchange.request.body is not None
            else None
        )
        response_body = redactor.text(exchange.text) if exchange.status is not None else ""
        room = self.written < self.limit
        body_file = None
        if request_body is not None and room:
            if len(request_body) > SHARED_BODY_CHARS:
                body_file = self._body(request_body, ".json")
            else:
                body_file = BODY_FILE
                self._write(where / BODY_FILE, request_body)
        curl = exchange.curl(redactor, body_file=body_file)
        header = redactor.text(summary).splitlines()[0] if summary else test
        self._write(
            where / "curl.sh",
            f"#!/bin/sh\n# {header}\n# needs DODO_PAYMENTS_API_KEY\n"
            f'cd "$(dirname "$0")" || exit 1\n{curl}\n',
        )
        if not room:
            self.cut += 1
            shown = [
                redactor.text(summary),
                "",
                f"(the exchange is not kept: this run's evidence reached {self.limit >> 20} MiB)",
                "",
                "reproduce (from this folder):",
                curl,
                "",
            ]
            self._write(where / "exchange.txt", "\n".join(shown))
            return where
        response = exchange.render_response(redactor, limit=None)
        if len(response_body) > SHARED_BODY_CHARS:
            kept = self._body(response_body, ".txt")
            head = exchange.render_response(redactor, limit=0).rsplit("\n", 1)[0]
            response = (
                f"{head}\n(the body, {len(response_body)} characters, is kept once in {kept})"
            )
        request = exchange.render_request(redactor, limit=None)
        if request_body is not None and len(request_body) > SHARED_BODY_CHARS:
            head = exchange.render_request(redactor, limit=0).rsplit("\n", 1)[0]
            request = (
                f"{head}\n(the body, {len(request_body)} characters, is kept once in {body_file})"
            )
        self._write(
            where / "exchange.txt",
            "\n".join(
                [
                    redactor.text(summary),
                    "",
                    "request:",
                    request,
                    "",
                    "response:",
                    response,
                    "",
                    "reproduce (from this folder):",
                    curl,
                    "",
                ]
            ),
        )
        return where
