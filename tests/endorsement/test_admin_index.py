"""A reviewer lands on "My reviews to do": the admin index lists the applications assigned to them
whose review is not complete, and says so when there is none."""

import pytest
from django.test import Client

from endorsement import services
from endorsement.models import ApplicationState
from tests.factories import PASSWORD, application_in, judge_all, login_request

pytestmark = pytest.mark.django_db


def login(user) -> Client:
    client = Client()
    assert client.login(request=login_request(), username=user.username, password=PASSWORD)
    return client


def test_the_admin_index_opens_with_the_reviewers_reviews_to_do():
    open_app, cast = application_in(ApplicationState.IN_REVIEW)
    done_app, _ = application_in(ApplicationState.IN_REVIEW, cast)
    judge_all(done_app, cast.reviewer)
    services.review_complete(actor=cast.reviewer, review=done_app.reviews.get(reviewer=cast.reviewer))
    html = login(cast.reviewer).get("/admin/").content.decode()
    box = html[html.index('id="my-reviews-to-do"'):]
    assert html.index('id="my-reviews-to-do"') < html.index('class="app-endorsement')  # before the models
    assert f"/admin/endorsement/application/{open_app.pk}/change/#my-review" in box
    assert f"/admin/endorsement/application/{done_app.pk}/change/" not in box
    assert "/admin/endorsement/application/?queue=mine" in box


def test_a_reviewer_with_nothing_assigned_is_told_so():
    _app, cast = application_in(ApplicationState.SUBMITTED)  # nobody assigned yet
    html = login(cast.reviewer).get("/admin/").content.decode()
    assert "My reviews to do" in html and "Nothing to review" in html


def test_someone_who_is_not_body_staff_sees_no_review_list():
    from tests.factories import UserFactory

    superuser = UserFactory(is_staff=True, is_superuser=True)
    html = login(superuser).get("/admin/").content.decode()
    assert "My reviews to do" not in html
