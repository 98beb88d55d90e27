"""The registry shows one entry per programme with its history: a granted renewal as the next
endorsement, then, once it started, the renewed one among the earlier endorsements as superseded;
no moment at which the programme shows as expired."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from endorsement import renewals, services
from endorsement.models import ApplicationState, Endorsement
from endorsement.registry import _item, registry_entries, registry_refresh
from tests.endorsement.renewal_walk import ends_in, walk
from tests.factories import application_in

pytestmark = pytest.mark.django_db


def test_one_entry_with_the_next_endorsement_then_the_history():
    application, cast = application_in(ApplicationState.PUBLISHED)
    old = ends_in(Endorsement.objects.get(application=application), 30)
    new = Endorsement.objects.get(application=walk(renewals.endorsement_renew(actor=cast.editor, endorsement=old),
                                                   cast))
    entries = [e for e in registry_entries() if e["id"] == str(old.programme.public_id)]
    assert len(entries) == 1
    entry = entries[0]
    assert entry["endorsement"]["id"] == str(old.public_id) and entry["endorsement"]["state"] == "active"
    assert entry["next_endorsement"]["id"] == str(new.public_id)
    assert entry["next_endorsement"]["state"] == "scheduled"
    assert entry["previous_endorsements"] == []

    # At the old one's end, before the beat task: shown active (the renewal carries on), not expired.
    end = timezone.now() - timedelta(seconds=1)
    Endorsement.objects.filter(pk=old.pk).update(valid_from=end - timedelta(days=1095), valid_until=end)
    Endorsement.objects.filter(pk=new.pk).update(valid_from=end, published_at=end - timedelta(days=1))
    entry = next(e for e in registry_entries() if e["id"] == str(old.programme.public_id))
    assert _item(entry).standing(timezone.now()) == "active"

    services.endorsements_expire_due()
    registry_refresh()
    entry = next(e for e in registry_entries() if e["id"] == str(old.programme.public_id))
    assert (entry["endorsement"]["id"], entry["endorsement"]["state"]) == (str(new.public_id), "active")
    assert [(e["id"], e["state"]) for e in entry["previous_endorsements"]] == [(str(old.public_id), "superseded")]
    assert entry["next_endorsement"] is None
    page = Client().get(f"/registry/{old.programme.public_id}/")
    assert page.status_code == 200 and "Superseded" in page.content.decode()
