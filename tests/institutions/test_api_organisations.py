import pytest
from django.contrib.auth import get_user_model

from endorsement.audit import audit_for
from endorsement.models import Review
from institutions.models import ConflictOfInterest, MembershipState, Organisation, Role, StaffMember
from tests.factories import OrganisationFactory, UserFactory, api_client, application_in, reviewer, staff

pytestmark = pytest.mark.django_db

APPLICATION = {
    "name": "Kanto Institute of Technology",
    "name_ja": "関東工業大学",
    "kind": "university",
    "website": "https://kit.example.ac.jp",
    "contact_name": "Hanako Yamada",
    "contact_email": "hanako@kit.example.ac.jp",
}


def _members() -> int:
    return Organisation.objects.filter(is_certification_body=False).count()


def test_anyone_may_apply_for_membership_with_a_first_owner():
    payload = {**APPLICATION, "owner": {"username": "hanako", "password": "a long pass phrase 42"}}
    response = api_client().post("/api/v1/organisations/apply", payload, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["membership"] == "applied"
    organisation = Organisation.objects.get(slug=body["slug"])
    owner = StaffMember.objects.get(organisation=organisation)
    assert owner.role == Role.OWNER and owner.user.username == "hanako"
    assert owner.user.is_active is False  # until the body approves
    assert owner.user.email == APPLICATION["contact_email"]
    assert [e.action for e in audit_for(organisation)] == ["organisation.applied"]


def test_an_application_without_an_owner_creates_only_the_organisation():
    response = api_client().post("/api/v1/organisations/apply", APPLICATION, format="json")
    assert response.status_code == 201
    assert not StaffMember.objects.filter(organisation__slug=response.json()["slug"]).exists()


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"name": None}, "name", "This field may not be null."),
        ({"kind": "castle"}, "kind", '"castle" is not a valid choice.'),
        ({"contact_email": "not-an-address"}, "contact_email", "Enter a valid email address."),
        ({"website": "javascript:alert(1)"}, "website", "Enter a valid URL."),
    ],
)
def test_a_bad_membership_application_names_the_field_and_writes_nothing(change, field, message):
    payload = {**APPLICATION, **change}
    response = api_client().post("/api/v1/organisations/apply", payload, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][field] == [message]
    assert _members() == 0


def test_a_membership_application_missing_fields_lists_each_of_them():
    response = api_client().post("/api/v1/organisations/apply", {"name": "Only a name"}, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"kind", "contact_name", "contact_email"}
    assert _members() == 0


def test_a_weak_owner_password_is_refused_and_writes_nothing():
    payload = {**APPLICATION, "owner": {"username": "hanako", "password": "123"}}
    response = api_client().post("/api/v1/organisations/apply", payload, format="json")
    assert response.status_code == 400
    assert "too short" in " ".join(response.json()["errors"]["owner.password"])
    assert _members() == 0
    assert not get_user_model().objects.filter(username="hanako").exists()


def test_a_taken_owner_username_is_refused_and_the_organisation_is_not_kept():
    UserFactory(username="hanako")
    payload = {**APPLICATION, "owner": {"username": "hanako", "password": "a long pass phrase 42"}}
    response = api_client().post("/api/v1/organisations/apply", payload, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["username"] == ["That username is taken."]
    assert _members() == 0


def test_malformed_json_answers_400_and_writes_nothing():
    response = api_client().post("/api/v1/organisations/apply", '{"name": "Broken', content_type="application/json")
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]
    assert _members() == 0


def test_a_logged_in_member_may_apply_too_without_a_csrf_token():
    client = api_client(staff(OrganisationFactory(), Role.EDITOR))
    assert client.post("/api/v1/organisations/apply", APPLICATION, format="json").status_code == 201


# --- Conflicts of interest ------------------------------------------------------------------------
def test_a_reviewer_declares_a_conflict_and_loses_the_open_review():
    app, cast = application_in("in_review")
    response = api_client(cast.reviewer).post(
        "/api/v1/conflicts", {"organisation": app.organisation.slug, "reason": "I taught there."}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["organisation"] == app.organisation.slug
    assert ConflictOfInterest.objects.filter(reviewer=cast.reviewer, organisation=app.organisation).exists()
    assert not Review.objects.filter(application=app, reviewer=cast.reviewer).exists()


def test_member_staff_may_not_declare_conflicts():
    user = staff(OrganisationFactory(), Role.EDITOR)
    other = OrganisationFactory()
    response = api_client(user).post("/api/v1/conflicts", {"organisation": other.slug, "reason": "x"}, format="json")
    assert response.status_code == 403
    assert "Only reviewers and managers" in response.json()["detail"]
    assert not ConflictOfInterest.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [({"organisation": "no-such-org", "reason": "x"}, "organisation"), ({"organisation": "SLUG"}, "reason"),
     ({"organisation": "SLUG", "reason": "   "}, "reason")],
)
def test_a_conflict_with_bad_input_names_the_field_and_writes_nothing(payload, field):
    organisation = OrganisationFactory(membership=MembershipState.ACTIVE)
    payload = {k: (organisation.slug if v == "SLUG" else v) for k, v in payload.items()}
    response = api_client(reviewer()).post("/api/v1/conflicts", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not ConflictOfInterest.objects.exists()


def test_the_api_takes_a_short_name_and_refuses_a_duplicate():
    response = api_client().post("/api/v1/organisations/apply", {**APPLICATION, "slug": "kanto-it"}, format="json")
    assert response.status_code == 201 and response.json()["slug"] == "kanto-it"
    before = _members()
    again = api_client().post("/api/v1/organisations/apply", {**APPLICATION, "name": "Kanto Tech"}, format="json")
    assert again.status_code == 400 and "has already applied" in again.json()["errors"]["name_ja"][0]
    taken = api_client().post("/api/v1/organisations/apply",
                              {**APPLICATION, "name": "Other", "name_ja": "", "slug": "kanto-it"}, format="json")
    assert taken.status_code == 400 and "taken" in taken.json()["errors"]["slug"][0]
    assert _members() == before
    japanese = api_client().post("/api/v1/organisations/apply", {**APPLICATION, "name": "関西工業大学", "name_ja": ""},
                                 format="json")
    assert japanese.status_code == 201 and japanese.json()["slug"].startswith("kansai")
