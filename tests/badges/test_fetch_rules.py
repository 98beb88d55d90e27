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
