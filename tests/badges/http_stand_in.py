"""A small real HTTP server on 127.0.0.1 for tests that fetch (DID documents, status lists,
evidence links), and a guard that records any other attempt to reach the network."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Route:
    body: bytes
    status: int = 200
    content_type: str = "application/json"
    delay: float = 0.0
    headers: dict[str, str] | None = None
    send_length: bool = True  # False: no Content-Length, the body ends when the connection closes


class StandIn:
    """Routes (path → Route) the test sets and changes; every request is recorded in `hits`."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.routes: dict[str, Route] = {}
        self.hits: list[str] = []

    def route(self, path: str, body: Any = b"", *, status: int = 200, content_type: str = "application/json",
              delay: float = 0.0, headers: dict[str, str] | None = None, send_length: bool = True) -> str:
        if isinstance(body, dict | list):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        self.routes[path] = Route(body, status, content_type, delay, headers, send_length)
        return self.url(path)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def did(self) -> str:
        """The did:web whose document this server holds at /.well-known/did.json."""
        return f"did:web:127.0.0.1%3A{self.port}"


@contextmanager
def serve() -> Iterator[StandIn]:
    holder: dict[str, StandIn] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            stand_in = holder["server"]
            stand_in.hits.append(self.path)
            route = stand_in.routes.get(self.path)
            if route is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if route.delay:
                time.sleep(route.delay)
            try:
                self.send_response(route.status)
                self.send_header("Content-Type", route.content_type)
                if route.send_length:
                    self.send_header("Content-Length", str(len(route.body)))
                else:
                    self.close_connection = True
                for name, value in (route.headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(route.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout or size test)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    holder["server"] = StandIn(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield holder["server"]
    finally:
        server.shutdown()
        server.server_close()


def record_network(monkeypatch) -> list[str]:
    """Make every DNS lookup and outgoing connection fail, and return the list recording them; a
    test asserts it stays empty (nothing was fetched)."""
    attempts: list[str] = []

    def refuse_lookup(host, *args, **kwargs):
        attempts.append(f"getaddrinfo {host}")
        raise socket.gaierror("network use is not allowed in this test")

    def refuse_connect(address, *args, **kwargs):
        attempts.append(f"connect {address}")
        raise OSError("network use is not allowed in this test")

    monkeypatch.setattr(socket, "getaddrinfo", refuse_lookup)
    monkeypatch.setattr(socket, "create_connection", refuse_connect)
    return attempts
