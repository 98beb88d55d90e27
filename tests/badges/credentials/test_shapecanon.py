"""Shape templates (shapecanon) give byte for byte what plain jsonld.normalize gives, and refuse what
safe mode refuses, when a leaf changes class between two credentials of one shape."""

from __future__ import annotations

import contextlib
import copy
import random
from collections.abc import Callable
from typing import Any

import pytest

from badges.credentials import (
    StaticDocumentLoader,
    UnsafeDocumentError,
    canonicalize,
    make_loader,
    reference_normalize,
    sign,
    verify,
)
from badges.credentials.fastcanon import fast_canonicalize, shape_cache
from badges.credentials.proof import plain_canonicalizer

from .factories import ACHIEVEMENT_ID, Parties, credential, signed_endorsement

EXT = "https://example.org/shape-test/v1"
EXT_CONTEXT = {
    "@context": {
        "@version": 1.1,
        "ex": "https://ex.org/ns#",
        "Known": "https://ex.org/ns#Known",
        "linkIri": {"@id": "https://ex.org/ns#linkIri", "@type": "@id"},
        "linkVocab": {"@id": "https://ex.org/ns#linkVocab", "@type": "@vocab"},
        "measure": {"@id": "https://ex.org/ns#measure", "@type": "http://www.w3.org/2001/XMLSchema#double"},
        "note": {"@id": "https://ex.org/ns#note", "@language": "ja"},
        "plain": {"@id": "https://ex.org/ns#plain"},
        "blob": {"@id": "https://ex.org/ns#blob", "@type": "@json"},
        "labels": {"@id": "https://ex.org/ns#labels", "@container": "@language"},
    }
}

Edit = Callable[[dict[str, Any]], None]


def _loader() -> StaticDocumentLoader:
    """A fresh loader (its caches empty) that also serves the test context."""
    return make_loader({EXT: EXT_CONTEXT})


@pytest.fixture(scope="module")
def parties() -> Parties:
    return Parties()


@pytest.fixture(scope="module")
def endorsed(parties: Parties) -> dict:
    return signed_endorsement(parties)


def _base(parties: Parties, endorsed: dict, number: int) -> dict[str, Any]:
    document = credential(parties, number=number, email=f"learner{number}@example.org", endorsements=[endorsed])
    document["@context"] = [*document["@context"], EXT]
    subject = document["credentialSubject"]
    subject["linkIri"] = f"https://ex.org/things/{number}"
    subject["linkVocab"] = f"https://ex.org/kinds/{number}"
    subject["measure"] = "2.5"  # an xsd:double string is pinned: the same in every credential
    subject["note"] = f"メモ{number}"
    subject["plain"] = ["alpha", f"beta{number}"]
    return document


def _set(path: str, value: Any) -> Edit:
    def edit(document: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = document
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return edit


# Leaves that change class between credentials of one shape (same keys, same array lengths).
SAME_SHAPE_EDITS: dict[str, Edit] = {
    "@id-typed: compact IRI with a defined prefix": _set("credentialSubject.linkIri", "ex:thing"),
    "@id-typed: another scheme": _set("credentialSubject.linkIri", "urn:example:thing:7"),
    "@id-typed: a DID": _set("credentialSubject.linkIri", "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"),
    "@id-typed: a blank node id": _set("credentialSubject.linkIri", "_:b7"),
    "@id-typed: the Achievement's id": _set("credentialSubject.linkIri", ACHIEVEMENT_ID),
    "@id-typed: a compact IRI of an undefined prefix": _set("credentialSubject.linkIri", "nope:thing"),
    "@vocab-typed: a term": _set("credentialSubject.linkVocab", "Known"),
    "@vocab-typed: compact IRI": _set("credentialSubject.linkVocab", "ex:Kind"),
    "xsd:double string: not a number": _set("credentialSubject.measure", "abc"),
    "xsd:double string: an integer": _set("credentialSubject.measure", "10"),
    "xsd:double string: an exponent": _set("credentialSubject.measure", "1e3"),
    "language-tagged: empty": _set("credentialSubject.note", ""),
    "language-tagged: looks like a date": _set("credentialSubject.note", "2025-01-01T00:00:00Z"),
    "language-tagged: looks like an IRI": _set("credentialSubject.note", "https://ex.org/not-an-iri"),
    "literal: quotes, backslash, tab, newline": _set("credentialSubject.plain.1", 'a"b\\c\td\ne'),
    "literal: unicode beyond the BMP": _set("credentialSubject.plain.1", "🎓 データ ÉTÉ"),
    "literal: equal to its neighbour (one value after merging)": _set("credentialSubject.plain.1", "alpha"),
    "literal: equal to the Achievement's name": _set("name", "Data Skills"),
    "literal: the issuer's name differs from the creator's": _set("issuer.name", "Acme Academy (renamed)"),
    "literal: a date-looking validFrom of another form": _set("validFrom", "2025-03-01"),
    "literal: empty e-mail hash": _set("credentialSubject.identifier.0.identityHash", ""),
    "id: the evidence is the Achievement": _set("evidence.0.id", ACHIEVEMENT_ID),
    "id: the evidence is the issuer": _set("evidence.0.id", "did:web:127.0.0.1%3A8000:orgs:acme"),
    "id: compact IRI with a defined prefix": _set("evidence.0.id", "xsd:evidence"),
    "id: the credential's id equals the evidence id": _set("id", "https://acme.example/evidence/3"),
    "id: a blank node id": _set("evidence.0.id", "_:evidence"),
    "id: a status entry id equal to its list": _set(
        "credentialStatus.id", "http://127.0.0.1:8000/status/orgs/acme/revocation/1"
    ),
}

# Edits that change the shape (the full path, then a template of their own).
OTHER_SHAPE_EDITS: dict[str, Edit] = {
    "a number instead of a string": _set("credentialSubject.measure", 2.5),
    "an integer instead of a string": _set("credentialSubject.measure", 3),
    "a boolean": _set("credentialSubject.plain.1", True),
    "an array of one instead of two": _set("credentialSubject.plain", ["alpha"]),
    "an array of two equal values": _set("credentialSubject.plain", ["same", "same"]),
    "a string instead of an array": _set("credentialSubject.plain", "solo"),
    "a language map": _set("credentialSubject.labels", {"en": "hello", "ja": "こんにちは"}),
    "a JSON literal": _set("credentialSubject.blob", {"b": [1, "x"], "a": None}),
    "a JSON string literal": _set("credentialSubject.blob", "just a string"),
    "two evidence entries with one id": lambda d: d["evidence"].append(copy.deepcopy(d["evidence"][0])),
    "a null value": _set("credentialSubject.note", None),
}

# Edits that safe mode refuses: the fast path must refuse them too, after templates are warm.
UNSAFE_EDITS: dict[str, Edit] = {
    "@id-typed: relative": _set("credentialSubject.linkIri", "things/7"),
    "@id-typed: a term (no @vocab for @id)": _set("credentialSubject.linkIri", "Known"),
    "@id-typed: empty": _set("credentialSubject.linkIri", ""),
    "@id-typed: a space": _set("credentialSubject.linkIri", "https://ex.org/a b"),
    "@id-typed: an angle bracket": _set("credentialSubject.linkIri", "https://ex.org/a>b"),
    "id: relative": _set("evidence.0.id", "evidence/7"),
    "@vocab-typed: an undefined word (no @vocab applies here)": _set("credentialSubject.linkVocab", "Unlisted"),
    "id: looks like a keyword": _set("evidence.0.id", "@evidence"),
    "literal: a control character": _set("credentialSubject.note", "bell\x07"),
    "literal: DEL": _set("credentialSubject.plain.0", "del\x7f"),
    "an undefined term": _set("credentialSubject.hoursOfStudy", "12"),
}


def _variant(parties: Parties, endorsed: dict, number: int, edit: Edit) -> dict[str, Any]:
    document = _base(parties, endorsed, number)
    edit(document)
    return document


def test_the_base_shape_uses_templates_and_matches_the_reference(parties: Parties, endorsed: dict) -> None:
    loader = _loader()
    for number in range(12):
        document = _base(parties, endorsed, number)
        assert fast_canonicalize(document, loader) == reference_normalize(document, loader)
    shapes = shape_cache(loader)
    assert shapes.hits >= 9  # learnt on the third sighting, used from the fourth on


@pytest.mark.parametrize("name", sorted(SAME_SHAPE_EDITS))
def test_a_leaf_that_changes_class_within_one_shape_matches_the_reference(
    name: str, parties: Parties, endorsed: dict
) -> None:
    loader = _loader()
    for number in range(3):  # the shape and the common template learnt
        fast_canonicalize(_base(parties, endorsed, number), loader)
    shapes = shape_cache(loader)
    hits = shapes.hits
    for number in range(10, 14):  # twice through: the second may use a template of its own
        document = _variant(parties, endorsed, number, SAME_SHAPE_EDITS[name])
        assert fast_canonicalize(document, loader) == reference_normalize(document, loader), name
        plain = _base(parties, endorsed, number + 100)  # the common template still right
        assert fast_canonicalize(plain, loader) == reference_normalize(plain, loader), name
    assert shapes.hits > hits


@pytest.mark.parametrize("name", sorted(OTHER_SHAPE_EDITS))
def test_a_change_of_shape_matches_the_reference(name: str, parties: Parties, endorsed: dict) -> None:
    loader = _loader()
    for number in range(3):
        fast_canonicalize(_base(parties, endorsed, number), loader)
    for number in range(10, 14):
        document = _variant(parties, endorsed, number, OTHER_SHAPE_EDITS[name])
        assert fast_canonicalize(document, loader) == reference_normalize(document, loader), name


@pytest.mark.parametrize("name", sorted(UNSAFE_EDITS))
def test_safe_mode_refusals_still_happen_with_warm_templates(name: str, parties: Parties, endorsed: dict) -> None:
    loader = _loader()
    for number in range(3):
        fast_canonicalize(_base(parties, endorsed, number), loader)
    hits = shape_cache(loader).hits
    document = _variant(parties, endorsed, 50, UNSAFE_EDITS[name])
    with pytest.raises(UnsafeDocumentError) as plain_error:
        canonicalize(document, loader)
    for _ in range(3):  # never learnt, never served from a template
        with pytest.raises(UnsafeDocumentError) as fast_error:
            fast_canonicalize(document, loader)
        assert str(fast_error.value) == str(plain_error.value)
    assert shape_cache(loader).hits == hits
    good = _base(parties, endorsed, 51)
    assert fast_canonicalize(good, loader) == reference_normalize(good, loader)
    assert shape_cache(loader).hits == hits + 1


def test_a_random_mix_of_variants_in_any_order_matches_the_reference(parties: Parties, endorsed: dict) -> None:
    edits = list(SAME_SHAPE_EDITS.values()) + list(OTHER_SHAPE_EDITS.values()) + [lambda d: None] * 10
    rng = random.Random(14)
    documents = []
    for number in range(120):
        document = _base(parties, endorsed, number)
        for edit in rng.sample(edits, rng.randint(0, 3)):
            with contextlib.suppress(TypeError, IndexError, KeyError):  # a part an earlier edit replaced
                edit(document)
        documents.append(document)
    expected = [reference_normalize(d, _loader()) for d in documents]
    for _ in range(2):
        loader = _loader()
        order = list(range(len(documents)))
        rng.shuffle(order)
        for index in order + order:
            assert fast_canonicalize(documents[index], loader) == expected[index]
        assert shape_cache(loader).hits > 0


def test_templates_do_not_change_what_is_signed(parties: Parties, endorsed: dict) -> None:
    loader = _loader()
    documents = [_base(parties, endorsed, n) for n in range(8)]
    created = "2025-03-01T10:00:01Z"
    signed = [sign(d, parties.org_key, parties.org_method, created, loader=loader) for d in documents]
    plain = [
        sign(d, parties.org_key, parties.org_method, created, loader=loader, canonicalizer=plain_canonicalizer)
        for d in documents
    ]
    assert signed == plain
    resolver = parties.resolver()
    assert all(verify(d, resolver, loader=loader).verified for d in signed)
    tampered = copy.deepcopy(signed[-1])
    tampered["credentialSubject"]["linkIri"] = "https://ex.org/things/other"
    assert not verify(tampered, resolver, loader=loader).verified


def test_the_signature_pins_what_pyld_would_treat_differently(parties: Parties, endorsed: dict) -> None:
    loader = _loader()
    for number in range(3):
        fast_canonicalize(_base(parties, endorsed, number), loader)
    [shape] = [s for s in shape_cache(loader).shapes.values() if not isinstance(s, int) and s is not None]

    def signature(edit: Edit) -> tuple:
        document = _variant(parties, endorsed, 5, edit)
        probe = shape_cache(loader).probe("unused", {**document, "credentialSubject": {
            **document["credentialSubject"], "achievement": {"id": ACHIEVEMENT_ID}}})
        assert probe is not None
        return shape.signature(probe.leaves)

    base = signature(lambda d: None)
    assert isinstance(base[0], int)  # the credential's id: substituted
    assert ACHIEVEMENT_ID in base  # the reference to the Achievement: one of its node ids, pinned
    assert "ex:thing" in signature(SAME_SHAPE_EDITS["@id-typed: compact IRI with a defined prefix"])
    assert "Known" in signature(SAME_SHAPE_EDITS["@vocab-typed: a term"])
    assert "things/7" in signature(UNSAFE_EDITS["@id-typed: relative"])
    assert "_:b7" in signature(SAME_SHAPE_EDITS["@id-typed: a blank node id"])
    assert "2.5" in base  # an xsd:double string is always pinned (pyld rewrites its lexical form)
    assert "Data Skills" in signature(SAME_SHAPE_EDITS["literal: equal to the Achievement's name"])
    neighbour = signature(SAME_SHAPE_EDITS["literal: equal to its neighbour (one value after merging)"])
    assert neighbour != base  # one group where there were two


def test_a_shape_whose_signature_changes_every_time_stops_learning(parties: Parties, endorsed: dict) -> None:
    loader = _loader()
    for number in range(20):
        document = _base(parties, endorsed, number)
        document["credentialSubject"]["measure"] = f"{number}.5"  # pinned, and different every time
        assert fast_canonicalize(document, loader) == reference_normalize(document, loader)
    [shape] = [s for s in shape_cache(loader).shapes.values() if not isinstance(s, int) and s is not None]
    assert shape.builds == 8
    assert shape_cache(loader).hits == 0
