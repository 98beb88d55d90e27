"""The bundled JSON-LD contexts and the offline document loader."""

from __future__ import annotations

import hashlib
import json
import re
from importlib import resources
from pathlib import Path

import pytest
from pyld import jsonld

from badges.credentials import (
    UnknownContextError,
    bundled_context,
    bundled_index,
    canonicalize,
    make_loader,
)

CONTEXTS = resources.files("badges.credentials.contexts")
ROW = re.compile(r"^\| `([^`]+)` \| (\S+)[^|]* \|.*\| `([0-9a-f]{64})` \|$")


def _sources_table(text: str) -> dict[str, tuple[str, str]]:
    """file → (url, sha256) from a SOURCES.md table."""
    rows = {}
    for line in text.splitlines():
        match = ROW.match(line.strip())
        if match:
            rows[match.group(1)] = (match.group(2), match.group(3))
    return rows


def _sha256(name: str) -> str:
    return hashlib.sha256(CONTEXTS.joinpath(name).read_bytes()).hexdigest()


def test_every_bundled_context_matches_the_sha256_in_our_sources_md() -> None:
    table = _sources_table(CONTEXTS.joinpath("SOURCES.md").read_text(encoding="utf-8"))
    assert set(table) == set(bundled_index().values())
    for name, (url, digest) in table.items():
        assert _sha256(name) == digest, name
        assert bundled_index()[url] == name


def test_every_bundled_context_matches_the_shared_sources_md(shared_dir: Path) -> None:
    shared = _sources_table((shared_dir / "contexts" / "SOURCES.md").read_text(encoding="utf-8"))
    ours = _sources_table(CONTEXTS.joinpath("SOURCES.md").read_text(encoding="utf-8"))
    assert ours == shared
    for name in bundled_index().values():
        assert _sha256(name) == hashlib.sha256((shared_dir / "contexts" / name).read_bytes()).hexdigest()


def test_the_bundled_index_is_the_shared_index(shared_dir: Path) -> None:
    assert bundled_index() == json.loads((shared_dir / "contexts" / "index.json").read_text())


def test_the_loader_serves_every_bundled_url_as_a_json_ld_document() -> None:
    loader = make_loader()
    for url in bundled_index():
        remote = loader(url, {})
        assert remote["documentUrl"] == url
        assert "@context" in remote["document"]


def test_the_loader_refuses_an_unknown_url_with_a_clear_error() -> None:
    with pytest.raises(UnknownContextError) as caught:
        make_loader()("https://example.org/contexts/unknown.jsonld", {})
    assert caught.value.url == "https://example.org/contexts/unknown.jsonld"
    assert "unknown JSON-LD context" in str(caught.value)
    assert "network" in str(caught.value)


def test_a_document_naming_an_unknown_context_raises_unknown_context_error_not_a_pyld_error(
    no_network: None,
) -> None:
    document = {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://example.org/evil.jsonld"],
        "type": ["VerifiableCredential"],
    }
    with pytest.raises(UnknownContextError, match=r"evil\.jsonld"):
        canonicalize(document)


def test_canonicalization_never_uses_pyld_default_loader_or_the_network(no_network: None) -> None:
    document = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": "urn:uuid:3c1d0a4e-6d5b-4b5e-9f0e-1a2b3c4d5e6f",
        "type": ["VerifiableCredential"],
        "issuer": "did:example:issuer",
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:subject"},
    }
    assert "<urn:uuid:3c1d0a4e-6d5b-4b5e-9f0e-1a2b3c4d5e6f>" in canonicalize(document)
    assert jsonld._default_document_loader is not None  # patched to raise; never called


def test_a_loader_with_extra_documents_serves_them_and_does_not_leak_them_to_the_default_loader() -> None:
    extra = {"https://example.org/ctx/v1": {"@context": {"thing": "https://example.org/vocab#thing"}}}
    loader = make_loader(extra)
    assert loader("https://example.org/ctx/v1", {})["document"] == extra["https://example.org/ctx/v1"]
    document = {"@context": "https://example.org/ctx/v1", "@id": "urn:x:1", "thing": "a"}
    assert canonicalize(document, loader) == '<urn:x:1> <https://example.org/vocab#thing> "a" .\n'
    with pytest.raises(UnknownContextError):
        canonicalize(document)


def test_the_loader_hands_out_copies_so_callers_cannot_change_the_bundled_contexts() -> None:
    loader = make_loader()
    url = "https://www.w3.org/ns/credentials/v2"
    loader(url, {})["document"]["@context"]["name"] = "https://evil.example/name"
    assert loader(url, {})["document"] == bundled_context(url)
    assert bundled_context(url)["@context"]["name"] == "https://schema.org/name"
