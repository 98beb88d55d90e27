"""CORS: a browser wallet or verifier on another site may read the public documents (DID documents,
status lists, achievements, endorsement credentials, badges and their baked images): preflight
requests are answered and `Access-Control-Allow-Origin` is sent. Nothing else is opened up."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.test import Client

from badges.status import status_list_publish
from tests.badges.test_verify_page import issued_badge

pytestmark = pytest.mark.django_db
ORIGIN = "https://wallet.example.net"


def public_paths() -> list[str]:
    award, app, *_ = issued_badge()
    status_list_publish(award.status.status_list_id)
    status_url = award.credential["credentialStatus"]["statusListCredential"]
    return [
        "/.well-known/did.json",
        f"/organisations/{award.organisation.slug}/did.json",
        urlsplit(status_url).path,
        f"/achievements/{app.programme.public_id}",
        f"/achievements/{app.programme.public_id}.json",
        f"/credentials/endorsements/{app.endorsement.public_id}",
        f"/badges/{award.public_id}",
        f"/badges/{award.public_id}.json",
        f"/badges/{award.public_id}.png",
        # The Open Badges 2.0 mirror (badges.ob2).
        f"/ob2/issuers/{award.organisation.slug}",
        f"/ob2/issuers/{award.organisation.slug}/revocations",
        f"/ob2/badgeclasses/{app.programme.public_id}",
        f"/ob2/badgeclasses/{app.programme.public_id}/image.png",
        f"/ob2/endorsements/{app.endorsement.public_id}",
        f"/ob2/assertions/{award.public_id}",
        f"/ob2/assertions/{award.public_id}.png",
    ]


def test_every_public_document_answers_a_preflight_and_a_cross_origin_get():
    client = Client()
    for path in public_paths():
        preflight = client.options(path, HTTP_ORIGIN=ORIGIN, HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
                                   HTTP_ACCESS_CONTROL_REQUEST_HEADERS="accept, if-none-match")
        assert preflight.status_code == 200, path
        assert preflight["Access-Control-Allow-Origin"] == "*", path
        assert "GET" in preflight["Access-Control-Allow-Methods"], path
        assert "if-none-match" in preflight["Access-Control-Allow-Headers"], path
        assert "Access-Control-Allow-Credentials" not in preflight, path
        got = client.get(path, HTTP_ORIGIN=ORIGIN, HTTP_ACCEPT="application/ld+json")
        assert got.status_code in (200, 302), path
        assert got["Access-Control-Allow-Origin"] == "*", path


def test_a_baked_svg_is_readable_cross_origin():
    from django.core.files.base import ContentFile

    from tests.badges.test_awards_pages import SVG

    award, *_ = issued_badge()
    award.programme.image.save("badge.svg", ContentFile(SVG))
    got = Client().get(f"/badges/{award.public_id}.svg", HTTP_ORIGIN=ORIGIN)
    assert got.status_code == 200 and got["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("path", ["/api/v1/me", "/portal/", "/accounts/login/", "/admin/login/", "/verify/"])
def test_pages_and_the_api_are_not_opened_to_other_origins(path):
    client = Client()
    preflight = client.options(path, HTTP_ORIGIN=ORIGIN, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")
    assert "Access-Control-Allow-Origin" not in preflight
    assert "Access-Control-Allow-Origin" not in client.get(path, HTTP_ORIGIN=ORIGIN)
