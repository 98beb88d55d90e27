"""POST /api/v1/verify and the /verify page: public, reports in plain words, refuses what holds no
credential with a message by field, never a server error."""

from __future__ import annotations

import copy
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from badges import credentials as vc
from badges.status import status_list_publish
from endorsement.models import ApplicationState
from tests.factories import api_client, application_in, png_bytes

pytestmark = pytest.mark.django_db

API = "/api/v1/verify"


def endorsement_credential():
    app, _ = application_in(ApplicationState.PUBLISHED)
    status_list_publish(app.endorsement.status.status_list_id)
    return app.endorsement.credential


def row_counts():
    from badges.models import Award, EvidenceCheck, StatusList
    from endorsement.models import AuditEvent, Endorsement

    return [m.objects.count() for m in (Award, EvidenceCheck, StatusList, AuditEvent, Endorsement)]


# --- the API ---------------------------------------------------------------------------------------
def test_anyone_may_post_a_credential_as_json_and_get_a_passing_report():
    credential = endorsement_credential()
    response = api_client().post(API, data=json.dumps(credential), content_type="application/json")
    assert response.status_code == 200
    body = response.json()
    assert body["verified"] is True
    assert {c["id"] for c in body["checks"]} >= {"shape", "issuer", "proof", "dates", "status", "registry"}
    assert all(set(c) == {"id", "label", "passed", "message", "informational", "code"} for c in body["checks"])
    assert body["credential"]["id"] == credential["id"]


def test_a_wrapped_credential_with_an_email_is_accepted():
    credential = endorsement_credential()
    response = api_client().post(API, data={"credential": credential, "email": "someone@example.org"},
                                 format="json")
    assert response.status_code == 200
    identity = next(c for c in response.json()["checks"] if c["id"] == "identity")
    assert identity["informational"] is True and identity["passed"] is False


def test_a_tampered_credential_gets_a_failing_report_not_an_error():
    tampered = copy.deepcopy(endorsement_credential())
    tampered["name"] = "Endorsement of something else"
    response = api_client().post(API, data=json.dumps(tampered), content_type="application/ld+json")
    assert response.status_code == 200
    body = response.json()
    assert body["verified"] is False
    proof = next(c for c in body["checks"] if c["id"] == "proof")
    assert proof["passed"] is False and "altered after signing" in proof["message"]


def test_malformed_json_is_a_400_with_a_field_message_and_writes_nothing():
    endorsement_credential()
    before = row_counts()
    response = api_client().post(API, data='{"@context": ["https://www.w3.org/ns/credentials/v2",',
                                 content_type="application/json")
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["errors"]["credential"][0]
    assert row_counts() == before


def test_a_json_array_is_a_400_saying_a_credential_is_an_object():
    response = api_client().post(API, data="[]", content_type="application/json")
    assert response.status_code == 400
    assert "JSON object" in response.json()["errors"]["credential"][0]


def test_a_baked_png_upload_verifies():
    credential = endorsement_credential()
    baked = SimpleUploadedFile("badge.png", vc.bake_png(png_bytes(), credential), content_type="image/png")
    response = api_client().post(API, data={"file": baked}, format="multipart")
    assert response.status_code == 200
    assert response.json()["verified"] is True


def test_a_png_with_no_credential_is_a_400_on_the_file_field():
    before = row_counts()
    upload = SimpleUploadedFile("plain.png", png_bytes(), content_type="image/png")
    response = api_client().post(API, data={"file": upload}, format="multipart")
    assert response.status_code == 400
    assert "no baked credential" in response.json()["errors"]["file"][0]
    assert row_counts() == before


def test_a_file_that_is_not_an_image_is_a_400():
    upload = SimpleUploadedFile("notes.txt", b"just some text", content_type="text/plain")
    response = api_client().post(API, data={"file": upload}, format="multipart")
    assert response.status_code == 400
    assert "neither a PNG nor an SVG" in response.json()["errors"]["file"][0]


def test_an_oversized_upload_is_a_400(settings):
    settings.VERIFY_MAX_UPLOAD_BYTES = 10_000
    upload = SimpleUploadedFile("big.png", png_bytes(pad_to=20_000), content_type="image/png")
    response = api_client().post(API, data={"file": upload}, format="multipart")
    assert response.status_code == 400
    assert "larger than" in response.json()["errors"]["file"][0]
    response = api_client().post(API, data=json.dumps({"pad": "x" * 20_000}), content_type="application/json")
    assert response.status_code == 400
    assert "larger than" in response.json()["errors"]["credential"][0]


def test_an_invalid_email_is_a_400_on_the_email_field():
    credential = endorsement_credential()
    upload = SimpleUploadedFile("badge.png", vc.bake_png(png_bytes(), credential), content_type="image/png")
    response = api_client().post(API, data={"file": upload, "email": "not an address"}, format="multipart")
    assert response.status_code == 400
    assert response.json()["errors"]["email"]


def test_a_logged_in_browser_session_needs_no_csrf_token_for_this_read_only_call():
    credential = endorsement_credential()
    from tests.factories import UserFactory

    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory())
    response = client.post(API, data=json.dumps(credential), content_type="application/json")
    assert response.status_code == 200


def test_the_api_is_throttled_with_the_anon_rate(monkeypatch):
    from django.core.cache import cache
    from rest_framework.throttling import AnonRateThrottle

    # The rates are read into the class when DRF loads; set the "anon" rate low for this test only.
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "2/min"})
    cache.clear()
    codes = [api_client().post(API, data="{}", content_type="application/json").status_code for _ in range(3)]
    cache.clear()
    assert codes == [200, 200, 429]


def test_the_endpoint_is_in_the_openapi_schema():
    response = api_client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    operation = response.json()["paths"]["/api/v1/verify"]["post"]
    assert operation["operationId"] == "verify_credential"
    assert {"application/json", "multipart/form-data"} <= set(operation["requestBody"]["content"])
    assert "200" in operation["responses"] and "400" in operation["responses"]


# --- the page --------------------------------------------------------------------------------------
def test_the_page_shows_a_csrf_protected_form_for_json_a_file_and_an_email():
    response = Client().get(reverse("verify"))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'enctype="multipart/form-data"' in html
    assert "csrfmiddlewaretoken" in html
    assert 'name="credential"' in html and 'name="file"' in html and 'name="email"' in html


def test_posting_without_a_csrf_token_is_refused():
    response = Client(enforce_csrf_checks=True).post(reverse("verify"), {"credential": "{}"})
    assert response.status_code == 403


def test_pasting_our_credential_shows_verified_with_every_check_in_plain_words():
    credential = endorsement_credential()
    response = Client().post(reverse("verify"), {"credential": json.dumps(credential)})
    html = response.content.decode()
    assert response.status_code == 200
    assert "✓</span> Verified" in html
    assert "Signature valid" in html and "Held active by this registry" in html
    assert "Failed" not in html


def test_uploading_a_tampered_badge_shows_not_verified_with_the_reason():
    credential = copy.deepcopy(endorsement_credential())
    credential["name"] = "Something else"
    upload = SimpleUploadedFile("badge.png", vc.bake_png(png_bytes(), credential), content_type="image/png")
    response = Client().post(reverse("verify"), {"file": upload})
    html = response.content.decode()
    assert response.status_code == 200
    assert "✗</span> Not genuine: its content cannot be trusted" in html
    assert "altered after signing" in html


def test_malformed_json_on_the_page_shows_the_error_by_the_field():
    before = row_counts()
    response = Client().post(reverse("verify"), {"credential": "{not json"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "There is a problem" in html and "not valid JSON" in html
    assert 'id="id_credential_error"' in html
    assert "Not verified" not in html
    assert row_counts() == before


def test_an_empty_form_asks_for_a_credential():
    response = Client().post(reverse("verify"), {"credential": "  "})
    assert response.status_code == 400
    assert "Paste a credential" in response.content.decode()


def test_a_png_without_a_credential_on_the_page_says_so():
    upload = SimpleUploadedFile("plain.png", png_bytes(), content_type="image/png")
    response = Client().post(reverse("verify"), {"file": upload})
    assert response.status_code == 400
    assert "no baked credential" in response.content.decode()


# --- What the request guard parsed is what the view reads -----------------------------------------
def test_the_report_is_the_shape_its_serializer_documents():
    """The view answers `report.as_dict()` without running it through ReportOutput: the two are the
    same, field for field, for a passing report, a failing one and one with an e-mail check."""
    from badges.api.verify import ReportOutput
    from badges.verification import credential_verify

    credential = endorsement_credential()
    tampered = copy.deepcopy(credential)
    tampered["name"] = "Endorsement of something else"
    for report in (credential_verify(credential), credential_verify(tampered),
                   credential_verify(credential, email="someone@example.org")):
        answer = report.as_dict()
        assert ReportOutput(answer).data == answer
        assert all(type(c["label"]) is str and type(c["message"]) is str for c in answer["checks"])
    answer = api_client().post(API, data=json.dumps(tampered), content_type="application/json").json()
    assert answer == json.loads(json.dumps(ReportOutput(credential_verify(tampered).as_dict()).data))


def test_a_body_with_a_byte_order_mark_is_read_and_one_in_utf16_is_refused_as_before():
    credential = endorsement_credential()
    text = json.dumps(credential)
    response = api_client().post(API, data=b"\xef\xbb\xbf" + text.encode(), content_type="application/json")
    assert response.status_code == 200 and response.json()["verified"] is True
    before = row_counts()
    response = api_client().post(API, data=text.encode("utf-16"), content_type="application/json")
    assert response.status_code == 400
    assert "not UTF-8" in response.json()["errors"]["credential"][0]
    # Still checked by the guard: UTF-16 JSON nested too deep is refused before the view.
    deep = ("[" * 1000 + "]" * 1000).encode("utf-16")
    response = api_client().post(API, data=deep, content_type="application/json")
    assert response.status_code == 400 and "nested" in json.dumps(response.json())
    assert row_counts() == before


def test_a_json_body_that_is_not_an_object_is_refused_by_the_view_after_the_guard_parsed_it():
    before = row_counts()
    response = api_client().post(API, data='"just a string"', content_type="application/json")
    assert response.status_code == 400
    assert "a string" in response.json()["errors"]["credential"][0]
    assert row_counts() == before
