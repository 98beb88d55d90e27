"""The fast canonicalization path is byte-identical to plain jsonld.normalize (differential tests)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from badges.credentials import (
    StaticDocumentLoader,
    StatusList,
    UnknownContextError,
    UnsafeDocumentError,
    build_did_document,
    build_status_list_credential,
    canonicalize,
    generate_private_key,
    make_loader,
    reference_normalize,
    sign,
    verify,
)
from badges.credentials.did import DidKey
from badges.credentials.fastcanon import (
    achievement_cache,
    canonicalize_quads,
    context_memo,
    dataset_to_quads,
    expanded_to_dataset,
    fast_canonicalize,
    fast_expand,
)
from badges.credentials.proof import get_default_canonicalizer, plain_canonicalizer, proof_configuration

from .factories import Parties, credential, endorsement, signed_endorsement, varied_credential

GENERATED = 300


@pytest.fixture(scope="module")
def corpus() -> list[dict]:
    """Hundreds of varied, real-shaped OpenBadgeCredentials, some with several endorsements."""
    parties = Parties()
    rng = random.Random(20250301)
    endorsements = [
        signed_endorsement(parties),
        signed_endorsement(parties, achievement_id="https://acme.example/programmes/p7"),
        sign(endorsement(parties), parties.body_key, parties.body_method, "2024-12-31T23:59:59Z"),
    ]
    documents = [varied_credential(parties, rng, n, endorsements) for n in range(GENERATED)]
    # Signed ones too: the proof graph of the credential itself then takes part.
    documents += [
        sign(doc, parties.org_key, parties.org_method, f"2025-04-0{1 + n % 9}T12:00:0{n % 10}Z")
        for n, doc in enumerate(documents[:40])
    ]
    return documents


def test_fast_canonicalization_equals_jsonld_normalize_on_hundreds_of_generated_credentials(
    corpus: list[dict],
) -> None:
    assert len(corpus) >= GENERATED
    mismatches = [n for n, doc in enumerate(corpus) if fast_canonicalize(doc) != reference_normalize(doc)]
    assert mismatches == []


def test_a_batch_sharing_one_programme_matches_the_reference_through_the_cached_achievement() -> None:
    parties = Parties()
    loader = make_loader({"https://example.org/batch": {"@context": {}}})
    endorsed = signed_endorsement(parties)
    documents = [
        credential(parties, number=n, email=f"learner{n}@example.org", endorsements=[endorsed])
        for n in range(150)
    ]
    for document in documents:
        assert fast_canonicalize(document, loader) == reference_normalize(document)
    cache = achievement_cache(loader)
    assert cache.misses == 1 and cache.hits == 149


def test_varied_credentials_drawn_from_a_few_programmes_match_the_reference() -> None:
    parties = Parties()
    rng = random.Random(99)
    endorsements = [signed_endorsement(parties)]
    pool = [varied_credential(parties, rng, n, endorsements) for n in range(6)]
    loader = make_loader({"https://example.org/pool": {"@context": {}}})
    for n in range(200):
        document = varied_credential(parties, rng, 1000 + n, endorsements)
        donor = pool[n % len(pool)]
        document["credentialSubject"]["achievement"] = donor["credentialSubject"]["achievement"]
        if rng.random() < 0.2:  # the recipient profile also names the issuer as the creator
            document["credentialSubject"]["achievement"] = {
                **donor["credentialSubject"]["achievement"],
                "creator": parties.org_profile(),
            }
        assert fast_canonicalize(document, loader) == reference_normalize(document), n
    assert achievement_cache(loader).hits > 100


def test_the_cached_achievement_is_not_changed_by_canonicalizing_credentials() -> None:
    parties = Parties()
    loader = make_loader({"https://example.org/immutable": {"@context": {}}})
    document = credential(parties)
    first = fast_canonicalize(document, loader)
    [entry] = [e for e in achievement_cache(loader).data.values() if e is not None]
    snapshot = json.dumps(entry.expanded, sort_keys=True)
    for n in range(20):
        fast_canonicalize(credential(parties, number=n), loader)
    assert json.dumps(entry.expanded, sort_keys=True) == snapshot
    assert fast_canonicalize(document, loader) == first


def test_an_unsafe_achievement_is_refused_through_the_split_path_too() -> None:
    parties = Parties()
    document = credential(parties)
    document["credentialSubject"]["achievement"]["hoursOfStudy"] = 12
    with pytest.raises(UnsafeDocumentError, match="hoursOfStudy"):
        fast_canonicalize(document)
    document = credential(parties)
    document["credentialSubject"]["achievement"]["image"]["id"] = "badge.png"
    with pytest.raises(UnsafeDocumentError, match=r"badge\.png"):
        fast_canonicalize(document)
    document = credential(parties)
    document["credentialSubject"]["achievement"]["description"] = "bell\x07"
    with pytest.raises(UnsafeDocumentError):
        fast_canonicalize(document)


def test_a_credential_whose_subject_has_an_unexpected_shape_takes_the_full_path() -> None:
    parties = Parties()
    documents = []
    document = credential(parties)
    document["credentialSubject"]["achievement"]["id"] = "_:b0"
    documents.append(document)
    document = credential(parties)
    document["credentialSubject"] = [document["credentialSubject"]]
    documents.append(document)
    document = credential(parties)
    document["credentialSubject"]["achievement"] = document["credentialSubject"]["achievement"]["id"]
    documents.append(document)
    for document in documents:
        assert fast_canonicalize(document) == reference_normalize(document)


def test_fast_canonicalization_equals_jsonld_normalize_on_embedded_endorsements_and_proofs(
    corpus: list[dict],
) -> None:
    checked = 0
    for doc in corpus:
        for endorsed in doc["credentialSubject"]["achievement"].get("endorsement", []):
            assert fast_canonicalize(endorsed) == reference_normalize(endorsed)
            checked += 1
        for proof in doc.get("proof", []):
            config = proof_configuration(proof, doc["@context"])
            assert fast_canonicalize(config) == reference_normalize(config)
    assert checked > 100


def test_proof_configurations_with_many_created_times_match_the_reference() -> None:
    parties = Parties()
    context = credential(parties)["@context"]
    rng = random.Random(7)
    for _ in range(200):
        created = (
            f"20{rng.randint(10, 99)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            f"T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z"
        )
        options = {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-rdfc-2022",
            "created": created,
            "verificationMethod": rng.choice([parties.org_method, parties.body_method]),
            "proofPurpose": "assertionMethod",
        }
        config = proof_configuration(options, context)
        assert fast_canonicalize(config) == reference_normalize(config)


def test_other_documents_match_the_reference(vectors_dir: Path, examples_loader: StaticDocumentLoader) -> None:
    parties = Parties()
    status_list = StatusList()
    status_list.set(3)
    documents = [
        credential(parties),
        endorsement(parties),
        build_status_list_credential(
            id="https://example.org/status/1",
            issuer=parties.body_did,
            purpose="suspension",
            encoded_list=status_list.encode(),
            valid_from="2025-01-01T00:00:00Z",
        ),
        build_did_document(parties.body_did, [DidKey("key-1", generate_private_key().public_key())]),
    ]
    for document in documents:
        assert fast_canonicalize(document) == reference_normalize(document)
    unsigned = json.loads((vectors_dir / "unsigned.json").read_text())
    assert fast_canonicalize(unsigned, examples_loader) == reference_normalize(unsigned, examples_loader)


def test_blank_nodes_sharing_a_first_degree_hash_fall_back_to_pyld_and_still_match() -> None:
    parties = Parties()
    document = credential(parties)
    twin = {"type": ["Evidence"], "name": "Same"}
    document["evidence"] = [twin, dict(twin), {"type": ["Evidence"], "name": "Other"}]
    quads = dataset_to_quads(expanded_to_dataset(fast_expand(document)))
    assert canonicalize_quads(quads) is None  # the tuple fast path declines...
    assert fast_canonicalize(document) == reference_normalize(document)  # ...and pyld decides


def test_the_fast_path_refuses_what_the_plain_path_refuses() -> None:
    parties = Parties()
    document = credential(parties)
    document["credentialSubject"]["achievement"]["hours"] = 3
    with pytest.raises(UnsafeDocumentError, match="hours"):
        fast_canonicalize(document)
    document = credential(parties)
    document["@context"] = [*document["@context"], "https://evil.example/ctx"]
    with pytest.raises(UnknownContextError):
        fast_canonicalize(document)
    document = credential(parties)
    document["name"] = "x\x1by"
    with pytest.raises(UnsafeDocumentError):
        fast_canonicalize(document)


def test_proof_templates_never_skip_the_safety_checks() -> None:
    parties = Parties()
    context = credential(parties)["@context"]
    options = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": "2025-01-01T00:00:00Z",
        "verificationMethod": parties.org_method,
        "proofPurpose": "assertionMethod",
    }
    fast_canonicalize(proof_configuration(options, context))
    with pytest.raises(UnsafeDocumentError):
        fast_canonicalize(proof_configuration({**options, "nonsense": "x"}, context))
    with pytest.raises(UnsafeDocumentError):
        fast_canonicalize(proof_configuration({**options, "verificationMethod": "key-1"}, context))


def test_signing_uses_the_fast_path_by_default_and_plain_pyld_verifies_the_result() -> None:
    parties = Parties()
    assert get_default_canonicalizer() is not plain_canonicalizer
    signed = sign(credential(parties), parties.org_key, parties.org_method)
    assert verify(signed, parties.resolver(), canonicalizer=plain_canonicalizer).verified
    plain_signed = sign(
        credential(parties), parties.org_key, parties.org_method, canonicalizer=plain_canonicalizer
    )
    assert verify(plain_signed, parties.resolver()).verified


def test_the_context_memo_is_per_loader_and_bounded() -> None:
    parties = Parties()
    loader = make_loader({"https://example.org/ctx": {"@context": {"x": "https://example.org/x"}}})
    assert fast_canonicalize(credential(parties), loader) == canonicalize(credential(parties), loader)
    memo = context_memo(loader)
    assert memo is not context_memo(make_loader()) and memo.hits > 0
    memo.size = 5
    did_document = build_did_document(parties.body_did, [DidKey("key-1", parties.body_key.public_key())])
    assert fast_canonicalize(did_document, loader) == reference_normalize(did_document, loader)
    assert len(memo) <= 5
    assert fast_canonicalize(credential(parties), loader) == canonicalize(credential(parties), loader)


def test_results_do_not_depend_on_what_was_canonicalized_before(corpus: list[dict]) -> None:
    fresh = make_loader({"https://example.org/unused": {"@context": {}}})
    for doc in reversed(corpus[:60]):
        assert fast_canonicalize(doc, fresh) == reference_normalize(doc)


XSD = "http://www.w3.org/2001/XMLSchema#"
LITERALS_CONTEXT_URL = "https://example.org/contexts/literals"
LITERALS_CONTEXT = {
    "@context": {
        "@vocab": "https://example.org/v#",
        "id": "@id",
        "type": "@type",
        "dbl": {"@id": "https://example.org/v#dbl", "@type": f"{XSD}double"},
        "flt": {"@id": "https://example.org/v#flt", "@type": f"{XSD}float"},
        "when": {"@id": "https://example.org/v#when", "@type": f"{XSD}dateTime"},
        "js": {"@id": "https://example.org/v#js", "@type": "@json"},
        "lst": {"@id": "https://example.org/v#lst", "@container": "@list"},
        "en": {"@id": "https://example.org/v#en", "@language": "en"},
        "ref": {"@id": "https://example.org/v#ref", "@type": "@id"},
        "bag": {"@id": "https://example.org/v#bag", "@container": "@set"},
    }
}

_SCALARS = [
    True, False, 0, 1, -5, 2**53, 10**22, -(10**25), 1.5, -0.25, 1e-7, 6.02e23, 3.0,
    "", "plain", "ünï 日本 🎓", 'quote " back \\ tab \t nl \n cr \r', "3.25", "1e3", "not a number",
]


def _random_value(rng: random.Random, depth: int) -> object:
    kind = rng.random()
    if depth > 0 and kind < 0.2:
        return _random_node(rng, depth - 1)
    if kind < 0.3:
        return {"@value": rng.choice(["a", "b", "Hallo"]), "@language": rng.choice(["de", "en-GB", "ja"])}
    if kind < 0.35:
        return {"@value": rng.choice(["x", "2020-01-01"]), "@type": rng.choice([f"{XSD}date", "https://example.org/dt"])}
    if kind < 0.45:
        return [rng.choice(_SCALARS) for _ in range(rng.randint(0, 3))]
    return rng.choice(_SCALARS)


def _random_node(rng: random.Random, depth: int) -> dict:
    node: dict = {}
    if rng.random() < 0.6:
        node["id"] = f"https://example.org/n/{rng.randint(0, 6)}"  # repeated ids: nodes merge
    if rng.random() < 0.5:
        node["type"] = rng.sample(["Thing", "Other", "https://example.org/T"], rng.randint(1, 2))
    for _ in range(rng.randint(1, 5)):
        key = rng.choice(["a", "b", "c", "dbl", "flt", "when", "en", "ref", "bag", "js", "lst"])
        if key == "ref":
            node[key] = rng.choice(["https://example.org/r/1", "urn:x:2", "_:shared"])
        elif key == "js":
            node[key] = rng.choice([{"z": [1, 2.5, None], "a": "é"}, [True, {"b": 1}], "text", 10**22])
        elif key == "lst":
            node[key] = [rng.choice(_SCALARS[:8]) for _ in range(rng.randint(0, 3))]
        elif key in ("dbl", "flt", "when"):
            node[key] = rng.choice([1, 2.5, "3.25", "abc", 10**22, "2020-01-01T00:00:00Z"])
        else:
            node[key] = _random_value(rng, depth)
    return node


def test_every_kind_of_literal_and_merged_nodes_canonicalize_like_jsonld_normalize() -> None:
    loader = make_loader({LITERALS_CONTEXT_URL: LITERALS_CONTEXT})
    rng = random.Random(424242)
    for n in range(400):
        document = {"@context": LITERALS_CONTEXT_URL, **_random_node(rng, 3)}
        if rng.random() < 0.3:
            document["@graph"] = [_random_node(rng, 2) for _ in range(rng.randint(1, 3))]
        expected = reference_normalize(document, loader)
        assert fast_canonicalize(document, loader, safe=False) == expected, n


def test_signing_from_many_threads_gives_the_same_credentials_as_one_thread() -> None:
    from concurrent.futures import ThreadPoolExecutor

    parties = Parties()
    loader = make_loader({"https://example.org/threads": {"@context": {}}})
    endorsed = signed_endorsement(parties)
    documents = [credential(parties, number=n, endorsements=[endorsed]) for n in range(120)]

    def issue(document: dict) -> dict:
        return sign(document, parties.org_key, parties.org_method, "2025-03-01T10:00:05Z", loader=loader)

    with ThreadPoolExecutor(max_workers=8) as pool:
        threaded = list(pool.map(issue, documents))
    sequential = [
        sign(d, parties.org_key, parties.org_method, "2025-03-01T10:00:05Z", canonicalizer=plain_canonicalizer)
        for d in documents[:30]
    ]
    assert threaded[:30] == sequential
    resolver = parties.resolver()
    assert all(verify(d, resolver, canonicalizer=plain_canonicalizer).verified for d in threaded)


def test_merging_a_shared_node_keeps_distinct_values_drops_equal_ones_and_declines_indexes() -> None:
    from badges.credentials.fastcanon import _merge_nodes

    own = {"@id": "https://e.org/p", "@type": ["T"], "https://e.org/name": [{"@value": "A"}]}
    cached = {
        "@id": "https://e.org/p",
        "@type": ["T", "U"],
        "https://e.org/name": [{"@value": "A"}, {"@value": "A", "@language": "en"}],
        "https://e.org/url": [{"@id": "https://e.org/"}],
    }
    merged = _merge_nodes(own, cached)
    assert merged == {
        "@id": "https://e.org/p",
        "@type": ["T", "U"],
        "https://e.org/name": [{"@value": "A"}, {"@value": "A", "@language": "en"}],
        "https://e.org/url": [{"@id": "https://e.org/"}],
    }
    assert own["https://e.org/name"] == [{"@value": "A"}]  # inputs untouched
    assert _merge_nodes({**own, "@index": "x"}, cached) is None
    assert _merge_nodes(own, {**cached, "@reverse": {}}) is None


def test_the_achievement_quads_are_cached_and_shared_issuer_nodes_are_merged_exactly() -> None:
    parties = Parties()
    loader = make_loader({"https://example.org/graph": {"@context": {}}})
    endorsed = signed_endorsement(parties)
    for n in range(30):
        document = credential(parties, number=n, endorsements=[endorsed])
        if n % 2:
            document["issuer"]["description"] = f"Issuer description {n}"  # differs from the creator
        assert fast_canonicalize(document, loader) == reference_normalize(document)
    [entry] = [e for e in achievement_cache(loader).data.values() if e is not None]
    assert entry.graph is not None
    assert parties.org_did in entry.graph.default_nodes  # the creator: shared with the issuer
