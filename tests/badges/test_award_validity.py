"""A badge's validUntil when the endorsement ends first: kept (the programme's validity from the
issuance, never capped at the endorsement's end); the verifier reports the embedded endorsement as
"endorsed when issued" once it has expired or been superseded, and still fails a revoked one."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from badges.awards import add_months, award_issue
from badges.models import StatusList
from badges.status import status_list_publish
from badges.verification import credential_verify
from endorsement import services
from endorsement.models import Endorsement, EndorsementState
from tests.factories import awarding_setup

pytestmark = pytest.mark.django_db
LEARNER = {"recipient_email": "learner@example.org", "recipient_name": "Ken Sato"}


def publish_status_lists() -> None:
    for status_list in StatusList.objects.all():  # as the on-commit tasks do
        status_list_publish(status_list.pk)


def checks(report) -> dict:
    return {c.id: c for c in report.checks}


@pytest.fixture
def badge_outliving_its_endorsement():
    programme, app, cast, issuer = awarding_setup(validity_months=48)
    endorsement = Endorsement.objects.get(application=app)
    Endorsement.objects.filter(pk=endorsement.pk).update(valid_until=timezone.now() + timedelta(days=30))
    award = award_issue(actor=issuer, programme=programme, **LEARNER)
    publish_status_lists()
    return award, Endorsement.objects.get(pk=endorsement.pk), cast


def test_the_badge_keeps_its_own_validity_beyond_the_endorsement(badge_outliving_its_endorsement):
    award, endorsement, _cast = badge_outliving_its_endorsement
    assert award.valid_until == add_months(award.valid_from, 48)
    assert award.valid_until > endorsement.valid_until
    assert award.credential["validUntil"].startswith(f"{award.valid_until:%Y-%m-%d}")


def test_after_the_endorsement_expired_the_badge_verifies_as_endorsed_when_issued(badge_outliving_its_endorsement):
    award, endorsement, _cast = badge_outliving_its_endorsement
    # It ends a second after the badge was issued.
    Endorsement.objects.filter(pk=endorsement.pk).update(valid_until=award.valid_from + timedelta(seconds=1))
    assert services.endorsements_expire_due(now=timezone.now() + timedelta(seconds=2)) == 1
    assert Endorsement.objects.get(pk=endorsement.pk).state == EndorsementState.EXPIRED
    # Past the end the EndorsementCredential was signed with, too (the badge runs four years).
    signed_end = datetime.fromisoformat(endorsement.credential["validUntil"])
    report = credential_verify(award.credential, now=signed_end + timedelta(days=1))
    assert report.verified, [(c.id, c.message) for c in report.checks if not c.passed]
    found = checks(report)
    assert "endorsed when issued" in found["endorsement-1-registry"].message
    assert "endorsed when issued" in found["endorsement-1-dates"].message
    assert (found["endorsement-1-registry"].code, found["endorsement-1-dates"].code) == (
        "registry.endorsed-when-issued", "dates.endorsed-when-issued")
    assert report.verdict == "verified"


def test_the_endorsement_credential_on_its_own_is_reported_ended(badge_outliving_its_endorsement):
    _award, endorsement, _cast = badge_outliving_its_endorsement
    signed_end = datetime.fromisoformat(endorsement.credential["validUntil"])
    report = credential_verify(endorsement.credential, now=signed_end + timedelta(days=1))
    assert not report.verified
    assert not checks(report)["dates"].passed


def test_a_revoked_endorsement_still_fails_the_badge(badge_outliving_its_endorsement):
    award, endorsement, cast = badge_outliving_its_endorsement
    services.endorsement_revoke(actor=cast.manager, endorsement=endorsement, comment="Fraud.")
    publish_status_lists()
    report = credential_verify(award.credential)
    assert not report.verified
    assert not checks(report)["endorsement-1-registry"].passed
    assert "revoked" in checks(report)["endorsement-1-registry"].message
