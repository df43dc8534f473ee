"""Run the reference server over real HTTP (uvicorn), for people and for the embedded suite run."""

from __future__ import annotations

import importlib.util
import socket
import sys
import threading

import uvicorn

from ._app import ReferenceApp


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind and listen first: port 0 gives a real port, and clients may connect at once."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)  # connections queue from now on, before the server loop takes over
    sock.set_inheritable(True)
    return sock


def _watch_stdin(server: uvicorn.Server) -> None:
    """Stop when the parent closes our stdin: a harness that dies never leaves a server behind."""
    try:
        while sys.stdin.buffer.read(4096):
            pass
    finally:
        server.should_exit = True


def serve(
    app: ReferenceApp,
    sock: socket.socket,
    *,
    stop_on_stdin_eof: bool = False,
    log_level: str = "warning",
) -> None:
    """Serve `app` on an already-bound socket until interrupted."""
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    config = uvicorn.Config(
        app,
        loop=loop,
        http="httptools",
        lifespan="off",
        log_level=log_level,
        access_log=False,
        server_header=False,
        date_header=False,
        proxy_headers=False,  # no X-Forwarded-* rewriting middleware on the hot path
        interface="asgi3",
    )
    server = uvicorn.Server(config)
    if stop_on_stdin_eof:
        threading.Thread(target=_watch_stdin, args=(server,), daemon=True).start()
    server.run(sockets=[sock])
