"""The assigned reviewer's "My review" form on the application page: one form for every criterion,
then completion. Anyone else posting it, or posting bad verdicts, changes nothing."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from endorsement import services
from endorsement.models import ApplicationState, AuditEvent, Judgement, Review
from tests.factories import application_in, judge_all, reviewer

pytestmark = pytest.mark.django_db
S = ApplicationState


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def page(client, app):
    return client.get(reverse("admin:endorsement_application_change", args=[app.pk]))


def save(client, app, data):
    return client.post(reverse("admin:endorsement_application_review", args=[app.pk]), data)


def finish(client, app, summary=""):
    return client.post(reverse("admin:endorsement_application_review_complete", args=[app.pk]), {"summary": summary})


def every_criterion(app, verdict="met", **overrides):
    data = {}
    for criterion in app.criteria_table.criteria.all():
        data[f"verdict_{criterion.pk}"] = overrides.get(criterion.code, verdict)
        data[f"comment_{criterion.pk}"] = f"{criterion.code}: {verdict}"
    return data


@pytest.fixture
def in_review():
    return application_in(S.IN_REVIEW)


def test_the_assigned_reviewer_gets_a_form_with_one_row_per_criterion(client, in_review):
    app, cast = in_review
    client.force_login(cast.reviewer)

    form = page(client, app).context["my_review"]

    assert form["editable"] is True
    codes = list(app.criteria_table.criteria.values_list("code", flat=True))
    assert [r["criterion"].code for r in form["rows"]] == codes


def test_not_applicable_is_offered_only_for_optional_criteria(client, in_review):
    app, cast = in_review
    client.force_login(cast.reviewer)

    rows = page(client, app).context["my_review"]["rows"]

    for row in rows:
        offered = [value for value, _label in row["choices"]]
        assert ("not_applicable" in offered) is (not row["criterion"].required), row["criterion"].code
        assert {"met", "partially_met", "not_met"} <= set(offered)


def test_the_reviewer_records_a_verdict_and_comment_for_every_criterion_in_one_post(client, in_review):
    app, cast = in_review
    client.force_login(cast.reviewer)

    response = save(client, app, every_criterion(app, LEVEL="not_applicable", QA="partially_met"))

    assert "Your judgements are recorded." in messages_of(response)
    review = app.reviews.get(reviewer=cast.reviewer)
    verdicts = dict(review.judgements.values_list("criterion__code", "verdict"))
    assert len(verdicts) == app.criteria_table.criteria.count()
    assert verdicts["LEVEL"] == "not_applicable" and verdicts["QA"] == "partially_met" and verdicts["LO"] == "met"
    assert review.judgements.get(criterion__code="LO").comment == "LO: met"
    assert page(client, app).context["my_review"]["missing"] == []


def test_saving_again_replaces_earlier_judgements_and_keeps_the_unchanged_ones(client, in_review):
    app, cast = in_review
    client.force_login(cast.reviewer)
    save(client, app, every_criterion(app))
    lo = app.criteria_table.criteria.get(code="LO")

    save(client, app, {f"verdict_{lo.pk}": "not_met", f"comment_{lo.pk}": "Outcomes are topics, not abilities."})

    review = app.reviews.get(reviewer=cast.reviewer)
    assert review.judgements.get(criterion=lo).verdict == "not_met"
    assert review.judgements.count() == app.criteria_table.criteria.count()


def test_not_applicable_on_a_required_criterion_is_refused_and_nothing_is_recorded(client, in_review):
    app, cast = in_review
    client.force_login(cast.reviewer)

    response = save(client, app, every_criterion(app, LO="not_applicable"))

    assert any("LO is required; it cannot be judged not applicable." in m for m in messages_of(response))
    assert not Judgement.objects.exists()


@pytest.mark.parametrize("verdict", ["excellent", "MET", "1"])
def test_an_unknown_verdict_is_refused_and_nothing_is_recorded(client, in_review, verdict):
    app, cast = in_review
    client.force_login(cast.reviewer)

    response = save(client, app, every_criterion(app, TIME=verdict))

    assert any("Some judgements are invalid; none was recorded." in m for m in messages_of(response))
    assert not Judgement.objects.exists()


def test_a_comment_without_a_verdict_is_refused_rather_than_dropped(client, in_review):
    app, cast = in_review
    client.force_login(cast.reviewer)
    data = every_criterion(app)
    qa = app.criteria_table.criteria.get(code="QA")
    data[f"verdict_{qa.pk}"] = ""

    response = save(client, app, data)

    assert any("Choose a verdict for QA" in m for m in messages_of(response))
    assert not Judgement.objects.exists()


def test_an_empty_form_is_refused(client, in_review):
    app, cast = in_review
    client.force_login(cast.reviewer)

    response = save(client, app, {})

    assert any("at least one criterion" in m for m in messages_of(response))
    assert not Judgement.objects.exists()


def test_completing_before_every_criterion_is_judged_is_refused(client, in_review):
    app, cast = in_review
    client.force_login(cast.reviewer)
    lo = app.criteria_table.criteria.get(code="LO")
    save(client, app, {f"verdict_{lo.pk}": "met"})
    events = AuditEvent.objects.count()

    response = finish(client, app, "Looks fine.")

    assert any("Judge every criterion first; missing: TIME" in m for m in messages_of(response))
    review = app.reviews.get(reviewer=cast.reviewer)
    assert review.completed_at is None and review.summary == ""
    assert AuditEvent.objects.count() == events


def test_the_reviewer_completes_the_review_and_the_form_closes(client, in_review):
    app, cast = in_review
    client.force_login(cast.reviewer)
    save(client, app, every_criterion(app))

    response = finish(client, app, "A careful programme.")

    assert "Your review is complete." in messages_of(response)
    review = app.reviews.get(reviewer=cast.reviewer)
    assert review.is_complete and review.summary == "A careful programme."
    event = AuditEvent.objects.order_by("-seq").first()
    assert event.action == "review.completed" and event.actor == cast.reviewer
    assert page(client, app).context["my_review"]["editable"] is False


def test_a_completed_review_refuses_further_judgements(client, in_review):
    app, cast = in_review
    judge_all(app, cast.reviewer)
    services.review_complete(actor=cast.reviewer, review=app.reviews.get(reviewer=cast.reviewer))
    client.force_login(cast.reviewer)

    response = save(client, app, every_criterion(app, "not_met"))

    assert any("This review is complete" in m for m in messages_of(response))
    assert set(Judgement.objects.values_list("verdict", flat=True)) == {"met"}


def test_a_reviewer_not_assigned_gets_no_form_and_posting_records_nothing(client, in_review):
    app, _cast = in_review
    stranger = reviewer()
    client.force_login(stranger)
    assert page(client, app).context["my_review"] is None
    events = AuditEvent.objects.count()

    save_response = save(client, app, every_criterion(app))
    finish_response = finish(client, app)

    assert any("You are not assigned" in m for m in messages_of(save_response))
    assert any("You are not assigned" in m for m in messages_of(finish_response))
    assert not Judgement.objects.exists()
    assert not Review.objects.filter(reviewer=stranger).exists()
    assert AuditEvent.objects.count() == events


def test_a_manager_cannot_judge_in_someone_elses_review(client, in_review):
    app, cast = in_review
    client.force_login(cast.manager)

    response = save(client, app, every_criterion(app))

    assert any("You are not assigned" in m for m in messages_of(response))
    assert not Judgement.objects.exists()


def test_judgements_are_refused_once_changes_are_requested(client):
    app, cast = application_in(S.CHANGES_REQUESTED)
    client.force_login(cast.reviewer)
    assert page(client, app).context["my_review"]["editable"] is False

    response = save(client, app, every_criterion(app))

    assert any("only while the application is in review" in m for m in messages_of(response))
    assert not Judgement.objects.exists()


def test_a_reviewer_sees_only_the_review_form_not_the_managers_controls(client, in_review):
    app, cast = in_review
    client.force_login(cast.reviewer)

    response = page(client, app)

    assert response.context["object_buttons"] == []
    assert response.context["assign"] is None
    html = response.content.decode()
    assert 'id="my-review"' in html
    assert "Request changes" not in html and "Assign a reviewer" not in html


def test_the_review_urls_answer_only_to_post(client, in_review):
    app, cast = in_review
    client.force_login(cast.reviewer)
    assert client.get(reverse("admin:endorsement_application_review", args=[app.pk])).status_code == 405
    assert client.get(reverse("admin:endorsement_application_review_complete", args=[app.pk])).status_code == 405
