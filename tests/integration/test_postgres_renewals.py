"""On PostgreSQL, with real concurrent transactions: two managers endorsing the same renewal grant
one successor; two beat runs at the renewed one's end supersede it once and start the renewal
once; a suspension racing the renewal's endorsement never leaves a renewal scheduled behind a
suspension it was not decided with. Never two active endorsements of one programme."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from config.errors import WrongState
from endorsement import renewals, services
from endorsement.audit import audit_verify
from endorsement.models import Application, ApplicationState, AuditEvent, Endorsement, EndorsementState
from tests.concurrency import run_together
from tests.endorsement.renewal_walk import ends_in, walk
from tests.factories import application_in, manager

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
S, E = ApplicationState, EndorsementState


def renewal_in_review():
    application, cast = application_in(S.PUBLISHED)
    old = ends_in(Endorsement.objects.get(application=application), 30)
    renewal = walk(renewals.endorsement_renew(actor=cast.editor, endorsement=old), cast, to=S.IN_REVIEW)
    return old, renewal, cast


def test_two_managers_endorsing_the_same_renewal_grant_one_successor(postgres):
    old, renewal, cast = renewal_in_review()
    second = manager()
    users = get_user_model().objects

    def endorse_as(user_pk: int) -> Any:
        return services.application_endorse(actor=users.get(pk=user_pk),
                                            application=Application.objects.get(pk=renewal.pk))

    results = run_together(lambda: endorse_as(cast.manager.pk), lambda: endorse_as(second.pk))

    granted = [r for r in results if isinstance(r, Endorsement)]
    refused = [r for r in results if isinstance(r, WrongState)]
    assert (len(granted), len(refused)) == (1, 1), results
    assert list(Endorsement.objects.filter(predecessor=old).values_list("state", flat=True)) == [E.SCHEDULED]
    assert Endorsement.objects.filter(programme=old.programme, state=E.ACTIVE).count() == 1
    assert AuditEvent.objects.filter(action="application.endorsed", subject_id=str(renewal.pk)).count() == 1
    assert audit_verify().ok


def test_two_beat_runs_at_the_end_supersede_once_and_start_once(postgres):
    old, renewal, cast = renewal_in_review()
    services.application_endorse(actor=cast.manager, application=renewal)  # signed after commit (eager)
    services.application_publish(actor=cast.manager, application=Application.objects.get(pk=renewal.pk))
    new = Endorsement.objects.get(application=renewal)
    end = timezone.now() - timedelta(seconds=5)
    Endorsement.objects.filter(pk=old.pk).update(valid_until=end)
    Endorsement.objects.filter(pk=new.pk).update(valid_from=end, published_at=end - timedelta(days=1))

    results = run_together(services.endorsements_expire_due, services.endorsements_expire_due)

    assert results == [0, 0], results  # superseded, not expired; no exception either
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.state, new.state) == (E.SUPERSEDED, E.ACTIVE)
    assert AuditEvent.objects.filter(action="endorsement.superseded").count() == 1
    assert AuditEvent.objects.filter(action="endorsement.started").count() == 1
    assert Endorsement.objects.filter(programme=old.programme, state=E.ACTIVE).count() == 1
    assert audit_verify().ok


def test_a_suspension_racing_the_renewals_endorsement_is_serialised(postgres):
    old, renewal, cast = renewal_in_review()
    second = manager()
    users = get_user_model().objects

    def endorse() -> Any:
        return services.application_endorse(actor=users.get(pk=cast.manager.pk),
                                            application=Application.objects.get(pk=renewal.pk))

    def suspend() -> Any:
        return services.endorsement_suspend(actor=users.get(pk=second.pk),
                                            endorsement=Endorsement.objects.get(pk=old.pk), comment="Complaint.")

    endorsed, suspended = run_together(endorse, suspend)

    assert isinstance(suspended, Endorsement), suspended  # a suspension is never refused by a renewal
    old.refresh_from_db()
    assert old.state == E.SUSPENDED
    if isinstance(endorsed, WrongState):  # the suspension came first: the renewal is not endorsed
        assert "suspended" in endorsed.message
        assert not Endorsement.objects.filter(predecessor=old).exists()
        assert Application.objects.get(pk=renewal.pk).state == S.IN_REVIEW
    else:  # the endorsement came first: the renewal waits while the renewed one is suspended
        assert isinstance(endorsed, Endorsement), endorsed
        assert Endorsement.objects.get(predecessor=old).state == E.SCHEDULED
    assert audit_verify().ok
