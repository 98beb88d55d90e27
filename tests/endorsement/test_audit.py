"""The audit trail: one event per transition with who, from, to and the comment; a hash chain that
audit_verify and `manage.py verify_audit` check; tampering and deletion by raw SQL are found at the
right link; the model refuses updates and deletes."""

from __future__ import annotations

import itertools

import pytest
from django.core.exceptions import ValidationError
from django.core.management import ManagementUtility
from django.db import connection, transaction

from endorsement import services
from endorsement.audit import GENESIS, AuditAction, audit_for, audit_record, audit_verify, event_hash
from endorsement.models import ApplicationState, AuditEvent, AuditHead
from tests.endorsement.test_audit_hash import independent_hash
from tests.factories import application_in

pytestmark = pytest.mark.django_db
S = ApplicationState


def verify_audit_command(capsys) -> tuple[int, str, str]:
    """Run `manage.py verify_audit` as the shell would (exit status, stdout, stderr), in-process so
    that it reads the test database."""
    code = 0
    try:
        ManagementUtility(["manage.py", "verify_audit"]).execute()
    except SystemExit as exit_:
        code = exit_.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(("state", "action", "comment"), [
    (S.WITHDRAWN, "application.withdrawn", ""),
    (S.CHANGES_REQUESTED, "application.changes_requested", "Please state the assessment weights."),
    (S.REJECTED, "application.rejected", "Out of scope."),
    (S.ENDORSED, "application.endorsed", "Meets every criterion."),
])
def test_a_transition_records_its_actor_states_and_comment(state, action, comment):
    application, cast = application_in(state)
    event = AuditEvent.objects.get(action=action)
    actor = cast.editor if state == S.WITHDRAWN else cast.manager
    assert (event.actor, event.actor_repr) == (actor, str(actor))
    assert event.to_state == state
    assert event.from_state in {S.DRAFT, S.IN_REVIEW}
    assert event.comment == comment
    assert event.subject_type == "application" and event.subject_id == str(application.pk)


def test_the_walk_to_published_writes_one_event_per_step_in_order():
    application, _cast = application_in(S.PUBLISHED)
    trail = [(e.action, e.from_state, e.to_state) for e in audit_for(application).order_by("seq")]
    assert trail == [
        ("application.created", "", "draft"),
        ("application.submitted", "draft", "submitted"),
        ("application.reviewer_assigned", "submitted", "submitted"),
        ("application.review_started", "submitted", "in_review"),
        ("review.completed", "in_review", "in_review"),
        ("application.endorsed", "in_review", "endorsed"),
        ("application.published", "endorsed", "published"),
    ]


def test_resubmission_records_the_comment_and_the_new_digest():
    application, cast = application_in(S.CHANGES_REQUESTED)
    services.application_resubmit(actor=cast.editor, application=application, comment="Weights added.")
    application.refresh_from_db()
    event = audit_for(application).order_by("-seq").first()
    assert (event.action, event.from_state, event.to_state, event.comment, event.actor) == (
        "application.resubmitted", "changes_requested", "submitted", "Weights added.", cast.editor)
    assert event.data["snapshot_sha256"] == application.snapshot_sha256


def test_the_chain_links_each_event_to_the_one_before_and_verifies():
    application_in(S.PUBLISHED)
    events = list(AuditEvent.objects.order_by("seq"))
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[0].prev_hash == GENESIS
    for before, after in itertools.pairwise(events):
        assert after.prev_hash == before.hash
    assert all(independent_hash(e) == e.hash for e in events)
    head = AuditHead.objects.get()
    assert (head.seq, head.hash) == (events[-1].seq, events[-1].hash)
    report = audit_verify()
    assert report.ok and report.checked == len(events)


def test_verify_audit_reports_an_intact_chain_and_exits_zero(capsys):
    application_in(S.ENDORSED)
    count = AuditEvent.objects.count()
    code, out, err = verify_audit_command(capsys)
    assert code == 0
    assert out.strip() == f"audit chain intact: {count} events"
    assert err == ""


def test_an_empty_trail_is_intact(capsys):
    assert audit_verify().ok
    assert verify_audit_command(capsys)[:2] == (0, "audit chain intact: 0 events\n")


def test_the_raw_sql_below_names_the_audit_table():
    assert AuditEvent._meta.db_table == "endorsement_auditevent"


def test_a_comment_changed_by_raw_sql_is_found_at_its_seq(capsys):
    application_in(S.REJECTED)
    target = AuditEvent.objects.get(action="application.rejected")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE endorsement_auditevent SET comment = %s WHERE seq = %s",
                       ["In scope after all.", target.seq])

    report = audit_verify()
    assert report.ok is False
    assert report.broken_seq == target.seq
    assert report.reason == "its content does not match its hash"
    assert report.checked == target.seq - 1

    code, out, err = verify_audit_command(capsys)
    assert code == 1
    assert out == ""
    assert f"audit chain broken at seq {target.seq}: its content does not match its hash" in err


def test_a_rehashed_forgery_breaks_the_link_of_the_next_event():
    application_in(S.REJECTED)
    target = AuditEvent.objects.get(action="application.review_started")
    forged = AuditEvent.objects.get(pk=target.pk)
    forged.comment = "forged"
    new_hash = event_hash(forged)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE endorsement_auditevent SET comment = %s, hash = %s WHERE seq = %s",
                       ["forged", new_hash, target.seq])

    report = audit_verify()
    assert (report.ok, report.broken_seq) == (False, target.seq + 1)
    assert report.reason == "its previous-hash does not match the event before"
    assert report.checked == target.seq


def test_an_event_deleted_by_raw_sql_is_found(capsys):
    application_in(S.REJECTED)
    gone = AuditEvent.objects.get(action="application.review_started")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM endorsement_auditevent WHERE seq = %s", [gone.seq])

    report = audit_verify()
    assert (report.ok, report.broken_seq, report.reason) == (False, gone.seq, f"event #{gone.seq} is missing")
    assert report.checked == gone.seq - 1

    code, _out, err = verify_audit_command(capsys)
    assert code == 1
    assert f"audit chain broken at seq {gone.seq}: event #{gone.seq} is missing" in err


def test_the_last_event_deleted_by_raw_sql_is_found_by_the_head():
    application_in(S.REJECTED)
    last = AuditEvent.objects.order_by("-seq").first()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM endorsement_auditevent WHERE seq = %s", [last.seq])

    report = audit_verify()
    assert (report.ok, report.broken_seq, report.checked) == (False, last.seq, last.seq - 1)
    assert report.reason == "the chain ends before its recorded head (events removed)"


def test_an_event_cannot_be_saved_again_or_deleted():
    _application, _cast = application_in(S.DRAFT)
    event = AuditEvent.objects.get()
    event.comment = "changed"
    with pytest.raises(ValidationError) as saved:
        event.save()
    with pytest.raises(ValidationError) as deleted:
        event.delete()
    assert saved.value.messages == deleted.value.messages == ["Audit events are append-only."]
    stored = AuditEvent.objects.get()
    assert stored.comment == "" and stored.hash == event_hash(stored)
    assert audit_verify().ok


def test_a_new_event_is_saved_with_the_arguments_it_was_given():
    """save() hands its keyword arguments on: asked to update a row that has no primary key yet,
    Django refuses, and nothing is written (were they dropped, the row would be inserted)."""
    _application, _cast = application_in(S.DRAFT)
    first = AuditEvent.objects.get()
    copy = AuditEvent(**{f.attname: getattr(first, f.attname) for f in AuditEvent._meta.concrete_fields
                         if not f.primary_key} | {"seq": first.seq + 1})
    with pytest.raises(ValueError, match="Cannot force an update in save"), transaction.atomic():
        copy.save(force_update=True)
    assert AuditEvent.objects.count() == 1


def test_a_rolled_back_transaction_leaves_neither_an_event_nor_a_moved_head():
    application, cast = application_in(S.DRAFT)
    head_before = AuditHead.objects.get()
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(actor=cast.editor, action=AuditAction.APPLICATION_WITHDRAWN, subject=application)
        raise RuntimeError("rolled back")
    head = AuditHead.objects.get()
    assert (head.seq, head.hash) == (head_before.seq, head_before.hash)
    assert AuditEvent.objects.count() == head_before.seq
    assert audit_verify().ok


@pytest.mark.parametrize(("column", "value"), [("hash", "f" * 64), ("seq", None)])
def test_a_head_row_that_disagrees_with_the_last_event_in_either_column_is_found(column, value):
    application_in(S.REJECTED)
    last = AuditEvent.objects.order_by("-seq").first()
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE endorsement_audithead SET {column} = %s WHERE id = 1",  # noqa: S608
                       [value if value is not None else last.seq + 1])
    report = audit_verify()
    assert (report.ok, report.checked, report.broken_seq) == (False, last.seq, last.seq + 1)
    assert report.reason == "the chain ends before its recorded head (events removed)"


def test_an_actor_that_is_no_saved_user_is_recorded_by_name_and_the_defaults_are_empty():
    """Only a saved user goes in the actor column; anything else (the anonymous user, whose pk is
    None, or a name such as a scheduled task's) is kept as text, and no actor at all is "system"."""
    from django.contrib.auth.models import AnonymousUser

    application, _cast = application_in(S.DRAFT)
    action = next(iter(AuditAction))
    for actor in (AnonymousUser(), "the nightly sweep"):
        event = audit_record(actor=actor, action=action, subject=application)
        assert (event.actor_id, event.actor_repr) == (None, str(actor))
        # Nothing given but the actor, the action and the subject: the states and comment are empty.
        stored = AuditEvent.objects.get(pk=event.pk)
        assert (stored.from_state, stored.to_state, stored.comment, stored.data) == ("", "", "", {})
    event = audit_record(actor=None, action=action, subject=application, to_state=None, comment=None)
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.actor_id, stored.actor_repr, stored.from_state, stored.to_state, stored.comment, stored.data) == (
        None, "system", "", "", "", {})
    assert stored.at.microsecond == 0  # the hash covers the time to the second
    assert audit_verify().ok
