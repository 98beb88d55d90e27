"""A FetchPool reuses a kept-alive connection only for a fetch whose own check gave the same
checked address: the address rules (badges.fetch) are applied to every fetch, pooled or not."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from badges.fetch import FetchError, FetchPool, fetch

BODY = b"<p>coursework</p>"


@contextmanager
def keep_alive_server(*, close_after: int | None = None) -> Iterator[dict]:
    """An HTTP/1.1 server on 127.0.0.1 counting the connections it accepted and the requests it
    answered; with `close_after`, it closes each connection after that many answers."""
    state: dict = {"connections": 0, "requests": 0, "lock": threading.Lock()}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            self.answered = 0
            with state["lock"]:
                state["connections"] += 1

        def do_GET(self) -> None:
            with state["lock"]:
                state["requests"] += 1
            self.answered += 1
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(BODY)))
            self.end_headers()
            self.wfile.write(BODY)
            if close_after is not None and self.answered >= close_after:
                self.close_connection = True  # closed without saying so (no Connection: close)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    state["base"] = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def test_fetches_to_one_checked_address_share_one_connection():
    with keep_alive_server() as server, FetchPool() as pool:
        results = [fetch(f"{server['base']}/work/{i}", timeout=5, max_bytes=10_000, allow_loopback=True, pool=pool)
                   for i in range(5)]
    assert [r.body for r in results] == [BODY] * 5 and all(r.status == 200 for r in results)
    assert [r.url for r in results] == [f"{server['base']}/work/{i}" for i in range(5)]
    assert server["requests"] == 5 and server["connections"] == 1
    assert (pool.opened, pool.reused) == (1, 4)


def test_without_a_pool_each_fetch_has_its_own_connection():
    with keep_alive_server() as server:
        for i in range(3):
            fetch(f"{server['base']}/work/{i}", timeout=5, max_bytes=10_000, allow_loopback=True)
    assert server["requests"] == 3 and server["connections"] == 3


def test_an_open_pooled_connection_does_not_let_a_refused_address_through():
    # The pool holds a connection to 127.0.0.1 (opened by a fetch allowed to reach loopback). A fetch
    # of the same URL under the public-addresses rule is refused by its own check, before any reuse:
    # nothing reaches the server.
    with keep_alive_server() as server, FetchPool() as pool:
        fetch(f"{server['base']}/first", timeout=5, max_bytes=10_000, allow_loopback=True, pool=pool)
        with pytest.raises(FetchError) as caught:
            fetch(f"{server['base']}/second", timeout=5, max_bytes=10_000, allow_loopback=False, pool=pool)
        assert caught.value.kind == "refused" and "loopback" in caught.value.message
        with pytest.raises(FetchError) as https_only:
            fetch(f"{server['base']}/third", timeout=5, max_bytes=10_000, allow_loopback=False, https_only=True,
                  pool=pool)
        assert https_only.value.kind == "refused"
        assert server["requests"] == 1 and pool.reused == 0


def test_another_host_name_for_the_same_address_is_not_given_a_pooled_connection():
    with keep_alive_server() as server, FetchPool() as pool:
        fetch(f"{server['base']}/a", timeout=5, max_bytes=10_000, allow_loopback=True, pool=pool)
        other = server["base"].replace("127.0.0.1", "localhost")
        try:
            fetch(f"{other}/b", timeout=5, max_bytes=10_000, allow_loopback=True, pool=pool)
        except FetchError as error:  # localhost resolving to ::1 only, where nothing listens
            assert error.kind == "unreachable"
        assert pool.reused == 0 and pool.opened == 2


def test_a_connection_the_server_closed_meanwhile_is_replaced_once():
    with keep_alive_server(close_after=1) as server, FetchPool() as pool:
        results = [fetch(f"{server['base']}/work/{i}", timeout=5, max_bytes=10_000, allow_loopback=True, pool=pool)
                   for i in range(3)]
    assert [r.body for r in results] == [BODY] * 3
    assert server["requests"] == 3 and server["connections"] == 3


def test_an_error_status_through_the_pool_is_the_same_fetch_error():
    from tests.badges.http_stand_in import serve

    with serve() as stand_in, FetchPool() as pool:
        url = stand_in.route("/gone", b"no", status=410, content_type="text/plain")
        with pytest.raises(FetchError) as caught:
            fetch(url, timeout=5, max_bytes=10_000, allow_loopback=True, pool=pool)
        moved = stand_in.route("/moved", b"", status=301, headers={"Location": "/here"})
        stand_in.route("/here", b"arrived", content_type="text/plain")
        result = fetch(moved, timeout=5, max_bytes=10_000, allow_loopback=True, pool=pool)
    assert caught.value.kind == "http_status" and caught.value.status == 410
    assert result.body == b"arrived" and result.url == stand_in.url("/here")


def _resolving(monkeypatch, answers: list[str]) -> list[str]:
    """getaddrinfo for `name.example` answering the next of `answers` at each call (127.0.0.1 only
    for real: anything else is refused by the rules before a connection); returns the lookups."""
    real = socket.getaddrinfo
    lookups: list[str] = []

    def resolve(host, port, *args, **kwargs):
        if host != "name.example":
            return real(host, port, *args, **kwargs)
        lookups.append(host)
        address = answers[min(len(lookups), len(answers)) - 1]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    return lookups


def test_a_host_is_resolved_once_per_pool_and_its_checked_address_kept(monkeypatch):
    # The name's second answer would be a private address (DNS rebinding): the pool never asks
    # again, so every fetch of the chunk goes to the address checked first, over one connection.
    with keep_alive_server() as server, FetchPool() as pool:
        lookups = _resolving(monkeypatch, ["127.0.0.1", "10.0.0.7"])
        port = server["base"].rsplit(":", 1)[1]
        results = [fetch(f"http://name.example:{port}/work/{i}", timeout=5, max_bytes=10_000, allow_loopback=True,
                         pool=pool) for i in range(4)]
    assert [r.body for r in results] == [BODY] * 4
    assert lookups == ["name.example"] and pool.resolved == 1
    assert server["requests"] == 4 and server["connections"] == 1


def test_without_a_pool_each_fetch_resolves_again_and_a_rebound_name_is_refused(monkeypatch):
    with keep_alive_server() as server:
        lookups = _resolving(monkeypatch, ["127.0.0.1", "10.0.0.7"])
        port = server["base"].rsplit(":", 1)[1]
        fetch(f"http://name.example:{port}/a", timeout=5, max_bytes=10_000, allow_loopback=True)
        with pytest.raises(FetchError) as refused:
            fetch(f"http://name.example:{port}/b", timeout=5, max_bytes=10_000, allow_loopback=True)
    assert refused.value.kind == "refused" and "10.0.0.7" in refused.value.message
    assert len(lookups) == 2 and server["requests"] == 1


def test_a_refused_host_stays_refused_in_the_pool_and_each_url_keeps_its_own_checks(monkeypatch):
    with keep_alive_server() as server, FetchPool() as pool:
        lookups = _resolving(monkeypatch, ["10.0.0.7", "127.0.0.1"])
        port = server["base"].rsplit(":", 1)[1]
        for path in ("/a", "/b"):
            with pytest.raises(FetchError) as refused:
                fetch(f"http://name.example:{port}{path}", timeout=5, max_bytes=10_000, allow_loopback=True,
                      pool=pool)
            assert refused.value.kind == "refused" and "10.0.0.7" in refused.value.message
        # Loopback allowed or not is part of the verdict's key: judged apart, and refused.
        fetch(server["base"] + "/c", timeout=5, max_bytes=10_000, allow_loopback=True, pool=pool)
        with pytest.raises(FetchError) as loopback:
            fetch(server["base"] + "/d", timeout=5, max_bytes=10_000, allow_loopback=False, pool=pool)
        # The URL's own form is checked on every fetch, whatever the host's verdict.
        with pytest.raises(FetchError) as userinfo:
            fetch(f"http://someone:secret@127.0.0.1:{port}/e", timeout=5, max_bytes=10_000, allow_loopback=True,
                  pool=pool)
    assert lookups == ["name.example"]
    assert loopback.value.kind == "refused" and "loopback" in loopback.value.message
    assert userinfo.value.kind == "refused"
    assert server["requests"] == 1


def test_deadlines_are_watched_by_one_thread_not_a_timer_per_fetch(monkeypatch):
    def no_timer(*args, **kwargs):
        raise AssertionError("a timer thread was started for a fetch")

    monkeypatch.setattr(threading, "Timer", no_timer)
    with keep_alive_server() as server, FetchPool() as pool:
        for i in range(10):
            fetch(f"{server['base']}/work/{i}", timeout=5, max_bytes=10_000, allow_loopback=True, pool=pool)
    watchers = [t for t in threading.enumerate() if t.name == "fetch-deadlines"]
    assert len(watchers) == 1 and watchers[0].is_alive()
