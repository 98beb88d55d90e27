"""The batch page: every row listed, 100 a page, with its badge once awarded; its count labelled
in the singular or plural; progress kept current by a script polling progress.json (the JSON
tested here), and by a refresh inside <noscript> without JS."""

import pytest
from django.test import Client

from badges.batches import award_batch_create, award_batch_issue_chunk, rows_from_json
from institutions.models import Role
from tests.factories import PASSWORD, OrganisationFactory, awarding_setup, login_request, staff

pytestmark = pytest.mark.django_db


def login(user, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    assert client.login(request=login_request(), username=user.username, password=PASSWORD)
    return client


def batch_of(n: int):
    programme, _, cast, issuer = awarding_setup()
    rows = [{"email": f"learner{i}@example.org", "name": f"Learner {i:03d}"} for i in range(n)]
    return award_batch_create(actor=issuer, programme=programme, rows=rows_from_json(rows)), issuer, cast


def test_the_batch_page_lists_every_row_a_hundred_a_page():
    batch, issuer, _ = batch_of(230)
    client = login(issuer)
    url = f"/portal/batches/{batch.public_id}/"
    first = client.get(url).content.decode()
    assert "Learner 000" in first and "Learner 099" in first and "Learner 100" not in first
    assert "Rows 1 to 100 of 230" in first and "Page 1 of 3" in first
    third = client.get(url, {"page": 3}).content.decode()
    assert "Learner 200" in third and "Learner 229" in third and "Learner 199" not in third
    assert 'id="row-230-badge"' in third
    assert third.count("waiting") == 30  # nothing issued yet: every row of the page waits


def test_an_issued_row_links_to_its_badge_and_the_others_wait():
    batch, issuer, _ = batch_of(3)
    award_batch_issue_chunk(batch.pk, 0, 2)
    page = login(issuer).get(f"/portal/batches/{batch.public_id}/").content.decode()
    for award in batch.awards.all():
        link = f'<a href="/portal/awards/{award.public_id}/">awarded</a>'
        assert f'<td id="row-{award.batch_row + 1}-badge" class="batch-badge">{link}' in page
    assert '<td id="row-3-badge" class="batch-badge"><span class="muted">waiting</span>' in page
    assert "2 of 3" in page


@pytest.mark.parametrize(("n", "language", "label"), [
    (1, "en", "1 row"), (2, "en", "2 rows"), (1, "ja", "1行"), (2, "ja", "2行"),
])
def test_the_row_count_is_labelled_in_the_singular_or_plural(n, language, label):
    batch, issuer, _ = batch_of(n)
    page = login(issuer, language).get(f"/portal/batches/{batch.public_id}/").content.decode()
    assert f"<dd>{label}</dd>" in page
    assert "row(s)" not in page and "rows(s)" not in page


def test_a_running_batch_page_updates_itself_with_a_script_and_without_one_by_refreshing():
    batch, issuer, _ = batch_of(2)
    page = login(issuer).get(f"/portal/batches/{batch.public_id}/").content.decode()
    assert "js/batch-progress.js" in page
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in page
    assert f'data-url="/portal/batches/{batch.public_id}/progress.json?page=1"' in page and "data-running" in page


def test_progress_json_follows_the_batch_and_names_the_awarded_rows():
    batch, issuer, _ = batch_of(3)
    client = login(issuer)
    url = f"/portal/batches/{batch.public_id}/progress.json"
    data = client.get(url).json()
    assert (data["state"], data["issued"], data["total"], data["percent"], data["running"]) == (
        "pending", 0, 3, 0, True)
    assert data["issued_label"] == "0 of 3" and data["awarded"] == []
    award_batch_issue_chunk(batch.pk, 0, 3)
    response = client.get(url)
    assert response["Cache-Control"] == "no-store"
    data = response.json()
    assert (data["state"], data["issued"], data["percent"], data["running"]) == ("done", 3, 100, False)
    expected = sorted((a.batch_row + 1, f"/portal/awards/{a.public_id}/") for a in batch.awards.all())
    assert sorted((r["row"], r["url"]) for r in data["awarded"]) == expected
    # In the language of the page.
    data = login(issuer, "ja").get(url).json()
    assert data["state_label"] == "完了" and data["issued_label"] == "3件中3件"


def test_progress_json_is_for_the_organisations_staff_only():
    batch, _, _ = batch_of(1)
    url = f"/portal/batches/{batch.public_id}/progress.json"
    assert Client().get(url).status_code == 302  # to the login page
    stranger = staff(OrganisationFactory(), Role.OWNER)
    response = login(stranger).get(url)
    assert response.status_code == 404 and b'"issued"' not in response.content
