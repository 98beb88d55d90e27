"""The endorsement mark: an SVG drawn from the registry snapshot that shows the standing, and the
HTML snippet to copy."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET

import pytest
from django.conf import settings
from django.urls import reverse

from endorsement import services
from endorsement.models import ApplicationState
from endorsement.registry import registry_refresh
from tests.factories import Cast, ProgrammeFactory, application_in, body

pytestmark = pytest.mark.django_db
SVG = "{http://www.w3.org/2000/svg}"


def published(**programme_fields):
    cast = Cast()
    programme = ProgrammeFactory(organisation=cast.organisation, **programme_fields)
    application, _ = application_in(ApplicationState.PUBLISHED, cast, programme=programme)
    registry_refresh()
    return application, cast


def svg_text(response) -> str:
    root = ET.fromstring(response.content)  # noqa: S314 (our own output; raises unless well-formed)
    assert root.tag == f"{SVG}svg"
    return " ".join("".join(node.itertext()) for node in root.iter() if node.tag in (f"{SVG}text", f"{SVG}title"))


def test_the_mark_says_endorsed_by_the_body_names_the_programme_and_shows_it_active(client):
    application, _ = published(name_en="Data literacy")
    response = client.get(reverse("registry:mark_svg", args=[application.programme.public_id]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml; charset=utf-8"
    assert "max-age=60" in response["Cache-Control"]
    assert response["Content-Security-Policy"].startswith("default-src 'none'")
    text = svg_text(response)
    assert f"Endorsed by {body().name}" in text
    assert "Data literacy" in text and "ACTIVE" in text
    until = application.endorsement.valid_until.date().isoformat()
    assert f"ACTIVE · until {until}" in text


def test_the_japanese_mark_says_active_once_with_a_japanese_date_and_the_japanese_page_shows_it(client):
    application, _ = published(name_en="Data literacy", name_ja="データリテラシー")
    public_id = application.programme.public_id
    text = svg_text(client.get(reverse("registry:mark_svg", args=[public_id]), {"lang": "ja"}))
    day = application.endorsement.valid_until
    assert f"有効 · {day.year}年{day.month}月{day.day}日まで" in text
    assert text.count("有効") == 2  # the band, and the same band's words in the title
    assert "データリテラシー" in text and "による認証" in text
    page = client.get(reverse("registry:programme", args=[public_id]), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert f"{public_id}/mark.svg?lang=ja" in page
    english = client.get(reverse("registry:programme", args=[public_id]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"{public_id}/mark.svg\"" in english


def test_a_suspended_endorsement_shows_suspended_on_the_mark_after_the_refresh(client):
    application, cast = published()
    url = reverse("registry:mark_svg", args=[application.programme.public_id])
    assert "SUSPENDED" not in svg_text(client.get(url))
    services.endorsement_suspend(actor=cast.manager, endorsement=application.endorsement, comment="Check.")
    registry_refresh()
    text = svg_text(client.get(url))
    assert "SUSPENDED" in text and "ACTIVE" not in text
    assert "not in force" in text


def test_a_revoked_endorsement_shows_revoked(client):
    application, cast = published()
    services.endorsement_revoke(actor=cast.manager, endorsement=application.endorsement, comment="Fraud.")
    registry_refresh()
    assert "REVOKED" in svg_text(client.get(reverse("registry:mark_svg", args=[application.programme.public_id])))


def test_a_programme_name_with_markup_is_escaped_and_the_svg_stays_valid(client):
    evil = '<script>alert("x")</script> & <a href="javascript:1">'
    application, _ = published(name_en=evil)
    response = client.get(reverse("registry:mark_svg", args=[application.programme.public_id]))
    body = response.content.decode()
    assert "<script" not in body and "<a " not in body
    assert "&lt;script&gt;" in body
    root = ET.fromstring(response.content)  # noqa: S314 (our own output)
    assert not [node for node in root.iter() if node.tag in (f"{SVG}script", f"{SVG}a", f"{SVG}foreignObject")]
    assert "<script>" in svg_text(response)  # shown as text, as the organisation wrote it


def test_the_snippet_links_the_registry_page_with_the_mark_as_its_image(client):
    application, _ = published(name_en='Quote " and <tag>')
    public_id = application.programme.public_id
    response = client.get(reverse("registry:mark_html", args=[public_id]))
    assert response["Content-Type"] == "text/html; charset=utf-8"
    snippet = response.content.decode()
    assert snippet.startswith(f'<a href="{settings.SITE_URL}{reverse("registry:programme", args=[public_id])}">')
    assert f'<img src="{settings.SITE_URL}{reverse("registry:mark_svg", args=[public_id])}"' in snippet
    assert "&lt;tag&gt;" in snippet and "&quot;" in snippet and "<tag>" not in snippet
    japanese = client.get(reverse("registry:mark_html", args=[public_id]), {"lang": "ja"}).content.decode()
    assert "mark.svg?lang=ja" in japanese


def test_the_mark_answers_304_to_its_etag_and_404_for_a_programme_not_in_the_registry(client):
    application, _ = published()
    url = reverse("registry:mark_svg", args=[application.programme.public_id])
    etag = client.get(url)["ETag"]
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert client.get(reverse("registry:mark_svg", args=[uuid.uuid4()])).status_code == 404
    assert client.get(reverse("registry:mark_html", args=[uuid.uuid4()])).status_code == 404


def test_a_long_name_is_shortened_to_fit_the_mark(client):
    application, _ = published(name_en="Very long programme name " * 7)
    text = svg_text(client.get(reverse("registry:mark_svg", args=[application.programme.public_id])))
    assert "…" in text
