"""Awards for the evidence and verification tests, made as the award service makes them (a signed
OpenBadgeCredential of the member organisation, carrying the body's endorsement, with a revocation
status entry), written with the ORM so these tests do not depend on the award pages or API."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.utils import timezone

from badges import credentials as vc
from badges.achievements import achievement_document
from badges.models import Award, StatusPurpose
from badges.status import status_allocate, status_entry, status_list_publish
from endorsement.models import ApplicationState
from institutions.keys import issuer_profile, signing_material
from tests.factories import application_in


def award_row(*, evidence_url: str = "", email: str = "learner@example.org", app=None) -> Award:
    """An award of `app`'s programme (by default a new published one), issued by its editor."""
    if app is None:
        app, _cast = application_in(ApplicationState.PUBLISHED)
    endorsement = app.endorsement
    status_list_publish(endorsement.status.status_list_id)
    organisation, programme = app.organisation, app.programme
    public_id = uuid.uuid4()
    now = timezone.now().replace(microsecond=0)
    allocation = status_allocate(organisation, StatusPurpose.REVOCATION)
    unsigned = vc.build_open_badge_credential(
        id=f"{settings.SITE_URL}/badges/{public_id}",
        issuer=issuer_profile(organisation),
        achievement=achievement_document(programme, app.snapshot, endorsements=[endorsement.credential]),
        valid_from=now,
        recipient_identity=[vc.build_email_identity(email)],
        evidence=[vc.build_evidence(id=evidence_url)] if evidence_url else [],
        credential_status=status_entry(allocation),
    )
    private_key, method = signing_material(organisation)
    award = Award.objects.create(
        public_id=public_id, programme=programme, organisation=organisation, endorsement=endorsement,
        recipient_email=email, recipient_name="Aiko Tanaka", evidence_url=evidence_url, issued_by=app.created_by,
        valid_from=now, status=allocation, credential=vc.sign(unsigned, private_key, method, now),
    )
    status_list_publish(allocation.status_list_id)
    return award
