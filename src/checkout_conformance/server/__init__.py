"""The reference server: a faithful, fast implementation of `POST /checkouts`.

Public surface: `create_app` (an ASGI app), `ServerConfig`, `ReferenceApp`, `DEFAULT_API_KEY`,
`serve` to run it over HTTP, `EmbeddedServer` to run it as a child process, and `errors` (the
documented error codes) and `MAX_CART_ITEMS` for code that imitates it (self-certification).
`checkout-conformance serve` is the command-line way in.
"""

from . import _errors as errors
from ._app import DEFAULT_API_KEY, ReferenceApp, ServerConfig, create_app
from ._embedded import EmbeddedServer, ServerDidNotStart
from ._latency import Delayed
from ._rules import MAX_CART_ITEMS
from ._serve import bind_socket, serve

__all__ = [
    "DEFAULT_API_KEY",
    "MAX_CART_ITEMS",
    "Delayed",
    "EmbeddedServer",
    "ReferenceApp",
    "ServerConfig",
    "ServerDidNotStart",
    "bind_socket",
    "create_app",
    "errors",
    "serve",
]
