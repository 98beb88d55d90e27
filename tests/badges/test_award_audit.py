"""Issuing and revoking a badge leave audit events naming who did it."""

import pytest

from badges.awards import award_issue, award_revoke
from config.errors import InvalidInput
from endorsement.audit import audit_for, audit_verify
from tests.factories import awarding_setup

pytestmark = pytest.mark.django_db


def test_issuing_and_revoking_a_badge_are_audited_with_the_actor_and_reason():
    programme, _app, _cast, issuer = awarding_setup()
    award = award_issue(actor=issuer, programme=programme, recipient_email="learner@example.org")
    award_revoke(actor=issuer, award=award, reason="Issued to the wrong learner")
    events = list(audit_for(award))
    assert [e.action for e in events] == ["award.issued", "award.revoked"]
    assert all(e.actor == issuer for e in events)
    assert events[1].comment == "Issued to the wrong learner"
    assert audit_verify().ok


def test_a_refused_revocation_writes_no_audit_event():
    programme, _app, _cast, issuer = awarding_setup()
    award = award_issue(actor=issuer, programme=programme, recipient_email="learner@example.org")
    with pytest.raises(InvalidInput):
        award_revoke(actor=issuer, award=award, reason="  ")
    award.refresh_from_db()
    assert award.revoked_at is None
    assert [e.action for e in audit_for(award)] == ["award.issued"]
