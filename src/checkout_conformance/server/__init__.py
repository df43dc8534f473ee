"""The reference server: a faithful, fast implementation of `POST /checkouts`.

Public surface: `create_app` (an ASGI app), `ServerConfig`, `ReferenceApp`, `DEFAULT_API_KEY`,
`serve` to run it over HTTP, and `EmbeddedServer` to run it as a child process.
`checkout-conformance serve` is the command-line way in.
"""

from ._app import DEFAULT_API_KEY, ReferenceApp, ServerConfig, create_app
from ._embedded import EmbeddedServer, ServerDidNotStart
from ._serve import bind_socket, serve

__all__ = [
    "DEFAULT_API_KEY",
    "EmbeddedServer",
    "ReferenceApp",
    "ServerConfig",
    "ServerDidNotStart",
    "bind_socket",
    "create_app",
    "serve",
]
