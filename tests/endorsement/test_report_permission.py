"""Who may correct or withdraw an issuance report (`endorsement.models._reporter`): the member
staff of the report's own organisation, in a member role, and no one else. The expected answers
are a literal table, not computed from the roles the code knows."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser

from endorsement.models import _reporter
from institutions.models import Role
from tests.factories import OrganisationFactory, UserFactory, body, staff

pytestmark = pytest.mark.django_db

TABLE = [
    # (role of the user, in which organisation, may report for the member)
    (Role.OWNER, "own", True),
    (Role.EDITOR, "own", True),
    (Role.ISSUER, "own", True),
    (Role.REVIEWER, "own", False),  # a staff row the database allows but the services never make
    (Role.MANAGER, "own", False),
    (Role.OWNER, "other", False),
    (Role.ISSUER, "other", False),
    (Role.MANAGER, "body", False),
]


@pytest.mark.parametrize(("role", "where", "expected"), TABLE)
def test_only_member_staff_of_the_reports_organisation_may_correct_or_withdraw_it(role, where, expected):
    member, other = OrganisationFactory(), OrganisationFactory()
    user = staff({"own": member, "other": other, "body": body()}[where], role)
    assert _reporter(SimpleNamespace(organisation_id=member.pk), user) is expected


def test_a_user_without_a_staff_row_and_the_anonymous_user_may_not():
    member = OrganisationFactory()
    report = SimpleNamespace(organisation_id=member.pk)
    assert _reporter(report, UserFactory()) is False
    assert _reporter(report, AnonymousUser()) is False
