import pytest
from django.urls import reverse

from institutions.models import Role
from tests.factories import OrganisationFactory, staff

pytestmark = pytest.mark.django_db


def test_the_home_page_explains_the_body_and_links_to_the_registry_and_membership(client):
    response = client.get(reverse("home"))
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="en">' in html
    assert 'href="#main"' in html and 'id="main"' in html  # the skip link and its target
    assert "<header" in html and "<nav" in html and "<main" in html and "<footer" in html
    assert f'href="{reverse("registry:index")}"' in html
    assert f'href="{reverse("apply")}"' in html
    assert f'href="{reverse("login")}"' in html


def test_the_stylesheet_is_local_and_no_page_loads_anything_from_another_site(client):
    html = client.get(reverse("home")).content.decode()
    assert "/static/css/site.css" in html
    assert "https://" not in html.split("<body")[0]  # nothing external in <head>: no CDN, no web fonts


def test_a_logged_in_user_sees_the_portal_link_and_a_log_out_form_that_posts(client):
    user = staff(OrganisationFactory(), Role.EDITOR)
    client.force_login(user)
    html = client.get(reverse("home")).content.decode()
    assert f'href="{reverse("portal:dashboard")}"' in html
    assert f'<form method="post" action="{reverse("logout")}">' in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_the_language_switcher_sets_japanese_for_the_next_pages(client):
    html = client.get(reverse("home")).content.decode()
    assert f'action="{reverse("set_language")}"' in html
    assert reverse("set_language") == "/i18n/setlang/"
    response = client.post(reverse("set_language"), {"language": "ja", "next": "/"})
    assert response.status_code == 302
    assert '<html lang="ja">' in client.get(reverse("home")).content.decode()


def test_an_unknown_address_answers_404_with_the_site_layout(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
