"""The reference server with a changed behaviour: the building block of variants and mutants.

`Rewrite` wraps the reference app. Before the request reaches it, a `before` hook may answer on
its own (a server that skips a check); after the reference app answered, an `after` hook may
change the answer (a different status, a missing field, a header less). Variants and mutants are
a few lines each on top of it, never copies of the server.
"""

from __future__ import annotations

import copy
import json
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..server import ReferenceApp, ServerConfig
from ..server._app import Receive, Scope, Send


@dataclass
class Answer:
    """A response as a rewrite sees it; `after` hooks change it in place."""

    request: Request
    status: int
    headers: list[tuple[bytes, bytes]]
    body: Any  # parsed JSON, or bytes when the body is not JSON

    def header(self, name: bytes) -> bytes | None:
        return next((value for key, value in self.headers if key == name), None)

    def set_header(self, name: bytes, value: bytes | None) -> None:
        self.headers = [(k, v) for k, v in self.headers if k != name]
        if value is not None:
            self.headers.append((name, value))


@dataclass
class Request:
    """The request as a rewrite sees it (read-only for `after`, replaceable for `before`)."""

    method: str
    path: str
    headers: dict[bytes, bytes]
    raw_body: bytes
    body: Any = None  # parsed JSON, or None
    query: str = ""


Before = Callable[[Request, ServerConfig], "Answer | Request | None"]
After = Callable[[Answer], None]


@dataclass
class Rewrite:
    """The reference app with `before` and `after` hooks around it."""

    after: After | None = None
    before: Before | None = None
    config: ServerConfig = field(default_factory=ServerConfig)

    def __post_init__(self) -> None:
        self.app = ReferenceApp(self.config)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False) or message["type"] == "http.disconnect":
                break
        raw = b"".join(chunks)
        request = Request(
            scope["method"],
            scope["path"],
            dict(scope["headers"]),
            raw,
            _parse(raw),
            urllib.parse.unquote(scope.get("query_string", b"").decode("latin-1")),
        )
        answer = None
        if self.before is not None:
            # A hook that trips over input it was not written for leaves the request alone:
            # a mutant breaks its one requirement, never the server by accident.
            original = copy.deepcopy(request)
            try:
                answer = self.before(request, self.config)
            except Exception:
                request, answer = original, None
        if isinstance(answer, Request):
            request, answer = answer, None
        if answer is None:
            answer = await self._reference_answer(scope, request)
        if self.after is not None:
            snapshot = copy.deepcopy(answer)
            try:
                self.after(answer)
            except Exception:
                answer = snapshot
        data = answer.body if isinstance(answer.body, bytes) else json.dumps(answer.body).encode()
        headers = [*answer.headers, (b"content-length", str(len(data)).encode())]
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": data})

    async def _reference_answer(self, scope: Scope, request: Request) -> Answer:
        body = request.raw_body
        if request.body is not None and not isinstance(request.body, bytes):
            body = json.dumps(request.body).encode()
        headers = [(k, v) for k, v in request.headers.items() if k != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        delivered = False

        async def replay() -> Any:
            nonlocal delivered
            if delivered:
                return {"type": "http.disconnect"}
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        sent: list[Any] = []

        async def capture(message: Any) -> None:
            sent.append(message)

        await self.app({**scope, "headers": headers}, replay, capture)
        start, body_message = sent[0], sent[1]
        kept = [h for h in start["headers"] if h[0] != b"content-length"]
        return Answer(
            request,
            start["status"],
            kept,
            _parse(body_message.get("body", b"")) or body_message.get("body", b""),
        )


def json_answer(
    request: Request, status: int, body: Any, headers: list[tuple[bytes, bytes]] | None = None
) -> Answer:
    """An answer a `before` hook gives instead of asking the reference app."""
    return Answer(request, status, [(b"content-type", b"application/json"), *(headers or [])], body)


def _parse(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than json can go
        return None
