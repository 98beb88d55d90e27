import pytest

from endorsement.audit import audit_verify
from endorsement.models import ApplicationState, Endorsement
from tests.factories import application_in

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("state", list(ApplicationState.values))
def test_an_application_can_be_walked_to_every_state(state):
    app, _ = application_in(state)
    app.refresh_from_db()
    assert app.state == state
    assert audit_verify().ok


def test_the_walk_to_published_grants_one_active_endorsement():
    app, _ = application_in(ApplicationState.PUBLISHED)
    endorsement = Endorsement.objects.get(application=app)
    assert endorsement.state == "active"
    assert endorsement.published_at is not None
