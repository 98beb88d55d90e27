"""The completion pages (the organisation's, the learner's through the capability link) and the API:
both languages, refusals shown with their reason and nothing kept."""

from __future__ import annotations

import copy
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from badges import credentials as vc
from pathways.completion import completion_open
from pathways.completion_models import Completion
from tests.factories import PASSWORD, OrganisationFactory, api_client, login_request, png_bytes, staff
from tests.pathways.completion_setup import LEARNER, LEARNER_NAME, pathway_setup

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    return pathway_setup()


def logged_in(user) -> Client:
    client = Client()
    assert client.login(request=login_request(), username=user.username, password=PASSWORD)
    return client


def test_the_organisation_opens_a_completion_and_sees_the_link_once(setup):
    client = logged_in(setup.issuer_a)
    url = f"/portal/pathways/{setup.pathway.public_id}/completions/new/"
    assert client.get(url).status_code == 200
    response = client.post(url, {"learner_email": LEARNER, "learner_name": LEARNER_NAME}, follow=True)
    completion = Completion.objects.get()
    page = response.content.decode()
    assert response.status_code == 200 and "/pathway-completion/" in page
    assert "Progress" in page and "Data literacy A" in page
    bad = client.post(url, {"learner_email": "nope"})
    assert bad.status_code == 400 and Completion.objects.count() == 1
    assert completion.learner_email == LEARNER


def test_another_organisations_staff_get_404(setup):
    completion, _ = completion_open(actor=setup.issuer_a, pathway=setup.pathway, learner_email=LEARNER)
    outsider = logged_in(staff(OrganisationFactory(), "issuer"))
    assert outsider.get(f"/portal/pathway-completions/{completion.public_id}/").status_code == 404
    assert outsider.get(f"/portal/pathways/{setup.pathway.public_id}/completions/new/").status_code == 404


def test_the_learner_presents_through_the_link_and_sees_why_a_forged_one_is_refused(setup):
    completion, link = completion_open(actor=setup.issuer_a, pathway=setup.pathway, learner_email=LEARNER)
    path = link.removeprefix("http://testserver").split("://", 1)[-1]
    path = path[path.index("/"):]
    learner = Client()
    page = learner.get(path)
    assert page.status_code == 200 and page["Referrer-Policy"] == "no-referrer"
    forged = copy.deepcopy(setup.external_badge())
    forged["credentialSubject"]["achievement"]["name"] = "Advanced"
    refused = learner.post(path, {"component": "python", "credential": json.dumps(forged)})
    assert refused.status_code == 400 and "not genuine" in refused.content.decode()
    completion.refresh_from_db()
    assert completion.presented == []
    baked = vc.bake(png_bytes(), setup.external_badge())
    accepted = learner.post(path, {"component": "python", "file": SimpleUploadedFile("b.png", baked, "image/png")})
    assert accepted.status_code == 302
    completion.refresh_from_db()
    assert [p["component"] for p in completion.presented] == ["python"]
    japanese = Client(headers={"accept-language": "ja"}).get(path).content.decode()
    assert "進捗" in japanese and "提示したクレデンシャル" in japanese
    assert Client().get("/pathway-completion/" + "x" * 43 + "/").status_code == 404


def test_the_api_opens_presents_and_refuses_with_the_reason(setup):
    client = api_client(setup.issuer_a)
    opened = client.post(f"/api/v1/pathways/{setup.pathway.public_id}/completions",
                         {"learner_email": LEARNER, "learner_name": LEARNER_NAME}, format="json")
    assert opened.status_code == 201, opened.content
    body = opened.json()
    assert body["link"].startswith("http") and body["state"] == "open" and body["complete"] is False
    url = f"/api/v1/pathway-completions/{body['id']}"
    other = setup.external_badge(email="taro@example.org")
    refused = client.post(url + "/credentials", {"component": "python", "credential": other}, format="json")
    assert refused.status_code == 400
    assert "recipient is not this learner" in refused.json()["errors"]["credential"][0]
    accepted = client.post(url + "/credentials", {"component": "python", "credential": setup.external_badge()},
                           format="json")
    assert accepted.status_code == 201 and [p["component"] for p in accepted.json()["presented"]] == ["python"]
    state = client.get(url).json()
    assert {r["kind"]: r["met"] for r in state["rules"]} == {"all": False, "order": False}
    assert api_client(staff(OrganisationFactory(), "issuer")).get(url).status_code == 404


def test_the_body_sees_completions_in_the_admin_read_only(setup):
    from tests.factories import manager

    completion, _ = completion_open(actor=setup.issuer_a, pathway=setup.pathway, learner_email=LEARNER)
    client = logged_in(manager())
    listing = client.get("/admin/pathways/completion/")
    assert listing.status_code == 200 and LEARNER in listing.content.decode()
    page = client.get(f"/admin/pathways/completion/{completion.pk}/change/")
    assert page.status_code == 200 and str(completion.public_id) in page.content.decode()
    assert client.get("/admin/pathways/completion/add/").status_code == 403
