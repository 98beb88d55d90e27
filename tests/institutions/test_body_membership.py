import pytest

from config.errors import WrongState
from endorsement.models import AuditEvent
from institutions import services
from institutions.models import MembershipState, Organisation
from tests.factories import manager

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("action", ["organisation_suspend", "organisation_withdraw"])
def test_the_certification_body_cannot_suspend_or_withdraw_itself(action):
    body = Organisation.objects.get(is_certification_body=True)
    events = AuditEvent.objects.count()
    with pytest.raises(WrongState, match="certification body"):
        getattr(services, action)(actor=manager(), organisation=body, comment="by mistake")
    body.refresh_from_db()
    assert body.membership == MembershipState.ACTIVE
    assert AuditEvent.objects.count() == events
