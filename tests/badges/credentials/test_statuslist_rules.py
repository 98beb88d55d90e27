"""The bitstring's rules, checked against a second implementation written here from the spec (entry i
is bit i counted from the left: bit 7 - i % 8 of byte i // 8), and every refusal with its exact words."""

from __future__ import annotations

import base64
import gzip
import random

import pytest

from badges.credentials import StatusListError
from badges.credentials.statuslist import MIN_ENTRIES, StatusList, decode_status_list, encode_status_list

SIZE_BYTES = 16_384


def spec_get(data: bytes, index: int) -> bool:
    return (data[index // 8] >> (7 - index % 8)) & 1 == 1


def spec_set_indices(data: bytes) -> list[int]:
    return [i for i in range(len(data) * 8) if spec_get(data, i)]


def spec_decode(encoded: str) -> bytes:
    text = encoded[1:]
    return gzip.decompress(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))


def spec_encode(data: bytes) -> str:
    return "u" + base64.urlsafe_b64encode(gzip.compress(data)).decode().rstrip("=")


def random_bytes(seed: int, length: int = SIZE_BYTES) -> bytes:
    generator = random.Random(seed)
    return bytes(generator.choice((0, 0, 0, generator.randrange(256))) for _ in range(length))


def message_of(call, *args) -> str:
    with pytest.raises(StatusListError) as caught:
        call(*args)
    return str(caught.value)


# --- sizes ------------------------------------------------------------------------------------------
def test_a_new_list_is_the_minimum_size_all_clear() -> None:
    bits = StatusList()
    assert len(bits) == 131_072 == MIN_ENTRIES
    assert bits.to_bytes() == bytes(SIZE_BYTES)
    assert isinstance(bits.to_bytes(), bytes)


@pytest.mark.parametrize(("size", "length"), [(131_072, 131_072), (131_080, 131_080), (262_144, 262_144)])
def test_a_list_of_the_minimum_or_more_in_whole_bytes(size: int, length: int) -> None:
    bits = StatusList(size)
    assert len(bits) == length
    assert bits.to_bytes() == bytes(length // 8)


@pytest.mark.parametrize("size", [131_071, 131_064, 0, -8, 131_076, 131_073])
def test_a_list_too_small_or_not_in_whole_bytes_is_refused(size: int) -> None:
    assert message_of(StatusList, size) == (
        f"a status list needs at least 131072 entries and a multiple of 8, not {size}")


def test_a_list_over_raw_bytes_keeps_them_and_refuses_too_few() -> None:
    data = random_bytes(1)
    bits = StatusList.from_bytes(data)
    assert bits.to_bytes() == data and len(bits) == 131_072
    longer = StatusList.from_bytes(data + b"\x80")
    assert len(longer) == 131_080 and longer.get(131_072) is True
    assert message_of(StatusList.from_bytes, data[:-1]) == "a status list has at least 131072 entries"
    assert message_of(StatusList.from_bytes, b"") == "a status list has at least 131072 entries"


def test_a_list_over_raw_bytes_is_its_own_copy() -> None:
    data = bytearray(SIZE_BYTES)
    bits = StatusList.from_bytes(data)
    data[0] = 0xFF
    assert bits.get(0) is False
    bits.set(9)
    assert data[1] == 0


# --- reading and writing bits ---------------------------------------------------------------------
def test_every_bit_reads_as_the_spec_counts_it() -> None:
    data = random_bytes(2)
    bits = StatusList.from_bytes(data)
    assert [bits.get(i) for i in range(len(bits))] == [spec_get(data, i) for i in range(len(data) * 8)]


def test_set_indices_lists_every_set_bit_in_order() -> None:
    for seed in (3, 4):
        data = random_bytes(seed)
        assert StatusList.from_bytes(data).set_indices() == spec_set_indices(data)
    full = StatusList.from_bytes(b"\xff" * SIZE_BYTES)
    assert full.set_indices() == list(range(131_072))
    assert StatusList().set_indices() == []


def test_each_bit_of_a_byte_is_its_own_entry() -> None:
    for bit in range(8):
        data = bytearray(SIZE_BYTES)
        data[5] = 0x80 >> bit
        bits = StatusList.from_bytes(bytes(data))
        assert bits.set_indices() == [40 + bit]
        assert [bits.get(40 + b) for b in range(8)] == [b == bit for b in range(8)]


def test_setting_and_clearing_touch_only_their_bit() -> None:
    data = random_bytes(5)
    expected = bytearray(data)
    bits = StatusList.from_bytes(data)
    for index in random.Random(6).sample(range(131_072), 400):
        value = index % 3 != 0
        bits.set(index, value)
        byte, mask = index // 8, 1 << (7 - index % 8)
        expected[byte] = expected[byte] | mask if value else expected[byte] & (0xFF ^ mask)
        assert bits.get(index) is value
    assert bits.to_bytes() == bytes(expected)


def test_set_defaults_to_setting_and_repeats_are_harmless() -> None:
    bits = StatusList()
    bits.set(10)
    bits.set(10)
    assert bits.set_indices() == [10]
    bits.set(10, False)
    bits.set(10, False)
    assert bits.set_indices() == []
    bits.set(11, True)
    assert bits.to_bytes()[1] == 0b0001_0000


@pytest.mark.parametrize(("index", "message"), [
    (-1, "status list index -1 out of range 0..131071"),
    (131_072, "status list index 131072 out of range 0..131071"),
    (10**9, "status list index 1000000000 out of range 0..131071"),
    ("3", "status list index must be an int, not '3'"),
    (3.0, "status list index must be an int, not 3.0"),
    (True, "status list index must be an int, not True"),
    (False, "status list index must be an int, not False"),
    (None, "status list index must be an int, not None"),
])
def test_an_index_outside_the_list_or_not_an_int_is_refused(index: object, message: str) -> None:
    bits = StatusList()
    assert message_of(bits.get, index) == message
    assert message_of(bits.set, index) == message
    assert bits.to_bytes() == bytes(SIZE_BYTES)


def test_the_first_and_last_entries_are_in_range() -> None:
    bits = StatusList()
    bits.set(0)
    bits.set(131_071)
    assert (bits.get(0), bits.get(131_071)) == (True, True)
    assert bits.to_bytes()[0] == 0x80 and bits.to_bytes()[-1] == 0x01
    bigger = StatusList(131_080)
    bigger.set(131_079)
    assert bigger.set_indices() == [131_079]
    assert message_of(bigger.get, 131_080) == "status list index 131080 out of range 0..131079"


# --- encoding -------------------------------------------------------------------------------------
def test_the_encoded_list_is_u_and_unpadded_base64url_of_gzip_at_best_compression_with_no_time() -> None:
    data = random_bytes(7)
    encoded = StatusList.from_bytes(data).encode()
    assert encoded.startswith("u") and "=" not in encoded and "+" not in encoded and "/" not in encoded
    assert spec_decode(encoded) == data
    header = base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4))[:10]
    assert header[:4] == b"\x1f\x8b\x08\x00"  # GZIP, deflate, no flags
    assert header[4:8] == b"\x00\x00\x00\x00"  # mtime 0: the same bits always encode the same
    assert header[8] == 2  # XFL 2: compressed at the best (slowest) level
    assert encoded == encode_status_list(StatusList.from_bytes(data))


def test_decoding_reads_what_another_encoder_wrote() -> None:
    data = random_bytes(8)
    decoded = StatusList.decode(spec_encode(data))
    assert decoded.to_bytes() == data
    assert decode_status_list(spec_encode(data)).set_indices() == spec_set_indices(data)
    padded = "u" + base64.urlsafe_b64encode(gzip.compress(data)).decode()
    assert StatusList.decode(padded).to_bytes() == data


@pytest.mark.parametrize("encoded", [None, 5, "", "zH4sI", "H4sIAAAA", b"uH4sI"])
def test_an_encoded_list_that_is_not_multibase_base64url_is_refused(encoded: object) -> None:
    assert message_of(StatusList.decode, encoded) == (
        "encodedList must be a multibase base64url string starting with 'u'")


@pytest.mark.parametrize(("text", "reason"), [
    ("u!!!!", "malformed base64url text: Only base64 data is allowed"),
    ("uA", "base64url text has an impossible length"),
    ("uAA=A", "padding inside base64url text"),
    ("ué", "base64url text must be ASCII"),
])
def test_an_encoded_list_that_is_not_base64url_is_refused_with_the_reason(text: str, reason: str) -> None:
    assert message_of(StatusList.decode, text) == f"encodedList is not base64url: {reason}"


def test_an_encoded_list_that_is_not_gzip_is_refused() -> None:
    not_gzip = "u" + base64.urlsafe_b64encode(b"plain bytes, not compressed").decode().rstrip("=")
    assert message_of(StatusList.decode, not_gzip) == "encodedList is not GZIP data: Error -3 while decompressing " \
                                                      "data: incorrect header check"


def test_a_truncated_gzip_list_is_refused() -> None:
    member = gzip.compress(bytes(SIZE_BYTES))
    cut = "u" + base64.urlsafe_b64encode(member[:-6]).decode().rstrip("=")
    assert message_of(StatusList.decode, cut) == "encodedList GZIP data is truncated"


def test_a_list_of_16_mib_is_read_and_one_byte_more_is_refused() -> None:
    limit = 16 * 1024 * 1024
    assert len(StatusList.decode(spec_encode(bytes(limit)))) == limit * 8
    assert message_of(StatusList.decode, spec_encode(bytes(limit + 1))) == (
        "encodedList decompresses to more than the allowed size")


def test_a_zlib_stream_is_not_accepted_as_gzip() -> None:
    import zlib

    stream = "u" + base64.urlsafe_b64encode(zlib.compress(bytes(SIZE_BYTES))).decode().rstrip("=")
    assert message_of(StatusList.decode, stream).startswith("encodedList is not GZIP data: ")


def test_a_decoded_list_smaller_than_the_minimum_is_refused() -> None:
    assert message_of(StatusList.decode, spec_encode(bytes(SIZE_BYTES - 1))) == (
        "a status list has at least 131072 entries")
