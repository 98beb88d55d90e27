"""Helpers for the renewal and revision tests: an endorsement in its renewal window, and a renewal
or change application walked through the real services."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from endorsement import services
from endorsement.credentials import endorsement_sign
from endorsement.models import Application, ApplicationState, AuditEvent, Endorsement
from tests.factories import Cast, judge_all

S = ApplicationState


def ends_in(endorsement: Endorsement, days: float) -> Endorsement:
    """Move the endorsement's end `days` from now (as time passing would)."""
    Endorsement.objects.filter(pk=endorsement.pk).update(valid_until=timezone.now() + timedelta(days=days))
    endorsement.refresh_from_db()
    return endorsement


def walk(application: Application, cast: Cast, to: str = S.PUBLISHED, reviewers: list | None = None) -> Application:
    """Submit, review (every criterion met), endorse, sign and publish, stopping at `to`."""
    reviewers = reviewers or [cast.reviewer]
    app = services.application_submit(actor=cast.editor, application=application)
    if to == S.SUBMITTED:
        return app
    for reviewer in reviewers:
        services.application_assign_reviewer(actor=cast.manager, application=app, reviewer=reviewer)
    app = services.application_start_review(actor=cast.manager, application=app)
    for reviewer in reviewers:
        judge_all(app, reviewer)
        services.review_complete(actor=reviewer, review=app.reviews.get(reviewer=reviewer))
    if to == S.IN_REVIEW:
        return app
    endorsement = services.application_endorse(actor=cast.manager, application=app, comment="Renewed.")
    endorsement_sign(endorsement.pk)
    app.refresh_from_db()
    if to == S.ENDORSED:
        return app
    return services.application_publish(actor=cast.manager, application=app)


def counts() -> tuple[int, int, int]:
    """Applications, endorsements and audit events: what a refused call must leave unchanged."""
    return Application.objects.count(), Endorsement.objects.count(), AuditEvent.objects.count()
