import pytest
from django.urls import reverse

from endorsement.models import Application, ApplicationState, AuditEvent
from institutions.models import Role
from tests.factories import Cast, ProgrammeFactory, application_in, manager, staff

pytestmark = pytest.mark.django_db
S = ApplicationState


def page(pk):
    return reverse("portal:application", args=[pk])


def action(pk, name):
    return reverse("portal:application_transition", args=[pk, name])


def trail_length(application):
    return AuditEvent.objects.filter(subject_type="application", subject_id=str(application.pk)).count()


@pytest.fixture
def cast():
    return Cast()


# --- Opening an application -----------------------------------------------------------------------
def test_apply_for_certification_opens_a_draft_and_shows_it(client, cast):
    programme = ProgrammeFactory(organisation=cast.organisation)
    client.force_login(cast.editor)
    response = client.post(reverse("portal:application_new", args=[programme.public_id]))
    application = Application.objects.get(programme=programme)
    assert response.status_code == 302 and response["Location"] == page(application.pk)
    assert application.state == S.DRAFT and application.created_by == cast.editor


def test_apply_for_certification_is_refused_while_an_application_is_open(client, cast):
    existing, _ = application_in(S.SUBMITTED, cast)
    client.force_login(cast.editor)
    url = reverse("portal:application_new", args=[existing.programme.public_id])
    response = client.post(url, follow=True)
    assert "This programme already has an open application." in response.content.decode()
    assert Application.objects.filter(programme=existing.programme).count() == 1


def test_apply_for_certification_needs_a_post(client, cast):
    programme = ProgrammeFactory(organisation=cast.organisation)
    client.force_login(cast.editor)
    assert client.get(reverse("portal:application_new", args=[programme.public_id])).status_code == 405
    assert not Application.objects.exists()


def test_an_issuer_may_not_apply_and_another_organisation_gets_404(client, cast):
    programme = ProgrammeFactory(organisation=cast.organisation)
    url = reverse("portal:application_new", args=[programme.public_id])
    client.force_login(staff(cast.organisation, Role.ISSUER))
    assert client.post(url).status_code == 403
    client.force_login(Cast().editor)
    assert client.post(url).status_code == 404
    assert not Application.objects.exists()


# --- The application page -------------------------------------------------------------------------
def test_the_application_pages_send_an_anonymous_visitor_to_log_in(client, cast):
    application, _ = application_in(S.DRAFT, cast)
    for url in (page(application.pk), action(application.pk, "withdraw")):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    response = client.post(action(application.pk, "submit"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    application.refresh_from_db()
    assert application.state == S.DRAFT


def test_a_draft_offers_submit_and_withdraw_and_says_nothing_is_frozen_yet(client, cast):
    application, _ = application_in(S.DRAFT, cast)
    client.force_login(cast.editor)
    html = client.get(page(application.pk)).content.decode()
    assert f'action="{action(application.pk, "submit")}"' in html
    assert f'href="{action(application.pk, "withdraw")}"' in html
    assert action(application.pk, "resubmit") not in html
    assert "Not submitted yet: the programme is frozen when you submit." in html
    assert "Application opened" in html  # the audit trail


def test_submitting_freezes_the_programme_and_the_page_shows_the_snapshot_and_criteria(client, cast):
    application, _ = application_in(S.DRAFT, cast)
    client.force_login(cast.editor)
    response = client.post(action(application.pk, "submit"))
    assert response.status_code == 302 and response["Location"] == page(application.pk)
    application.refresh_from_db()
    assert application.state == S.SUBMITTED and application.snapshot
    html = client.get(page(application.pk)).content.decode()
    assert "The application was submitted." in html
    assert application.snapshot["name_en"] in html
    assert application.snapshot_sha256[:12] in html
    assert f"version {application.criteria_table.version}, pinned on submission" in html
    assert "Learning outcomes" in html and ">LO<" in html
    assert "Draft → Submitted" in html
    assert action(application.pk, "submit") not in html  # nothing to submit twice


def test_submitting_an_incomplete_programme_is_refused_with_the_reason_and_changes_nothing(client, cast):
    programme = ProgrammeFactory(organisation=cast.organisation, evidence_policy="")
    application, _ = application_in(S.DRAFT, cast, programme=programme)
    events = trail_length(application)
    client.force_login(cast.editor)
    # The page explains why there is no submit button...
    html = client.get(page(application.pk)).content.decode()
    assert "The programme is incomplete" in html
    assert f'action="{action(application.pk, "submit")}"' not in html
    # ...and a submission sent anyway is refused, changing nothing.
    response = client.post(action(application.pk, "submit"))
    assert response.status_code == 409
    assert "Nothing was changed:" in response.content.decode()
    assert "The programme is incomplete" in response.content.decode()
    application.refresh_from_db()
    assert application.state == S.DRAFT and application.snapshot is None and application.revision == 0
    assert trail_length(application) == events


def test_a_suspended_member_cannot_submit(client):
    from tests.factories import OrganisationFactory

    cast = Cast(OrganisationFactory(membership="suspended"))
    application, _ = application_in(S.DRAFT, cast)
    client.force_login(cast.editor)
    response = client.post(action(application.pk, "submit"))
    assert response.status_code == 409
    assert "Only an active member organisation may apply." in response.content.decode()
    application.refresh_from_db()
    assert application.state == S.DRAFT


def test_changes_requested_shows_the_message_and_resubmitting_records_the_comment(client, cast):
    application, _ = application_in(S.CHANGES_REQUESTED, cast)
    client.force_login(cast.editor)
    html = client.get(page(application.pk)).content.decode()
    assert "Please state the assessment weights." in html
    assert f'action="{action(application.pk, "resubmit")}"' in html
    response = client.post(action(application.pk, "resubmit"), {"comment": "Weights are now in the criteria."})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.state == S.SUBMITTED and application.revision == 2
    event = AuditEvent.objects.filter(subject_id=str(application.pk), action="application.resubmitted").get()
    assert event.comment == "Weights are now in the criteria."
    assert "Weights are now in the criteria." in client.get(page(application.pk)).content.decode()


def test_withdrawing_asks_for_confirmation_first(client, cast):
    application, _ = application_in(S.SUBMITTED, cast)
    client.force_login(cast.editor)
    confirm = client.get(action(application.pk, "withdraw"))
    assert confirm.status_code == 200
    assert "cannot be reopened" in confirm.content.decode()
    refused = client.post(action(application.pk, "withdraw"), {"comment": "oops"})
    assert refused.status_code == 400
    assert "Tick the box to confirm the withdrawal." in refused.content.decode()
    application.refresh_from_db()
    assert application.state == S.SUBMITTED
    done = client.post(action(application.pk, "withdraw"), {"confirm": "on", "comment": "Course cancelled."})
    assert done.status_code == 302
    application.refresh_from_db()
    assert application.state == S.WITHDRAWN
    assert AuditEvent.objects.get(subject_id=str(application.pk), action="application.withdrawn").comment == (
        "Course cancelled."
    )


def test_a_transition_from_the_wrong_state_is_refused_and_changes_nothing(client, cast):
    application, _ = application_in(S.IN_REVIEW, cast)
    events = trail_length(application)
    client.force_login(cast.editor)
    response = client.post(action(application.pk, "withdraw"), {"confirm": "on"})
    assert response.status_code == 409
    assert "Cannot withdraw" in response.content.decode()
    application.refresh_from_db()
    assert application.state == S.IN_REVIEW and trail_length(application) == events


def test_an_unknown_transition_is_not_found(client, cast):
    application, _ = application_in(S.IN_REVIEW, cast)
    client.force_login(cast.editor)
    assert client.post(action(application.pk, "endorse")).status_code == 404
    application.refresh_from_db()
    assert application.state == S.IN_REVIEW


def test_an_issuer_sees_the_application_without_buttons_and_is_refused_on_post(client, cast):
    application, _ = application_in(S.DRAFT, cast)
    client.force_login(staff(cast.organisation, Role.ISSUER))
    response = client.get(page(application.pk))
    html = response.content.decode()
    assert response.status_code == 200
    assert action(application.pk, "submit") not in html and action(application.pk, "withdraw") not in html
    for name in ("submit", "withdraw"):
        assert client.post(action(application.pk, name), {"confirm": "on"}).status_code == 403
    assert client.get(action(application.pk, "withdraw")).status_code == 403
    application.refresh_from_db()
    assert application.state == S.DRAFT


def test_another_organisations_application_is_not_found(client, cast):
    application, _ = application_in(S.DRAFT, cast)
    client.force_login(Cast().editor)
    assert client.get(page(application.pk)).status_code == 404
    assert client.post(action(application.pk, "withdraw"), {"confirm": "on"}).status_code == 404
    assert client.post(action(application.pk, "submit")).status_code == 404
    application.refresh_from_db()
    assert application.state == S.DRAFT


def test_body_staff_do_not_use_the_portal_application_pages(client, cast):
    application, _ = application_in(S.SUBMITTED, cast)
    client.force_login(manager())
    assert client.get(page(application.pk)).status_code == 404


def test_the_history_names_the_organisations_staff_but_not_the_bodys_reviewers(client, cast):
    application, _ = application_in(S.CHANGES_REQUESTED, cast)
    client.force_login(cast.editor)
    html = client.get(page(application.pk)).content.decode()
    assert cast.editor.username in html
    assert cast.reviewer.username not in html and cast.manager.username not in html
    assert "the certification body" in html
    assert "In review → Changes requested" in html


def test_the_withdrawal_confirmation_is_only_offered_when_withdrawing_is_possible(client, cast):
    application, _ = application_in(S.IN_REVIEW, cast)
    client.force_login(cast.editor)
    response = client.get(action(application.pk, "withdraw"))
    assert response.status_code == 302 and response["Location"] == page(application.pk)
    application.refresh_from_db()
    assert application.state == S.IN_REVIEW


def test_a_too_long_resubmission_comment_is_refused_and_changes_nothing(client, cast):
    application, _ = application_in(S.CHANGES_REQUESTED, cast)
    events = trail_length(application)
    client.force_login(cast.editor)
    response = client.post(action(application.pk, "resubmit"), {"comment": "x" * 5001})
    assert response.status_code == 400
    assert "Ensure this value has at most 5000 characters" in response.content.decode()
    application.refresh_from_db()
    assert application.state == S.CHANGES_REQUESTED and trail_length(application) == events


def test_the_refusal_page_of_an_issuer_says_why(client, cast):
    application, _ = application_in(S.DRAFT, cast)
    client.force_login(staff(cast.organisation, Role.ISSUER))
    response = client.post(action(application.pk, "submit"))
    assert response.status_code == 403
    assert "Only owners and editors of the organisation may do this." in response.content.decode()
