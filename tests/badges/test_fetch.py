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
