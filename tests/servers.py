"""Any ASGI app on a loopback port, for tests that need a one-off server in this process."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from checkout_conformance.selfcheck import After, Answer, Rewrite
from checkout_conformance.server import ServerConfig, bind_socket

from .conftest import TEST_KEY

__all__ = ["Answer", "rewrite_of_reference", "serve_in_thread"]


def rewrite_of_reference(after: After, api_key: str = TEST_KEY) -> Rewrite:
    return Rewrite(after=after, config=ServerConfig(api_key=api_key))


@contextmanager
def serve_in_thread(app: Any) -> Iterator[str]:
    sock = bind_socket("127.0.0.1", 0)
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, lifespan="off", log_level="error", access_log=False, http="httptools")
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
