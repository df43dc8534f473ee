"""Every failing exchange in full, redacted, on disk: what the terminal and Allure cut short.

A failure's folder (`<reports>/failures/<test>/`) holds `exchange.txt` (the request and the
response, untruncated), `request-body.json` (the body exactly as sent, the key redacted) and
`curl.sh`, which sends that body again (`--data-binary @request-body.json`) with the key taken
from `$DODO_PAYMENTS_API_KEY`. The folder is emptied at the start of each run.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from ..redact import Redactor
from ._http import Exchange, curl_line

MARKER = ".checkout-conformance-failures"
BODY_FILE = "request-body.json"


def reset(folder: Path) -> None:
    """Empty a failures folder this suite made (never a folder it did not make)."""
    if (folder / MARKER).is_file():
        shutil.rmtree(folder, ignore_errors=True)


def slug(test: str) -> str:
    """A folder name for a test's node id."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", test.replace("::", "__")).strip("_")[:150]


def write(folder: Path, test: str, exchange: Exchange, redactor: Redactor, summary: str) -> Path:
    """Write one failing exchange; returns its folder. A later failure of the same test (a
    property test shrinking its example) replaces it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).touch()
    where = folder / slug(test)
    where.mkdir(exist_ok=True)
    body_file = None
    if exchange.request.body is not None:
        body_file = BODY_FILE
        text = exchange.request.body.decode("utf-8", errors="replace")
        (where / BODY_FILE).write_text(redactor.text(text), encoding="utf-8")
    curl = curl_line(exchange.request, redactor, body_file=body_file)
    header = redactor.text(summary).splitlines()[0] if summary else test
    (where / "curl.sh").write_text(
        f'#!/bin/sh\n# {header}\n# needs DODO_PAYMENTS_API_KEY\ncd "$(dirname "$0")" || exit 1\n'
        f"{curl}\n",
        encoding="utf-8",
    )
    (where / "exchange.txt").write_text(
        "\n".join(
            [
                redactor.text(summary),
                "",
                "request:",
                exchange.render_request(redactor, limit=None),
                "",
                "response:",
                exchange.render_response(redactor, limit=None),
                "",
                "reproduce (from this folder):",
                curl,
                "",
            ]
        ),
        encoding="utf-8",
    )
    return where
