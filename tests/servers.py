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

__all__ = [
    "Answer",
    "leaks_checkout_url_on_charges_with",
    "rewrite_of_reference",
    "serve_in_thread",
]


def leaks_checkout_url_on_charges_with(*fields: str) -> After:
    """A fault no scenario spells out: an accepted charge that also sets each of `fields` (to a
    truthy value) gets a checkout_url."""

    def leak(answer: Answer) -> None:
        request = answer.request.body
        if (
            answer.status == 200
            and isinstance(request, dict)
            and request.get("payment_method_id") is not None
            and all(request.get(name) for name in fields)
        ):
            answer.body["checkout_url"] = "https://checkout.example/leak"

    return leak


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
