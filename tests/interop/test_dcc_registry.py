"""The body's OpenID Federation trust anchor as the Digital Credentials Consortium's verifier reads it:
verifier-core (dcc-verify.mjs) with our `/.well-known/openid-federation` configured as a known
registry of type "oidf" asks its issuer-registry client (@digitalcredentials/issuer-registry-client,
pinned in package.json) whether a badge's issuer is registered. The client fetches our entity
configuration and then `federation_fetch_endpoint?sub=<issuer DID>` from a live test server.

A badge of an endorsed member: registered, with the organisation's name from our statement; after
the body revokes the member's endorsement: not registered; a stranger's did:key badge: not
registered. The signed list credential verifies in verifier-core as well. Every other step of
verification is unaffected, and no registry is left unchecked."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from django.db import transaction

from badges import credentials as vc
from badges.awards import award_issue
from endorsement import services, trust
from tests.factories import awarding_setup
from tests.interop.test_second_verifier import dcc_verify, steps

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)  # a live server reads it


@pytest.fixture
def registry_verify(live_server, settings, tmp_path, shared_dir):
    settings.SITE_URL = live_server.url  # DIDs, the entity id and the fetch endpoint name the live server
    settings.MEDIA_ROOT = tmp_path
    registries = [{"type": "oidf", "name": "Test body (OpenID Federation)",
                   "trustAnchorEC": f"{live_server.url}/.well-known/openid-federation"}]
    return lambda credentials: dcc_verify(live_server.url, shared_dir / "ob3-schemas", credentials, registries)


def registered_step(result: dict[str, Any]) -> dict[str, Any]:
    return next(step for step in result["log"] if step["id"] == "registered_issuer")


def stranger_badge(badge: dict[str, Any]) -> dict[str, Any]:
    """The same badge issued and signed by someone else: a did:key nobody endorsed."""
    private_key = vc.generate_private_key()
    did = vc.did_key_from_public_key(private_key.public_key())
    unsigned = copy.deepcopy(badge)
    unsigned.pop("proof")
    unsigned.pop("credentialStatus", None)
    unsigned.pop("endorsement", None)
    unsigned["issuer"] = {**unsigned["issuer"], "id": did}
    return vc.sign(unsigned, private_key, vc.did_key_verification_method(private_key.public_key()))


def test_verifier_core_reports_our_endorsed_issuer_registered_and_not_after_revocation(registry_verify):
    programme, app, cast, issuer = awarding_setup()
    award = award_issue(actor=issuer, programme=programme, recipient_email="learner@example.org")
    badge = award.credential
    stranger = stranger_badge(badge)

    trust_list = trust.trust_list_current().credential
    result, other, listed = registry_verify([badge, stranger, trust_list])
    assert result["verified"] is True, (result["errors"], result["log"])
    step = registered_step(result)
    assert step["valid"] is True, step
    assert step["uncheckedRegistries"] == []
    [match] = step["matchingIssuers"]
    assert match["issuer"]["federation_entity"]["organization_name"] == cast.organisation.name
    assert match["registry"]["federation_entity"]["federation_fetch_endpoint"].endswith("/federation/fetch")
    assert other["verified"] is True, (other["errors"], other["log"])  # a good signature, by a stranger
    assert registered_step(other)["valid"] is False
    assert registered_step(other)["matchingIssuers"] == [] and registered_step(other)["uncheckedRegistries"] == []
    # The signed list credential verifies there too (its proof by the body's did:web, its validity period).
    assert listed["verified"] is True, (listed["errors"], listed["log"])
    assert steps(listed)["valid_signature"] is True and steps(listed)["expiration"] is True

    with transaction.atomic():  # commits: the registry refresh runs after it, as in production
        services.endorsement_revoke(actor=cast.manager, endorsement=app.endorsement, comment="Misconduct.")

    (after,) = registry_verify([badge])
    step = registered_step(after)
    assert step["valid"] is False, step
    assert step["matchingIssuers"] == [] and step["uncheckedRegistries"] == []
    assert steps(after)["valid_signature"] is True
