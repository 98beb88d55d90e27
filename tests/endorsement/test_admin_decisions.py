"""The decision buttons on the application page: each works for a manager in the right state, and is
refused (error message, state unchanged, no audit event) for a reviewer, an editor, or the wrong state."""

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from endorsement import services
from endorsement.models import Application, ApplicationState, AuditEvent, Endorsement, Review
from institutions.models import ConflictOfInterest, Role
from tests.factories import Cast, application_in, judge_all, reviewer, staff

pytestmark = pytest.mark.django_db
S = ApplicationState


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def ready_for_decision(verdict: str = "met"):
    app, cast = application_in(S.IN_REVIEW)
    judge_all(app, cast.reviewer, verdict)
    services.review_complete(actor=cast.reviewer, review=app.reviews.get(reviewer=cast.reviewer))
    return app, cast


def in_state(state: str):
    return ready_for_decision() if state == "ready" else application_in(state)


def press(client, app, button: str, text: str = "", confirmed: bool = True):
    data = {"text": text, **({"confirmed": "yes"} if confirmed else {})}
    return client.post(reverse("admin:endorsement_application_button", args=[app.pk, button]), data)


def page(client, app):
    return client.get(reverse("admin:endorsement_application_change", args=[app.pk]))


# button, state it is pressed in ("ready": in review with a complete, all-met review), text, resulting state
PERMITTED = [
    ("start_review", "submitted_with_reviewer", "", S.IN_REVIEW),
    ("request_changes", S.IN_REVIEW, "State the assessment weights.", S.CHANGES_REQUESTED),
    ("endorse", "ready", "Meets every criterion.", S.ENDORSED),
    ("reject", S.IN_REVIEW, "Out of scope.", S.REJECTED),
    ("publish", S.ENDORSED, "", S.PUBLISHED),
]


def setup_for(state: str):
    if state == "submitted_with_reviewer":
        app, cast = application_in(S.SUBMITTED)
        services.application_assign_reviewer(actor=cast.manager, application=app, reviewer=cast.reviewer)
        return app, cast
    return in_state(state)


@pytest.mark.parametrize(("button", "state", "text", "target"), PERMITTED)
def test_a_manager_takes_each_decision_with_its_button(client, button, state, text, target):
    app, cast = setup_for(state)
    client.force_login(cast.manager)
    assert button in [b["name"] for b in page(client, app).context["object_buttons"]]
    events = AuditEvent.objects.count()

    response = press(client, app, button, text)

    assert response.status_code == 302
    assert response.url == reverse("admin:endorsement_application_change", args=[app.pk])
    assert not [m for m in get_messages(response.wsgi_request) if m.level_tag == "error"]
    app.refresh_from_db()
    assert app.state == target
    assert AuditEvent.objects.count() > events
    assert AuditEvent.objects.order_by("-seq").filter(subject_type="application").first().to_state == target


@pytest.mark.parametrize(("button", "state", "text", "target"), PERMITTED)
def test_a_reviewer_sees_no_decision_button_and_a_posted_one_changes_nothing(client, button, state, text, target):
    app, cast = setup_for(state)
    client.force_login(cast.reviewer)
    assert page(client, app).context["object_buttons"] == []
    before, events = app.state, AuditEvent.objects.count()

    response = press(client, app, button, text)

    assert response.status_code == 302
    assert any("may not" in m for m in messages_of(response))
    app.refresh_from_db()
    assert app.state == before
    assert AuditEvent.objects.count() == events


WRONG_STATE = [
    ("start_review", S.IN_REVIEW, ""),
    ("request_changes", S.SUBMITTED, "Please change."),
    ("endorse", S.SUBMITTED, "Fine."),
    ("reject", S.ENDORSED, "Changed our minds."),
    ("publish", S.IN_REVIEW, ""),
    ("endorse", S.REJECTED, ""),
]


@pytest.mark.parametrize(("button", "state", "text"), WRONG_STATE)
def test_a_decision_in_the_wrong_state_is_refused_and_changes_nothing(client, button, state, text):
    app, cast = application_in(state)
    client.force_login(cast.manager)
    assert button not in [b["name"] for b in page(client, app).context["object_buttons"]]
    events = AuditEvent.objects.count()

    response = press(client, app, button, text)

    assert any("Cannot" in m for m in messages_of(response))
    app.refresh_from_db()
    assert app.state == state
    assert AuditEvent.objects.count() == events


def test_endorse_is_neither_shown_nor_taken_while_a_required_criterion_is_only_partially_met(client):
    app, cast = ready_for_decision(verdict="partially_met")
    client.force_login(cast.manager)
    names = [b["name"] for b in page(client, app).context["object_buttons"]]
    assert "endorse" not in names
    assert {"request_changes", "reject"} <= set(names)
    events = AuditEvent.objects.count()

    response = press(client, app, "endorse", "Looks fine to me.")

    assert any("every required criterion" in m for m in messages_of(response))
    app.refresh_from_db()
    assert app.state == S.IN_REVIEW
    assert not Endorsement.objects.filter(application=app).exists()
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize(("button", "field_message"), [("request_changes", "Say what should change."),
                                                       ("reject", "Give the reason for rejecting.")])
def test_a_decision_that_needs_words_is_refused_without_them(client, button, field_message):
    app, cast = application_in(S.IN_REVIEW)
    client.force_login(cast.manager)
    events = AuditEvent.objects.count()

    response = press(client, app, button, "   ")

    assert any(field_message in m for m in messages_of(response))
    app.refresh_from_db()
    assert app.state == S.IN_REVIEW
    assert app.changes_message == "" and app.decision_comment == ""
    assert AuditEvent.objects.count() == events


def test_endorsing_through_the_admin_grants_one_endorsement_with_the_comment(client):
    app, cast = ready_for_decision()
    client.force_login(cast.manager)

    press(client, app, "endorse", "Exemplary evidence policy.")

    endorsement = Endorsement.objects.get(application=app)
    assert endorsement.comment == "Exemplary evidence policy."
    assert endorsement.decided_by == cast.manager


def test_an_editor_posting_a_decision_is_sent_to_the_login_page_and_nothing_changes(client):
    app, cast = ready_for_decision()
    client.force_login(cast.editor)
    events = AuditEvent.objects.count()

    response = press(client, app, "endorse", "We endorse ourselves.")

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))
    app.refresh_from_db()
    assert app.state == S.IN_REVIEW
    assert AuditEvent.objects.count() == events


def test_a_decision_button_answers_only_to_post(client):
    app, cast = application_in(S.IN_REVIEW)
    client.force_login(cast.manager)

    response = client.get(reverse("admin:endorsement_application_button", args=[app.pk, "reject"]))

    assert response.status_code == 405
    app.refresh_from_db()
    assert app.state == S.IN_REVIEW


def test_an_unknown_button_is_not_found(client):
    app, cast = application_in(S.IN_REVIEW)
    client.force_login(cast.manager)
    assert press(client, app, "approve-everything").status_code == 404


# --- Assigning reviewers ---------------------------------------------------------------------------
def assign(client, app, user_pk):
    return client.post(reverse("admin:endorsement_application_assign", args=[app.pk]), {"reviewer": user_pk})


def test_the_reviewer_choice_leaves_out_the_assigned_the_conflicted_and_the_organisations_own_staff(client):
    cast = Cast()
    app, _ = application_in(S.SUBMITTED, cast)
    free, conflicted = reviewer(), reviewer()
    ConflictOfInterest.objects.create(reviewer=conflicted, organisation=cast.organisation, reason="Former employer")
    services.application_assign_reviewer(actor=cast.manager, application=app, reviewer=cast.reviewer)
    client.force_login(cast.manager)

    candidates = page(client, app).context["assign"]["candidates"]

    assert free in candidates and cast.manager in candidates
    assert conflicted not in candidates
    assert cast.reviewer not in candidates
    assert cast.editor not in candidates


def test_a_manager_assigns_a_reviewer_from_the_page(client):
    app, cast = application_in(S.SUBMITTED)
    client.force_login(cast.manager)

    response = assign(client, app, cast.reviewer.pk)

    assert any("is assigned" in m for m in messages_of(response))
    assert Review.objects.filter(application=app, reviewer=cast.reviewer, assigned_by=cast.manager).exists()
    assert AuditEvent.objects.filter(action="application.reviewer_assigned", subject_id=str(app.pk)).exists()


def test_a_conflicted_reviewer_posted_anyway_is_refused_and_not_assigned(client):
    cast = Cast()
    app, _ = application_in(S.SUBMITTED, cast)
    ConflictOfInterest.objects.create(reviewer=cast.reviewer, organisation=cast.organisation, reason="Alumnus")
    client.force_login(cast.manager)
    events = AuditEvent.objects.count()

    response = assign(client, app, cast.reviewer.pk)

    assert any("declared a conflict of interest" in m for m in messages_of(response))
    assert not Review.objects.filter(application=app).exists()
    assert AuditEvent.objects.count() == events


def test_a_reviewer_cannot_assign_and_sees_no_assignment_form(client):
    app, cast = application_in(S.SUBMITTED)
    other = reviewer()
    client.force_login(cast.reviewer)
    assert page(client, app).context["assign"] is None
    events = AuditEvent.objects.count()

    response = assign(client, app, other.pk)

    assert any("Only managers" in m for m in messages_of(response))
    assert not Review.objects.filter(application=app).exists()
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("raw", ["", "abc", "999999"])
def test_assigning_nobody_or_an_unknown_user_is_refused(client, raw):
    app, cast = application_in(S.SUBMITTED)
    client.force_login(cast.manager)

    response = assign(client, app, raw)

    assert any("Choose a reviewer" in m for m in messages_of(response))
    assert not Review.objects.filter(application=app).exists()


def test_a_member_of_the_applying_organisation_posted_as_reviewer_is_refused(client):
    app, cast = application_in(S.SUBMITTED)
    owner = staff(cast.organisation, Role.OWNER)
    client.force_login(cast.manager)

    response = assign(client, app, owner.pk)

    assert any("not a reviewer or manager" in m for m in messages_of(response))
    assert not Review.objects.filter(application=app).exists()


def test_no_assignment_form_once_the_application_is_decided(client):
    app, cast = application_in(S.REJECTED)
    client.force_login(cast.manager)
    assert page(client, app).context["assign"] is None
    assert Application.objects.get(pk=app.pk).state == S.REJECTED


def test_a_decision_posted_without_the_csrf_token_is_refused():
    app, cast = application_in(S.IN_REVIEW)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(cast.manager)
    events = AuditEvent.objects.count()

    response = press(browser, app, "reject", "Forged.")

    assert response.status_code == 403
    app.refresh_from_db()
    assert app.state == S.IN_REVIEW
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize(("button", "state", "text", "target"), [
    ("endorse", "ready", "Meets every criterion.", S.ENDORSED),
    ("reject", S.IN_REVIEW, "Out of scope.", S.REJECTED),
])
def test_endorse_and_reject_ask_for_confirmation_and_write_nothing_until_confirmed(client, button, state, text,
                                                                                   target):
    app, cast = setup_for(state)
    before = (app.state, AuditEvent.objects.count(), Endorsement.objects.count())
    client.force_login(cast.manager)
    response = press(client, app, button, text, confirmed=False)
    html = response.content.decode()
    assert response.status_code == 200
    assert "are you sure?" in html and text in html
    assert 'name="confirmed" value="yes"' in html and f'name="text" value="{text}"' in html
    app.refresh_from_db()
    assert (app.state, AuditEvent.objects.count(), Endorsement.objects.count()) == before
    response = press(client, app, button, text)  # the confirmation page's form
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.state == target


def test_a_reject_without_a_reason_is_refused_at_once_without_a_confirmation(client):
    app, cast = setup_for(S.IN_REVIEW)
    client.force_login(cast.manager)
    response = press(client, app, "reject", "", confirmed=False)
    assert response.status_code == 302
    assert any("Reason" in m for m in messages_of(response))
    app.refresh_from_db()
    assert app.state == S.IN_REVIEW


def test_a_reviewer_pressing_endorse_is_refused_without_being_asked_to_confirm(client):
    app, cast = ready_for_decision()
    client.force_login(cast.reviewer)
    response = press(client, app, "endorse", "", confirmed=False)
    assert response.status_code == 302  # refused by the service, not a confirmation page
    app.refresh_from_db()
    assert app.state == S.IN_REVIEW and not Endorsement.objects.exists()


def test_the_decision_buttons_come_after_the_rule_result_and_the_others_stay_at_the_top(client):
    app, cast = ready_for_decision()
    client.force_login(cast.manager)
    html = page(client, app).content.decode()
    rule, decision = html.index('id="rule-result"'), html.index('id="decision"')
    assert rule < decision < html.index('id="button-endorse"') and html.index('id="button-reject"') > decision
    top = html.index('id="object-buttons"')
    assert top < rule and html.index('id="button-request_changes"') < rule
    assert "You are asked to confirm on the next page." in html


def test_the_judgement_form_stands_beside_the_frozen_programme(client):
    app, cast = application_in(S.IN_REVIEW)
    client.force_login(cast.reviewer)
    html = page(client, app).content.decode()
    layout = html.index('<div class="review-layout with-review">')
    snapshot, form, trail = html.index('id="snapshot"'), html.index('id="my-review"'), html.index('id="audit-trail"')
    assert layout < snapshot < form < trail
    assert "grid-template-columns: minmax(0, 1fr) minmax(0, 1fr)" in html  # two columns at desktop width
