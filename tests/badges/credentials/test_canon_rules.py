"""Safe mode's rules one by one, on hand-written input: control characters (with the JSON path named),
absolute IRIs, the scan of pyld's expanded form, dropped terms, and `expand_with` tying them together.
Every refusal is checked for its exact words and its `term`; expected values are literals."""

from __future__ import annotations

import pytest
from pyld import jsonld

from badges.credentials import UnknownContextError, UnsafeDocumentError
from badges.credentials.canon import (
    _check_iri,
    _check_property,
    _DroppedTerms,
    _is_absolute_iri,
    check_control_characters,
    expand_with,
    scan_expanded,
)
from badges.credentials.errors import CanonicalizationError
from badges.credentials.loader import default_loader

NOT_ABSOLUTE = ("is not an absolute IRI (relative IRIs are dropped from the signed data); use an absolute URL, "
                "DID or URN")
BAD_CHARACTER = ('holds a character not allowed in an IRI (space, <, >, ", {, }, |, ^, `, \\ or a control '
                 "character); percent-encode it")


def refusal(call, *args) -> tuple[str, str | None]:
    with pytest.raises(UnsafeDocumentError) as caught:
        call(*args)
    return str(caught.value), caught.value.term


def control(code: int, path: str) -> str:
    return (f"string at {path} holds control character U+{code:04X}, which canonicalizes differently in pyld and "
            "RDFC-1.0; remove it before signing")


# --- control characters ---------------------------------------------------------------------------
@pytest.mark.parametrize("code", [0x00, 0x01, 0x07, 0x08, 0x0B, 0x0C, 0x0E, 0x1B, 0x1F, 0x7F])
def test_a_control_character_is_refused_with_its_code_and_path(code: int) -> None:
    assert refusal(check_control_characters, f"a{chr(code)}b") == (control(code, "$"), "$")


@pytest.mark.parametrize("text", ["tab\there", "new\nline", "carriage\rreturn", " ~", "\x80\x9f", "日本語", ""])
def test_tab_newline_return_and_printable_text_are_allowed(text: str) -> None:
    assert check_control_characters({"name": text, "list": [text], text: "key"}) is None


def test_the_first_control_character_of_a_string_is_named() -> None:
    assert refusal(check_control_characters, "ok\x02then\x01") == (control(2, "$"), "$")


def test_the_path_names_where_the_string_is() -> None:
    assert refusal(check_control_characters, {"a": {"b": "x\x1f"}}) == (control(0x1F, "$.a.b"), "$.a.b")
    assert refusal(check_control_characters, {"a": ["fine", "x\x7f"]}) == (control(0x7F, "$.a[1]"), "$.a[1]")
    assert refusal(check_control_characters, [{"k": "v"}, ["x", "\x05"]]) == (control(5, "$[1][1]"), "$[1][1]")
    assert refusal(check_control_characters, {"a": {"b\x03": "fine"}}) == (control(3, "$.a"), "$.a")


def test_values_that_are_not_text_are_not_refused() -> None:
    assert check_control_characters({"n": 7, "f": 1.5, "b": True, "z": None, "l": [1, None, {"x": 2}]}) is None


# --- absolute IRIs ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("value", "absolute"), [
    ("https://example.org/a", True), ("urn:uuid:1", True), ("did:web:example.org", True), ("_:b0", True),
    ("a+b.c-d:x", True), ("x:", True), ("relative/path", False), ("1http://x", False), (":x", False),
    ("http://a b", False), ("", False), (5, False), (None, False), (["https://example.org/"], False),
])
def test_what_counts_as_an_absolute_iri(value: object, absolute: bool) -> None:
    assert _is_absolute_iri(value) is absolute


@pytest.mark.parametrize(("value", "shown", "term"), [
    ("relative", "'relative'", "relative"),
    (5, "5", "5"),
    ("r" * 100, "'" + "r" * 76 + "...", "r" * 100),
])
def test_an_iri_that_is_not_absolute_is_refused_with_what_it_is(value: object, shown: str, term: str) -> None:
    assert refusal(_check_iri, value, "@id") == (f"@id {shown} {NOT_ABSOLUTE}", term)
    assert refusal(_check_iri, value, "datatype") == (f"datatype {shown} {NOT_ABSOLUTE}", term)


@pytest.mark.parametrize("char", ["<", ">", '"', "{", "}", "|", "^", "`", "\\", "\x01", "\x10"])
def test_an_absolute_iri_holding_a_character_n_quads_forbids_is_refused(char: str) -> None:
    value = f"https://example.org/a{char}b"
    assert refusal(_check_iri, value, "type") == (f"type {value!r} {BAD_CHARACTER}", value)


def test_a_blank_node_id_is_not_held_to_iri_characters_and_a_good_iri_passes() -> None:
    assert _check_iri("_:b<0>", "@id") is None
    assert _check_iri("https://example.org/a%20b?q=1#f", "@id") is None


# --- properties -------------------------------------------------------------------------------------
def test_a_blank_node_property_is_refused() -> None:
    assert refusal(_check_property, "_:p") == (
        "property '_:p' expands to a blank node, which is dropped from the signed data", "_:p")


def test_a_relative_property_is_refused_and_an_absolute_one_passes() -> None:
    assert refusal(_check_property, "colour") == (f"property 'colour' {NOT_ABSOLUTE}", "colour")
    assert _check_property("https://schema.org/color") is None


# --- the scan of the expanded form -------------------------------------------------------------------
GOOD = [{
    "@id": "urn:uuid:1",
    "@type": ["https://example.org/T"],
    "https://example.org/p": [
        {"@value": "text", "@language": "en"},
        {"@value": "5", "@type": "http://www.w3.org/2001/XMLSchema#integer"},
        {"@value": {"any": "json"}, "@type": "@json"},
        {"@list": [{"@id": "https://example.org/item"}]},
        {"@id": "_:b0", "@index": "not an iri"},
    ],
    "@graph": [{"@id": "https://example.org/g"}],
    "@reverse": {"https://example.org/r": [{"@id": "https://example.org/s"}]},
}]


def test_a_well_formed_expanded_document_passes() -> None:
    assert scan_expanded(GOOD) is None
    assert scan_expanded("a string") is None
    assert scan_expanded(5) is None


@pytest.mark.parametrize(("expanded", "message", "term"), [
    ([{"@id": "rel"}], f"@id 'rel' {NOT_ABSOLUTE}", "rel"),
    ({"@type": "Rel"}, f"type 'Rel' {NOT_ABSOLUTE}", "Rel"),
    ({"@type": ["https://example.org/T", "Rel"]}, f"type 'Rel' {NOT_ABSOLUTE}", "Rel"),
    ({"@value": "x", "@type": "xsd:int"}, None, None),
    ({"@value": "x", "@type": "int"}, f"datatype 'int' {NOT_ABSOLUTE}", "int"),
    ({"@list": [{"@id": "rel"}]}, f"@id 'rel' {NOT_ABSOLUTE}", "rel"),
    ({"@graph": [{"@id": "rel"}]}, f"@id 'rel' {NOT_ABSOLUTE}", "rel"),
    ({"@included": [{"@id": "rel"}]}, f"@id 'rel' {NOT_ABSOLUTE}", "rel"),
    ({"@reverse": {"_:p": [{"@id": "urn:x"}]}},
     "property '_:p' expands to a blank node, which is dropped from the signed data", "_:p"),
    ({"@reverse": {"https://example.org/r": [{"@id": "rel"}]}}, f"@id 'rel' {NOT_ABSOLUTE}", "rel"),
    ({"_:p": [{"@value": "x"}]}, "property '_:p' expands to a blank node, which is dropped from the signed data",
     "_:p"),
    ({"colour": [{"@value": "blue"}]}, f"property 'colour' {NOT_ABSOLUTE}", "colour"),
    ([GOOD[0], {"https://example.org/p": [[{"@id": "rel"}]]}], f"@id 'rel' {NOT_ABSOLUTE}", "rel"),
])
def test_the_scan_refuses_each_relative_iri_and_blank_node_property(expanded, message, term) -> None:
    if message is None:  # "xsd:int" has a scheme: pyld counts it absolute
        assert scan_expanded(expanded) is None
    else:
        assert refusal(scan_expanded, expanded) == (message, term)


def test_a_value_object_and_a_list_object_end_the_scan_of_their_node() -> None:
    # Keys beside @value / @list are not nodes' keys (pyld puts none there); they are not read.
    assert scan_expanded({"@value": "x", "@type": "@json", "colour": "blue"}) is None
    assert scan_expanded({"@value": "x", "@id": "rel"}) is None
    assert scan_expanded({"@list": [], "@id": "rel", "colour": [{"@value": 1}]}) is None


def test_keywords_other_than_the_scanned_ones_are_skipped() -> None:
    assert scan_expanded({"@index": "rel", "@language": "en", "@direction": "ltr", "@context": "rel"}) is None


def test_a_skipped_keyword_does_not_end_the_scan_of_the_keys_after_it() -> None:
    after_keyword = {"@index": "i", "colour": [{"@value": "blue"}]}
    assert refusal(scan_expanded, after_keyword) == (f"property 'colour' {NOT_ABSOLUTE}", "colour")


# --- dropped terms ----------------------------------------------------------------------------------
def test_nothing_dropped_raises_nothing() -> None:
    dropped = _DroppedTerms()
    assert dropped.terms == []
    assert dropped.raise_if_any() is None


def test_every_dropped_term_is_named_once_in_order_and_the_first_is_the_term() -> None:
    dropped = _DroppedTerms()
    for term in ("colour", "hours", "colour", None):
        dropped(term)
    assert dropped.terms == ["colour", "hours", "colour", None]
    assert refusal(dropped.raise_if_any) == (
        "term(s) 'colour', 'hours', None not defined by the document's @context: JSON-LD processing drops them, so "
        "a signature would not cover them; define them in a context or remove them", "colour")


# --- expand_with ------------------------------------------------------------------------------------
CONTEXT = "https://www.w3.org/ns/credentials/v2"


def document(**extra: object) -> dict:
    return {"@context": CONTEXT, "id": "urn:uuid:1", "type": ["VerifiableCredential"], **extra}


def processor_recording(seen: list):
    def make(on_dropped):
        seen.append(on_dropped)
        return jsonld.JsonLdProcessor(on_property_dropped=on_dropped)
    return make


def test_safe_expansion_hands_pyld_the_dropped_terms_hook_and_returns_the_expanded_form() -> None:
    seen: list = []
    expanded = expand_with(document(), default_loader(), processor_recording(seen), safe=True)
    assert len(seen) == 1 and isinstance(seen[0], _DroppedTerms)
    assert expanded == [{"@id": "urn:uuid:1", "@type": ["https://www.w3.org/2018/credentials#VerifiableCredential"]}]


def test_safe_expansion_refuses_a_dropped_term_a_relative_id_and_a_control_character() -> None:
    loader = default_loader()
    make = processor_recording([])
    with pytest.raises(UnsafeDocumentError) as dropped:
        expand_with(document(colour="blue"), loader, make, safe=True)
    assert dropped.value.term == "colour"
    with pytest.raises(UnsafeDocumentError) as relative:
        expand_with(document(id="rel/1"), loader, make, safe=True)
    assert str(relative.value) == f"@id 'rel/1' {NOT_ABSOLUTE}"
    with pytest.raises(UnsafeDocumentError) as controlled:
        expand_with(document(name="a\x07b"), loader, make, safe=True)
    assert str(controlled.value) == control(7, "$.name")


def test_the_control_character_scan_can_be_left_to_a_caller_that_did_it() -> None:
    # "name" is defined by the VC 2.0 context; the string goes through pyld unchanged.
    expanded = expand_with(document(name="a\x07b"), default_loader(), processor_recording([]), safe=True,
                           scan_control_characters=False)
    assert expanded[0]["https://schema.org/name"] == [{"@value": "a\x07b"}]


def test_unsafe_expansion_checks_nothing_and_gives_pyld_its_no_op_hook() -> None:
    seen: list = []
    odd = document(colour="blue", name="a\x07b")
    odd["id"] = "rel/1"
    expanded = expand_with(odd, default_loader(), processor_recording(seen), safe=False)
    assert seen == [jsonld.noop]
    assert expanded[0]["@id"] == "rel/1"
    assert "colour" not in str(expanded)


def test_a_pyld_error_becomes_ours() -> None:
    with pytest.raises(CanonicalizationError, match=r"^JSON-LD processing failed: "):
        expand_with({"@context": [CONTEXT, {"@version": 9}]}, default_loader(), processor_recording([]), safe=True)
    with pytest.raises(UnknownContextError):
        expand_with({"@context": "https://unknown.example/ctx"}, default_loader(), processor_recording([]),
                    safe=True)
