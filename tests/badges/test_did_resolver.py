"""Resolving issuers' DIDs: ours from the database, did:key offline, other did:web over HTTPS with
limits, and never an address inside the network."""

from __future__ import annotations

import pytest

from badges import credentials as vc
from badges.did_resolver import DidResolver, site_did
from institutions.keys import did_document, organisation_did
from institutions.models import MembershipState, Organisation
from tests.badges.http_stand_in import record_network, serve
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


def key_document(did: str, key=None) -> dict:
    key = key or vc.generate_private_key()
    return vc.build_did_document(did, [vc.DidKey("key-1", key.public_key())])


def test_the_bodys_own_did_is_resolved_from_the_database_without_http(monkeypatch):
    body = Organisation.objects.get(is_certification_body=True)
    attempts = record_network(monkeypatch)
    resolution = DidResolver().resolve(site_did())
    assert resolution.resolved and resolution.document == did_document(body)
    assert resolution.source == "this registry's own records"
    assert attempts == []


def test_a_member_organisations_did_is_resolved_locally():
    organisation = OrganisationFactory()
    resolution = DidResolver().resolve(organisation_did(organisation))
    assert resolution.resolved
    assert resolution.document["id"] == organisation_did(organisation)


def test_an_applicant_organisation_has_no_did_here(monkeypatch):
    organisation = OrganisationFactory(membership=MembershipState.APPLIED)
    attempts = record_network(monkeypatch)
    resolution = DidResolver().resolve(organisation_did(organisation))
    assert not resolution.resolved and "no issuer here has that DID" in resolution.error
    assert attempts == []


def test_an_unknown_path_on_our_host_is_not_fetched(monkeypatch):
    attempts = record_network(monkeypatch)
    resolution = DidResolver().resolve(site_did() + ":people:alice")
    assert not resolution.resolved and "no issuer here" in resolution.error
    assert attempts == []


def test_a_did_key_is_resolved_offline(monkeypatch):
    key = vc.generate_private_key()
    did = vc.did_key_from_public_key(key.public_key())
    attempts = record_network(monkeypatch)
    resolver = DidResolver()
    assert resolver.resolve(did).resolved
    assert resolver.key_resolver()(vc.did_key_verification_method(key.public_key())) == key.public_key()
    assert attempts == []


def test_a_foreign_did_web_is_fetched_once_and_its_assertion_key_resolved():
    key = vc.generate_private_key()
    with serve() as server:
        server.route("/.well-known/did.json", key_document(server.did, key))
        resolver = DidResolver()
        first, second = resolver.resolve(server.did), resolver.resolve(server.did + "#key-1")
        public_key = resolver.key_resolver()(server.did + "#key-1")
        assert server.hits == ["/.well-known/did.json"]
    assert first.resolved and first is second
    assert public_key == key.public_key()


def test_a_did_web_with_a_path_is_fetched_from_that_path():
    with serve() as server:
        did = server.did + ":issuers:acme"
        server.route("/issuers/acme/did.json", key_document(did))
        resolution = DidResolver().resolve(did)
    assert resolution.resolved and resolution.source == server.url("/issuers/acme/did.json")


def test_a_key_missing_from_the_document_is_not_found():
    with serve() as server:
        server.route("/.well-known/did.json", key_document(server.did))
        with pytest.raises(vc.KeyNotFoundError, match="not an assertion key"):
            DidResolver().key_resolver()(server.did + "#key-2")


def test_a_document_for_another_did_is_refused():
    with serve() as server:
        server.route("/.well-known/did.json", key_document("did:web:elsewhere.example"))
        resolution = DidResolver().resolve(server.did)
    assert not resolution.resolved and "not the DID document of" in resolution.error


def test_a_missing_document_is_reported_with_its_http_status():
    with serve() as server:
        resolution = DidResolver().resolve(server.did)
    assert not resolution.resolved and "HTTP 404" in resolution.error


@pytest.mark.parametrize("send_length", [True, False])
def test_an_oversized_document_is_refused_whether_or_not_its_length_is_declared(settings, send_length):
    settings.VERIFY_FETCH_MAX_BYTES = 1000
    with serve() as server:
        document = key_document(server.did)
        document["padding"] = "x" * 5000
        server.route("/.well-known/did.json", document, send_length=send_length)
        resolution = DidResolver().resolve(server.did)
    assert not resolution.resolved and "more than the 1,000 bytes allowed" in resolution.error


def test_a_slow_server_times_out(settings):
    settings.VERIFY_FETCH_TIMEOUT = 0.5
    with serve() as server:
        server.route("/.well-known/did.json", key_document(server.did), delay=2)
        resolution = DidResolver().resolve(server.did)
    assert not resolution.resolved and "did not answer within 0.5 seconds" in resolution.error


def test_loopback_is_refused_when_the_setting_is_off(settings):
    settings.VERIFY_ALLOW_LOOPBACK = False
    with serve() as server:
        server.route("/.well-known/did.json", key_document(server.did))
        resolution = DidResolver().resolve(server.did)
        assert server.hits == []
    assert not resolution.resolved and "127.0.0.1, a loopback address" in resolution.error


@pytest.mark.parametrize("did, kind", [
    ("did:web:10.1.2.3", "a private address"),
    ("did:web:169.254.169.254", "a link-local address"),
    ("did:web:192.168.0.1%3A8443", "a private address"),
    ("did:web:224.0.0.1", "a multicast address"),
    ("did:web:0.0.0.0", "an unspecified address"),
])
def test_addresses_inside_the_network_are_never_contacted(did, kind):
    resolution = DidResolver().resolve(did)
    assert not resolution.resolved and kind in resolution.error


def test_a_redirect_to_a_private_address_is_refused():
    with serve() as server:
        server.route("/.well-known/did.json", status=302, headers={"Location": "http://10.0.0.7/did.json"})
        resolution = DidResolver().resolve(server.did)
    assert not resolution.resolved and "10.0.0.7, a private address" in resolution.error


def test_other_did_methods_are_not_supported():
    resolution = DidResolver().resolve("did:example:123")
    assert not resolution.resolved and "only did:web and did:key" in resolution.error


def test_one_verification_fetches_at_most_its_budget_of_documents():
    with serve() as server:
        first, second = server.did + ":a", server.did + ":b"
        server.route("/a/did.json", key_document(first))
        server.route("/b/did.json", key_document(second))
        resolver = DidResolver(max_fetches=1)
        assert resolver.resolve(first).resolved
        refused = resolver.resolve(second)
        assert server.hits == ["/a/did.json"]
    assert not refused.resolved and "more than 1 documents from other servers" in refused.error


def test_an_https_did_document_is_fetched_over_tls():
    # The stand-in speaks plain http: a TLS handshake with it fails, cleanly reported (the https path
    # connects to the checked address and starts TLS with the host name).
    with serve() as server:
        from badges.fetch import FetchError, fetch

        with pytest.raises(FetchError) as error:
            fetch(server.url("/x").replace("http://", "https://"), timeout=2, max_bytes=1000, allow_loopback=True,
                  https_only=True)
    assert error.value.kind == "unreachable" and "could not be reached" in error.value.message
