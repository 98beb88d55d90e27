"""Award pages: the learner's badge page and its downloads (JSON, baked PNG and SVG), and the portal
pages where issuers award, upload batches, follow them and revoke."""

import base64
import json
from xml.etree import ElementTree

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from badges import credentials as vc
from badges.award_images import generated_png
from badges.awards import award_issue, award_revoke
from badges.batches import award_batch_create, rows_from_json
from badges.models import Award, AwardBatch, StatusAllocation, StatusList
from badges.status import status_list_publish
from institutions.keys import did_document
from institutions.models import Organisation, Role
from tests.factories import PASSWORD, OrganisationFactory, awarding_setup, login_request, png_bytes, staff

pytestmark = pytest.mark.django_db

SVG = (b'<?xml version="1.0" encoding="utf-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
       b'<circle cx="5" cy="5" r="4" fill="teal"/></svg>')


def resolver():
    return vc.make_key_resolver([did_document(o) for o in Organisation.objects.all()], allow_did_key=False)


def login(user) -> Client:
    client = Client()
    assert client.login(request=login_request(), username=user.username, password=PASSWORD)
    return client


def issued(**programme_fields):
    programme, _, cast, issuer = awarding_setup(**programme_fields)
    award = award_issue(actor=issuer, programme=programme, recipient_email="hanako@example.org",
                        recipient_name="Hanako Yamada", evidence_url="https://lms.example.org/work/1",
                        evidence_narrative="Passed all three assignments.")
    return award, cast, issuer


# --- the learner's page ---------------------------------------------------------------------------
def test_the_learners_page_shows_the_badge_its_issuer_endorsement_and_standing():
    award, _, _ = issued(validity_months=12)
    response = Client().get(f"/badges/{award.public_id}")
    assert response.status_code == 200
    page = response.content.decode()
    assert award.programme.name_en in page
    assert "Hanako Yamada" in page
    assert award.organisation.name in page
    assert Organisation.objects.get(is_certification_body=True).name in page
    endorsement = award.endorsement
    assert f"{endorsement.valid_from:%Y}" in page and f"{endorsement.valid_until:%Y}" in page
    assert "Valid" in page and "Revoked" not in page
    assert f"/badges/{award.public_id}.png" in page and f"/badges/{award.public_id}.json" in page
    assert "hanako@example.org" not in page  # only its hash is in the badge
    assert json.dumps(award.credential["id"]) in page  # the credential's JSON is on the page


def test_the_learners_page_shows_a_revoked_badge_as_revoked():
    award, _, issuer = issued()
    award_revoke(actor=issuer, award=award, reason="Plagiarism found")
    page = Client().get(f"/badges/{award.public_id}").content.decode()
    assert "Revoked" in page


def test_the_badge_json_is_the_signed_credential_and_verifies():
    award, _, _ = issued()
    response = Client().get(f"/badges/{award.public_id}.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vc+ld+json")
    credential = json.loads(response.content)
    assert credential == award.credential
    assert vc.verify(credential, resolver()).verified


def test_a_json_ld_client_dereferencing_the_credential_id_gets_the_credential():
    award, _, _ = issued()
    path = award.credential["id"].removeprefix(settings.SITE_URL)
    response = Client().get(path, HTTP_ACCEPT="application/ld+json")
    assert json.loads(response.content) == award.credential


def test_the_baked_png_holds_the_credential_which_verifies():
    award, _, _ = issued()
    response = Client().get(f"/badges/{award.public_id}.png")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    extracted = vc.extract_png(response.content)
    assert extracted == award.credential
    assert vc.verify(extracted, resolver()).verified


def test_a_programme_png_image_is_the_one_baked():
    award, _, _ = issued()
    programme = award.programme
    original = png_bytes(3, 3)
    programme.image.save("badge.png", ContentFile(original))
    baked = Client().get(f"/badges/{award.public_id}.png").content
    assert vc.extract_png(baked) == award.credential
    assert baked.startswith(original[:-12])  # the same image, the credential added before IEND
    # The SVG download too: the same PNG, shown inside an SVG, with the credential baked in.
    svg = Client().get(f"/badges/{award.public_id}.svg")
    assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml"
    assert "img-src data:" in svg["Content-Security-Policy"]
    assert vc.extract_svg(svg.content) == award.credential
    root = ElementTree.fromstring(svg.content)  # noqa: S314 - our own response
    (image,) = root.findall("{http://www.w3.org/2000/svg}image")
    assert (root.get("width"), root.get("height"), root.get("viewBox")) == ("3", "3", "0 0 3 3")
    assert base64.b64decode(image.get("href").removeprefix("data:image/png;base64,")) == original
    assert f"/badges/{award.public_id}.svg" in Client().get(f"/badges/{award.public_id}").content.decode()


def test_a_badge_with_no_image_has_an_svg_download_of_the_generated_one():
    award, _, _ = issued()
    svg = Client().get(f"/badges/{award.public_id}.svg")
    assert svg.status_code == 200 and vc.extract_svg(svg.content) == award.credential
    image = ElementTree.fromstring(svg.content).find("{http://www.w3.org/2000/svg}image")  # noqa: S314
    shown = base64.b64decode(image.get("href").removeprefix("data:image/png;base64,"))
    assert shown == generated_png(str(award.programme.public_id))
    assert vc.verify(vc.extract_svg(svg.content), resolver()).verified


def test_a_programme_svg_image_is_baked_as_svg_and_the_png_is_generated():
    award, _, _ = issued()
    award.programme.image.save("badge.svg", ContentFile(SVG))
    svg = Client().get(f"/badges/{award.public_id}.svg")
    assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml"
    assert vc.extract_svg(svg.content) == award.credential
    png = Client().get(f"/badges/{award.public_id}.png").content
    assert png.startswith(generated_png(str(award.programme.public_id))[:33])
    assert vc.extract_png(png) == award.credential
    assert f"/badges/{award.public_id}.svg" in Client().get(f"/badges/{award.public_id}").content.decode()


def test_the_generated_badge_image_is_a_valid_png():
    data = generated_png("seed")
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert vc.extract_png(vc.bake_png(data, {"id": "x"})) == {"id": "x"}  # chunks and CRCs check out


def test_an_unknown_badge_is_404_everywhere():
    for suffix in ("", ".json", ".png", ".svg"):
        assert Client().get(f"/badges/00000000-0000-4000-8000-000000000000{suffix}").status_code == 404


# --- portal: awarding one --------------------------------------------------------------------------
def test_an_issuer_awards_a_badge_from_the_portal():
    programme, _, _, issuer = awarding_setup()
    client = login(issuer)
    assert client.get(f"/portal/programmes/{programme.public_id}/awards/new/").status_code == 200
    response = client.post(f"/portal/programmes/{programme.public_id}/awards/new/", {
        "recipient_email": "taro@example.org", "recipient_name": "Taro", "evidence_url": "https://example.org/e"})
    award = Award.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/portal/awards/{award.public_id}/"
    page = client.get(f"/portal/programmes/{programme.public_id}/awards/").content.decode()
    assert "Taro" in page


def test_the_portal_form_shows_field_errors_and_writes_nothing():
    programme, _, _, issuer = awarding_setup()
    before = StatusAllocation.objects.count()
    response = login(issuer).post(f"/portal/programmes/{programme.public_id}/awards/new/", {
        "recipient_email": "not-an-address", "evidence_url": "ftp://example.org/e"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Enter a valid e-mail address" in page and "http:// or https://" in page
    assert Award.objects.count() == 0 and StatusAllocation.objects.count() == before


def test_an_editor_cannot_open_the_award_form_and_another_organisation_gets_404():
    programme, _, cast, _ = awarding_setup()
    assert login(cast.editor).get(f"/portal/programmes/{programme.public_id}/awards/new/").status_code == 403
    assert login(cast.editor).post(f"/portal/programmes/{programme.public_id}/awards/new/",
                                   {"recipient_email": "a@example.org"}).status_code == 403
    assert login(cast.editor).get(f"/portal/programmes/{programme.public_id}/awards/").status_code == 200
    stranger = staff(OrganisationFactory(), Role.ISSUER)
    assert login(stranger).get(f"/portal/programmes/{programme.public_id}/awards/").status_code == 404
    assert login(stranger).post(f"/portal/programmes/{programme.public_id}/awards/new/",
                                {"recipient_email": "a@example.org"}).status_code == 404
    assert Award.objects.count() == 0


def test_the_portal_says_why_awarding_is_refused_under_a_suspended_endorsement():
    from endorsement import services

    programme, app, cast, issuer = awarding_setup()
    services.endorsement_suspend(actor=cast.manager, endorsement=app.endorsement, comment="Checking")
    response = login(issuer).post(f"/portal/programmes/{programme.public_id}/awards/new/",
                                  {"recipient_email": "a@example.org"})
    assert response.status_code == 409
    assert "suspended" in response.content.decode()
    assert Award.objects.count() == 0


# --- portal: batches ------------------------------------------------------------------------------
def test_a_csv_batch_with_a_bad_row_is_shown_with_its_line_and_nothing_is_issued():
    programme, _, _, issuer = awarding_setup()
    content = b"email,name\na@example.org,A\nnobody,B\n"
    response = login(issuer).post(f"/portal/programmes/{programme.public_id}/award-batches/new/",
                                  {"file": SimpleUploadedFile("batch.csv", content)})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Line 3, e-mail" in page and "Enter a valid e-mail address" in page
    assert AwardBatch.objects.count() == 0 and Award.objects.count() == 0


def test_a_pasted_batch_is_accepted_and_its_page_shows_progress(django_capture_on_commit_callbacks):
    programme, _, _, issuer = awarding_setup()
    client = login(issuer)
    text = json.dumps([{"email": "a@example.org", "name": "A"}, {"did": "did:example:b", "name": "B"}])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/portal/programmes/{programme.public_id}/award-batches/new/", {"text": text})
    batch = AwardBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/portal/batches/{batch.public_id}/"
    page = client.get(response["Location"]).content.decode()
    assert "2 of 2" in page and "100%" in page
    assert 'http-equiv="refresh"' not in page  # done: no more refreshing


def test_a_running_batch_page_refreshes_itself():
    programme, _, _, issuer = awarding_setup()
    batch = award_batch_create(actor=issuer, programme=programme,
                               rows=rows_from_json([{"email": "a@example.org"}, {"email": "b@example.org"}]))
    page = login(issuer).get(f"/portal/batches/{batch.public_id}/").content.decode()
    assert 'http-equiv="refresh"' in page and "0 of 2" in page
    stranger = staff(OrganisationFactory(), Role.OWNER)
    assert login(stranger).get(f"/portal/batches/{batch.public_id}/").status_code == 404


# --- revoking -------------------------------------------------------------------------------------
def test_revoking_from_the_portal_flips_the_bit_in_the_published_status_list(django_capture_on_commit_callbacks):
    award, _, issuer = issued()
    status_list = status_list_publish(award.status.status_list_id)
    assert vc.StatusList.decode(status_list.encoded_list).get(award.status.index) is False
    client = login(issuer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/portal/awards/{award.public_id}/revoke/",
                               {"reason": "Plagiarism found", "confirm": "yes"})
    assert response.status_code == 302
    award.refresh_from_db()
    assert award.revoked_at is not None and award.revocation_reason == "Plagiarism found"
    status_list = StatusList.objects.get(pk=award.status.status_list_id)
    assert vc.StatusList.decode(status_list.encoded_list).get(award.status.index) is True
    assert vc.verify(status_list.credential, resolver()).verified
    served = Client().get(award.credential["credentialStatus"]["statusListCredential"].removeprefix(
        settings.SITE_URL))
    assert vc.StatusList.decode(json.loads(served.content)["credentialSubject"]["encodedList"]).get(
        award.status.index) is True


def test_revoking_needs_a_reason_and_the_issuer_role_and_happens_once():
    award, cast, issuer = issued()
    from tests.factories import api_client

    response = api_client(issuer).post(f"/api/v1/awards/{award.public_id}/revoke", {"reason": " "}, format="json")
    assert response.status_code == 400 and response.json()["errors"]["reason"]
    response = api_client(cast.editor).post(f"/api/v1/awards/{award.public_id}/revoke", {"reason": "x"},
                                            format="json")
    assert response.status_code == 403
    stranger = staff(OrganisationFactory(), Role.ISSUER)
    response = api_client(stranger).post(f"/api/v1/awards/{award.public_id}/revoke", {"reason": "x"}, format="json")
    assert response.status_code == 404
    award.refresh_from_db()
    assert award.revoked_at is None
    response = api_client(issuer).post(f"/api/v1/awards/{award.public_id}/revoke", {"reason": "Fraud"},
                                       format="json")
    assert response.status_code == 200 and response.json()["standing"] == "revoked"
    again = api_client(issuer).post(f"/api/v1/awards/{award.public_id}/revoke", {"reason": "Again"}, format="json")
    assert again.status_code == 409
    award.refresh_from_db()
    assert award.revocation_reason == "Fraud"


def test_revoking_from_the_portal_asks_for_confirmation_first_and_writes_nothing_until_then():
    award, _cast, issuer = issued()
    client = login(issuer)
    detail = client.get(f"/portal/awards/{award.public_id}/").content.decode()
    assert f'action="/portal/awards/{award.public_id}/revoke/"' in detail
    response = client.post(f"/portal/awards/{award.public_id}/revoke/", {"reason": "Plagiarism found"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Revoke this badge?" in page and "Hanako Yamada" in page and "Plagiarism found" in page
    assert 'name="confirm" value="yes"' in page and 'name="reason" value="Plagiarism found"' in page
    award.refresh_from_db()
    assert award.revoked_at is None and award.revocation_reason == ""
    # Confirmed: revoked, with the reason carried through the confirmation.
    response = client.post(f"/portal/awards/{award.public_id}/revoke/",
                           {"reason": "Plagiarism found", "confirm": "yes"})
    assert response.status_code == 302
    award.refresh_from_db()
    assert award.revoked_at is not None and award.revocation_reason == "Plagiarism found"


def test_revoking_without_a_reason_is_refused_before_any_confirmation_and_writes_nothing():
    award, _cast, issuer = issued()
    response = login(issuer).post(f"/portal/awards/{award.public_id}/revoke/", {"reason": "  "})
    assert response.status_code == 400
    assert "<h1>Revoke this badge?</h1>" not in response.content.decode()  # not the confirmation page
    assert 'id="id_reason_error"' in response.content.decode()
    award.refresh_from_db()
    assert award.revoked_at is None


def test_an_editor_cannot_reach_the_revoke_confirmation(client):
    award, cast, _issuer = issued()
    response = login(cast.editor).post(f"/portal/awards/{award.public_id}/revoke/", {"reason": "x"})
    assert response.status_code == 403
    award.refresh_from_db()
    assert award.revoked_at is None


def test_the_award_list_searches_by_learner_name_and_email():
    award, _cast, issuer = issued()
    programme = award.programme
    other = award_issue(actor=issuer, programme=programme, recipient_email="taro.suzuki@example.com",
                        recipient_name="鈴木 太郎")
    client = login(issuer)
    url = f"/portal/programmes/{programme.public_id}/awards/"

    def shown(q):
        html = client.get(url, {"q": q}).content.decode()
        return {a.public_id for a in (award, other) if f"/portal/awards/{a.public_id}/" in html}, html

    assert shown("")[0] == {award.public_id, other.public_id}
    assert shown("hanako")[0] == {award.public_id}             # part of the name, any case
    assert shown("YAMADA hanako")[0] == {award.public_id}      # every word, in any order
    assert shown("example.com")[0] == {other.public_id}        # part of the e-mail
    assert shown("鈴木")[0] == {other.public_id}
    assert shown("ｔａｒｏ")[0] == {other.public_id}           # full-width letters
    found, html = shown("nobody")
    assert found == set() and "No badge matches" in html
    found, html = shown("suzuki")
    assert "1 badge matches “suzuki”." in html
