"""Declaring a conflict of interest in the admin: for oneself only, through `conflict_declare`."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from endorsement import services
from endorsement.models import ApplicationState, AuditEvent, Review
from institutions.models import ConflictOfInterest
from tests.factories import OrganisationFactory, UserFactory, application_in, body, manager, reviewer

pytestmark = pytest.mark.django_db
ADD = "admin:institutions_conflictofinterest_add"


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_a_reviewer_declares_a_conflict_for_themselves(client):
    me, org = reviewer(), OrganisationFactory()
    client.force_login(me)
    assert client.get(reverse(ADD)).status_code == 200

    response = client.post(reverse(ADD), {"organisation": org.pk, "reason": "My spouse teaches there."})

    assert response.status_code == 302
    assert "Conflict of interest declared." in messages_of(response)
    conflict = ConflictOfInterest.objects.get()
    assert (conflict.reviewer, conflict.organisation, conflict.reason) == (me, org, "My spouse teaches there.")
    assert AuditEvent.objects.filter(action="conflict.declared", actor=me).exists()


def test_declaring_withdraws_the_declarers_open_review_of_that_organisation(client):
    app, cast = application_in(ApplicationState.SUBMITTED)
    services.application_assign_reviewer(actor=cast.manager, application=app, reviewer=cast.reviewer)
    client.force_login(cast.reviewer)

    client.post(reverse(ADD), {"organisation": cast.organisation.pk, "reason": "Former employer."})

    assert not Review.objects.filter(application=app, reviewer=cast.reviewer).exists()


def test_a_posted_reviewer_field_is_ignored_the_declaration_is_always_ones_own(client):
    me, colleague, org = manager(), reviewer(), OrganisationFactory()
    client.force_login(me)

    client.post(reverse(ADD), {"organisation": org.pk, "reason": "Board member.", "reviewer": colleague.pk})

    assert list(ConflictOfInterest.objects.values_list("reviewer", flat=True)) == [me.pk]


@pytest.mark.parametrize(("data", "field"), [
    ({"reason": "No organisation."}, "organisation"),
    ({"organisation": "999999", "reason": "Unknown organisation."}, "organisation"),
    ({"organisation": "ORG", "reason": ""}, "reason"),
    ({"organisation": "ORG", "reason": "   "}, "reason"),
])
def test_an_incomplete_declaration_is_refused_and_nothing_is_written(client, data, field):
    org = OrganisationFactory()
    data = {k: (str(org.pk) if v == "ORG" else v) for k, v in data.items()}
    client.force_login(reviewer())

    response = client.post(reverse(ADD), data)

    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert not ConflictOfInterest.objects.exists()
    assert not AuditEvent.objects.exists()


def test_the_body_itself_is_not_offered(client):
    client.force_login(reviewer())
    choices = client.get(reverse(ADD)).context["form"].fields["organisation"].queryset
    assert body() not in choices


def test_a_superuser_outside_the_body_cannot_declare(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert client.get(reverse(ADD)).status_code == 403
    assert not ConflictOfInterest.objects.exists()


def test_declarations_are_listed_and_cannot_be_edited_or_deleted(client):
    someone, org = reviewer(), OrganisationFactory(name="Nagoya College")
    conflict = ConflictOfInterest.objects.create(reviewer=someone, organisation=org, reason="Alumnus.")
    client.force_login(manager())

    listing = client.get(reverse("admin:institutions_conflictofinterest_changelist"))
    change = client.post(reverse("admin:institutions_conflictofinterest_change", args=[conflict.pk]),
                         {"reason": "Rewritten."})
    delete = client.post(reverse("admin:institutions_conflictofinterest_delete", args=[conflict.pk]), {"post": "yes"})

    assert list(listing.context["cl"].result_list) == [conflict]
    assert (change.status_code, delete.status_code) == (403, 403)
    assert ConflictOfInterest.objects.get().reason == "Alumnus."
