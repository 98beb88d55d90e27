"""The admin: reviewers see the component map with each component's own endorsement standing;
managers find flagged pathways with a filter and clear the flag."""

from __future__ import annotations

import pytest
from django.urls import reverse

from endorsement import services
from endorsement.models import AuditEvent, Endorsement
from tests.pathways.helpers import EXTERNAL, endorsed_programmes, pathway_in

pytestmark = pytest.mark.django_db


def test_the_reviewer_sees_the_component_map_with_standings(client):
    first, second = endorsed_programmes()
    services.endorsement_suspend(actor=Endorsement.objects.get(programme=second).decided_by,
                                 endorsement=Endorsement.objects.get(programme=second), comment="Checking")
    app, cast, _ = pathway_in("in_review", programmes=(first, second))
    client.force_login(cast.reviewer)
    page = client.get(reverse("admin:endorsement_application_change", args=[app.pk])).content.decode()
    assert 'id="component-map"' in page
    assert EXTERNAL in page
    assert "issued elsewhere: the body does not endorse it" in page
    section = page.split('id="component-map"')[1].split("</table>")[0]
    assert section.count("verdict-met") == 1 and section.count("verdict-not_met") == 1  # active / suspended
    assert ">active<" in section and ">suspended<" in section
    assert 'class="pathway-diagram"' in page


def test_managers_filter_flagged_pathways_and_clear_the_flag(client):
    first, second = endorsed_programmes()
    _app, cast, pathway = pathway_in("published", programmes=(first, second))
    services.endorsement_revoke(actor=cast.manager, endorsement=Endorsement.objects.get(programme=first),
                                comment="Withdrawn")
    client.force_login(cast.manager)
    listed = client.get(reverse("admin:pathways_pathway_changelist") + "?flagged=yes").content.decode()
    assert reverse("admin:pathways_pathway_change", args=[pathway.pk]) in listed
    unflagged = client.get(reverse("admin:pathways_pathway_changelist") + "?flagged=no").content.decode()
    assert reverse("admin:pathways_pathway_change", args=[pathway.pk]) not in unflagged
    response = client.post(reverse("admin:pathways_pathway_button", args=[pathway.pk, "clear_flag"]),
                           {"text": "Replaced the component", "confirmed": "yes"})
    assert response.status_code == 302
    pathway.refresh_from_db()
    assert pathway.flagged_at is None and pathway.flag_reason == ""
    assert AuditEvent.objects.filter(action="pathway.flag_cleared", subject_id=str(pathway.pk)).exists()


def test_a_reviewer_cannot_clear_the_flag(client):
    first, second = endorsed_programmes()
    _app, cast, pathway = pathway_in("published", programmes=(first, second))
    services.endorsement_revoke(actor=cast.manager, endorsement=Endorsement.objects.get(programme=first),
                                comment="Withdrawn")
    client.force_login(cast.reviewer)
    client.post(reverse("admin:pathways_pathway_button", args=[pathway.pk, "clear_flag"]),
                {"text": "", "confirmed": "yes"})
    pathway.refresh_from_db()
    assert pathway.flagged_at is not None
    assert not AuditEvent.objects.filter(action="pathway.flag_cleared").exists()
