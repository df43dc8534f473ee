"""Servers for the project's tests: any ASGI app on a loopback port, and response rewriting.

`serve_in_thread` runs an app with uvicorn on 127.0.0.1 and an ephemeral port for the duration
of a `with` block. `Rewrite` wraps the reference app and changes its answers the way a buggy or
merely different implementation would (a different status, a missing field, an extra header).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn

from checkout_conformance.server import ReferenceApp, ServerConfig, bind_socket
from checkout_conformance.server._app import Receive, Scope, Send

from .conftest import TEST_KEY


@contextmanager
def serve_in_thread(app: Any) -> Iterator[str]:
    sock = bind_socket("127.0.0.1", 0)
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            app, lifespan="off", log_level="error", access_log=False, http="h11", loop="asyncio"
        )
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@dataclass
class Answer:
    """A response as the rewriter sees it; a rewrite changes it in place."""

    request_body: Any
    status: int
    headers: list[tuple[bytes, bytes]]
    body: Any  # parsed JSON, or bytes when the body is not JSON


Rewriter = Callable[[Answer], None]


class Rewrite:
    """The reference app, with every answer passed through `rewrite` before it is sent."""

    def __init__(self, rewrite: Rewriter, api_key: str = TEST_KEY) -> None:
        self.app = ReferenceApp(ServerConfig(api_key=api_key))
        self.rewrite = rewrite

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []

        async def recording_receive() -> Any:
            message = await receive()
            chunks.append(message.get("body", b""))
            return message

        sent: list[Any] = []

        async def capture(message: Any) -> None:
            sent.append(message)

        await self.app(scope, recording_receive, capture)
        start, body_message = sent[0], sent[1]
        raw = body_message.get("body", b"")
        try:
            request_body = json.loads(b"".join(chunks) or b"null")
        except ValueError:
            request_body = None
        try:
            parsed: Any = json.loads(raw) if raw else b""
        except ValueError:
            parsed = raw
        answer = Answer(
            request_body,
            start["status"],
            [h for h in start["headers"] if h[0] != b"content-length"],
            parsed,
        )
        self.rewrite(answer)
        data = answer.body if isinstance(answer.body, bytes) else json.dumps(answer.body).encode()
        headers = [*answer.headers, (b"content-length", str(len(data)).encode())]
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": data})
