"""/verify and POST /api/v1/verify checking a name the holder gave (badges.identity): the report's
`recipient-name` check says whether the credential's `name` IdentityObject names that person: its
salted `sha256$` identityHash when hashed (OB 3.0 IdentityHash), the plain text otherwise. Bad input is
400 by field; what was entered is never stored."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from badges.awards import award_issue
from badges.identity import NAME_CHECK_CODES, name_check
from badges.models import Award
from badges.ob2_verification import OB2_CHECK_CODES
from badges.status import status_list_publish
from badges.verification import CHECK_CODES, credential_verify
from endorsement.models import AuditEvent, Notification
from institutions.models import RecipientNames
from tests.factories import awarding_setup

pytestmark = pytest.mark.django_db
API = "/api/v1/verify"


def badge(policy: str, name: str = "山田 花子") -> Award:
    """A badge of an organisation whose policy for learners' names is `policy`, its status lists published."""
    programme, app, _cast, issuer = awarding_setup()
    programme.organisation.recipient_names = policy
    programme.organisation.save(update_fields=["recipient_names"])
    award = award_issue(actor=issuer, programme=programme, recipient_email="hanako@example.org", recipient_name=name)
    status_list_publish(award.status.status_list_id)
    status_list_publish(app.endorsement.status.status_list_id)
    return award


def rows() -> tuple[int, int, int]:
    return Award.objects.count(), AuditEvent.objects.count(), Notification.objects.count()


def api(credential, **fields):
    return Client().post(API, json.dumps({"credential": credential, **fields}), content_type="application/json")


def test_a_hashed_name_matches_the_name_the_holder_gave_in_another_width_and_spacing():
    award = badge(RecipientNames.HASH)
    [identity] = [i for i in award.credential["credentialSubject"]["identifier"] if i["identityType"] == "name"]
    assert identity["hashed"] is True and identity["identityHash"].startswith("sha256$")
    assert "花子" not in json.dumps(award.credential, ensure_ascii=False)
    before = rows()
    answer = api(award.credential, name="  山田　 花子 ")
    assert answer.status_code == 200
    body = answer.json()
    [check] = [c for c in body["checks"] if c["id"] == "recipient-name"]
    assert check["code"] == "recipient-name.match" and check["passed"] and check["informational"]
    assert "salted hash" in check["message"]
    assert body["verdict"] == "verified" and body["recipient_matches"] is True
    assert rows() == before  # nothing written: what was entered is not stored


def test_another_name_does_not_match_and_the_verdict_says_so_on_the_page_in_both_languages():
    award = badge(RecipientNames.HASH)
    body = api(award.credential, name="山田 太郎").json()
    [check] = [c for c in body["checks"] if c["id"] == "recipient-name"]
    assert check["code"] == "recipient-name.mismatch" and not check["passed"]
    assert body["verdict"] == "recipient-mismatch" and body["recipient_matches"] is False
    page = Client().post("/verify/", {"credential": json.dumps(award.credential), "name": "山田 太郎"})
    html = page.content.decode()
    assert page.status_code == 200 and 'data-verdict="recipient-mismatch"' in html
    assert "does not name 山田 太郎 as its recipient" in html
    assert "Genuine, but not issued to the person you named" in html and "the address you gave" not in html
    assert "The name you typed does not match the recipient" in html
    japanese = Client().post("/verify/", {"credential": json.dumps(award.credential), "name": "山田 太郎"},
                             HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "入力された氏名は受領者のものと一致しません" in japanese
    assert "入力された氏名の人に発行されたものではありません" in japanese


def test_an_unhashed_name_is_compared_as_written_and_case_counts():
    award = badge(RecipientNames.INCLUDE, name="Hanako Yamada")
    [identity] = [i for i in award.credential["credentialSubject"]["identifier"] if i["identityType"] == "name"]
    assert identity["hashed"] is False
    match = name_check(award.credential, "Ｈａｎａｋｏ  Yamada")
    assert match.code == "recipient-name.match" and "plain text" in match.message
    assert name_check(award.credential, "hanako yamada").code == "recipient-name.mismatch"
    page = Client().post("/verify/", {"credential": json.dumps(award.credential), "name": "Hanako Yamada"})
    assert "The name you typed matches the recipient" in page.content.decode()


def test_a_badge_without_a_name_and_a_credential_that_is_no_badge_say_so():
    award = badge(RecipientNames.OMIT)
    check = name_check(award.credential, "Hanako")
    assert check.code == "recipient-name.no-name" and not check.passed
    body = api(award.credential, name="Hanako").json()
    assert body["recipient_matches"] is False and body["verdict"] == "recipient-mismatch"
    assert name_check({"type": ["VerifiableCredential", "EndorsementCredential"]}, "x").code == \
        "recipient-name.not-a-badge"
    assert name_check("https://example.org/assertion/1", "x").code == "recipient-name.not-a-badge"
    assert {c["code"] for c in body["checks"]} <= set(CHECK_CODES + OB2_CHECK_CODES + NAME_CHECK_CODES)


def test_without_a_name_the_report_has_no_name_check():
    award = badge(RecipientNames.HASH)
    body = api(award.credential).json()
    assert "recipient-name" not in {c["id"] for c in body["checks"]} and body["recipient_matches"] is None
    assert "recipient-name" not in {c.id for c in credential_verify(award.credential).checks}


@pytest.mark.parametrize(("name", "words"), [
    ("x" * 201, "at most 200 characters"),
    ("Hanako\nYamada", "control characters"),
    (["Hanako"], "text"),
])
def test_bad_input_is_400_by_field_and_stores_nothing(name, words):
    award = badge(RecipientNames.HASH)
    before = rows()
    answer = api(award.credential, name=name)
    assert answer.status_code == 400
    assert any(words in m for m in answer.json()["errors"]["name"])
    if isinstance(name, str):
        page = Client().post("/verify/", {"credential": json.dumps(award.credential), "name": name})
        assert page.status_code == 400 and "errorlist" in page.content.decode()
        assert words in page.content.decode()
        assert 'data-verdict' not in page.content.decode()
        multipart = Client().post(API, {"credential": json.dumps(award.credential), "name": name})
        assert multipart.status_code == 400 and "name" in multipart.json()["errors"]
    assert rows() == before
