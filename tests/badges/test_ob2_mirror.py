"""The Open Badges 2.0 hosted mirror (badges.ob2): its documents and URLs, read from the live state
so that a revocation or a suspension shows there the moment it is committed, as in the status lists."""

from __future__ import annotations

import json

import pytest

from badges import credentials as vc
from badges.awards import award_issue, award_revoke
from badges.ob2 import OB2_CONTEXT
from badges.status import status_list_publish
from endorsement import services
from institutions.models import MembershipState
from tests.factories import OrganisationFactory, api_client, awarding_setup

pytestmark = pytest.mark.django_db


@pytest.fixture
def issued():
    programme, app, cast, issuer = awarding_setup()
    award = award_issue(actor=issuer, programme=programme, recipient_email="hanako@example.org",
                        recipient_name="Hanako", evidence_url="https://example.org/work",
                        evidence_narrative="Passed.")
    return programme, app, cast, issuer, award


def ld(client, path: str, status: int = 200) -> dict:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    assert response["Content-Type"].startswith("application/ld+json")
    document = json.loads(response.content)
    assert document["@context"] == OB2_CONTEXT
    return document


def test_the_award_assertion_badgeclass_issuer_and_endorsement_link_up(client, settings, issued):
    programme, app, _cast, _issuer, award = issued
    assertion = ld(client, f"/ob2/assertions/{award.public_id}")
    assert assertion["id"] == f"{settings.SITE_URL}/ob2/assertions/{award.public_id}"
    assert assertion["type"] == "Assertion" and assertion["verification"] == {"type": "hosted"}
    assert assertion["related"] == [{"id": award.credential["id"]}]  # the OB 3.0 credential it mirrors
    identity = award.credential["credentialSubject"]["identifier"][0]
    assert assertion["recipient"] == {"type": "email", "hashed": True, "identity": identity["identityHash"],
                                      "salt": identity["salt"]}
    assert vc.email_identity_matches({**identity}, "hanako@example.org")
    assert assertion["issuedOn"] == award.credential["validFrom"]
    assert assertion["evidence"] == [{"id": "https://example.org/work", "narrative": "Passed."}]
    assert "revoked" not in assertion

    badge = ld(client, assertion["badge"].removeprefix(settings.SITE_URL))
    achievement = award.credential["credentialSubject"]["achievement"]
    assert badge["name"] == achievement["name"] and badge["description"] == achievement["description"]
    assert badge["criteria"] == achievement["criteria"]
    assert badge["related"] == [{"id": achievement["id"]}]
    assert [a["targetName"] for a in badge["alignment"]] == [a["targetName"] for a in achievement["alignment"]]
    assert badge["tags"] == achievement["tag"]
    image = client.get(badge["image"].removeprefix(settings.SITE_URL))
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")

    issuer = ld(client, badge["issuer"].removeprefix(settings.SITE_URL))
    assert issuer["type"] == "Issuer" and issuer["name"] == programme.organisation.name
    assert issuer["email"] == programme.organisation.contact_email
    revocations = ld(client, issuer["revocationList"].removeprefix(settings.SITE_URL))
    assert revocations["type"] == "RevocationList" and revocations["revokedAssertions"] == []

    [endorsement_url] = badge["endorsement"]
    endorsement = ld(client, endorsement_url.removeprefix(settings.SITE_URL))
    assert endorsement["type"] == "Endorsement" and endorsement["claim"]["id"] == badge["id"]
    assert endorsement["claim"]["endorsementComment"] == \
        app.endorsement.credential["credentialSubject"]["endorsementComment"]
    assert endorsement["related"] == [{"id": app.endorsement.credential["id"]}]
    body = ld(client, endorsement["issuer"].removeprefix(settings.SITE_URL))
    assert body["id"] == f"{settings.SITE_URL}/ob2/issuers/body"


def test_a_revocation_is_in_the_mirror_as_soon_as_in_the_status_list(client, issued):
    _programme, _app, _cast, issuer, award = issued
    award_revoke(actor=issuer, award=award, reason="Issued in error")
    # The status list (its bits recomputed from the same rows) and the mirror agree.
    status = status_list_publish(award.status.status_list_id)
    encoded = status.credential["credentialSubject"]["encodedList"]
    assert vc.StatusList.decode(encoded).get(award.status.index) is True
    assertion = ld(client, f"/ob2/assertions/{award.public_id}", status=410)  # hosted and revoked: Gone
    assert assertion["revoked"] is True and assertion["revocationReason"] == "Issued in error"
    revocations = ld(client, f"/ob2/issuers/{award.organisation.slug}/revocations")
    assert revocations["revokedAssertions"] == [{"id": assertion["id"], "revocationReason": "revoked: Issued in error"}]


def test_a_suspended_endorsement_is_in_the_bodys_revocation_list_until_reinstated(client, issued):
    _programme, app, cast, _issuer, _award = issued
    endorsement_url = ld(client, f"/ob2/endorsements/{app.endorsement.public_id}")["id"]
    services.endorsement_suspend(actor=cast.manager, endorsement=app.endorsement, comment="Under review")
    assert ld(client, "/ob2/issuers/body/revocations")["revokedAssertions"] == [
        {"id": endorsement_url, "revocationReason": "suspended"}]
    assert ld(client, f"/ob2/endorsements/{app.endorsement.public_id}")["revoked"] is True
    app.endorsement.refresh_from_db()
    services.endorsement_reinstate(actor=cast.manager, endorsement=app.endorsement)
    assert ld(client, "/ob2/issuers/body/revocations")["revokedAssertions"] == []
    assert "revoked" not in ld(client, f"/ob2/endorsements/{app.endorsement.public_id}")


def test_the_baked_ob2_png_holds_the_assertion_under_the_openbadges_keyword(client, issued):
    award = issued[-1]
    png = client.get(f"/ob2/assertions/{award.public_id}.png")
    assert png.status_code == 200 and png["Content-Type"] == "image/png"
    assert vc.extract_png_ob2(png.content) == client.get(f"/ob2/assertions/{award.public_id}").json()
    with pytest.raises(vc.BakingError):  # no OB 3.0 credential in it: the two downloads stay apart
        vc.extract_png(png.content)
    assert vc.extract_png(client.get(f"/badges/{award.public_id}.png").content) == award.credential


def test_the_api_and_the_badge_page_name_the_ob2_assertion(client, settings, issued):
    _programme, _app, _cast, issuer, award = issued
    body = api_client(issuer).get(f"/api/v1/awards/{award.public_id}").json()
    assert body["ob2_assertion"] == f"{settings.SITE_URL}/ob2/assertions/{award.public_id}"
    page = client.get(f"/badges/{award.public_id}").content.decode()
    assert f'href="/ob2/assertions/{award.public_id}"' in page
    assert f'href="/ob2/assertions/{award.public_id}.png"' in page


def test_unknown_or_unadmitted_ids_answer_404(client):
    applicant = OrganisationFactory(membership=MembershipState.APPLIED)
    for path in (f"/ob2/issuers/{applicant.slug}", f"/ob2/issuers/{applicant.slug}/revocations",
                 "/ob2/issuers/nobody", "/ob2/assertions/00000000-0000-4000-8000-000000000000",
                 "/ob2/assertions/00000000-0000-4000-8000-000000000000.png",
                 "/ob2/badgeclasses/00000000-0000-4000-8000-000000000000",
                 "/ob2/endorsements/00000000-0000-4000-8000-000000000000"):
        assert client.get(path).status_code == 404, path


def test_a_programme_never_endorsed_has_no_badgeclass_and_version_one_has_no_v1_url(client, issued):
    programme = issued[0]
    assert client.get(f"/ob2/badgeclasses/{programme.public_id}/v1").status_code == 404
    assert client.get(f"/ob2/badgeclasses/{programme.public_id}/v2").status_code == 404
    assert client.get(f"/ob2/badgeclasses/{programme.public_id}").status_code == 200


def test_the_mirror_expands_under_the_bundled_ob2_context_to_open_badges_terms(client, issued):
    """Each document is JSON-LD that the bundled OB 2.0 context (the same bytes as
    ../shared/contexts/openbadges-v2-context.json) gives meaning to: no property is dropped."""
    from pyld import jsonld

    from badges.credentials.loader import default_loader

    award = issued[-1]
    assertion = client.get(f"/ob2/assertions/{award.public_id}").json()
    [expanded] = jsonld.expand(assertion, {"documentLoader": default_loader()})
    assert expanded["@type"] == ["https://w3id.org/openbadges#Assertion"]
    assert expanded["https://w3id.org/openbadges#badge"] == [{"@id": assertion["badge"]}]
    assert expanded["http://purl.org/dc/terms/relation"] == [{"@id": award.credential["id"]}]
    # Every property of the document maps to an IRI (nothing silently dropped by the expansion).
    assert len(expanded) == len(assertion) - 1  # all but @context (id and type become @id, @type)
