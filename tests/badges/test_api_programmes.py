import base64

import pytest

from badges.models import Programme
from institutions.models import Role
from tests.factories import (
    COMPLETE_PROGRAMME,
    OrganisationFactory,
    ProgrammeFactory,
    api_client,
    application_in,
    manager,
    png_bytes,
    staff,
)

pytestmark = pytest.mark.django_db

SVG_OK = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><circle r="4" cx="5" cy="5"/></svg>'
SVG_SCRIPT = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
SVG_ONLOAD = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="1" height="1"/></svg>'


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture
def organisation():
    return OrganisationFactory()


@pytest.fixture
def editor(organisation):
    return staff(organisation, Role.EDITOR)


def test_an_editor_creates_a_complete_programme(editor, organisation):
    response = api_client(editor).post("/api/v1/programmes", COMPLETE_PROGRAMME, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["organisation"] == organisation.slug
    assert body["missing_fields"] == []
    assert body["locked"] is False
    programme = Programme.objects.get(public_id=body["public_id"])
    assert programme.learning_outcomes == COMPLETE_PROGRAMME["learning_outcomes"]
    assert str(programme.learning_hours) == "30.0"


def test_a_programme_may_be_created_with_a_base64_png(editor):
    payload = {"name_en": "With a picture", "image_base64": b64(png_bytes())}
    response = api_client(editor).post("/api/v1/programmes", payload, format="json")
    assert response.status_code == 201, response.json()
    programme = Programme.objects.get(public_id=response.json()["public_id"])
    assert programme.image.name.endswith(".png")
    assert response.json()["image"].endswith(".png")


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"name_en": "X", "learning_hours": "abc"}, "learning_hours", "A valid number is required."),
        ({"name_en": "X", "learning_hours": "-3"}, "learning_hours", "Learning hours must be more than zero."),
        ({"name_en": "X", "learning_outcomes": "Read data"}, "learning_outcomes",
         "Give a list of non-empty outcome statements."),
        ({"name_en": "X", "alignments": [{"name": "A", "url": "ftp://x"}]}, "alignments",
         "Alignment 1 needs an http(s) URL."),
        ({"name_en": "X", "credential_pattern": "diploma"}, "credential_pattern", '"diploma" is not a valid choice.'),
        ({"description_en": "No name"}, "name_en", "Give the programme a name in English or Japanese."),
        ({"name_en": "X", "image_base64": "%%% not base64"}, "image_base64", "This is not valid base64."),
        ({"name_en": "X", "image_base64": b64(png_bytes(pad_to=1024 * 1024 + 1))}, "image",
         "The image is 1,048,577 bytes; the limit is 1,048,576 bytes."),
        ({"name_en": "X", "image_base64": b64(png_bytes(pad_to=3 * 1024 * 1024))}, "image_base64",
         "the limit is 1,048,576 bytes"),
        ({"name_en": "X", "image_base64": b64(SVG_SCRIPT)}, "image", "<script>"),
        ({"name_en": "X", "image_base64": b64(SVG_ONLOAD)}, "image", "event handler (onload)"),
        ({"name_en": "X", "image_base64": b64(b"GIF89a not accepted")}, "image", "must be a PNG or an SVG"),
    ],
)
def test_bad_programme_input_names_the_field_and_writes_nothing(editor, payload, field, message):
    response = api_client(editor).post("/api/v1/programmes", payload, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert any(message in m for m in errors[field]), errors
    assert not Programme.objects.exists()


def test_malformed_json_creates_no_programme(editor):
    response = api_client(editor).post("/api/v1/programmes", '{"name_en": ', content_type="application/json")
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]
    assert not Programme.objects.exists()


@pytest.mark.parametrize("role", [Role.ISSUER])
def test_an_issuer_may_not_create_programmes(organisation, role):
    response = api_client(staff(organisation, role)).post("/api/v1/programmes", COMPLETE_PROGRAMME, format="json")
    assert response.status_code == 403
    assert "owners and editors" in response.json()["detail"]
    assert not Programme.objects.exists()


def test_a_user_of_no_organisation_may_not_create_programmes():
    from tests.factories import UserFactory

    response = api_client(UserFactory()).post("/api/v1/programmes", COMPLETE_PROGRAMME, format="json")
    assert response.status_code == 403
    assert not Programme.objects.exists()


def test_a_manager_of_the_body_may_not_create_programmes():
    response = api_client(manager()).post("/api/v1/programmes", COMPLETE_PROGRAMME, format="json")
    assert response.status_code == 403
    assert not Programme.objects.exists()


def test_another_organisations_programme_is_not_listed_and_answers_404(editor, organisation):
    mine = ProgrammeFactory(organisation=organisation)
    theirs = ProgrammeFactory()
    client = api_client(editor)
    listed = client.get("/api/v1/programmes").json()
    assert [p["public_id"] for p in listed["results"]] == [str(mine.public_id)]
    assert client.get(f"/api/v1/programmes/{theirs.public_id}").status_code == 404
    response = client.patch(f"/api/v1/programmes/{theirs.public_id}", {"name_en": "Mine now"}, format="json")
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.name_en != "Mine now"
    assert client.post(f"/api/v1/programmes/{theirs.public_id}/image", {"image_base64": b64(png_bytes())},
                       format="json").status_code == 404


def test_an_issuer_sees_but_may_not_edit_the_programmes(organisation):
    programme = ProgrammeFactory(organisation=organisation)
    client = api_client(staff(organisation, Role.ISSUER))
    assert client.get(f"/api/v1/programmes/{programme.public_id}").status_code == 200
    response = client.patch(f"/api/v1/programmes/{programme.public_id}", {"name_en": "Changed"}, format="json")
    assert response.status_code == 403
    programme.refresh_from_db()
    assert programme.name_en != "Changed"


def test_a_partial_update_changes_only_the_fields_sent(editor, organisation):
    programme = ProgrammeFactory(organisation=organisation)
    response = api_client(editor).patch(f"/api/v1/programmes/{programme.public_id}", {"level": "Level 6"},
        format="json")
    assert response.status_code == 200
    programme.refresh_from_db()
    assert programme.level == "Level 6"
    assert programme.name_en.startswith("Data literacy")


def test_a_bad_partial_update_changes_nothing(editor, organisation):
    programme = ProgrammeFactory(organisation=organisation, level="Level 5")
    response = api_client(editor).patch(
        f"/api/v1/programmes/{programme.public_id}", {"level": "Level 6", "learning_outcomes": {"a": 1}}, format="json"
    )
    assert response.status_code == 400
    assert "learning_outcomes" in response.json()["errors"]
    programme.refresh_from_db()
    assert programme.level == "Level 5"


def test_blanking_both_names_is_refused(editor, organisation):
    programme = ProgrammeFactory(organisation=organisation)
    response = api_client(editor).patch(f"/api/v1/programmes/{programme.public_id}", {"name_en": "", "name_ja": ""},
                                        format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["name_en"] == ["Give the programme a name in English or Japanese."]
    programme.refresh_from_db()
    assert programme.name_en


@pytest.mark.parametrize("state", ["submitted", "in_review", "endorsed", "published"])
def test_a_programme_under_review_or_endorsed_cannot_be_changed(state):
    app, cast = application_in(state)
    before = app.programme.name_en
    client = api_client(cast.editor)
    response = client.patch(f"/api/v1/programmes/{app.programme.public_id}", {"name_en": "Changed"}, format="json")
    assert response.status_code == 409
    # Endorsed (published): editable again only through a change application or a renewal.
    expected = "open a change application" if state == "published" else "cannot be changed now"
    assert expected in response.json()["detail"]
    assert client.get(f"/api/v1/programmes/{app.programme.public_id}").json()["locked"] is True
    app.programme.refresh_from_db()
    assert app.programme.name_en == before


def test_a_programme_sent_back_for_changes_can_be_edited():
    app, cast = application_in("changes_requested")
    response = api_client(cast.editor).patch(f"/api/v1/programmes/{app.programme.public_id}",
                                             {"assessment_method": "Weighted 40/60."}, format="json")
    assert response.status_code == 200
    app.programme.refresh_from_db()
    assert app.programme.assessment_method == "Weighted 40/60."


# --- Image upload ---------------------------------------------------------------------------------
def test_an_image_is_uploaded_as_a_multipart_file(editor, organisation):
    from django.core.files.uploadedfile import SimpleUploadedFile

    programme = ProgrammeFactory(organisation=organisation)
    upload = SimpleUploadedFile("badge.svg", SVG_OK, content_type="image/svg+xml")
    response = api_client(editor).post(f"/api/v1/programmes/{programme.public_id}/image", {"image": upload},
                                       format="multipart")
    assert response.status_code == 200, response.json()
    programme.refresh_from_db()
    assert programme.image.name.endswith(".svg")


def test_an_image_is_uploaded_as_base64_json(editor, organisation):
    programme = ProgrammeFactory(organisation=organisation)
    data_uri = "data:image/png;base64," + b64(png_bytes())
    response = api_client(editor).post(f"/api/v1/programmes/{programme.public_id}/image", {"image_base64": data_uri},
                                       format="json")
    assert response.status_code == 200, response.json()
    programme.refresh_from_db()
    assert programme.image.name.endswith(".png")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (png_bytes(pad_to=1024 * 1024 + 1), "the limit is 1,048,576 bytes"),
        (SVG_SCRIPT, "<script>"),
        (SVG_ONLOAD, "event handler (onload)"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "damaged"),
    ],
)
def test_a_bad_multipart_image_is_refused_and_the_programme_keeps_its_image(editor, organisation, content,
                                                                            message):
    from django.core.files.uploadedfile import SimpleUploadedFile

    programme = ProgrammeFactory(organisation=organisation)
    upload = SimpleUploadedFile("badge.png", content, content_type="image/png")
    response = api_client(editor).post(f"/api/v1/programmes/{programme.public_id}/image", {"image": upload},
                                       format="multipart")
    assert response.status_code == 400
    assert message in response.json()["errors"]["image"][0]
    programme.refresh_from_db()
    assert not programme.image


def test_an_image_request_with_neither_file_nor_base64_is_refused(editor, organisation):
    programme = ProgrammeFactory(organisation=organisation)
    response = api_client(editor).post(f"/api/v1/programmes/{programme.public_id}/image", {}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["image"] == ["Send either an image file or image_base64."]


def test_an_image_cannot_be_replaced_while_the_programme_is_under_review():
    app, cast = application_in("submitted")
    response = api_client(cast.editor).post(f"/api/v1/programmes/{app.programme.public_id}/image",
                                            {"image_base64": b64(png_bytes())}, format="json")
    assert response.status_code == 409
    app.programme.refresh_from_db()
    assert not app.programme.image
