"""What a verifier reads for an endorsement's standing (issue 15): suspending or revoking an
endorsement republishes its suspension status list, after commit, with the endorsement's bit set
(and reinstating clears it; a revoked one stays set). The list is read as any verifier reads it —
the public URL in the credential's `credentialStatus`, base64url and GZIP decoded here, the bit
taken most-significant first as the Bitstring Status List spec says — not with the library's own
decoder."""

from __future__ import annotations

import base64
import gzip

import pytest

from endorsement import services
from endorsement.models import ApplicationState, Endorsement
from tests.factories import application_in

pytestmark = pytest.mark.django_db


def bit_served(client, endorsement: Endorsement) -> bool:
    status = endorsement.credential["credentialStatus"]
    assert status["statusPurpose"] == "suspension"
    response = client.get(status["statusListCredential"].replace("http://127.0.0.1:8000", ""))
    assert response.status_code == 200
    encoded = response.json()["credentialSubject"]["encodedList"]
    assert encoded.startswith("u")
    bits = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    index = int(status["statusListIndex"])
    return bool(bits[index // 8] >> (7 - index % 8) & 1)


@pytest.fixture
def granted(client, django_capture_on_commit_callbacks):
    application, cast = application_in(ApplicationState.PUBLISHED)
    endorsement = Endorsement.objects.get(application=application)
    with django_capture_on_commit_callbacks(execute=True):
        from badges.status import status_list_publish

        status_list_publish(endorsement.status.status_list_id)  # the list as first published
    assert bit_served(client, endorsement) is False
    return endorsement, cast


def test_suspending_republishes_the_list_with_the_bit_set_and_reinstating_clears_it(
        client, granted, django_capture_on_commit_callbacks):
    endorsement, cast = granted
    with django_capture_on_commit_callbacks(execute=True):
        services.endorsement_suspend(actor=cast.manager, endorsement=endorsement, comment="Under appeal.")
    assert bit_served(client, endorsement) is True
    with django_capture_on_commit_callbacks(execute=True):
        services.endorsement_reinstate(actor=cast.manager, endorsement=endorsement, comment="Appeal dismissed.")
    assert bit_served(client, endorsement) is False


def test_revoking_an_active_endorsement_sets_its_bit_for_good(client, granted, django_capture_on_commit_callbacks):
    endorsement, cast = granted
    with django_capture_on_commit_callbacks(execute=True):
        services.endorsement_revoke(actor=cast.manager, endorsement=endorsement, comment="Evidence fabricated.")
    assert bit_served(client, endorsement) is True


def test_revoking_a_suspended_endorsement_keeps_its_bit_set(client, granted, django_capture_on_commit_callbacks):
    endorsement, cast = granted
    with django_capture_on_commit_callbacks(execute=True):
        services.endorsement_suspend(actor=cast.manager, endorsement=endorsement, comment="Under appeal.")
        services.endorsement_revoke(actor=cast.manager, endorsement=endorsement, comment="Confirmed.")
    assert bit_served(client, endorsement) is True
    # Republishing from the database (what any later publication does) keeps it set.
    from badges.status import status_list_publish

    status_list_publish(endorsement.status.status_list_id)
    assert bit_served(client, endorsement) is True
