"""Awarding one badge: the OpenBadgeCredential it signs, who may award it, under which endorsement,
and what bad input gets."""

import json
from datetime import timedelta

import jsonschema
import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from badges import credentials as vc
from badges.awards import add_months, award_issue, award_standing
from badges.models import Award, EvidenceCheck, StatusAllocation, StatusList
from badges.tasks import fetch_evidence, notify_evidence, send_award_emails
from config.errors import InvalidInput, NotFound, NotPermitted, WrongState
from config.tasking import enqueued
from endorsement import services
from endorsement.models import ApplicationState, Endorsement
from institutions.keys import did_document, organisation_did
from institutions.models import Organisation, Role
from tests.factories import (
    OrganisationFactory,
    ProgrammeFactory,
    api_client,
    application_in,
    awarding_setup,
    staff,
)

pytestmark = pytest.mark.django_db

GOOD = {
    "recipient_email": "Hanako.Yamada@Example.org",
    "recipient_name": "Hanako Yamada",
    "evidence_url": "https://lms.example.org/work/42",
    "evidence_narrative": "Passed the three assessed assignments.",
}


def resolver():
    return vc.make_key_resolver([did_document(o) for o in Organisation.objects.all()], allow_did_key=False)


def nothing_written(allocations_before: int) -> bool:
    return Award.objects.count() == 0 and StatusAllocation.objects.count() == allocations_before


# --- the credential -------------------------------------------------------------------------------
def test_an_award_is_an_open_badge_credential_signed_by_the_organisation():
    programme, app, _, issuer = awarding_setup()
    award = award_issue(actor=issuer, programme=programme, **GOOD)
    credential = award.credential
    assert credential["id"] == f"{settings.SITE_URL}/badges/{award.public_id}"
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert credential["issuer"]["id"] == organisation_did(programme.organisation)
    assert credential["issuer"]["name"] == programme.organisation.name
    subject = credential["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"]
    email_identity, name_identity = subject["identifier"]
    assert vc.email_identity_matches(email_identity, "hanako.yamada@example.org")
    assert "hanako" not in json.dumps(email_identity).lower()
    assert name_identity == {"type": "IdentityObject", "identityHash": "Hanako Yamada", "identityType": "name",
                             "hashed": False}
    assert subject["achievement"]["id"] == f"{settings.SITE_URL}/achievements/{programme.public_id}"
    assert credential["evidence"] == [{"id": GOOD["evidence_url"], "type": ["Evidence"],
                                       "narrative": GOOD["evidence_narrative"]}]
    assert credential["credentialStatus"]["statusPurpose"] == "revocation"
    assert credential["credentialStatus"]["statusListIndex"] == str(award.status.index)
    assert credential["validFrom"] == vc.format_datetime(award.valid_from)
    assert "validUntil" not in credential  # the programme sets no validity
    assert award.endorsement == app.endorsement and award.issued_by == issuer


def test_the_award_credential_validates_against_the_1edtech_schema(shared_dir):
    programme, _, _, issuer = awarding_setup(validity_months=24)
    award = award_issue(actor=issuer, programme=programme, **GOOD)
    schema = json.loads((shared_dir / "ob3-schemas" / "ob_v3p0_achievementcredential_schema.json").read_text())
    jsonschema.Draft201909Validator(schema, format_checker=jsonschema.FormatChecker()).validate(award.credential)


def test_the_award_verifies_and_so_does_the_endorsement_inside_it():
    programme, app, _, issuer = awarding_setup()
    award = award_issue(actor=issuer, programme=programme, **GOOD)
    assert vc.verify(award.credential, resolver()).verified
    (embedded,) = vc.embedded_endorsements(award.credential)
    assert embedded == app.endorsement.credential
    assert embedded["issuer"]["id"] == organisation_did(Organisation.objects.get(is_certification_body=True))
    assert vc.verify(embedded, resolver()).verified


def test_a_changed_award_credential_no_longer_verifies():
    programme, _, _, issuer = awarding_setup()
    credential = award_issue(actor=issuer, programme=programme, **GOOD).credential
    credential["credentialSubject"]["identifier"][1]["identityHash"] = "Somebody Else"
    assert not vc.verify(credential, resolver()).verified


def test_validity_months_sets_valid_until_that_many_calendar_months_on():
    programme, _, _, issuer = awarding_setup(validity_months=12)
    award = award_issue(actor=issuer, programme=programme, **GOOD)
    assert award.valid_until == add_months(award.valid_from, 12)
    assert award.credential["validUntil"] == vc.format_datetime(award.valid_until)


def test_add_months_keeps_the_day_or_takes_the_last_of_a_shorter_month():
    moment = timezone.now().replace(year=2027, month=1, day=31)
    assert add_months(moment, 1).date().isoformat() == "2027-02-28"
    assert add_months(moment, 13).date().isoformat() == "2028-02-29"
    assert add_months(moment, 12).date().isoformat() == "2028-01-31"


def test_a_learner_named_by_did_is_the_credential_subject():
    programme, _, _, issuer = awarding_setup()
    award = award_issue(actor=issuer, programme=programme, recipient_did="did:example:learner-7")
    assert award.credential["credentialSubject"]["id"] == "did:example:learner-7"
    assert "identifier" not in award.credential["credentialSubject"]
    assert "evidence" not in award.credential
    assert vc.verify(award.credential, resolver()).verified


def test_awards_of_one_organisation_share_one_revocation_list_with_distinct_entries():
    programme, _, _, issuer = awarding_setup()
    first = award_issue(actor=issuer, programme=programme, recipient_email="a@example.org")
    second = award_issue(actor=issuer, programme=programme, recipient_email="b@example.org")
    assert first.status.status_list_id == second.status.status_list_id
    assert first.status.index != second.status.index
    assert first.status.status_list.purpose == "revocation"


# --- side effects after commit ---------------------------------------------------------------------
def test_after_commit_the_status_list_is_published_and_the_learner_mailed_once(django_capture_on_commit_callbacks):
    programme, _, _, issuer = awarding_setup()
    with django_capture_on_commit_callbacks(execute=True):  # no evidence link: nothing to fetch from the network
        award = award_issue(actor=issuer, programme=programme, **{**GOOD, "evidence_url": ""})
    status_list = StatusList.objects.get(pk=award.status.status_list_id)
    assert status_list.credential is not None
    assert vc.verify(status_list.credential, resolver()).verified
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [GOOD["recipient_email"]]
    assert f"{settings.SITE_URL}/badges/{award.public_id}" in mail.outbox[0].body
    assert send_award_emails([award.pk]) == 0  # the task run again sends nothing
    assert len(mail.outbox) == 1


def test_issuing_records_the_evidence_links_fetch_made_before_signing(django_capture_on_commit_callbacks):
    programme, _, _, issuer = awarding_setup()
    with django_capture_on_commit_callbacks() as callbacks:
        award = award_issue(actor=issuer, programme=programme, **GOOD)
    check = EvidenceCheck.objects.get(award=award)
    # lms.example.org does not answer here (the tests reach no network): gone, and the organisation is told.
    assert (check.url, check.standing) == (GOOD["evidence_url"], "gone") and check.last_checked_at is not None
    assert not enqueued(callbacks, fetch_evidence)
    assert [c.args for c in enqueued(callbacks, notify_evidence)] == [(award.organisation_id,)]


def test_a_learner_named_only_by_did_is_not_mailed(django_capture_on_commit_callbacks):
    programme, _, _, issuer = awarding_setup()
    with django_capture_on_commit_callbacks(execute=True):
        award_issue(actor=issuer, programme=programme, recipient_did="did:example:123")
    assert mail.outbox == []


# --- refused: endorsement ------------------------------------------------------------------------
def _suspend(app, cast):
    services.endorsement_suspend(actor=cast.manager, endorsement=app.endorsement, comment="Under investigation")


def _revoke(app, cast):
    services.endorsement_revoke(actor=cast.manager, endorsement=app.endorsement, comment="Criteria no longer met")


def _expire(app, cast):
    services.endorsements_expire_due(now=app.endorsement.valid_until + timedelta(days=1))


def _past_its_end(app, cast):
    # Past valid_until, before the periodic task has marked it expired.
    Endorsement.objects.filter(pk=app.endorsement.pk).update(valid_until=timezone.now() - timedelta(minutes=1))


@pytest.mark.parametrize(("change", "words"), [
    (_suspend, "is suspended"),
    (_revoke, "was revoked"),
    (_expire, "expired on"),
    (_past_its_end, "expired on"),
])
def test_awarding_is_refused_when_the_endorsement_is_not_in_force(change, words):
    programme, app, cast, issuer = awarding_setup()
    change(app, cast)
    before = StatusAllocation.objects.count()
    with pytest.raises(WrongState) as error:
        award_issue(actor=issuer, programme=programme, **GOOD)
    assert words in error.value.message
    assert nothing_written(before)


def test_awarding_is_refused_for_a_programme_never_endorsed():
    organisation = OrganisationFactory()
    issuer = staff(organisation, Role.ISSUER)
    programme = ProgrammeFactory(organisation=organisation)
    before = StatusAllocation.objects.count()
    with pytest.raises(WrongState, match="has no endorsement"):
        award_issue(actor=issuer, programme=programme, **GOOD)
    assert nothing_written(before)


def test_awarding_is_refused_while_the_organisations_membership_is_suspended():
    programme, _, _, issuer = awarding_setup()
    Organisation.objects.filter(pk=programme.organisation_id).update(membership="suspended")
    programme.organisation.refresh_from_db()
    before = StatusAllocation.objects.count()
    with pytest.raises(WrongState, match="membership is not active"):
        award_issue(actor=issuer, programme=programme, **GOOD)
    assert nothing_written(before)


def test_awarding_waits_for_the_endorsement_to_be_published():
    app, cast = application_in(ApplicationState.ENDORSED)
    issuer = staff(cast.organisation, Role.ISSUER)
    before = StatusAllocation.objects.count()
    with pytest.raises(WrongState, match="not published"):
        award_issue(actor=issuer, programme=app.programme, **GOOD)
    assert nothing_written(before)


def test_the_api_answers_409_with_the_reason_when_the_endorsement_is_suspended():
    programme, app, cast, issuer = awarding_setup()
    _suspend(app, cast)
    before = StatusAllocation.objects.count()
    response = api_client(issuer).post(f"/api/v1/programmes/{programme.public_id}/awards", GOOD, format="json")
    assert response.status_code == 409
    assert "suspended" in response.json()["detail"]
    assert nothing_written(before)


# --- refused: who --------------------------------------------------------------------------------
def test_an_editor_may_not_award_badges():
    programme, _, cast, _ = awarding_setup()
    before = StatusAllocation.objects.count()
    with pytest.raises(NotPermitted):
        award_issue(actor=cast.editor, programme=programme, **GOOD)
    response = api_client(cast.editor).post(f"/api/v1/programmes/{programme.public_id}/awards", GOOD, format="json")
    assert response.status_code == 403
    assert "owners and issuers" in response.json()["detail"]
    assert nothing_written(before)


def test_an_owner_may_award_badges():
    programme, _, cast, _ = awarding_setup()
    owner = staff(cast.organisation, Role.OWNER)
    assert award_issue(actor=owner, programme=programme, **GOOD).issued_by == owner


def test_another_organisations_issuer_gets_404():
    programme, _, _, _ = awarding_setup()
    stranger = staff(OrganisationFactory(), Role.ISSUER)
    before = StatusAllocation.objects.count()
    with pytest.raises(NotFound):
        award_issue(actor=stranger, programme=programme, **GOOD)
    response = api_client(stranger).post(f"/api/v1/programmes/{programme.public_id}/awards", GOOD, format="json")
    assert response.status_code == 404
    assert api_client(stranger).get(f"/api/v1/programmes/{programme.public_id}/awards").status_code == 404
    assert nothing_written(before)


# --- refused: bad input --------------------------------------------------------------------------
@pytest.mark.parametrize(("fields", "field", "words"), [
    ({"recipient_email": "not-an-address"}, "recipient_email", "valid e-mail"),
    ({"recipient_email": "a@example.org\x07"}, "recipient_email", "control characters"),
    ({"recipient_email": ""}, "recipient_email", "e-mail address or DID"),
    ({"recipient_email": "", "recipient_did": "example:123"}, "recipient_did", "starts with “did:”"),
    ({"recipient_email": "", "recipient_did": "did:example:"}, "recipient_did", "Enter a DID"),
    ({"recipient_email": "", "recipient_did": "did:Ex ample:1"}, "recipient_did", "Enter a DID"),
    ({"evidence_url": "ftp://files.example.org/work"}, "evidence_url", "http:// or https://"),
    ({"evidence_url": "javascript:alert(1)"}, "evidence_url", "http:// or https://"),
    ({"evidence_url": "/relative/path"}, "evidence_url", "http:// or https://"),
    ({"recipient_name": "Hanako\nYamada"}, "recipient_name", "line breaks"),
    ({"recipient_name": "x" * 201}, "recipient_name", "At most 200"),
])
def test_bad_input_is_refused_by_field_and_writes_nothing(fields, field, words):
    programme, _, _, issuer = awarding_setup()
    before = StatusAllocation.objects.count()
    with pytest.raises(InvalidInput) as error:
        award_issue(actor=issuer, programme=programme, **{**GOOD, **fields})
    assert any(words in message for message in error.value.field_errors[field])
    response = api_client(issuer).post(f"/api/v1/programmes/{programme.public_id}/awards", {**GOOD, **fields},
                                       format="json")
    assert response.status_code == 400
    assert any(words in message for message in response.json()["errors"][field])
    assert nothing_written(before)


def test_a_narrative_may_hold_line_breaks_but_no_other_control_characters():
    programme, _, _, issuer = awarding_setup()
    award = award_issue(actor=issuer, programme=programme, **{**GOOD, "evidence_narrative": "One.\nTwo.\tThree."})
    assert award.credential["evidence"][0]["narrative"] == "One.\nTwo.\tThree."
    with pytest.raises(InvalidInput) as error:
        award_issue(actor=issuer, programme=programme, **{**GOOD, "evidence_narrative": "bell\x07"})
    assert "evidence_narrative" in error.value.field_errors
    assert Award.objects.count() == 1


# --- the API -------------------------------------------------------------------------------------
def test_the_api_awards_a_badge_and_lists_and_shows_it():
    programme, _, cast, issuer = awarding_setup()
    client = api_client(issuer)
    response = client.post(f"/api/v1/programmes/{programme.public_id}/awards", GOOD, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["url"] == f"{settings.SITE_URL}/badges/{body['public_id']}"
    assert body["standing"] == "valid"
    assert body["credential"]["id"] == body["url"]
    listed = api_client(cast.editor).get(f"/api/v1/programmes/{programme.public_id}/awards").json()
    assert [a["public_id"] for a in listed["results"]] == [body["public_id"]]
    shown = api_client(cast.editor).get(f"/api/v1/awards/{body['public_id']}")
    assert shown.status_code == 200 and shown.json()["credential"] == body["credential"]
    stranger = staff(OrganisationFactory(), Role.OWNER)
    assert api_client(stranger).get(f"/api/v1/awards/{body['public_id']}").status_code == 404


def test_standing_is_expired_past_valid_until():
    programme, _, _, issuer = awarding_setup(validity_months=1)
    award = award_issue(actor=issuer, programme=programme, **GOOD)
    assert award_standing(award) == "valid"
    assert award_standing(award, now=award.valid_until + timedelta(seconds=1)) == "expired"
