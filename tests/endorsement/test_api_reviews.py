import pytest

from endorsement import services
from endorsement.models import Judgement
from tests.factories import api_client, application_in, judge_all, reviewer

pytestmark = pytest.mark.django_db


def _all_met(app) -> list[dict]:
    return [{"criterion": c.code, "verdict": "met", "comment": "ok"} for c in app.criteria_table.criteria.all()]


@pytest.fixture
def in_review():
    app, cast = application_in("in_review")
    return app, cast, app.reviews.get(reviewer=cast.reviewer)


def test_a_reviewer_lists_only_their_own_reviews(in_review):
    app, cast, review = in_review
    other_app, _other_cast = application_in("in_review")
    listed = api_client(cast.reviewer).get("/api/v1/reviews").json()["results"]
    assert [r["id"] for r in listed] == [review.pk]
    assert listed[0]["application"] == app.pk
    other_review = other_app.reviews.get()
    assert api_client(cast.reviewer).get(f"/api/v1/reviews/{other_review.pk}").status_code == 404


def test_a_review_shows_the_pinned_criteria_the_snapshot_and_my_judgements(in_review):
    app, cast, review = in_review
    criteria = list(app.criteria_table.criteria.all())
    services.review_record_judgements(actor=cast.reviewer, review=review,
                                      judgements=[{"criterion": criteria[0].code, "verdict": "partially_met"}])
    body = api_client(cast.reviewer).get(f"/api/v1/reviews/{review.pk}").json()
    assert [c["code"] for c in body["criteria_table"]["criteria"]] == [c.code for c in criteria]
    assert body["criteria_table"]["version"] == app.criteria_table.version
    assert body["snapshot"]["name_en"] == app.programme.name_en
    assert body["judgements"] == [
        {"criterion": criteria[0].code, "verdict": "partially_met", "comment": "",
         "updated_at": body["judgements"][0]["updated_at"]}
    ]


def test_a_reviewer_records_every_judgement_and_completes(in_review):
    app, cast, review = in_review
    client = api_client(cast.reviewer)
    response = client.post(f"/api/v1/reviews/{review.pk}/judgements", {"judgements": _all_met(app)}, format="json")
    assert response.status_code == 200, response.json()
    assert len(response.json()["judgements"]) == app.criteria_table.criteria.count()
    response = client.post(f"/api/v1/reviews/{review.pk}/complete", {"summary": "Solid."}, format="json")
    assert response.status_code == 200
    assert response.json()["complete"] is True
    review.refresh_from_db()
    assert review.summary == "Solid." and review.completed_revision == 1


def test_judgements_are_replaced_not_duplicated(in_review):
    app, cast, review = in_review
    code = app.criteria_table.criteria.first().code
    client = api_client(cast.reviewer)
    for verdict in ("not_met", "met"):
        client.post(f"/api/v1/reviews/{review.pk}/judgements",
                    {"judgements": [{"criterion": code, "verdict": verdict}]}, format="json")
    assert list(review.judgements.values_list("verdict", flat=True)) == ["met"]


def _required_code(app) -> str:
    return app.criteria_table.criteria.filter(required=True).first().code


@pytest.mark.parametrize(
    ("make_payload", "field", "message"),
    [
        (lambda app: {"judgements": [{"criterion": "NO-SUCH", "verdict": "met"}]},
         "judgements[0].criterion", "Unknown criterion 'NO-SUCH'."),
        (lambda app: {"judgements": [{"criterion": _required_code(app), "verdict": "not_applicable"}]},
         "judgements[0].verdict", "it cannot be judged not applicable"),
        (lambda app: {"judgements": [{"criterion": _required_code(app), "verdict": "excellent"}]},
         "judgements[0].verdict", "Choose one of"),
        (lambda app: {"judgements": [*_all_met(app), {"criterion": "NO-SUCH", "verdict": "met"}]},
         None, None),  # the last one is bad: the valid ones before it must not be kept either
        (lambda app: {"judgements": [{"criterion": _required_code(app)}]}, "judgements[0].verdict",
         "This field is required."),
        (lambda app: {"judgements": [{"criterion": ["a"], "verdict": "met"}]}, "judgements[0].criterion",
         "Not a valid string."),
        (lambda app: {"judgements": []}, "judgements", "This list may not be empty."),
        (lambda app: {"judgements": "met"}, "judgements", "Expected a list of items"),
        (lambda app: {}, "judgements", "This field is required."),
    ],
)
def test_bad_judgements_are_refused_and_none_is_recorded(in_review, make_payload, field, message):
    app, cast, review = in_review
    payload = make_payload(app)
    if message is None:
        field = f"judgements[{len(payload['judgements']) - 1}].criterion"
        message = "Unknown criterion"
    response = api_client(cast.reviewer).post(f"/api/v1/reviews/{review.pk}/judgements", payload, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert any(message in m for m in errors[field]), errors
    assert not Judgement.objects.filter(review=review).exists()


def test_malformed_json_records_no_judgement(in_review):
    _app, cast, review = in_review
    response = api_client(cast.reviewer).post(f"/api/v1/reviews/{review.pk}/judgements", "[{",
                                              content_type="application/json")
    assert response.status_code == 400
    assert not Judgement.objects.exists()


def test_an_optional_criterion_may_be_judged_not_applicable(in_review):
    app, cast, review = in_review
    optional = app.criteria_table.criteria.get(code="LEVEL")
    assert optional.required is False
    response = api_client(cast.reviewer).post(
        f"/api/v1/reviews/{review.pk}/judgements",
        {"judgements": [{"criterion": optional.code, "verdict": "not_applicable"}]}, format="json")
    assert response.status_code == 200


def test_completing_before_every_criterion_is_judged_is_refused(in_review):
    _app, cast, review = in_review
    response = api_client(cast.reviewer).post(f"/api/v1/reviews/{review.pk}/complete", {}, format="json")
    assert response.status_code == 409
    assert "Judge every criterion first" in response.json()["detail"]
    review.refresh_from_db()
    assert review.completed_at is None


def test_a_completed_review_takes_no_more_judgements(in_review):
    app, cast, review = in_review
    judge_all(app, cast.reviewer)
    services.review_complete(actor=cast.reviewer, review=review)
    code = app.criteria_table.criteria.first().code
    response = api_client(cast.reviewer).post(f"/api/v1/reviews/{review.pk}/judgements",
                                              {"judgements": [{"criterion": code, "verdict": "not_met"}]},
                                              format="json")
    assert response.status_code == 409
    assert review.judgements.get(criterion__code=code).verdict == "met"


def test_judging_before_the_review_starts_is_refused():
    app, cast = application_in("submitted")
    review = services.application_assign_reviewer(actor=cast.manager, application=app, reviewer=cast.reviewer)
    response = api_client(cast.reviewer).post(f"/api/v1/reviews/{review.pk}/judgements",
                                              {"judgements": _all_met(app)}, format="json")
    assert response.status_code == 409
    assert "only while the application is in review" in response.json()["detail"]
    assert not Judgement.objects.exists()


def test_someone_elses_review_answers_404_to_judgements(in_review):
    app, cast, review = in_review
    for outsider in (reviewer(), cast.manager, cast.editor):
        response = api_client(outsider).post(f"/api/v1/reviews/{review.pk}/judgements",
                                             {"judgements": _all_met(app)}, format="json")
        assert response.status_code == 404
    assert not Judgement.objects.exists()
