"""One walk through the API from the public membership application to a published endorsement.
Only the membership approval goes through the service: it is the body's admin decision, not an
API operation."""

import pytest
from django.core import mail

from endorsement.audit import audit_verify
from endorsement.models import Endorsement, RegistrySnapshot
from institutions.models import Organisation
from institutions.services import organisation_approve
from tests.factories import COMPLETE_PROGRAMME, api_client, manager, png_bytes, reviewer

pytestmark = pytest.mark.django_db


def _token_client(username: str, password: str):
    response = api_client().post("/api/v1/auth/token", {"username": username, "password": password}, format="json")
    assert response.status_code == 200, response.json()
    client = api_client()
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    return client


def test_from_public_application_to_published_endorsement_through_the_api(django_capture_on_commit_callbacks):
    import base64

    # 1. Anyone applies; the owner's login waits for approval.
    owner_password = "a long pass phrase 42"
    response = api_client().post("/api/v1/organisations/apply", {
        "name": "Kanto Institute of Technology", "kind": "university", "contact_name": "Hanako Yamada",
        "contact_email": "hanako@kit.example.ac.jp",
        "owner": {"username": "hanako", "password": owner_password},
    }, format="json")
    assert response.status_code == 201
    organisation = Organisation.objects.get(slug=response.json()["slug"])
    assert api_client().post("/api/v1/auth/token", {"username": "hanako", "password": owner_password},
                             format="json").status_code == 400

    # 2. The body approves (a manager's decision, through the service).
    boss, checker = manager(), reviewer()
    organisation_approve(actor=boss, organisation=organisation)
    owner = _token_client("hanako", owner_password)
    assert owner.get("/api/v1/me").json()["role"] == "owner"

    # 3. The owner drafts a programme with its image, and applies.
    payload = {**COMPLETE_PROGRAMME, "image_base64": base64.b64encode(png_bytes()).decode()}
    response = owner.post("/api/v1/programmes", payload, format="json")
    assert response.status_code == 201, response.json()
    programme_id = response.json()["public_id"]
    assert "id" not in response.json()  # the integer stays inside
    response = owner.post("/api/v1/applications", {"programme": programme_id}, format="json")
    assert response.status_code == 201
    app_url = f"/api/v1/applications/{response.json()['id']}"
    response = owner.post(f"{app_url}/submit", format="json")
    assert response.json()["state"] == "submitted"
    assert response.json()["snapshot"]["image"]["sha256"]

    # 4. A manager assigns a reviewer and starts the review.
    boss_client, checker_client = api_client(boss), api_client(checker)
    assert boss_client.post(f"{app_url}/assign-reviewer", {"reviewer": checker.username},
                            format="json").status_code == 200
    assert boss_client.post(f"{app_url}/start-review", format="json").json()["state"] == "in_review"

    # 5. The reviewer judges every pinned criterion and completes the review.
    review = checker_client.get("/api/v1/reviews").json()["results"][0]
    detail = checker_client.get(f"/api/v1/reviews/{review['id']}").json()
    judgements = [{"criterion": c["code"], "verdict": "met", "comment": "Clear."}
                  for c in detail["criteria_table"]["criteria"]]
    assert checker_client.post(f"/api/v1/reviews/{review['id']}/judgements", {"judgements": judgements},
                               format="json").status_code == 200
    assert checker_client.post(f"/api/v1/reviews/{review['id']}/complete", {"summary": "Meets all."},
                               format="json").json()["complete"] is True

    # 6. The manager endorses (the credential is signed after commit) and publishes.
    assert "endorse" in boss_client.get(app_url).json()["transitions"]
    with django_capture_on_commit_callbacks(execute=True):
        assert boss_client.post(f"{app_url}/endorse", {"comment": "Endorsed."}, format="json").json()["state"] == \
            "endorsed"
    with django_capture_on_commit_callbacks(execute=True):
        response = boss_client.post(f"{app_url}/publish", format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "published"

    # 7. The organisation sees its signed, published endorsement; the registry lists it.
    endorsement_id = response.json()["endorsement"]
    body = owner.get(f"/api/v1/endorsements/{endorsement_id}").json()
    assert body["state"] == "active"
    assert body["published_at"] is not None
    assert body["credential"]["type"][-1] == "EndorsementCredential"
    assert str(Endorsement.objects.get(pk=endorsement_id).programme.public_id) == programme_id
    snapshot = RegistrySnapshot.objects.latest()
    assert any(entry["id"] == body["programme"]["public_id"] for entry in snapshot.entries)
    assert audit_verify().ok
    assert mail.outbox  # notifications went out after the commits
