"""On PostgreSQL, with real concurrent transactions: two managers endorsing the same application at
the same moment grant one endorsement, and writers appending to the audit trail at once keep one
unbroken chain. Each thread has its own database connection (Django's are per thread)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction

from badges.models import Programme
from badges.services import programme_snapshot, programme_update
from config.errors import WrongState
from endorsement import services
from endorsement.audit import AuditAction, audit_record, audit_verify
from endorsement.credentials import endorsement_sign
from endorsement.models import Application, ApplicationState, AuditEvent, AuditHead, Endorsement
from institutions.models import Organisation
from tests.concurrency import run_together
from tests.factories import application_in, judge_all, manager

# Transactions must really commit for locks to matter; serialized_rollback restores the rows the
# migrations made (the certification body, the criteria table) after the table flush.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_two_managers_endorsing_at_once_grant_exactly_one_endorsement(postgres):
    application, cast = application_in(ApplicationState.IN_REVIEW)
    judge_all(application, cast.reviewer)
    services.review_complete(actor=cast.reviewer, review=application.reviews.get())
    second_manager = manager()
    users = get_user_model().objects

    def endorse_as(user_pk: int) -> Any:
        # Fresh objects per thread: nothing shared but the database.
        return services.application_endorse(actor=users.get(pk=user_pk),
                                            application=Application.objects.get(pk=application.pk),
                                            comment=f"Endorsed by {user_pk}.")

    results = run_together(lambda: endorse_as(cast.manager.pk), lambda: endorse_as(second_manager.pk))

    granted = [r for r in results if isinstance(r, Endorsement)]
    refused = [r for r in results if isinstance(r, WrongState)]
    assert (len(granted), len(refused)) == (1, 1), results
    assert "endorsed" in refused[0].message
    assert Endorsement.objects.filter(application=application).count() == 1
    assert AuditEvent.objects.filter(action="application.endorsed").count() == 1
    event = AuditEvent.objects.get(action="application.endorsed")
    assert event.actor_id == granted[0].decided_by_id
    assert event.comment == f"Endorsed by {granted[0].decided_by_id}."
    application.refresh_from_db()
    assert application.state == ApplicationState.ENDORSED
    assert audit_verify().ok


def test_concurrent_writers_keep_one_unbroken_audit_chain(postgres):
    # Start from an empty trail: both writers also race to create the chain's head row.
    assert not AuditEvent.objects.exists() and not AuditHead.objects.exists()
    body = Organisation.objects.get(is_certification_body=True)
    per_writer = 25

    def writer(name: str) -> int:
        for i in range(per_writer):
            with transaction.atomic():
                audit_record(actor=None, action=AuditAction.CONFLICT_DECLARED, subject=body,
                             comment=f"{name} {i}")
        return per_writer

    assert run_together(lambda: writer("a"), lambda: writer("b")) == [per_writer, per_writer]

    events = list(AuditEvent.objects.order_by("seq"))
    assert [e.seq for e in events] == list(range(1, 2 * per_writer + 1))
    assert sorted(e.comment for e in events) == sorted(f"{n} {i}" for n in "ab" for i in range(per_writer))
    report = audit_verify()
    assert report.ok and report.checked == 2 * per_writer
    assert AuditHead.objects.get().seq == 2 * per_writer


def test_concurrent_transitions_of_different_applications_keep_the_chain(postgres):
    first, cast = application_in(ApplicationState.SUBMITTED)
    second, _ = application_in(ApplicationState.SUBMITTED, cast)
    users = get_user_model().objects

    def withdraw(pk: int) -> Any:
        return services.application_withdraw(actor=users.get(pk=cast.editor.pk),
                                             application=Application.objects.get(pk=pk))

    results = run_together(lambda: withdraw(first.pk), lambda: withdraw(second.pk))

    assert all(isinstance(r, Application) for r in results), results
    assert AuditEvent.objects.filter(action="application.withdrawn").count() == 2
    assert audit_verify().ok


def test_two_workers_signing_the_same_endorsement_at_once_sign_it_once(postgres):
    application, _ = application_in(ApplicationState.ENDORSED)  # signed once already, on PostgreSQL
    endorsement = Endorsement.objects.get(application=application)
    assert endorsement.credential
    # Back to "not signed yet", as if the signing task had not run: two workers now take it at once.
    Endorsement.objects.filter(pk=endorsement.pk).update(credential=None, signed_at=None)
    signed_before = AuditEvent.objects.filter(action="endorsement.signed").count()

    results = run_together(lambda: endorsement_sign(endorsement.pk), lambda: endorsement_sign(endorsement.pk))

    assert all(isinstance(r, Endorsement) for r in results), results
    assert results[0].credential == results[1].credential  # the loser waited and returned the winner's
    assert AuditEvent.objects.filter(action="endorsement.signed").count() == signed_before + 1
    assert audit_verify().ok


def test_an_edit_in_flight_while_the_programme_is_submitted_ends_up_in_the_snapshot(postgres):
    application, cast = application_in(ApplicationState.DRAFT)
    users = get_user_model().objects
    edited = threading.Event()

    def edit() -> str:
        # The edit passed its lock check and wrote, but has not committed yet when the submission starts.
        with transaction.atomic():
            programme = Programme.objects.get(pk=application.programme_id)
            programme_update(actor=users.get(pk=cast.editor.pk), programme=programme,
                             data={"assessment_method": "Weighted 20/30/50, supervised final test."})
            edited.set()
            time.sleep(1)
        return "edited"

    def submit() -> Any:
        assert edited.wait(timeout=20)
        return services.application_submit(actor=users.get(pk=cast.editor.pk),
                                           application=Application.objects.get(pk=application.pk))

    results = run_together(edit, submit)

    assert results[0] == "edited" and isinstance(results[1], Application), results
    application.refresh_from_db()
    programme = Programme.objects.get(pk=application.programme_id)
    # The submission waited for the edit, so what reviewers see is what the programme says.
    assert application.snapshot["assessment_method"] == "Weighted 20/30/50, supervised final test."
    assert application.snapshot == programme_snapshot(programme)


def test_allocating_a_status_entry_does_not_wait_for_a_transaction_that_inserted_a_referencing_row(postgres):
    """The deadlock of two batch workers: each inserted awards (a FOR KEY SHARE lock on their
    organisation's row, taken when the deferred foreign-key checks run) and then took the allocators'
    lock on that row. The allocators' lock is FOR NO
    KEY UPDATE, which does not conflict with FOR KEY SHARE: with another transaction holding a freshly
    inserted staff row of the organisation open, allocation goes ahead instead of waiting."""
    from django.db import connection

    from badges.status import status_allocate
    from institutions.models import Role, StaffMember

    organisation = application_in(ApplicationState.DRAFT)[1].organisation
    user = get_user_model().objects.create_user("holder", password="x")
    inserted, release = threading.Event(), threading.Event()

    def hold_a_referencing_insert() -> None:
        with transaction.atomic():
            StaffMember.objects.create(user=user, organisation=organisation, role=Role.EDITOR)
            with connection.cursor() as cursor:  # Django's foreign keys are deferred: check (and lock) now,
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # as a commit does
            inserted.set()
            release.wait(20)
        connection.close()

    holder = threading.Thread(target=hold_a_referencing_insert)
    holder.start()
    try:
        assert inserted.wait(20)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")  # FOR UPDATE would wait here, then fail
            allocation = status_allocate(organisation, "revocation")
        assert allocation.status_list.organisation_id == organisation.pk
    finally:
        release.set()
        holder.join(20)
