"""On PostgreSQL, with real concurrent transactions: the two owners of an organisation stepping down
at the same moment (a demotion or a removal each) cannot leave it without an owner: one of them is
refused by the last-owner rule, which reads the staff under the organisation's row lock."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from config.errors import WrongState
from endorsement.audit import audit_verify
from endorsement.models import AuditEvent
from institutions import staff as services
from institutions.models import Organisation, Role, StaffMember
from tests.concurrency import run_together
from tests.factories import OrganisationFactory, staff

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.mark.parametrize("operation", ["demote", "remove"])
def test_two_owners_stepping_down_at_once_leave_one_owner(postgres, operation):
    organisation = OrganisationFactory()
    first, second = staff(organisation, Role.OWNER), staff(organisation, Role.OWNER)
    users = get_user_model().objects

    def step_down(actor_pk: int) -> Any:
        # Fresh objects per thread: nothing shared but the database.
        actor, org = users.get(pk=actor_pk), Organisation.objects.get(pk=organisation.pk)
        member_id = StaffMember.objects.get(user_id=actor_pk).pk
        if operation == "demote":
            return services.staff_change_role(actor=actor, organisation=org, member_id=member_id, role=Role.EDITOR)
        return services.staff_remove(actor=actor, organisation=org, member_id=member_id)

    results = run_together(lambda: step_down(first.pk), lambda: step_down(second.pk))

    refused = [r for r in results if isinstance(r, Exception)]
    assert len(refused) == 1 and isinstance(refused[0], WrongState), results
    assert "at least one owner" in refused[0].message
    owners = StaffMember.objects.filter(organisation=organisation, role=Role.OWNER, user__is_active=True)
    assert owners.count() == 1
    action = "staff.role_changed" if operation == "demote" else "staff.removed"
    assert AuditEvent.objects.filter(action=action).count() == 1
    assert audit_verify().ok
