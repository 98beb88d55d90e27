"""Membership: anyone applies; managers of the body decide (approve, reject and suspend with a reason);
approval activates the logins made with the application; owners add their staff."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core import mail

from config.errors import InvalidInput, NotPermitted, WrongState
from endorsement.models import AuditEvent
from institutions import services
from institutions.models import MembershipState, Organisation, Role, StaffMember
from tests.factories import Cast, OrganisationFactory, login_request, manager, reviewer, staff

pytestmark = pytest.mark.django_db
M = MembershipState
User = get_user_model()

APPLICATION = {
    "name": "Tohoku Institute of Technology", "name_ja": "東北工業大学", "kind": "university",
    "contact_name": "Ichiro Abe", "contact_email": "office@tohoku-it.example.jp",
    "website": "https://www.tohoku-it.example.jp", "is_certification_body": True, "membership": "active",
}
OWNER = {"username": "tohoku-owner", "email": "owner@tohoku-it.example.jp", "password": "a long pass phrase"}


def apply() -> Organisation:
    return services.organisation_apply(data=APPLICATION, owner=OWNER)


def test_applying_creates_an_applied_organisation_with_an_inactive_owner_login():
    organisation = apply()

    assert organisation.membership == M.APPLIED
    assert organisation.slug == "tohoku-institute-of-technology"
    assert organisation.is_certification_body is False  # not settable from the application form
    owner = User.objects.get(username="tohoku-owner")
    assert owner.is_active is False and owner.check_password(OWNER["password"])
    assert StaffMember.objects.get(user=owner).role == Role.OWNER
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.actor_repr, event.to_state) == (
        "organisation.applied", None, "system", "applied")


def test_applying_with_a_taken_username_writes_nothing():
    taken = Cast().editor
    organisations_before = Organisation.objects.count()
    with pytest.raises(InvalidInput) as refused:
        services.organisation_apply(data=APPLICATION, owner={**OWNER, "username": taken.username})
    assert refused.value.field_errors == {"username": ["That username is taken."]}
    assert Organisation.objects.count() == organisations_before
    assert not AuditEvent.objects.filter(action="organisation.applied").exists()


def test_a_second_application_of_the_same_organisation_is_refused():
    first = services.organisation_apply(data=APPLICATION)
    before = (Organisation.objects.count(), AuditEvent.objects.count())
    for data in [APPLICATION, {**APPLICATION, "name": "TOHOKU INSTITUTE OF TECHNOLOGY", "name_ja": ""},
                 {**APPLICATION, "name": "Another name"}, {**APPLICATION, "name": "東北工業大学", "name_ja": ""}]:
        with pytest.raises(InvalidInput) as refused:
            services.organisation_apply(data=data)
        assert "has already applied" in refused.value.message
        assert set(refused.value.field_errors) <= {"name", "name_ja"}
    assert (Organisation.objects.count(), AuditEvent.objects.count()) == before
    services.organisation_approve(actor=manager(), organisation=first)
    with pytest.raises(InvalidInput) as refused:
        services.organisation_apply(data=APPLICATION)
    assert "already a member" in refused.value.message and "invite you" in refused.value.message


def test_after_a_rejection_the_organisation_may_apply_again_under_a_new_slug():
    first = services.organisation_apply(data=APPLICATION)
    services.organisation_reject(actor=manager(), organisation=first, comment="Incomplete.")
    second = services.organisation_apply(data=APPLICATION)
    assert (first.slug, second.slug) == ("tohoku-institute-of-technology", "tohoku-institute-of-technology-2")


def test_a_japanese_only_name_gets_a_romanised_slug():
    organisation = services.organisation_apply(data={**APPLICATION, "name": "東北工業大学", "name_ja": ""})
    assert organisation.slug == "tohokukogyoudai-gaku"
    other = services.organisation_apply(data={**APPLICATION, "name": "株式会社ABCラーニング", "name_ja": ""})
    assert other.slug == "kabushikigaisha-abc-raaningu"


def test_a_chosen_slug_is_kept_and_a_bad_or_taken_one_is_refused():
    organisation = services.organisation_apply(data={**APPLICATION, "slug": "tohoku-it"})
    assert organisation.slug == "tohoku-it"
    before = (Organisation.objects.count(), AuditEvent.objects.count())
    for slug, words in [("tohoku-it", "taken"), ("Has Spaces", "lower-case"), ("東北", "lower-case")]:
        with pytest.raises(InvalidInput) as refused:
            services.organisation_apply(data={**APPLICATION, "name": "Other College", "name_ja": "", "slug": slug})
        assert words in refused.value.field_errors["slug"][0]
    assert (Organisation.objects.count(), AuditEvent.objects.count()) == before


def test_apply_then_approve_activates_the_owner_login(client):
    organisation = apply()
    assert not client.login(request=login_request(), username=OWNER["username"], password=OWNER["password"])
    body_manager = manager()

    services.organisation_approve(actor=body_manager, organisation=organisation, comment="Welcome.")

    organisation.refresh_from_db()
    assert organisation.membership == M.ACTIVE and organisation.membership_changed_at is not None
    assert User.objects.get(username=OWNER["username"]).is_active
    assert client.login(request=login_request(), username=OWNER["username"], password=OWNER["password"])
    event = AuditEvent.objects.order_by("-seq").first()
    assert (event.action, event.actor, event.from_state, event.to_state, event.comment) == (
        "organisation.approved", body_manager, "applied", "active", "Welcome.")


def test_the_managers_are_told_of_an_application_after_commit(django_capture_on_commit_callbacks):
    body_manager = manager()
    with django_capture_on_commit_callbacks(execute=True):
        apply()
    assert [m.to for m in mail.outbox] == [[body_manager.email]]


@pytest.mark.parametrize("decision", ["reject", "suspend"])
@pytest.mark.parametrize("comment", ["", "   "])
def test_rejecting_and_suspending_need_a_reason(decision, comment):
    organisation = OrganisationFactory(membership=M.APPLIED if decision == "reject" else M.ACTIVE)
    state_before, events_before = organisation.membership, AuditEvent.objects.count()

    with pytest.raises(InvalidInput) as refused:
        getattr(services, f"organisation_{decision}")(actor=manager(), organisation=organisation, comment=comment)

    assert refused.value.field_errors == {"comment": ["This field is required."]}
    organisation.refresh_from_db()
    assert organisation.membership == state_before
    assert AuditEvent.objects.count() == events_before


def test_rejecting_with_a_reason_leaves_the_owner_login_inactive():
    organisation = apply()
    services.organisation_reject(actor=manager(), organisation=organisation, comment="Not an education provider.")
    organisation.refresh_from_db()
    assert organisation.membership == M.REJECTED
    assert not User.objects.get(username=OWNER["username"]).is_active
    assert AuditEvent.objects.order_by("-seq").first().comment == "Not an education provider."


def test_suspending_then_reinstating_a_member():
    organisation = OrganisationFactory()
    body_manager = manager()
    services.organisation_suspend(actor=body_manager, organisation=organisation, comment="Unpaid fee.")
    organisation.refresh_from_db()
    assert organisation.membership == M.SUSPENDED and not organisation.is_active_member
    services.organisation_reinstate(actor=body_manager, organisation=organisation)
    organisation.refresh_from_db()
    assert organisation.membership == M.ACTIVE


def deciders() -> dict[str, object]:
    organisation = OrganisationFactory(membership=M.APPLIED)
    return {
        "its own owner": staff(organisation, Role.OWNER),
        "a reviewer of the body": reviewer(),
        "an editor elsewhere": Cast().editor,
        "anonymous": AnonymousUser(),
        "organisation": organisation,
    }


@pytest.mark.parametrize("who", ["its own owner", "a reviewer of the body", "an editor elsewhere", "anonymous"])
@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_only_managers_decide_on_an_application(who, decision):
    people = deciders()
    organisation = people["organisation"]
    events_before = AuditEvent.objects.count()

    with pytest.raises(NotPermitted):
        getattr(services, f"organisation_{decision}")(actor=people[who], organisation=organisation, comment="Yes.")

    organisation.refresh_from_db()
    assert organisation.membership == M.APPLIED
    assert AuditEvent.objects.count() == events_before


def test_a_superuser_counts_as_a_manager():
    organisation = OrganisationFactory(membership=M.APPLIED)
    admin = User.objects.create_superuser("root", "root@example.org", "a long pass phrase")
    services.organisation_approve(actor=admin, organisation=organisation)
    organisation.refresh_from_db()
    assert organisation.membership == M.ACTIVE


@pytest.mark.parametrize(("state", "decision"), [
    (M.ACTIVE, "approve"), (M.REJECTED, "approve"), (M.ACTIVE, "reject"), (M.APPLIED, "suspend"),
    (M.APPLIED, "reinstate"), (M.WITHDRAWN, "reinstate"),
])
def test_a_decision_from_the_wrong_state_is_refused(state, decision):
    organisation = OrganisationFactory(membership=state)
    with pytest.raises(WrongState):
        getattr(services, f"organisation_{decision}")(actor=manager(), organisation=organisation, comment="Why.")
    organisation.refresh_from_db()
    assert organisation.membership == state


def test_an_owner_withdraws_their_own_organisation():
    organisation = OrganisationFactory()
    services.organisation_withdraw(actor=staff(organisation, Role.OWNER), organisation=organisation)
    organisation.refresh_from_db()
    assert organisation.membership == M.WITHDRAWN


def test_an_editor_may_not_withdraw_the_organisation():
    organisation = OrganisationFactory()
    with pytest.raises(NotPermitted):
        services.organisation_withdraw(actor=staff(organisation, Role.EDITOR), organisation=organisation)
    organisation.refresh_from_db()
    assert organisation.membership == M.ACTIVE


def test_an_owner_adds_an_editor_who_can_log_in(client):
    organisation = OrganisationFactory()
    owner = staff(organisation, Role.OWNER)
    member = services.staff_add(actor=owner, organisation=organisation, username="new-editor",
                                email="editor@example.org", password="a long pass phrase", role="editor")
    assert (member.organisation, member.role, member.user.is_staff) == (organisation, "editor", False)
    assert client.login(request=login_request(), username="new-editor", password="a long pass phrase")


@pytest.mark.parametrize(("role", "body"), [("manager", False), ("reviewer", False), ("owner", True), ("boss", False)])
def test_staff_roles_must_fit_the_organisation(role, body):
    organisation = (Organisation.objects.get(is_certification_body=True) if body else OrganisationFactory())
    with pytest.raises(InvalidInput) as refused:
        services.staff_add(actor=manager(), organisation=organisation, username="someone", email="s@example.org",
                           password="a long pass phrase", role=role)
    assert "role" in refused.value.field_errors
    assert not User.objects.filter(username="someone").exists()


def test_an_editor_may_not_add_staff_and_a_taken_username_is_refused():
    organisation = OrganisationFactory()
    editor = staff(organisation, Role.EDITOR)
    with pytest.raises(NotPermitted):
        services.staff_add(actor=editor, organisation=organisation, username="x", email="x@example.org",
                           password="a long pass phrase", role="editor")
    with pytest.raises(InvalidInput) as refused:
        services.staff_add(actor=manager(), organisation=organisation, username=editor.username,
                           email="y@example.org", password="a long pass phrase", role="editor")
    assert refused.value.field_errors == {"username": ["That username is taken."]}
    assert not User.objects.filter(username="x").exists()
    assert StaffMember.objects.filter(organisation=organisation).count() == 1
