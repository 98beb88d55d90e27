"""/achievements/<uuid>: the Achievement as a JSON-LD document of its own, with its `@context`, so that
any JSON-LD processor expands it to the same quads as the Achievement embedded in a badge; responses
chosen by Accept say `Vary: Accept`; the badge answers `application/vc` beside `application/vc+ld+json`."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from pyld import jsonld

from badges import credentials as vc
from tests.badges.test_verify_page import issued_badge

pytestmark = pytest.mark.django_db
OB_ACHIEVEMENT = "https://purl.imsglobal.org/spec/vc/ob/vocab.html#Achievement"


def quads(document: dict) -> str:
    """Canonical N-Quads with pyld and only the bundled contexts (no network)."""
    return vc.reference_normalize(document, vc.default_loader())


def test_the_achievement_document_has_its_context_and_expands_to_the_quads_of_the_embedded_achievement():
    award, app, *_ = issued_badge()
    response = Client().get(f"/achievements/{app.programme.public_id}.json")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/ld+json")
    document = response.json()
    assert document["@context"] == ["https://www.w3.org/ns/credentials/v2",
                                    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]
    expanded = jsonld.expand(document, {"documentLoader": vc.default_loader()})
    assert expanded and OB_ACHIEVEMENT in expanded[0]["@type"]  # not "expands to nothing"

    embedded = award.credential["credentialSubject"]["achievement"]
    as_in_badge = {"@context": award.credential["@context"], **embedded}
    standalone = quads(document)
    assert standalone == quads(as_in_badge)
    assert f"<{embedded['id']}> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{OB_ACHIEVEMENT}>" in standalone
    assert len(standalone.splitlines()) > 20  # the endorsement and its proof included


def test_the_achievement_is_chosen_by_accept_and_says_vary_accept():
    _award, app, *_ = issued_badge()
    url = f"/achievements/{app.programme.public_id}"
    page = Client().get(url, HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    assert page.status_code == 302 and "Accept" in page["Vary"]
    ld = Client().get(url, HTTP_ACCEPT="application/ld+json")
    assert ld.status_code == 200 and ld["Content-Type"].startswith("application/ld+json")
    assert "Accept" in ld["Vary"] and "@context" in ld.json()
    preferred_html = Client().get(url, HTTP_ACCEPT="application/json;q=0.5, text/html")
    assert preferred_html.status_code == 302


@pytest.mark.parametrize(("accept", "media_type"), [
    ("application/vc", "application/vc"),
    ("application/vc+ld+json", "application/vc+ld+json"),
    ("application/ld+json", "application/vc+ld+json"),
    ("application/json", "application/vc+ld+json"),
])
def test_the_badge_answers_the_credential_for_each_json_media_type_with_vary_accept(accept, media_type):
    award, *_ = issued_badge()
    response = Client().get(f"/badges/{award.public_id}", HTTP_ACCEPT=accept)
    assert response.status_code == 200
    assert response["Content-Type"] == f"{media_type}; charset=utf-8"
    assert json.loads(response.content) == award.credential
    assert "Accept" in response["Vary"]


@pytest.mark.parametrize("accept", ["text/html,application/xhtml+xml,*/*;q=0.8", "", "*/*",
                                    "application/vc;q=0.2, text/html;q=0.9"])
def test_the_badge_page_is_html_for_browsers_and_says_vary_accept(accept):
    award, *_ = issued_badge()
    response = Client().get(f"/badges/{award.public_id}", **({"HTTP_ACCEPT": accept} if accept else {}))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert "Accept" in response["Vary"]
