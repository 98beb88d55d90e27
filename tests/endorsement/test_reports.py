"""Issuance reports: the service, the API and the portal page. Every refusal writes nothing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from config.errors import InvalidInput, NotFound, NotPermitted, WrongState
from endorsement.models import ApplicationState, Endorsement, IssuanceReport
from endorsement.registry import registry_refresh
from endorsement.reports import issuance_report_file
from institutions.models import Role
from tests.factories import Cast, ProgrammeFactory, api_client, application_in, awarding_setup, staff

pytestmark = pytest.mark.django_db
TODAY = date.today()
START = (TODAY - timedelta(days=31)).isoformat()
END = (TODAY - timedelta(days=1)).isoformat()
GOOD = {"period_start": START, "period_end": END, "count": 12, "platform": "Another platform", "note": "Cohort A"}


@pytest.fixture(autouse=True)
def english():
    """The services' messages are compared in English, whatever language an earlier test left active."""
    with translation.override("en"):
        yield


def backdate(endorsement, days: int = 400) -> None:
    """The endorsement began `days` ago (a report covers a period that has ended)."""
    Endorsement.objects.filter(pk=endorsement.pk).update(valid_from=timezone.now() - timedelta(days=days))


@pytest.fixture
def setup():
    programme, application, cast, issuer = awarding_setup()
    backdate(application.endorsement)
    return {"programme": programme, "application": application, "cast": cast, "issuer": issuer}


@pytest.mark.parametrize("role", [Role.OWNER, Role.EDITOR, Role.ISSUER])
def test_owners_editors_and_issuers_file_a_report_under_the_published_endorsement(setup, role):
    user = staff(setup["cast"].organisation, role)
    report = issuance_report_file(actor=user, programme=setup["programme"], **GOOD)
    assert report.count == 12 and report.platform == "Another platform"
    assert report.endorsement == setup["application"].endorsement
    assert report.organisation == setup["cast"].organisation
    assert report.period_start == date.fromisoformat(START) and report.reported_by == user


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"count": -1}, "count", "Enter a whole number, 0 or more."),
        ({"count": "many"}, "count", "Enter a whole number, 0 or more."),
        ({"count": ""}, "count", "This field is required."),
        ({"count": 10_000_001}, "count", "At most 10000000."),
        ({"period_start": "2024-13-01"}, "period_start", "Enter a date as YYYY-MM-DD."),
        ({"period_end": ""}, "period_end", "This field is required."),
        ({"period_start": END, "period_end": START}, "period_end", "The period must end on or after its start."),
        ({"period_start": (TODAY + timedelta(days=2)).isoformat(),
          "period_end": (TODAY + timedelta(days=3)).isoformat()}, "period_start",
         "The period cannot start in the future."),
        ({"period_start": "1990-01-01", "period_end": "1990-12-31"}, "period_start", "The period must overlap"),
        ({"platform": "  "}, "platform", "This field is required."),
        ({"platform": "x" * 201}, "platform", "At most 200 characters."),
        ({"platform": "tab\there"}, "platform", "Remove the control characters."),
        ({"note": "x" * 2001}, "note", "At most 2000 characters."),
    ],
)
def test_bad_input_is_refused_by_field_and_nothing_is_written(setup, changes, field, message):
    with pytest.raises(InvalidInput) as refused:
        issuance_report_file(actor=setup["issuer"], programme=setup["programme"], **{**GOOD, **changes})
    assert any(m.startswith(message) for m in refused.value.field_errors[field])
    assert IssuanceReport.objects.count() == 0


def test_the_same_period_and_platform_cannot_be_reported_twice(setup):
    issuance_report_file(actor=setup["issuer"], programme=setup["programme"], **GOOD)
    with pytest.raises(InvalidInput) as refused:
        issuance_report_file(actor=setup["issuer"], programme=setup["programme"], **{**GOOD, "count": 99})
    assert refused.value.field_errors["platform"] == ["A report for this platform and period was already filed."]
    assert list(IssuanceReport.objects.values_list("count", flat=True)) == [12]
    issuance_report_file(actor=setup["issuer"], programme=setup["programme"], **{**GOOD, "platform": "Other"})
    assert IssuanceReport.objects.count() == 2


def test_another_organisation_cannot_report_for_the_programme_and_managers_may_not_file(setup):
    stranger = staff(Cast().organisation, Role.OWNER)
    with pytest.raises(NotFound):
        issuance_report_file(actor=stranger, programme=setup["programme"], **GOOD)
    with pytest.raises(NotPermitted):
        issuance_report_file(actor=setup["cast"].manager, programme=setup["programme"], **GOOD)
    with pytest.raises(NotFound):
        issuance_report_file(actor=setup["cast"].reviewer, programme=setup["programme"], **GOOD)
    assert IssuanceReport.objects.count() == 0


def test_a_programme_without_a_published_endorsement_has_nothing_to_report_under():
    application, cast = application_in(ApplicationState.ENDORSED)
    with pytest.raises(WrongState):
        issuance_report_file(actor=cast.editor, programme=application.programme, **GOOD)
    assert IssuanceReport.objects.count() == 0


# --- API ------------------------------------------------------------------------------------------
def url(programme) -> str:
    return reverse("programme-issuance-reports", args=[programme.public_id])


def test_the_api_files_a_report_and_lists_it(setup):
    client = api_client(setup["issuer"])
    response = client.post(url(setup["programme"]), GOOD, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["count"] == 12 and body["platform"] == "Another platform"
    assert body["endorsement"] == str(setup["application"].endorsement.public_id)
    listed = client.get(url(setup["programme"])).json()
    assert [r["id"] for r in listed["results"]] == [body["id"]]
    manager_view = api_client(setup["cast"].manager).get(url(setup["programme"]))
    assert manager_view.status_code == 200 and manager_view.json()["count"] == 1


def test_the_api_answers_400_with_field_messages_and_writes_nothing(setup):
    response = api_client(setup["issuer"]).post(url(setup["programme"]), {**GOOD, "count": -5, "platform": ""},
                                                format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors["count"] == ["Enter a whole number, 0 or more."]
    assert errors["platform"] == ["This field is required."]
    assert IssuanceReport.objects.count() == 0


def test_the_api_hides_another_organisations_programme_and_refuses_the_body(setup):
    stranger = api_client(staff(Cast().organisation, Role.EDITOR))
    assert stranger.post(url(setup["programme"]), GOOD, format="json").status_code == 404
    assert stranger.get(url(setup["programme"])).status_code == 404
    assert api_client(setup["cast"].manager).post(url(setup["programme"]), GOOD, format="json").status_code == 403
    assert api_client().post(url(setup["programme"]), GOOD, format="json").status_code in (401, 403)
    assert IssuanceReport.objects.count() == 0


def test_the_api_answers_409_without_a_published_endorsement():
    application, cast = application_in(ApplicationState.IN_REVIEW)
    response = api_client(cast.editor).post(url(application.programme), GOOD, format="json")
    assert response.status_code == 409
    assert IssuanceReport.objects.count() == 0


# --- Portal ---------------------------------------------------------------------------------------
def test_the_portal_page_files_a_report_and_the_registry_shows_it_after_the_refresh(client, setup):
    programme = setup["programme"]
    client.force_login(setup["issuer"])
    page = reverse("portal:programme_reports", args=[programme.public_id])
    assert client.get(page).status_code == 200
    response = client.post(page, GOOD)
    assert response.status_code == 302
    assert "Another platform" in client.get(page).content.decode()
    registry_refresh()
    public = client.get(reverse("registry:programme", args=[programme.public_id])).content.decode()
    assert "Another platform" in public and "Cohort A" in public
    assert "<dd>12</dd>" in public


def test_the_portal_form_shows_each_error_with_400_and_writes_nothing(client, setup):
    client.force_login(setup["issuer"])
    page = reverse("portal:programme_reports", args=[setup["programme"].public_id])
    response = client.post(page, {**GOOD, "period_start": END, "period_end": START, "count": "-3"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "There is a problem" in html
    assert "Ensure this value is greater than or equal to 0." in html
    assert IssuanceReport.objects.count() == 0
    response = client.post(page, {**GOOD, "period_start": END, "period_end": START})
    assert response.status_code == 400
    assert "The period must end on or after its start." in response.content.decode()
    assert IssuanceReport.objects.count() == 0


def test_the_portal_page_of_another_organisations_programme_is_404(client, setup):
    client.force_login(staff(Cast().organisation, Role.OWNER))
    page = reverse("portal:programme_reports", args=[setup["programme"].public_id])
    assert client.get(page).status_code == 404
    assert client.post(page, GOOD).status_code == 404
    assert IssuanceReport.objects.count() == 0


def test_the_portal_overview_lists_figures_and_the_mark_snippets(client, setup):
    from badges.awards import award_issue

    award_issue(actor=setup["issuer"], programme=setup["programme"], recipient_email="l@example.org")
    issuance_report_file(actor=setup["issuer"], programme=setup["programme"], **GOOD)
    ProgrammeFactory(organisation=setup["cast"].organisation, name_en="Not endorsed yet")
    registry_refresh()
    client.force_login(setup["issuer"])
    html = client.get(reverse("portal:reports")).content.decode()
    assert setup["programme"].name in html and "Not endorsed yet" not in html
    assert "<td>1</td>" in html and "<td>12</td>" in html
    assert reverse("registry:mark_svg", args=[setup["programme"].public_id]) in html
    assert "mark.svg?lang=ja" in html
    dashboard = client.get(reverse("portal:dashboard")).content.decode()
    assert reverse("portal:reports") in dashboard
