"""The reference server: a faithful, fast implementation of `POST /checkouts`.

Public surface: `create_app` (an ASGI app), `ServerConfig`, `ReferenceApp`, `DEFAULT_API_KEY`,
and `serve` to run it over HTTP. `checkout-conformance serve` is the command-line way in.
"""

from ._app import DEFAULT_API_KEY, ReferenceApp, ServerConfig, create_app
from ._serve import bind_socket, serve

__all__ = ["DEFAULT_API_KEY", "ReferenceApp", "ServerConfig", "bind_socket", "create_app", "serve"]
