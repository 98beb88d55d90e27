from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from badges.models import Programme
from endorsement.models import ApplicationState
from institutions.models import Role
from tests.factories import (
    Cast,
    OrganisationFactory,
    ProgrammeFactory,
    application_in,
    manager,
    png_bytes,
    staff,
)

pytestmark = pytest.mark.django_db

FORM = {
    "name_en": "Cloud basics",
    "name_ja": "クラウドの基礎",
    "description_en": "Deploying and running a small web service.",
    "description_ja": "",
    "criteria_narrative": "Deploy a service and pass the quiz.",
    "learning_outcomes": "Deploy a container\n\n  Read a bill  \n",
    "learning_hours": "12.5",
    "level": "Level 4",
    "level_framework": "EQF",
    "assessment_method": "A practical task and a quiz.",
    "assessment_supervised": "on",
    "evidence_policy": "Kept for three years.",
    "credential_pattern": "modular",
    "achievement_type": "MicroCredential",
    "tags": "cloud, ops, cloud",
    "language": "en",
    "validity_months": "24",
    "country": "JP",
    "participation_form": "blended",
    "quality_assurance": "Yearly review.",
    "prerequisites": "",
    "stackability": "Counts towards the IT certificate.",
    "responsible_person": "Dr. Aiko Tanaka",
    "alignments-TOTAL_FORMS": "3", "alignments-INITIAL_FORMS": "0",
    "alignments-0-name": "Cloud skills", "alignments-0-url": "https://example.org/cloud",
    "alignments-0-framework": "SFIA", "alignments-0-code": "CLD1",
    "alignments-1-name": "Ops", "alignments-1-url": "http://example.org/ops",
}


@pytest.fixture
def cast():
    return Cast()


def test_programme_pages_send_an_anonymous_visitor_to_log_in(client):
    programme = ProgrammeFactory()
    for url in (reverse("portal:programme_new"), reverse("portal:programme", args=[programme.public_id]),
                reverse("portal:programme_edit", args=[programme.public_id])):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), url


def test_an_editor_creates_a_programme_from_the_form(client, cast):
    client.force_login(cast.editor)
    assert client.get(reverse("portal:programme_new")).status_code == 200
    response = client.post(reverse("portal:programme_new"), FORM)
    programme = Programme.objects.get(organisation=cast.organisation)
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:programme", args=[programme.public_id])
    assert programme.name_ja == "クラウドの基礎"
    assert programme.learning_outcomes == ["Deploy a container", "Read a bill"]
    assert programme.tags == ["cloud", "ops"]
    assert programme.alignments == [
        {"name": "Cloud skills", "url": "https://example.org/cloud", "framework": "SFIA", "code": "CLD1"},
        {"name": "Ops", "url": "http://example.org/ops"},
    ]
    assert programme.learning_hours == Decimal("12.5") and programme.validity_months == 24
    assert programme.assessment_supervised is True and programme.identity_verified is False
    assert programme.participation_form == "blended"


def test_an_image_upload_is_checked_and_stored(client, cast):
    client.force_login(cast.editor)
    image = SimpleUploadedFile("badge.png", png_bytes(), content_type="image/png")
    client.post(reverse("portal:programme_new"), {**FORM, "image": image})
    programme = Programme.objects.get(organisation=cast.organisation)
    assert programme.image.name.endswith(".png")


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"name_en": "", "name_ja": ""}, "name_en", "Give the programme a name in English or Japanese."),
        ({"learning_hours": "-3"}, "learning_hours", "Learning hours must be more than zero."),
        ({"learning_hours": "many"}, "learning_hours", "Enter a number."),
        ({"alignments-0-url": ""}, "alignments-0-url", "An alignment needs an http:// or https:// URL."),
        ({"alignments-0-url": "ftp://example.org/x"}, "alignments-0-url",
         "An alignment needs an http:// or https:// URL."),
        ({"alignments-1-name": ""}, "alignments-1-name", "An alignment needs a name."),
        ({"language": "xx"}, "language", "Select a valid choice."),
        ({"country": "Japan"}, "country", "Select a valid choice."),
        ({"credential_pattern": "other"}, "credential_pattern", "Select a valid choice."),
        ({"tags": "ok, " + "x" * 51}, "tags", "A tag has at most 50 characters"),
        ({"validity_months": "0"}, "validity_months", "greater than or equal to 1"),
    ],
)
def test_bad_input_is_refused_on_its_field_and_no_programme_is_written(client, cast, change, field, message):
    client.force_login(cast.editor)
    response = client.post(reverse("portal:programme_new"), {**FORM, **change})
    html = response.content.decode()
    assert response.status_code == 400
    assert f'id="id_{field}_error"' in html
    assert message in html
    assert not Programme.objects.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"GIF89a not a png", "The image must be a PNG or an SVG file"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "scripts and embedded content"),
        (png_bytes(pad_to=1024 * 1024 + 10), "the limit is 1,048,576 bytes"),
    ],
)
def test_an_unacceptable_image_is_refused_with_its_reason_and_nothing_is_written(client, cast, content, message):
    client.force_login(cast.editor)
    upload = SimpleUploadedFile("badge.png", content, content_type="image/png")
    response = client.post(reverse("portal:programme_new"), {**FORM, "image": upload})
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="id_image_error"' in html and message in html
    assert not Programme.objects.exists()


def test_an_issuer_may_not_create_or_edit_programmes(client, cast):
    issuer = staff(cast.organisation, Role.ISSUER)
    programme = ProgrammeFactory(organisation=cast.organisation, name_en="Unchanged")
    client.force_login(issuer)
    assert client.get(reverse("portal:programme_new")).status_code == 403
    assert client.post(reverse("portal:programme_new"), FORM).status_code == 403
    edit = reverse("portal:programme_edit", args=[programme.public_id])
    assert client.get(edit).status_code == 403
    assert client.post(edit, FORM).status_code == 403
    assert Programme.objects.count() == 1
    programme.refresh_from_db()
    assert programme.name_en == "Unchanged"
    # ...but may look at them.
    assert client.get(reverse("portal:programme", args=[programme.public_id])).status_code == 200


def test_another_organisations_programme_is_not_found(client, cast):
    theirs = ProgrammeFactory(organisation=OrganisationFactory(), name_en="Theirs")
    client.force_login(cast.editor)
    for name in ("portal:programme", "portal:programme_edit"):
        assert client.get(reverse(name, args=[theirs.public_id])).status_code == 404
    assert client.post(reverse("portal:programme_edit", args=[theirs.public_id]), FORM).status_code == 404
    theirs.refresh_from_db()
    assert theirs.name_en == "Theirs"


def test_body_staff_have_no_programme_pages(client):
    client.force_login(manager())
    assert client.get(reverse("portal:programme_new")).status_code == 404


def test_the_edit_form_is_filled_with_the_programme_and_saves_changes(client, cast):
    programme = ProgrammeFactory(organisation=cast.organisation)
    client.force_login(cast.editor)
    url = reverse("portal:programme_edit", args=[programme.public_id])
    html = client.get(url).content.decode()
    assert "Clean a tabular data set\nChoose an appropriate chart" in html
    assert "data, business" in html
    assert 'name="alignments-0-name" value="Data literacy"' in html
    assert 'name="alignments-0-url" value="https://example.org/frameworks/dl"' in html
    assert 'name="alignments-0-framework" value="DigComp"' in html
    assert 'name="alignments-TOTAL_FORMS" value="2"' in html  # the programme's one, and an empty row
    response = client.post(url, {**FORM, "name_en": "Cloud basics, revised"})
    assert response.status_code == 302
    programme.refresh_from_db()
    assert programme.name_en == "Cloud basics, revised"
    assert programme.learning_outcomes == ["Deploy a container", "Read a bill"]


def test_a_bad_edit_changes_nothing(client, cast):
    programme = ProgrammeFactory(organisation=cast.organisation, name_en="Before")
    client.force_login(cast.editor)
    response = client.post(reverse("portal:programme_edit", args=[programme.public_id]),
                           {**FORM, "name_en": "After", "learning_hours": "0"})
    assert response.status_code == 400
    assert "Learning hours must be more than zero." in response.content.decode()
    programme.refresh_from_db()
    assert programme.name_en == "Before"


@pytest.mark.parametrize("state", [ApplicationState.SUBMITTED, ApplicationState.IN_REVIEW,
                                   ApplicationState.PUBLISHED])
def test_a_programme_under_review_or_endorsed_is_shown_read_only_and_cannot_be_changed(client, cast, state):
    application, _ = application_in(state, cast)
    programme = application.programme
    before = programme.name_en
    client.force_login(cast.editor)
    url = reverse("portal:programme_edit", args=[programme.public_id])
    page = client.get(url)
    html = page.content.decode()
    assert page.status_code == 200
    assert "This programme cannot be changed now." in html
    assert 'disabled' in html and "Save the programme" not in html
    response = client.post(url, {**FORM, "name_en": "Sneaky change"})
    assert response.status_code == 409
    programme.refresh_from_db()
    assert programme.name_en == before


def test_a_programme_with_changes_requested_can_be_edited_again(client, cast):
    application, _ = application_in(ApplicationState.CHANGES_REQUESTED, cast)
    client.force_login(cast.editor)
    url = reverse("portal:programme_edit", args=[application.programme.public_id])
    assert client.post(url, {**FORM, "name_en": "Weights stated"}).status_code == 302
    application.programme.refresh_from_db()
    assert application.programme.name_en == "Weights stated"


def test_the_programme_page_lists_its_applications_and_offers_to_apply(client, cast):
    programme = ProgrammeFactory(organisation=cast.organisation)
    client.force_login(cast.editor)
    url = reverse("portal:programme", args=[programme.public_id])
    html = client.get(url).content.decode()
    assert "Apply for certification" in html
    assert reverse("portal:application_new", args=[programme.public_id]) in html
    application, _ = application_in(ApplicationState.WITHDRAWN, cast, programme=programme)
    open_one, _ = application_in(ApplicationState.DRAFT, cast, programme=programme)
    html = client.get(url).content.decode()
    assert reverse("portal:application", args=[application.pk]) in html
    assert reverse("portal:application", args=[open_one.pk]) in html
    assert "Apply for certification" not in html  # one open application at a time


def test_an_issuer_sees_the_programme_without_edit_or_apply_buttons(client, cast):
    programme = ProgrammeFactory(organisation=cast.organisation)
    client.force_login(staff(cast.organisation, Role.ISSUER))
    html = client.get(reverse("portal:programme", args=[programme.public_id])).content.decode()
    assert programme.name_en in html
    assert "Apply for certification" not in html
    assert reverse("portal:programme_edit", args=[programme.public_id]) not in html


def test_the_programme_page_lists_what_is_still_needed_before_an_application_can_be_submitted(client, cast):
    programme = ProgrammeFactory(organisation=cast.organisation, evidence_policy="", description_en="",
                                 description_ja="")
    client.force_login(cast.editor)
    html = client.get(reverse("portal:programme", args=[programme.public_id])).content.decode()
    assert "Before an application can be submitted, fill in:" in html
    assert "<li>Evidence policy</li>" in html and "<li>Description</li>" in html
    assert "<li>Award criteria</li>" not in html
    complete = ProgrammeFactory(organisation=cast.organisation)
    html = client.get(reverse("portal:programme", args=[complete.public_id])).content.decode()
    assert "Before an application can be submitted" not in html


def test_the_form_marks_the_fields_needed_to_apply(client, cast):
    client.force_login(cast.editor)
    html = client.get(reverse("portal:programme_new")).content.decode()
    assert 'for="id_evidence_policy">Evidence policy<span class="required"> (needed to apply)</span>' in html
    assert 'for="id_stackability">How it stacks into larger awards</label>' in html


def test_an_alignment_row_marked_for_deletion_is_removed_and_the_others_kept(client, cast):
    programme = ProgrammeFactory(organisation=cast.organisation)
    client.force_login(cast.editor)
    url = reverse("portal:programme_edit", args=[programme.public_id])
    response = client.post(url, {**FORM, "alignments-0-DELETE": "on", "alignments-INITIAL_FORMS": "2"})
    assert response.status_code == 302
    programme.refresh_from_db()
    assert programme.alignments == [{"name": "Ops", "url": "http://example.org/ops"}]


def test_each_section_has_its_own_save_button_which_returns_to_that_section(client, cast):
    programme = ProgrammeFactory(organisation=cast.organisation)
    client.force_login(cast.editor)
    url = reverse("portal:programme_edit", args=[programme.public_id])
    html = client.get(url).content.decode()
    for n in range(1, 5):
        assert f'<fieldset id="section-{n}">' in html
    for n in range(1, 4):  # each section saves and stays; the last one saves and shows the programme
        assert f'name="section" value="section-{n}">Save and continue</button>' in html
    assert html.count("Save and continue</button>") == 3 and html.count("Save the programme</button>") == 1
    response = client.post(url, {**FORM, "name_en": "Saved from section 2", "section": "section-2"})
    assert response.status_code == 302 and response["Location"] == url + "#section-2"
    programme.refresh_from_db()
    assert programme.name_en == "Saved from section 2"
    # A new programme saved from a section continues on its edit page at that section.
    response = client.post(reverse("portal:programme_new"), {**FORM, "section": "section-3"})
    created = Programme.objects.get(name_en="Cloud basics")
    assert response["Location"] == reverse("portal:programme_edit", args=[created.public_id]) + "#section-3"


def test_language_and_country_are_selects_named_in_the_readers_language(client, cast):
    client.force_login(cast.editor)
    html = client.get(reverse("portal:programme_new"), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert '<select name="language"' in html and '<select name="country"' in html
    assert '<option value="ja" selected>日本語</option>' in html
    assert '<option value="JP" selected>日本</option>' in html
    assert '<option value="fr">フランス語</option>' in html and '<option value="FR">フランス</option>' in html
    html = client.get(reverse("portal:programme_new"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<option value="DE">Germany</option>' in html and '<option value="de">German</option>' in html


def test_a_stored_free_text_country_stays_selectable(client, cast):
    programme = ProgrammeFactory(organisation=cast.organisation, country="Japan")
    client.force_login(cast.editor)
    html = client.get(reverse("portal:programme_edit", args=[programme.public_id])).content.decode()
    assert '<option value="Japan" selected>Japan</option>' in html
