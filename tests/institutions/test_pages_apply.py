import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from endorsement.models import AuditEvent
from institutions.models import MembershipState, Organisation, Role, StaffMember
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

VALID = {
    "name": "Kita University",
    "name_ja": "北大学",
    "kind": "university",
    "description": "A university in the north.",
    "website": "https://kita.example.ac.jp",
    "country": "JP",
    "contact_name": "Jiro Sato",
    "contact_email": "office@kita.example.ac.jp",
    "contact_phone": "+81 11 000 0000",
    "username": "kita-owner",
    "email": "sato@kita.example.ac.jp",
    "password1": "Tall trees in winter 42",
    "password2": "Tall trees in winter 42",
}


def counts():
    return Organisation.objects.count(), get_user_model().objects.count(), AuditEvent.objects.count()


def test_the_application_form_asks_for_the_organisation_and_the_first_login(client):
    response = client.get(reverse("apply"))
    html = response.content.decode()
    assert response.status_code == 200
    for name in ["name", "name_ja", "kind", "description", "website", "country", "contact_name", "contact_email",
                 "contact_phone", "username", "email", "password1", "password2"]:
        assert f'name="{name}"' in html, name


def test_a_valid_application_creates_an_applied_organisation_and_an_inactive_owner(client):
    response = client.post(reverse("apply"), VALID)
    assert response.status_code == 302
    assert response["Location"] == reverse("apply_thanks")
    organisation = Organisation.objects.get(name="Kita University")
    assert organisation.membership == MembershipState.APPLIED
    assert organisation.name_ja == "北大学" and organisation.contact_email == "office@kita.example.ac.jp"
    owner = StaffMember.objects.get(organisation=organisation)
    assert owner.role == Role.OWNER and owner.user.username == "kita-owner"
    assert owner.user.email == "sato@kita.example.ac.jp"
    assert not owner.user.is_active and owner.user.check_password(VALID["password1"])
    assert AuditEvent.objects.filter(action="organisation.applied", subject_id=str(organisation.pk)).exists()
    thanks = client.get(response["Location"]).content.decode()
    assert "the body will review your application" in thanks.lower()


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"kind": "castle"}, "kind", "Select a valid choice."),
        ({"contact_email": "not-an-address"}, "contact_email", "Enter a valid email address."),
        ({"website": "javascript:alert(1)"}, "website", "Enter a valid URL."),
        ({"password2": "Something else 42"}, "password2", "The two passwords differ."),
        ({"password1": "123", "password2": "123"}, "password1", "This password is too short."),
        ({"password1": "kita-owner1", "password2": "kita-owner1"}, "password1", "too similar to the username"),
        ({"username": "bad name!"}, "username", "Enter a valid username."),
    ],
)
def test_invalid_input_is_refused_on_its_field_and_writes_nothing(client, change, field, message):
    before = counts()
    response = client.post(reverse("apply"), {**VALID, **change})
    html = response.content.decode()
    assert response.status_code == 400
    assert f'id="id_{field}_error"' in html
    assert message in html
    assert 'aria-invalid="true"' in html
    assert counts() == before


def test_a_taken_username_is_refused_and_no_organisation_is_created(client):
    UserFactory(username="Kita-Owner")
    before = counts()
    response = client.post(reverse("apply"), VALID)
    assert response.status_code == 400
    assert "That username is taken." in response.content.decode()
    assert counts() == before


def test_the_form_asks_for_the_short_name_and_a_japanese_only_name_gets_a_romanised_one(client):
    assert 'name="slug"' in client.get(reverse("apply")).content.decode()
    response = client.post(reverse("apply"), {**VALID, "name": "北海道情報大学", "name_ja": ""})
    assert response.status_code == 302
    assert Organisation.objects.get(name="北海道情報大学").slug == "hokkaidou-jouhou-daigaku"


def test_a_chosen_short_name_is_kept_and_a_refused_form_suggests_one(client):
    refused = client.post(reverse("apply"), {**VALID, "name": "北海道情報大学", "password2": "no"})
    assert refused.status_code == 400 and 'placeholder="hokkaidou-jouhou-daigaku"' in refused.content.decode()
    assert client.post(reverse("apply"), {**VALID, "slug": "kita-u"}).status_code == 302
    assert Organisation.objects.get(name="Kita University").slug == "kita-u"


def test_a_duplicate_application_is_refused_with_a_clear_message(client):
    assert client.post(reverse("apply"), VALID).status_code == 302
    before = counts()
    response = client.post(reverse("apply"), {**VALID, "username": "second-owner", "name": "KITA UNIVERSITY"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "has already applied" in html and 'id="id_name_error"' in html
    assert counts() == before
