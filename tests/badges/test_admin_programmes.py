"""Programmes in the body's admin: listed, searchable and readable, never editable."""

import pytest
from django.urls import reverse

from badges.models import Programme
from tests.factories import ProgrammeFactory, manager, reviewer

pytestmark = pytest.mark.django_db


def test_the_list_shows_organisation_name_pattern_and_hours_and_searches(client):
    wanted = ProgrammeFactory(name_en="Welding safety", credential_pattern="rpl", learning_hours="12.5")
    ProgrammeFactory(name_en="Data literacy")
    client.force_login(reviewer())

    response = client.get(reverse("admin:badges_programme_changelist"), {"q": "welding"})

    assert list(response.context["cl"].result_list) == [wanted]
    html = response.content.decode()
    assert "Welding safety" in html and wanted.organisation.name in html
    assert "Recognition of prior learning" in html and "12.5" in html


def test_the_list_searches_by_organisation_and_filters_by_pattern(client):
    a = ProgrammeFactory(credential_pattern="embedded")
    ProgrammeFactory(credential_pattern="modular")
    client.force_login(reviewer())
    url = reverse("admin:badges_programme_changelist")

    assert list(client.get(url, {"q": a.organisation.name}).context["cl"].result_list) == [a]
    assert list(client.get(url, {"credential_pattern__exact": "embedded"}).context["cl"].result_list) == [a]


def test_the_detail_page_is_read_only_even_for_a_manager(client):
    programme = ProgrammeFactory(name_en="Before")
    client.force_login(manager())
    url = reverse("admin:badges_programme_change", args=[programme.pk])

    page = client.get(url)
    posted = client.post(url, {"name_en": "After", "organisation": programme.organisation_id, "slug": "x"})

    assert page.status_code == 200 and page.context["has_change_permission"] is False
    assert "Reading, cleaning and presenting business data." in page.content.decode()
    assert posted.status_code == 403
    assert Programme.objects.get(pk=programme.pk).name_en == "Before"


def test_programmes_are_neither_added_nor_deleted_in_the_admin(client):
    programme = ProgrammeFactory()
    client.force_login(manager())
    assert client.get(reverse("admin:badges_programme_add")).status_code == 403
    assert client.post(reverse("admin:badges_programme_delete", args=[programme.pk]), {"post": "yes"}).status_code \
        == 403
    assert Programme.objects.filter(pk=programme.pk).exists()
