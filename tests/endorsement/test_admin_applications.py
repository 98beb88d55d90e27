"""The review queue (changelist filters) and the application page (snapshot, judgements side by side,
rule result, audit trail)."""

import re

import pytest
from django.urls import reverse

from endorsement import services
from endorsement.models import Application, ApplicationState, Judgement
from tests.factories import Cast, ProgrammeFactory, application_in, judge_all, reviewer

pytestmark = pytest.mark.django_db
S = ApplicationState
CHANGELIST = "admin:endorsement_application_changelist"


def listed(client, **params) -> list[Application]:
    response = client.get(reverse(CHANGELIST), params)
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def complete(app, user, verdict="met"):
    judge_all(app, user, verdict)
    services.review_complete(actor=user, review=app.reviews.get(reviewer=user))


@pytest.fixture
def queue():
    """Three applications around one reviewer: one to review, one reviewed, one assigned to someone else;
    plus a draft the body does not see yet."""
    cast = Cast()
    to_do, _ = application_in(S.IN_REVIEW, cast)
    done, _ = application_in(S.IN_REVIEW, cast)
    complete(done, cast.reviewer)
    elsewhere, _ = application_in(S.SUBMITTED, cast)
    services.application_assign_reviewer(actor=cast.manager, application=elsewhere, reviewer=reviewer())
    draft, _ = application_in(S.DRAFT, cast)
    return cast, to_do, done, elsewhere, draft


def test_assigned_to_me_lists_my_applications_with_the_unfinished_review_first(client, queue):
    cast, to_do, done, _elsewhere, _draft = queue
    client.force_login(cast.reviewer)

    assert listed(client, queue="mine") == [to_do, done]


def test_assigned_to_me_is_empty_for_a_manager_who_reviews_nothing(client, queue):
    cast = queue[0]
    client.force_login(cast.manager)
    assert listed(client, queue="mine") == []


def test_waiting_for_a_decision_lists_applications_in_review_whose_every_review_is_complete(client, queue):
    cast, _to_do, done, _elsewhere, _draft = queue
    client.force_login(cast.manager)

    assert listed(client, queue="decision") == [done]


def test_one_open_review_keeps_an_application_out_of_the_decision_queue(client, queue):
    cast, _to_do, done, _elsewhere, _draft = queue
    services.application_assign_reviewer(actor=cast.manager, application=done, reviewer=reviewer())
    client.force_login(cast.manager)

    assert listed(client, queue="decision") == []


def test_the_queue_shows_reviews_done_over_assigned_and_never_lists_drafts(client, queue):
    cast, to_do, done, elsewhere, draft = queue
    client.force_login(cast.reviewer)

    response = client.get(reverse(CHANGELIST))

    rows = list(response.context["cl"].result_list)
    assert set(rows) == {to_do, done, elsewhere}
    assert draft not in rows
    shown = response.context["cl"].model_admin
    assert {a: shown.reviews_progress(a) for a in rows} == {to_do: "0 / 1", done: "1 / 1", elsewhere: "0 / 1"}
    assert {a: shown.my_review(a) for a in rows} == {to_do: "to do", done: "done", elsewhere: "—"}
    assert '<td class="field-reviews_progress">1 / 1</td>' in response.content.decode()


def test_the_queue_filters_by_state_and_organisation_and_searches_programme_and_organisation(client, queue):
    cast, to_do, done, elsewhere, _draft = queue
    other = Cast()
    foreign, _ = application_in(S.SUBMITTED, other, ProgrammeFactory(organisation=other.organisation,
                                                                     name_en="Welding safety"))
    client.force_login(cast.manager)

    assert set(listed(client, state=S.SUBMITTED)) == {elsewhere, foreign}
    assert set(listed(client, organisation__id__exact=other.organisation.pk)) == {foreign}
    assert listed(client, q="welding") == [foreign]
    assert set(listed(client, q=cast.organisation.name)) == {to_do, done, elsewhere}


def test_the_body_cannot_add_or_delete_applications(client, queue):
    cast, to_do, *_ = queue
    client.force_login(cast.manager)

    assert client.get(reverse("admin:endorsement_application_add")).status_code == 403
    assert client.post(reverse("admin:endorsement_application_delete", args=[to_do.pk]), {"post": "yes"}).status_code \
        == 403
    assert Application.objects.filter(pk=to_do.pk).exists()


def test_a_draft_is_not_reachable_from_the_admin(client, queue):
    cast, *_rest, draft = queue
    client.force_login(cast.manager)
    response = client.get(reverse("admin:endorsement_application_change", args=[draft.pk]))
    assert response.status_code == 302  # the admin's "does not exist" redirect to its index
    assert Application.objects.get(pk=draft.pk).state == S.DRAFT


# --- The page -------------------------------------------------------------------------------------
def row_html(html: str, code: str) -> str:
    match = re.search(rf'<tr class="criterion-row" id="criterion-{code}">(.*?)</tr>', html, re.S)
    assert match, code
    return match.group(1)


def test_the_page_shows_every_reviewers_verdict_and_comment_side_by_side_per_criterion(client):
    app, cast = application_in(S.IN_REVIEW)
    second = reviewer(first_name="Keiko", last_name="Sato")
    services.application_assign_reviewer(actor=cast.manager, application=app, reviewer=second)
    judge_all(app, cast.reviewer, "met")
    services.review_record_judgements(actor=second, review=app.reviews.get(reviewer=second), judgements=[
        {"criterion": "LO", "verdict": "partially_met", "comment": "Outcome 3 is not observable."},
    ])
    client.force_login(cast.manager)

    response = client.get(reverse("admin:endorsement_application_change", args=[app.pk]))

    matrix = response.context["matrix"]
    assert [c["reviewer"] for c in matrix["columns"]] == [cast.reviewer, second]
    lo = next(r for r in matrix["rows"] if r["criterion"].code == "LO")
    assert [j.verdict for j in lo["cells"]] == ["met", "partially_met"]
    html = response.content.decode()
    assert "Keiko Sato" in html
    lo_row = row_html(html, "LO")
    assert "LO looks met" in lo_row and "Outcome 3 is not observable." in lo_row
    assert "Met" in lo_row and "Partially met" in lo_row
    assert "not judged yet" in row_html(html, "TIME")  # the second reviewer has not judged it
    assert len(matrix["rows"]) == app.criteria_table.criteria.count()


def test_the_page_renders_the_frozen_snapshot_readably_in_both_languages(client):
    app, cast = application_in(S.SUBMITTED)
    # Later edits to the programme do not show: the page reads the snapshot frozen on submission.
    app.programme.description_en = "Edited after submission"
    app.programme.save()
    client.force_login(cast.reviewer)

    response = client.get(reverse("admin:endorsement_application_change", args=[app.pk]))

    html = response.content.decode()
    readable = html.split("<details>")[0]  # everything before the raw JSON
    assert "Reading, cleaning and presenting business data." in readable
    assert "ビジネスデータの読み取り・整形・提示。" in readable
    assert "<li>Clean a tabular data set</li>" in readable
    assert "Modular (stand-alone)" in readable  # the pattern's label, not its code
    assert "Three graded assignments and a supervised online test." in readable
    assert "Graded work is kept for five years" in readable
    assert "Internal review each academic year" in readable
    assert "European Qualifications Framework" in readable
    assert "30.0" in readable
    assert 'href="https://example.org/frameworks/dl"' in readable
    assert "Edited after submission" not in html
    assert app.snapshot_sha256 in html


def test_snapshot_keys_the_page_does_not_know_are_still_shown(client):
    app, cast = application_in(S.SUBMITTED)
    Application.objects.filter(pk=app.pk).update(snapshot={**app.snapshot, "ects_credits": "2"})
    client.force_login(cast.manager)

    response = client.get(reverse("admin:endorsement_application_change", args=[app.pk]))

    other = response.context["snapshot"]["sections"][-1]
    assert other["title"] == "Other"
    assert [(r.label, r.value) for r in other["rows"]] == [("ects credits", "2")]


def test_the_page_states_why_the_rule_does_not_hold_yet(client):
    app, cast = application_in(S.IN_REVIEW)
    judge_all(app, cast.reviewer, "met")
    review = app.reviews.get(reviewer=cast.reviewer)
    services.review_record_judgements(actor=cast.reviewer, review=review, judgements=[
        {"criterion": "QA", "verdict": "not_met", "comment": "No review cycle."}])
    services.review_complete(actor=cast.reviewer, review=review)
    client.force_login(cast.manager)

    response = client.get(reverse("admin:endorsement_application_change", args=[app.pk]))

    assert response.context["rule"].allowed is False
    assert f"{cast.reviewer} judged required criterion QA: not met." in response.content.decode()


def test_the_page_shows_the_application_audit_trail_and_a_read_only_state(client):
    app, cast = application_in(S.PUBLISHED)
    client.force_login(cast.manager)

    response = client.get(reverse("admin:endorsement_application_change", args=[app.pk]))

    actions = [e.action for e in response.context["trail"]]
    assert actions[:2] == ["application.created", "application.submitted"]
    assert "application.endorsed" in actions and "application.published" in actions
    assert response.context["has_change_permission"] is False
    assert "state" not in response.context["adminform"].form.fields  # shown, never editable


def test_posting_the_change_form_cannot_move_the_state(client):
    app, cast = application_in(S.IN_REVIEW)
    client.force_login(cast.manager)

    response = client.post(reverse("admin:endorsement_application_change", args=[app.pk]), {"state": "endorsed"})

    assert response.status_code == 403
    app.refresh_from_db()
    assert app.state == S.IN_REVIEW
    assert not Judgement.objects.exists()


@pytest.mark.parametrize("state", [s for s in S.values if s != S.DRAFT])
def test_the_page_renders_in_every_state_for_manager_and_reviewer(client, state):
    if state == S.WITHDRAWN:
        app, cast = application_in(S.SUBMITTED)
        app = services.application_withdraw(actor=cast.editor, application=app)
    else:
        app, cast = application_in(state)
    for user in (cast.manager, cast.reviewer):
        client.force_login(user)
        response = client.get(reverse("admin:endorsement_application_change", args=[app.pk]))
        assert response.status_code == 200, (state, user)
        assert response.context["snapshot"] is not None
