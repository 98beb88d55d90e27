"""Canonicalization: one expansion, byte-identical to jsonld.normalize, and safe mode."""

from __future__ import annotations

import copy

import pytest

from badges.credentials import UnsafeDocumentError, canonicalize, reference_normalize
from badges.credentials.canon import expand

from .factories import Parties, credential


def _ob_document(**extra: object) -> dict:
    document = {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ],
        "id": "urn:uuid:8a1c3e2f-5b4d-4c6e-8f7a-9b0c1d2e3f4a",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": "did:web:example.org", "type": ["Profile"], "name": "Example"},
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "https://example.org/achievements/1",
                "type": ["Achievement"],
                "name": "A",
                "description": "B",
                "criteria": {"narrative": "C"},
            },
        },
    }
    document.update(extra)
    return document


def test_the_real_credential_canonicalizes_exactly_like_jsonld_normalize(parties: Parties) -> None:
    document = credential(parties)
    assert canonicalize(document) == reference_normalize(document)


def test_canonicalization_expands_the_document_only_once(
    parties: Parties, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pyld import jsonld

    document = credential(parties)
    calls = []
    original = jsonld.JsonLdProcessor.expand

    def counting(self, input_, options):  # type: ignore[no-untyped-def]
        calls.append(1)
        return original(self, input_, options)

    monkeypatch.setattr(jsonld.JsonLdProcessor, "expand", counting)
    canonicalize(document)
    assert len(calls) == 1


def test_canonicalization_does_not_modify_the_document(parties: Parties) -> None:
    document = credential(parties)
    before = copy.deepcopy(document)
    canonicalize(document)
    assert document == before


def test_an_undefined_top_level_term_is_refused_and_named() -> None:
    with pytest.raises(UnsafeDocumentError, match="favouriteColour") as caught:
        canonicalize(_ob_document(favouriteColour="blue"))
    assert caught.value.term == "favouriteColour"


def test_an_undefined_term_inside_the_achievement_is_refused() -> None:
    document = _ob_document()
    document["credentialSubject"]["achievement"]["hoursOfStudy"] = 40
    with pytest.raises(UnsafeDocumentError, match="hoursOfStudy"):
        canonicalize(document)


def test_an_undefined_type_is_refused_because_it_stays_a_relative_iri() -> None:
    with pytest.raises(UnsafeDocumentError, match="SuperCredential"):
        canonicalize(_ob_document(type=["VerifiableCredential", "OpenBadgeCredential", "SuperCredential"]))


def test_a_relative_id_is_refused() -> None:
    with pytest.raises(UnsafeDocumentError, match="credentials/42"):
        canonicalize(_ob_document(id="credentials/42"))


def test_a_relative_iri_value_is_refused() -> None:
    document = _ob_document()
    document["credentialSubject"]["achievement"]["image"] = {"id": "img/badge.png", "type": "Image"}
    with pytest.raises(UnsafeDocumentError, match=r"img/badge\.png"):
        canonicalize(document)


def test_an_iri_with_a_space_is_refused() -> None:
    with pytest.raises(UnsafeDocumentError):
        canonicalize(_ob_document(id="https://example.org/a b"))


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1f", "\x7f"])
def test_a_string_with_a_control_character_is_refused(char: str) -> None:
    with pytest.raises(UnsafeDocumentError, match=f"U\\+{ord(char):04X}"):
        canonicalize(_ob_document(name=f"bad{char}name"))


def test_tab_newline_and_carriage_return_are_allowed_and_match_jsonld_normalize() -> None:
    document = _ob_document(name="line one\nline\ttwo\r\nend \"quoted\" back\\slash")
    assert canonicalize(document) == reference_normalize(document)


def test_non_ascii_text_canonicalizes_like_jsonld_normalize() -> None:
    document = _ob_document(name="日本語のバッジ 🎓 Ünïcödé")
    assert canonicalize(document) == reference_normalize(document)


def test_unsafe_mode_reproduces_pyld_silently_dropping_what_safe_mode_refuses() -> None:
    document = _ob_document(favouriteColour="blue")
    assert "blue" not in canonicalize(document, safe=False)
    assert canonicalize(document, safe=False) == reference_normalize(document)


def test_expand_returns_the_expanded_form_with_absolute_iris() -> None:
    expanded = expand(_ob_document())
    assert expanded[0]["@id"] == "urn:uuid:8a1c3e2f-5b4d-4c6e-8f7a-9b0c1d2e3f4a"
    assert "https://www.w3.org/2018/credentials#VerifiableCredential" in expanded[0]["@type"]
