"""The outbound fetcher's address and scheme rules on the public path (issue 15): what production
does, not what the test settings' loopback allowance does. Addresses are literal IPs, so
`getaddrinfo` answers without DNS; every connection attempt is recorded and refused, and each
refusal asserts that nothing was contacted."""

from __future__ import annotations

import socket

import pytest

from badges.did_resolver import DidResolver
from badges.fetch import FetchError, checked_address, fetch

PUBLIC = "93.184.215.14"  # a public unicast address (never contacted: connections are refused below)


@pytest.fixture
def connections(monkeypatch) -> list[tuple]:
    attempts: list[tuple] = []

    def refuse(address, *args, **kwargs):
        attempts.append(address)
        raise OSError("no connection in this test")

    monkeypatch.setattr(socket, "create_connection", refuse)
    return attempts


@pytest.mark.parametrize("address", [
    "100.64.0.1",       # shared address space (RFC 6598, carrier-grade NAT): neither private nor reserved
    "100.100.100.200",  # inside it: a cloud provider's instance-metadata address
    "100.127.255.254",
    "[::ffff:100.64.0.1]",  # the same, IPv4-mapped
])
@pytest.mark.parametrize("allow_loopback", [False, True])
def test_a_non_global_address_outside_the_named_kinds_is_refused(address, allow_loopback, connections):
    with pytest.raises(FetchError) as refused:
        fetch(f"https://{address}/latest/meta-data/", timeout=2, max_bytes=1000, allow_loopback=allow_loopback)
    assert refused.value.kind == "refused"
    assert "not a public address" in refused.value.message
    assert connections == []


def test_a_public_address_is_allowed_and_connected_to_as_checked(connections):
    assert checked_address(f"https://{PUBLIC}/x", allow_loopback=False, https_only=True) == ("https", PUBLIC, 443)
    with pytest.raises(FetchError) as failed:
        fetch(f"https://{PUBLIC}/x", timeout=2, max_bytes=1000)
    assert failed.value.kind == "unreachable"
    assert connections == [(PUBLIC, 443)]


@pytest.mark.parametrize("allow_loopback", [False, True])
def test_https_only_refuses_plain_http_to_a_public_address_before_connecting(allow_loopback, connections):
    with pytest.raises(FetchError) as refused:
        fetch(f"http://{PUBLIC}/status/1", timeout=2, max_bytes=1000, allow_loopback=allow_loopback,
              https_only=True)
    assert refused.value.kind == "refused"
    assert refused.value.message == f"Only https links are followed here, not 'http://{PUBLIC}/status/1'."
    assert connections == []


def test_without_https_only_plain_http_to_a_public_address_is_attempted(connections):
    with pytest.raises(FetchError):
        fetch(f"http://{PUBLIC}/page", timeout=2, max_bytes=1000)
    assert connections == [(PUBLIC, 80)]


def test_https_only_refuses_plain_http_to_loopback_unless_loopback_is_allowed(connections):
    with pytest.raises(FetchError) as refused:
        fetch("http://127.0.0.1:9/did.json", timeout=2, max_bytes=1000, allow_loopback=False, https_only=True)
    assert refused.value.kind == "refused" and "loopback" in refused.value.message
    assert checked_address("http://127.0.0.1:9/", allow_loopback=True, https_only=True) == ("http", "127.0.0.1", 9)
    assert connections == []


def test_the_verifier_fetches_documents_of_other_servers_over_https_only(connections):
    # With the production setting (no loopback allowance) and with the test settings' allowance:
    # a status list or DID document named with http:// on a public host is never fetched.
    for allow_loopback in (False, True):
        document, why = DidResolver(allow_loopback=allow_loopback).fetch_json(
            f"http://{PUBLIC}/status/1", accept="application/json")
        assert document is None
        assert why == f"Only https links are followed here, not 'http://{PUBLIC}/status/1'."
    assert connections == []
    # A did:web on a public host is looked up at its https address.
    resolution = DidResolver(allow_loopback=True).resolve(f"did:web:{PUBLIC}")
    assert not resolution.resolved
    assert connections == [(PUBLIC, 443)]


@pytest.mark.parametrize(("address", "problem", "problem_with_loopback"), [
    ("127.0.0.1", "a loopback address", None),
    ("[::1]", "a loopback address", None),
    ("[::ffff:127.0.0.1]", "a loopback address", None),
    ("0.0.0.0", "an unspecified address", "an unspecified address"),  # noqa: S104
    ("[::]", "an unspecified address", "an unspecified address"),
    ("169.254.169.254", "a link-local address", "a link-local address"),
    ("[fe80::1]", "a link-local address", "a link-local address"),
    ("224.0.0.1", "a multicast address", "a multicast address"),
    ("[ff02::1]", "a multicast address", "a multicast address"),
    ("10.0.0.1", "a private address", "a private address"),
    ("192.168.1.1", "a private address", "a private address"),
    ("172.16.0.1", "a private address", "a private address"),
    ("[fc00::1]", "a private address", "a private address"),
    ("[::ffff:10.0.0.1]", "a private address", "a private address"),
    ("[400::1]", "a reserved address", "a reserved address"),
    ("100.64.0.1", "not a public address", "not a public address"),
    ("8.8.8.8", None, None),
    ("[2001:4860:4860::8888]", None, None),
])
def test_each_kind_of_address_is_named_and_only_public_ones_pass(address, problem, problem_with_loopback, connections):
    for allow_loopback, expected in ((False, problem), (True, problem_with_loopback)):
        url = f"https://{address}:8443/x"
        if expected is None:
            scheme, checked, port = checked_address(url, allow_loopback=allow_loopback, https_only=True)
            assert (scheme, checked, port) == ("https", address.strip("[]"), 8443)
        else:
            with pytest.raises(FetchError) as refused:
                checked_address(url, allow_loopback=allow_loopback, https_only=True)
            assert refused.value.kind == "refused"
            assert refused.value.message == (
                f"The host {address.strip('[]')} resolves to {address.strip('[]')}, {expected}; it is not contacted."
            )
    assert connections == []


@pytest.mark.parametrize(("url", "message"), [
    ("ftp://example.org/x", "Only http and https links are followed, not 'ftp'."),
    ("//example.org/x", "Only http and https links are followed, not 'no scheme'."),
    ("https:///x", "The link 'https:///x' names no host."),
    ("https://user:pw@8.8.8.8/x", "Links carrying a user name or password are not followed."),
    ("https://8.8.8.8:99999/x", "'https://8.8.8.8:99999/x' is not a valid URL."),
])
def test_a_url_that_may_not_be_fetched_is_refused_with_its_reason(url, message, connections):
    with pytest.raises(FetchError) as refused:
        checked_address(url, allow_loopback=True, https_only=False)
    assert (refused.value.kind, refused.value.message) == ("refused", message)
    assert connections == []


def test_the_default_ports_follow_the_scheme():
    assert checked_address("http://8.8.8.8/x", allow_loopback=False, https_only=False) == ("http", "8.8.8.8", 80)
    assert checked_address("HTTPS://8.8.8.8/x", allow_loopback=False, https_only=True) == ("https", "8.8.8.8", 443)


def test_a_host_resolving_to_a_public_and_a_private_address_is_refused(monkeypatch, connections):
    def two_answers(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("8.8.8.8", port)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", port))]

    monkeypatch.setattr(socket, "getaddrinfo", two_answers)
    with pytest.raises(FetchError) as refused:
        checked_address("https://mixed.example/x", allow_loopback=False, https_only=True)
    assert refused.value.message == (
        "The host mixed.example resolves to 10.1.2.3, a private address; it is not contacted.")


def test_http_to_loopback_under_https_only_needs_every_address_to_be_loopback(monkeypatch, connections):
    def answers(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("8.8.8.8", port))]

    monkeypatch.setattr(socket, "getaddrinfo", answers)
    with pytest.raises(FetchError) as refused:
        checked_address("http://partly-local.example/x", allow_loopback=True, https_only=True)
    assert refused.value.message == "Only https links are followed here, not 'http://partly-local.example/x'."
    assert checked_address("http://partly-local.example/x", allow_loopback=True, https_only=False) == (
        "http", "127.0.0.1", 80)


def test_a_host_that_does_not_resolve_is_unreachable_not_refused(monkeypatch):
    def nothing(host, *args, **kwargs):
        raise socket.gaierror("Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", nothing)
    with pytest.raises(FetchError) as failed:
        checked_address("https://nowhere.example/x", allow_loopback=False, https_only=True)
    assert failed.value.kind == "unreachable"
    assert failed.value.message == "The host nowhere.example could not be found (the name could not be looked up)."

    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: [])
    with pytest.raises(FetchError) as empty:
        checked_address("https://nowhere.example/x", allow_loopback=False, https_only=True)
    assert (empty.value.kind, empty.value.message) == ("unreachable", "The host nowhere.example has no address.")


# --- scope ids, embedded addresses' words, credentials in links (mutation testing, issue 15) ----------
def test_the_address_is_judged_without_its_scope_id():
    from badges.fetch import _address_problem

    # getaddrinfo writes a scope id after "%"; everything from the first "%" on is not the address.
    assert _address_problem("10.0.0.1%eth0", allow_loopback=False) == "a private address"
    assert _address_problem("10.0.0.1%eth0%1", allow_loopback=False) == "a private address"
    assert _address_problem("fe80::1%eth0%1", allow_loopback=False) == "a link-local address"
    assert _address_problem("93.184.215.14%x", allow_loopback=False) is None


def test_an_embedded_address_is_named_with_its_form_and_problem():
    from badges.fetch import _address_problem

    assert _address_problem("2002:a00:1::", allow_loopback=False) == (
        "a 6to4 address that embeds 10.0.0.1, a private address")
    assert _address_problem("2002:7f00:1::", allow_loopback=True) == (
        "a 6to4 address that embeds 127.0.0.1, a loopback address")
    assert _address_problem("64:ff9b::a00:1", allow_loopback=False) == (
        "a NAT64 address that embeds 10.0.0.1, a private address")


@pytest.mark.parametrize("userinfo", ["user@", "user:@", ":secret@", "user:secret@"])
def test_a_link_carrying_a_user_name_or_a_password_is_refused(userinfo, connections):
    with pytest.raises(FetchError) as refused:
        checked_address(f"https://{userinfo}{PUBLIC}/x", allow_loopback=False, https_only=True)
    assert (refused.value.kind, refused.value.message) == (
        "refused", "Links carrying a user name or password are not followed.")
    assert connections == []


def test_http_to_loopback_answers_with_a_scope_id_counts_as_loopback(monkeypatch, connections):
    def answers(host, port, *args, **kwargs):
        return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("::1%lo", port, 0, 1)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1%lo", port))]

    monkeypatch.setattr(socket, "getaddrinfo", answers)
    assert checked_address("http://local.example/x", allow_loopback=True, https_only=True) == (
        "http", "::1%lo", 80)
