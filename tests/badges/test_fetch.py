"""The guarded fetcher (badges/fetch.py) against hostile addresses and hostile servers."""

from __future__ import annotations

import pytest

from badges.fetch import FetchError, checked_address


@pytest.mark.parametrize(
    ("host", "embedded"),
    [
        ("[2002:7f00:1::]", "127.0.0.1"),  # 6to4 of loopback
        ("[2002:a00:1::]", "10.0.0.1"),  # 6to4 of a private address
        ("[2002:a9fe:a9fe::]", "169.254.169.254"),  # 6to4 of the cloud metadata address
        ("[64:ff9b::7f00:1]", "127.0.0.1"),  # NAT64 well-known prefix
        ("[64:ff9b::c0a8:101]", "192.168.1.1"),
        ("[64:ff9b:1::a00:1]", "10.0.0.1"),  # NAT64 local-use prefix
        ("[::ffff:10.0.0.1]", None),  # IPv4-mapped: the IPv4 address itself
        ("[::ffff:127.0.0.1]", None),
        ("[::127.0.0.1]", "127.0.0.1"),  # IPv4-compatible (deprecated)
        ("[::10.0.0.1]", "10.0.0.1"),
        ("[2001:0:4136:e378:8000:63bf:f5ff:fffe]", "10.0.0.1"),  # Teredo, client 10.0.0.1
    ],
)
def test_ipv6_forms_embedding_a_non_global_ipv4_address_are_refused(host, embedded):
    with pytest.raises(FetchError) as caught:
        checked_address(f"http://{host}/evidence", allow_loopback=False, https_only=False)
    assert caught.value.kind == "refused"
    assert "is not contacted" in caught.value.message
    if embedded:
        assert f"embeds {embedded}" in caught.value.message


def test_the_embedded_forms_are_refused_even_where_loopback_is_allowed():
    # Tests allow plain http to 127.0.0.1; a 6to4 address is reached through a relay, never locally.
    with pytest.raises(FetchError) as caught:
        checked_address("http://[2002:7f00:1::]/", allow_loopback=True, https_only=False)
    assert "6to4" in caught.value.message


@pytest.mark.parametrize("host", ["[2002:808:808::]", "[64:ff9b::808:808]"])
def test_translated_forms_of_a_public_ipv4_address_are_allowed(host):
    scheme, address, port = checked_address(f"https://{host}/", allow_loopback=False, https_only=True)
    assert (scheme, port) == ("https", 443)
    assert address == host.strip("[]")


def test_a_public_ipv6_address_is_allowed():
    assert checked_address("https://[2606:4700::1111]/", allow_loopback=False, https_only=True)[1] == "2606:4700::1111"


# --- a real slow server: the deadline covers the whole fetch ------------------------------------

import socket  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402

from badges.fetch import fetch  # noqa: E402


@contextmanager
def trickling_server(*, headers_slowly: bool = False, length: int = 1000, hold: float = 0.0) -> Iterator[dict]:
    """A raw TCP server on 127.0.0.1 that sends one byte a second (of its headers, or of its body),
    or holds each connection `hold` seconds before answering. Counts connections open at once."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(32)
    state = {"port": listener.getsockname()[1], "open": 0, "most": 0, "lock": threading.Lock(), "stop": False}

    def serve_one(conn: socket.socket) -> None:
        with state["lock"]:
            state["open"] += 1
            state["most"] = max(state["most"], state["open"])
        try:
            conn.recv(65536)
            head = f"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {length}\r\n\r\n".encode()
            if hold:
                time.sleep(hold)
                conn.sendall(head + b"x" * length)
                return
            if not headers_slowly:
                conn.sendall(head)
            for byte in (head if headers_slowly else b"x" * length):
                if state["stop"]:
                    return
                conn.sendall(bytes([byte]) if isinstance(byte, int) else byte)
                time.sleep(1.0)
        except OSError:
            pass
        finally:
            with state["lock"]:
                state["open"] -= 1
            conn.close()

    def accept() -> None:
        while not state["stop"]:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve_one, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield state
    finally:
        state["stop"] = True
        listener.close()


@pytest.mark.parametrize("headers_slowly", [False, True], ids=["body", "headers"])
def test_a_server_sending_one_byte_a_second_is_cut_off_at_the_deadline(headers_slowly):
    with trickling_server(headers_slowly=headers_slowly) as server:
        started = time.monotonic()
        with pytest.raises(FetchError) as caught:
            fetch(f"http://127.0.0.1:{server['port']}/slow", timeout=2, max_bytes=10_000, allow_loopback=True)
        elapsed = time.monotonic() - started
    assert caught.value.kind == "timeout"
    assert "took too long" in caught.value.message or "did not answer within 2 seconds" in caught.value.message
    assert elapsed < 3.0, f"held for {elapsed:.1f} s past a 2 s deadline"


def test_a_body_over_the_size_limit_is_refused_even_without_a_content_length():
    from tests.badges.http_stand_in import serve

    with serve() as stand_in:
        url = stand_in.route("/big", b"y" * 5000, content_type="text/plain", send_length=False)
        with pytest.raises(FetchError) as caught:
            fetch(url, timeout=5, max_bytes=1000, allow_loopback=True)
    assert caught.value.kind == "too_large"


def test_at_most_fetch_concurrency_fetches_run_at_once_and_the_others_wait_for_a_slot(settings):
    settings.FETCH_CONCURRENCY = 2
    outcomes: list[str] = []
    with trickling_server(hold=0.4, length=10) as server:
        def one() -> None:
            try:
                outcomes.append(fetch(f"http://127.0.0.1:{server['port']}/", timeout=10, max_bytes=100,
                                      allow_loopback=True).body.decode())
            except FetchError as error:
                outcomes.append(error.kind)

        threads = [threading.Thread(target=one) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(15)
    assert outcomes == ["x" * 10] * 6  # everyone was served, in turn
    assert server["most"] == 2


def test_a_fetch_that_finds_no_free_slot_within_its_deadline_gives_up_as_busy(settings):
    settings.FETCH_CONCURRENCY = 1
    with trickling_server(hold=1.5, length=10) as server:
        url = f"http://127.0.0.1:{server['port']}/"
        first = threading.Thread(target=lambda: fetch(url, timeout=5, max_bytes=100, allow_loopback=True))
        first.start()
        time.sleep(0.2)
        started = time.monotonic()
        with pytest.raises(FetchError) as caught:
            fetch(url, timeout=0.5, max_bytes=100, allow_loopback=True)
        assert time.monotonic() - started < 1.0
        first.join(5)
    assert caught.value.kind == "busy"
    assert "Too many outside addresses" in caught.value.message


@pytest.mark.django_db
def test_a_verify_look_up_of_a_trickling_did_document_stops_at_the_verify_deadline(settings):
    from badges.did_resolver import DidResolver

    settings.VERIFY_FETCH_TIMEOUT = 2
    with trickling_server() as server:
        started = time.monotonic()
        resolution = DidResolver().resolve(f"did:web:127.0.0.1%3A{server['port']}")
        elapsed = time.monotonic() - started
    assert not resolution.resolved
    assert elapsed < 3.0, f"the DID look-up took {elapsed:.1f} s"
