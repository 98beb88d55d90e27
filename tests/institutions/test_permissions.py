"""The role questions (institutions.permissions and the role functions in institutions.models) as a
truth table: every kind of user against their own organisation, another one and the body, with
the expected answers written out here, not derived from the roles sets of the code.

Besides the roles a user can be given (owner, editor, issuer of a member; reviewer, manager of the
body) the table has staff rows the services never create but the database allows (a "manager" of a
member organisation, an "owner" of the body): the answers must come from the organisation *and* the
role, not from either alone."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django_fsm import has_transition_perm

from institutions.models import MembershipState, Role, StaffInvitation, StaffMember
from institutions.permissions import (
    can_edit_for,
    can_issue_for,
    is_body_staff,
    is_manager,
    is_member_of,
    may_manage_staff,
    organisation_of,
    staff_of,
)
from tests.factories import OrganisationFactory, UserFactory, body, staff

pytestmark = pytest.mark.django_db

# user: (organisation of, body staff, manager,
#        edit A, edit B, issue A, issue B, member A, member B, member body,
#        manage staff of A, manage staff of B, manage staff of the body)
T, F = True, False
TABLE = {
    "anonymous":        (None,   F, F, F, F, F, F, F, F, F, F, F, F),
    "no staff row":     (None,   F, F, F, F, F, F, F, F, F, F, F, F),
    "superuser":        (None,   F, T, F, F, F, F, F, F, F, F, F, T),
    "owner of A":       ("A",    F, F, T, F, T, F, T, F, F, T, F, F),
    "editor of A":      ("A",    F, F, T, F, F, F, T, F, F, F, F, F),
    "issuer of A":      ("A",    F, F, F, F, T, F, T, F, F, F, F, F),
    "reviewer":         ("body", T, F, F, F, F, F, F, F, T, F, F, F),
    "manager":          ("body", T, T, F, F, F, F, F, F, T, F, F, T),
    "owner of body":    ("body", F, F, F, F, F, F, F, F, T, F, F, F),
    "editor of body":   ("body", F, F, F, F, F, F, F, F, T, F, F, F),
    "manager of A":     ("A",    F, F, F, F, F, F, T, F, F, F, F, F),
    "reviewer of A":    ("A",    F, F, F, F, F, F, T, F, F, F, F, F),
}


@pytest.fixture
def world():
    a, b, the_body = OrganisationFactory(), OrganisationFactory(), body()
    users = {
        "anonymous": AnonymousUser(),
        "no staff row": UserFactory(),
        "superuser": UserFactory(is_staff=True, is_superuser=True),
        "owner of A": staff(a, Role.OWNER),
        "editor of A": staff(a, Role.EDITOR),
        "issuer of A": staff(a, Role.ISSUER),
        "reviewer": staff(the_body, Role.REVIEWER),
        "manager": staff(the_body, Role.MANAGER),
        "owner of body": staff(the_body, Role.OWNER),
        "editor of body": staff(the_body, Role.EDITOR),
        "manager of A": staff(a, Role.MANAGER),
        "reviewer of A": staff(a, Role.REVIEWER),
    }
    return {"A": a, "B": b, "body": the_body}, users


@pytest.mark.parametrize("who", list(TABLE))
def test_the_role_questions(world, who):
    orgs, users = world
    user = users[who]
    a, b, the_body = orgs["A"], orgs["B"], orgs["body"]
    expected_org, *expected = TABLE[who]
    found = organisation_of(user)
    assert (found.pk if found else None) == (orgs[expected_org].pk if expected_org else None)
    assert [
        is_body_staff(user), is_manager(user),
        can_edit_for(user, a), can_edit_for(user, b), can_issue_for(user, a), can_issue_for(user, b),
        is_member_of(user, a), is_member_of(user, b), is_member_of(user, the_body),
        may_manage_staff(user, a), may_manage_staff(user, b), may_manage_staff(user, the_body),
    ] == expected


def test_no_user_at_all_has_no_role():
    # Services are sometimes asked about "no actor" (a system task): every answer is no.
    assert staff_of(None) is None
    assert is_manager(None) is False
    assert is_body_staff(None) is False


def test_the_staff_row_is_looked_up_once_per_user_object(world, django_assert_num_queries):
    _orgs, users = world
    user = users["owner of A"]
    with django_assert_num_queries(1):  # the staff row and its organisation, in one query
        first = staff_of(user)
        assert first.organisation.slug
    with django_assert_num_queries(0):
        assert staff_of(user) is first
        assert is_member_of(user, first.organisation)
    assert first == StaffMember.objects.get(user=user)


# Who may take the transitions whose permission these functions are (django-fsm asks them).
@pytest.mark.parametrize(("who", "approve", "withdraw_a", "withdraw_b"), [
    ("anonymous", F, F, F),
    ("no staff row", F, F, F),
    ("superuser", T, T, T),
    ("owner of A", F, T, F),
    ("editor of A", F, F, F),
    ("manager", T, T, T),
    ("reviewer", F, F, F),
    ("owner of body", F, F, F),
    ("manager of A", F, F, F),
])
def test_who_may_approve_and_withdraw_a_membership(world, who, approve, withdraw_a, withdraw_b):
    orgs, users = world
    user = users[who]
    applied = OrganisationFactory(membership=MembershipState.APPLIED)
    assert has_transition_perm(applied.approve, user) is approve
    assert has_transition_perm(applied.reject, user) is approve
    assert has_transition_perm(orgs["A"].withdraw, user) is withdraw_a
    assert has_transition_perm(orgs["B"].withdraw, user) is withdraw_b


@pytest.mark.parametrize(("who", "may_revoke_a", "may_revoke_body"), [
    ("owner of A", T, F), ("editor of A", F, F), ("manager", F, T), ("reviewer", F, F), ("superuser", F, T),
])
def test_who_may_revoke_a_staff_invitation(world, who, may_revoke_a, may_revoke_body):
    orgs, users = world
    user = users[who]
    to_a = StaffInvitation(organisation=orgs["A"], role=Role.EDITOR)
    to_body = StaffInvitation(organisation=orgs["body"], role=Role.REVIEWER)
    assert has_transition_perm(to_a.revoke, user) is may_revoke_a
    assert has_transition_perm(to_body.revoke, user) is may_revoke_body
