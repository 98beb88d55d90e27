"""did:web derivation and documents, did:key resolution, key resolvers."""

from __future__ import annotations

import pytest

from badges.credentials import (
    DidError,
    DidKey,
    KeyNotFoundError,
    assertion_keys,
    build_did_document,
    did_key_from_public_key,
    did_key_verification_method,
    did_web_document_url,
    did_web_from_url,
    generate_private_key,
    make_key_resolver,
    public_key_to_multibase,
    resolve_did_key,
)
from badges.credentials.keys import raw_public_key


@pytest.mark.parametrize(
    ("url", "did"),
    [
        ("http://127.0.0.1:8000", "did:web:127.0.0.1%3A8000"),
        ("http://127.0.0.1:8000/", "did:web:127.0.0.1%3A8000"),
        ("https://Example.ORG", "did:web:example.org"),
        ("https://example.org/orgs/acme", "did:web:example.org:orgs:acme"),
        ("https://example.org:8443/orgs/acme/", "did:web:example.org%3A8443:orgs:acme"),
        ("https://example.org/.well-known/did.json", "did:web:example.org"),
        ("https://example.org/orgs/acme/did.json", "did:web:example.org:orgs:acme"),
    ],
)
def test_did_web_is_derived_from_the_site_url(url: str, did: str) -> None:
    assert did_web_from_url(url) == did


@pytest.mark.parametrize(
    ("did", "url"),
    [
        ("did:web:example.org", "https://example.org/.well-known/did.json"),
        ("did:web:127.0.0.1%3A8000", "https://127.0.0.1:8000/.well-known/did.json"),
        ("did:web:example.org:orgs:acme", "https://example.org/orgs/acme/did.json"),
        ("did:web:example.org:orgs:acme#key-1", "https://example.org/orgs/acme/did.json"),
    ],
)
def test_a_did_web_resolves_to_its_document_url(did: str, url: str) -> None:
    assert did_web_document_url(did) == url


def test_a_development_server_can_ask_for_an_http_document_url() -> None:
    did = did_web_from_url("http://127.0.0.1:8000/orgs/acme")
    assert did_web_document_url(did, scheme="http") == "http://127.0.0.1:8000/orgs/acme/did.json"


@pytest.mark.parametrize("bad", ["ftp://example.org", "example.org", "https://example.org/?q=1", "https://[::1]/"])
def test_urls_that_cannot_be_a_did_web_are_refused(bad: str) -> None:
    with pytest.raises(DidError):
        did_web_from_url(bad)


@pytest.mark.parametrize("bad", ["did:key:z6Mk", "did:web:", "did:web:example.org::x", "did:web:a%2Fb"])
def test_malformed_did_webs_are_refused(bad: str) -> None:
    with pytest.raises(DidError):
        did_web_document_url(bad)


def test_the_did_document_lists_every_key_including_retired_ones() -> None:
    did = "did:web:127.0.0.1%3A8000"
    current, retired = generate_private_key().public_key(), generate_private_key().public_key()
    document = build_did_document(did, [DidKey("key-2", current), DidKey("key-1", retired)])
    assert document["@context"] == ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]
    assert document["id"] == did
    assert document["verificationMethod"] == [
        {
            "id": f"{did}#key-2",
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": public_key_to_multibase(current),
        },
        {
            "id": f"{did}#key-1",
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": public_key_to_multibase(retired),
        },
    ]
    assert document["assertionMethod"] == [f"{did}#key-2", f"{did}#key-1"]
    assert "authentication" not in document  # the keys sign credentials, nothing else
    assert set(assertion_keys(document)) == {f"{did}#key-1", f"{did}#key-2"}


def test_the_did_document_is_valid_json_ld_under_the_bundled_contexts() -> None:
    from badges.credentials import canonicalize

    document = build_did_document("did:web:example.org", [DidKey("key-1", generate_private_key().public_key())])
    assert "https://w3id.org/security#Multikey" in canonicalize(document)


def test_duplicate_key_fragments_are_refused() -> None:
    key = generate_private_key().public_key()
    with pytest.raises(DidError):
        build_did_document("did:web:example.org", [DidKey("k", key), DidKey("k", key)])


def test_a_did_key_resolves_offline_to_its_public_key() -> None:
    key = generate_private_key().public_key()
    did = did_key_from_public_key(key)
    method = did_key_verification_method(key)
    assert did.startswith("did:key:z6Mk")
    assert method == f"{did}#{did.removeprefix('did:key:')}"
    assert raw_public_key(resolve_did_key(did)) == raw_public_key(key)
    assert raw_public_key(resolve_did_key(method)) == raw_public_key(key)


def test_a_did_key_with_a_foreign_fragment_or_a_bad_key_is_not_resolved() -> None:
    did = did_key_from_public_key(generate_private_key().public_key())
    other = did_key_from_public_key(generate_private_key().public_key()).removeprefix("did:key:")
    for bad in (f"{did}#{other}", "did:key:z3u2abc", "did:web:example.org#key-1", "did:key:zzz"):
        with pytest.raises(KeyNotFoundError):
            resolve_did_key(bad)


def test_the_key_resolver_finds_only_assertion_methods_of_the_given_documents() -> None:
    did = "did:web:example.org"
    key = generate_private_key().public_key()
    document = build_did_document(did, [DidKey("key-1", key)])
    document["verificationMethod"].append(
        {"id": f"{did}#auth-only", "type": "Multikey", "controller": did,
         "publicKeyMultibase": public_key_to_multibase(generate_private_key().public_key())}
    )
    resolve = make_key_resolver([document])
    assert raw_public_key(resolve(f"{did}#key-1")) == raw_public_key(key)
    with pytest.raises(KeyNotFoundError):
        resolve(f"{did}#auth-only")
    with pytest.raises(KeyNotFoundError):
        resolve("did:web:other.example#key-1")


def test_relative_assertion_method_references_are_understood() -> None:
    did = "did:web:example.org"
    key = generate_private_key().public_key()
    document = build_did_document(did, [DidKey("key-1", key)])
    document["assertionMethod"] = ["#key-1"]
    document["verificationMethod"][0]["id"] = "#key-1"
    assert set(assertion_keys(document)) == {f"{did}#key-1"}
