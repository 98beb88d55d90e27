"""Bitstring Status List: size, bit order, encoding and decoding."""

from __future__ import annotations

import base64
import gzip

import pytest

from badges.credentials import MIN_ENTRIES, StatusList, StatusListError


def test_a_new_status_list_has_131072_entries_all_clear() -> None:
    status_list = StatusList()
    assert len(status_list) == MIN_ENTRIES == 131_072
    assert len(status_list.to_bytes()) == 16 * 1024
    assert status_list.set_indices() == []


def test_a_status_list_smaller_than_the_minimum_is_refused() -> None:
    with pytest.raises(StatusListError):
        StatusList(1024)
    with pytest.raises(StatusListError):
        StatusList.from_bytes(b"\0" * 100)


def test_bits_can_be_set_read_and_cleared() -> None:
    status_list = StatusList()
    for index in (0, 1, 7, 8, 94567, 131071):
        status_list.set(index)
    assert status_list.set_indices() == [0, 1, 7, 8, 94567, 131071]
    assert status_list.get(94567) and not status_list.get(94566)
    status_list.set(94567, False)
    assert not status_list.get(94567)


def test_index_zero_is_the_most_significant_bit_of_the_first_byte() -> None:
    status_list = StatusList()
    status_list.set(0)
    status_list.set(9)
    raw = status_list.to_bytes()
    assert raw[0] == 0b1000_0000
    assert raw[1] == 0b0100_0000


def test_out_of_range_indices_are_refused() -> None:
    status_list = StatusList()
    for bad in (-1, 131072, True):
        with pytest.raises(StatusListError):
            status_list.get(bad)  # type: ignore[arg-type]


def test_the_encoded_list_is_u_plus_unpadded_base64url_of_gzip() -> None:
    status_list = StatusList()
    status_list.set(3)
    encoded = status_list.encode()
    assert encoded.startswith("u") and "=" not in encoded
    body = encoded[1:]
    raw = gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    assert raw == status_list.to_bytes()


def test_encoding_is_deterministic() -> None:
    first, second = StatusList(), StatusList()
    first.set(5)
    second.set(5)
    assert first.encode() == second.encode()


def test_encode_and_decode_round_trip() -> None:
    status_list = StatusList(MIN_ENTRIES * 2)
    for index in range(0, MIN_ENTRIES * 2, 997):
        status_list.set(index)
    decoded = StatusList.decode(status_list.encode())
    assert len(decoded) == MIN_ENTRIES * 2
    assert decoded.set_indices() == status_list.set_indices()


def test_the_spec_example_of_an_empty_list_decodes() -> None:
    # The Bitstring Status List spec's example encodedList: 16 KiB of zero bits.
    example = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"
    decoded = StatusList.decode(example)
    assert len(decoded) == MIN_ENTRIES
    assert decoded.set_indices() == []


@pytest.mark.parametrize("bad", ["", "zabc", "u!!!", "u" + "A" * 10, None])
def test_malformed_encoded_lists_are_refused(bad: object) -> None:
    with pytest.raises(StatusListError):
        StatusList.decode(bad)  # type: ignore[arg-type]


def test_a_gzip_bomb_is_refused() -> None:
    bomb = gzip.compress(b"\0" * (17 * 1024 * 1024))
    encoded = "u" + base64.urlsafe_b64encode(bomb).decode().rstrip("=")
    with pytest.raises(StatusListError, match="size"):
        StatusList.decode(encoded)


def test_the_module_functions_encode_and_decode_bits_counted_from_the_left() -> None:
    from badges.credentials.statuslist import decode_status_list, encode_status_list

    bits = StatusList()
    for index in (0, 7, 8, 131_071):
        bits.set(index)
    encoded = encode_status_list(bits)
    # Read back as the spec describes it, without the library: u + base64url(gzip(bitstring)).
    raw = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    assert encoded[0] == "u" and "=" not in encoded
    assert len(raw) == 16_384
    assert (raw[0], raw[1], raw[-1]) == (0b1000_0001, 0b1000_0000, 0b0000_0001)
    assert set(raw[2:-1]) == {0}
    decoded = decode_status_list(encoded)
    assert decoded.set_indices() == [0, 7, 8, 131_071]
    assert decoded.to_bytes() == raw
