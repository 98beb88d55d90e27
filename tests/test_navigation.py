import pytest
from django.urls import reverse

from institutions.models import Role
from tests.factories import ProgrammeFactory, staff

pytestmark = pytest.mark.django_db


def test_every_page_links_to_verification(client):
    body = client.get("/").content.decode()
    assert f'href="{reverse("verify")}"' in body


def test_the_portal_programme_page_links_to_its_awarded_badges(client):
    programme = ProgrammeFactory()
    client.force_login(staff(programme.organisation, Role.EDITOR))
    page = client.get(reverse("portal:programme", args=[programme.public_id])).content.decode()
    assert reverse("awards:programme", args=[programme.public_id]) in page
