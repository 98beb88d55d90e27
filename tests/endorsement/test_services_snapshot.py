"""Submitting freezes the programme: a snapshot with its digest and the pinned criteria table version.
The programme is locked while under review or endorsed; after changes are requested it can be edited
and resubmitting refreezes it; a newer criteria table never changes an application's pin."""

from __future__ import annotations

import pytest

from badges.services import programme_snapshot, programme_update, snapshot_digest
from config.errors import WrongState
from endorsement import services
from endorsement.models import ApplicationState, AuditEvent, CriteriaTable, TableStatus
from tests.factories import application_in, default_table

pytestmark = pytest.mark.django_db
S = ApplicationState


def test_submit_freezes_a_snapshot_of_the_programme_and_pins_the_published_table():
    application, _ = application_in(S.SUBMITTED)
    programme = application.programme

    assert application.snapshot == programme_snapshot(programme)
    assert application.snapshot["name_en"] == programme.name_en
    assert application.snapshot["learning_outcomes"] == programme.learning_outcomes
    assert application.snapshot["learning_hours"] == "30.0"
    assert application.snapshot["organisation"] == {"slug": programme.organisation.slug,
                                                    "name": programme.organisation.name}
    assert application.snapshot_sha256 == snapshot_digest(application.snapshot)
    assert len(application.snapshot_sha256) == 64
    assert (application.criteria_table.code, application.criteria_table.version) == ("default", 1)
    assert application.revision == 1 and application.submitted_at is not None
    event = AuditEvent.objects.get(action="application.submitted")
    assert event.data == {"snapshot_sha256": application.snapshot_sha256, "criteria_table": default_table().pk}


@pytest.mark.parametrize("state", [S.SUBMITTED, S.IN_REVIEW, S.ENDORSED, S.PUBLISHED])
def test_editing_the_programme_is_refused_while_it_is_under_review_or_endorsed(state):
    application, cast = application_in(state)
    programme = application.programme
    before = programme_snapshot(programme)

    # Endorsed (published): editable again only through a change application or a renewal.
    expected = "open a change application" if state == S.PUBLISHED else "cannot be changed now"
    with pytest.raises(WrongState, match=expected):
        programme_update(actor=cast.editor, programme=programme, data={"name_en": "Something else"})

    programme.refresh_from_db()
    assert programme_snapshot(programme) == before


@pytest.mark.parametrize("state", [S.DRAFT, S.CHANGES_REQUESTED, S.REJECTED, S.WITHDRAWN])
def test_the_programme_can_be_edited_when_no_application_holds_it_frozen(state):
    application, cast = application_in(state)
    programme_update(actor=cast.editor, programme=application.programme, data={"learning_hours": "42.0"})
    application.programme.refresh_from_db()
    assert str(application.programme.learning_hours) == "42.0"


def test_resubmit_refreezes_a_new_snapshot_with_a_new_digest_and_keeps_the_old_pin():
    application, cast = application_in(S.CHANGES_REQUESTED)
    first_snapshot, first_sha = application.snapshot, application.snapshot_sha256

    programme_update(actor=cast.editor, programme=application.programme,
                     data={"assessment_method": "Three assignments weighted 20/30/50 and a supervised test."})
    services.application_resubmit(actor=cast.editor, application=application, comment="Weights stated.")

    application.refresh_from_db()
    assert application.state == S.SUBMITTED
    assert application.revision == 2
    assert application.snapshot["assessment_method"] == "Three assignments weighted 20/30/50 and a supervised test."
    assert first_snapshot["assessment_method"] != application.snapshot["assessment_method"]
    assert application.snapshot_sha256 == snapshot_digest(application.snapshot) != first_sha
    assert application.criteria_table == default_table()
    event = AuditEvent.objects.get(action="application.resubmitted")
    assert event.data == {"snapshot_sha256": application.snapshot_sha256}
    assert event.comment == "Weights stated."
    with pytest.raises(WrongState):
        programme_update(actor=cast.editor, programme=application.programme, data={"name_en": "Locked again"})


def test_a_snapshot_stays_as_frozen_when_the_live_programme_changes_later():
    application, cast = application_in(S.CHANGES_REQUESTED)
    frozen = dict(application.snapshot)
    programme_update(actor=cast.editor, programme=application.programme, data={"name_en": "Renamed"})
    application.refresh_from_db()
    assert application.snapshot == frozen
    assert application.snapshot_sha256 == snapshot_digest(frozen)


def publish_new_version(manager) -> CriteriaTable:
    draft = services.criteria_table_new_version(actor=manager, table=default_table())
    draft.criteria.filter(code="PATHWAY").update(required=True)
    return services.criteria_table_publish(actor=manager, table=draft)


def test_a_newer_criteria_table_does_not_change_the_pinned_one():
    application, cast = application_in(S.IN_REVIEW)
    old = application.criteria_table

    new = publish_new_version(cast.manager)

    application.refresh_from_db()
    old.refresh_from_db()
    assert new.version == 2 and new.status == TableStatus.PUBLISHED
    assert old.status == TableStatus.RETIRED
    assert application.criteria_table == old
    assert application.criteria_table.criteria.get(code="PATHWAY").required is False
    # The old pin still decides: the optional PATHWAY of v1 may be not applicable.
    review = application.reviews.get()
    services.review_record_judgements(actor=cast.reviewer, review=review, judgements=[
        {"criterion": c.code, "verdict": "not_applicable" if c.code == "PATHWAY" else "met"}
        for c in old.criteria.all()
    ])
    services.review_complete(actor=cast.reviewer, review=review)
    services.application_endorse(actor=cast.manager, application=application)
    application.refresh_from_db()
    assert application.state == S.ENDORSED


def test_resubmitting_after_a_new_table_keeps_the_pin_while_a_new_application_gets_the_new_table():
    application, cast = application_in(S.CHANGES_REQUESTED)
    new = publish_new_version(cast.manager)

    services.application_resubmit(actor=cast.editor, application=application)
    other, _ = application_in(S.SUBMITTED, cast)

    application.refresh_from_db()
    assert application.criteria_table.version == 1
    assert other.criteria_table == new
