"""The portal's pathway pages: a member defines a pathway with its components and rules, applies
and submits; bad input shows the messages and writes nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from endorsement.models import Application
from pathways.models import Pathway
from tests.factories import PASSWORD, Cast, ProgrammeFactory, login_request

pytestmark = pytest.mark.django_db


def form_data(first, **overrides):
    data = {
        "name_en": "Data analyst pathway", "name_ja": "データアナリスト・パスウェイ",
        "description_en": "From literacy to a project.", "description_ja": "リテラシーからプロジェクトまで。",
        "learning_outcomes": "Analyse a data set\nPresent the findings", "learning_hours": "40",
        "level": "", "level_framework": "", "assessment_of_whole": "A capstone project.",
        "quality_assurance": "The MOOC is accredited.", "stackability": "", "language": "ja",
        "responsible_person": "Prof. Sato",
        "components-TOTAL_FORMS": "2", "components-INITIAL_FORMS": "0", "components-MIN_NUM_FORMS": "0",
        "components-MAX_NUM_FORMS": "40",
        "components-0-code": "literacy", "components-0-programme": str(first.public_id),
        "components-1-code": "stats", "components-1-achievement_url": "https://mooc.example.org/a/1",
        "components-1-issuer_id": "https://mooc.example.org", "components-1-issuer_name": "MOOC",
        "components-1-name_en": "Statistics", "components-1-description_en": "Statistics basics",
        "components-1-hours": "10", "components-1-is_capstone": "on",
        "rules-TOTAL_FORMS": "1", "rules-INITIAL_FORMS": "0", "rules-MIN_NUM_FORMS": "0", "rules-MAX_NUM_FORMS": "20",
        "rules-0-kind": "order", "rules-0-components": "literacy, stats",
    }
    data.update(overrides)
    return data


def test_a_member_defines_applies_and_submits(client):
    cast = Cast()
    first = ProgrammeFactory()
    client.login(request=login_request(), username=cast.editor.username, password=PASSWORD)
    response = client.post(reverse("portal:pathway_new"), form_data(first))
    pathway = Pathway.objects.get()
    assert response.status_code == 302 and response.url == reverse("portal:pathway", args=[pathway.public_id])
    assert list(pathway.components.values_list("code", "is_capstone")) == [("literacy", False), ("stats", True)]
    page = client.get(response.url).content.decode()
    assert 'class="pathway-diagram"' in page
    client.post(reverse("portal:pathway_apply", args=[pathway.public_id]))
    client.post(reverse("portal:pathway_transition", args=[pathway.public_id, "submit"]))
    assert Application.objects.get(pathway=pathway).state == "submitted"
    assert client.get(reverse("portal:pathway_edit", args=[pathway.public_id])).status_code == 200
    refused = client.post(reverse("portal:pathway_edit", args=[pathway.public_id]), form_data(first, name_en="X"))
    assert refused.status_code == 409
    pathway.refresh_from_db()
    assert pathway.name_en == "Data analyst pathway"


def test_an_unknown_component_in_a_rule_is_shown_and_nothing_is_written(client):
    cast = Cast()
    client.login(request=login_request(), username=cast.editor.username, password=PASSWORD)
    response = client.post(reverse("portal:pathway_new"),
                           form_data(ProgrammeFactory(), **{"rules-0-components": "literacy, ghost"}))
    assert response.status_code == 400
    assert "Unknown components: ghost." in response.content.decode()
    assert Pathway.objects.count() == 0


def test_another_organisations_pathway_is_not_found(client):
    cast = Cast()
    client.login(request=login_request(), username=cast.editor.username, password=PASSWORD)
    client.post(reverse("portal:pathway_new"), form_data(ProgrammeFactory()))
    pathway = Pathway.objects.get()
    stranger = Cast()
    client.logout()
    client.login(request=login_request(), username=stranger.editor.username, password=PASSWORD)
    assert client.get(reverse("portal:pathway", args=[pathway.public_id])).status_code == 404
