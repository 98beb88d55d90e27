"""Mails to learners in their language (badges.mail_language, badges.awards.award_email,
learners.services): the language the learner chose on their account page, else the issuer's (a batch's
`language` column, the award API's `recipient_language`), else the site's. An unknown language is
refused by field, with nothing written."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client

from badges.awards import award_issue
from badges.batches import award_batch_create, award_batch_issue_chunk, rows_from_csv, rows_validate
from badges.models import Award, RecipientLanguage, StatusAllocation
from config.errors import InvalidInput
from endorsement.models import Notification
from learners import services
from learners.models import LearnerAccount, LearnerEmail
from learners.session import SESSION_KEY
from tests.factories import api_client, awarding_setup

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_throttle():
    cache.clear()
    yield
    cache.clear()


def award_mail(award: Award) -> Notification:
    return Notification.objects.get(key=f"award-issued:{award.public_id}")


def learner_with(email: str) -> tuple[LearnerAccount, Client]:
    account = LearnerAccount.objects.create()
    LearnerEmail.objects.create(account=account, email=email)
    client = Client()
    session = client.session
    session[SESSION_KEY] = str(account.public_id)
    session.save()
    return account, client


def test_without_a_language_the_badge_mail_is_in_the_sites_language_english():
    programme, _app, _cast, issuer = awarding_setup()
    award = award_issue(actor=issuer, programme=programme, recipient_email="hanako@example.org",
                        recipient_name="Hanako")
    row = award_mail(award)
    assert row.subject == f"Your badge: {programme.name_en}"
    assert row.body.startswith("Hello Hanako,") and "claim it within" in row.body
    assert award.recipient_language == ""


def test_the_issuers_japanese_is_used_with_the_programmes_japanese_name(django_capture_on_commit_callbacks):
    programme, _app, _cast, issuer = awarding_setup()
    with django_capture_on_commit_callbacks(execute=True):
        award = award_issue(actor=issuer, programme=programme, recipient_email="hanako@example.org",
                            recipient_name="花子", recipient_language="日本語")
    assert award.recipient_language == "ja"
    [sent] = [m for m in mail.outbox if str(award.public_id) in m.body]
    assert sent.subject == f"あなたのバッジ：{programme.name_ja}"
    assert "Your badge" not in sent.body and "/learner/claim/" in sent.body
    assert re.search(r"[ぁ-んァ-ン]", sent.body)


def test_the_learners_choice_wins_over_the_issuers():
    _account, client = learner_with("hanako@example.org")
    answer = client.post("/learner/language/", {"language": "ja"})
    assert answer.status_code == 302
    assert RecipientLanguage.objects.get(email="hanako@example.org").language == "ja"
    programme, _app, _cast, issuer = awarding_setup()
    award = award_issue(actor=issuer, programme=programme, recipient_email="Hanako@Example.org",
                        recipient_language="en")
    assert award_mail(award).subject.startswith("あなたのバッジ")
    client.post("/learner/language/", {"language": ""})  # back to the issuer's choice
    assert not RecipientLanguage.objects.exists()
    second = award_issue(actor=issuer, programme=programme, recipient_email="hanako@example.org",
                         recipient_language="en")
    assert award_mail(second).subject.startswith("Your badge")


def test_an_unknown_language_on_the_learners_page_is_400_and_changes_nothing():
    _account, client = learner_with("hanako@example.org")
    client.post("/learner/language/", {"language": "ja"})
    answer = client.post("/learner/language/", {"language": "fr"})
    assert answer.status_code == 400
    assert "Select a valid choice" in answer.content.decode()
    assert RecipientLanguage.objects.get(email="hanako@example.org").language == "ja"


def test_the_sign_in_link_follows_the_learners_choice_not_the_pages(django_capture_on_commit_callbacks):
    account, _client = learner_with("hanako@example.org")
    services.account_language_set(account, "ja")
    with django_capture_on_commit_callbacks(execute=True):
        Client().post("/learner/sign-in/", {"email": "hanako@example.org"}, HTTP_ACCEPT_LANGUAGE="en")
    [sent] = mail.outbox
    assert sent.subject == "サインイン用のリンク" and "/learner/sign-in/" in sent.body
    services.account_language_set(account, "")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        Client().post("/learner/sign-in/", {"email": "hanako@example.org"}, HTTP_ACCEPT_LANGUAGE="en")
    assert mail.outbox[0].subject == "Your sign-in link"


def test_a_new_address_takes_the_accounts_choice_and_deleting_the_account_forgets_it():
    account, _client = learner_with("hanako@example.org")
    services.account_language_set(account, "ja")
    from learners.models import LearnerLink, LinkPurpose
    token = services.link_new(LinkPurpose.ADD_ADDRESS, "hanako@work.example", account)
    services.address_confirm(token)
    assert RecipientLanguage.objects.get(email="hanako@work.example").language == "ja"
    assert LearnerLink.objects.filter(used_at__isnull=False).count() == 1
    services.account_delete(account)
    assert not RecipientLanguage.objects.exists()


def test_the_award_api_takes_recipient_language_and_refuses_an_unknown_one():
    programme, _app, _cast, issuer = awarding_setup()
    client = api_client(issuer)
    url = f"/api/v1/programmes/{programme.public_id}/awards"
    before = StatusAllocation.objects.count()
    refused = client.post(url, {"recipient_email": "taro@example.org", "recipient_language": "klingon"}, format="json")
    assert refused.status_code == 400
    assert "Unknown language" in refused.json()["errors"]["recipient_language"][0]
    assert Award.objects.count() == 0 and StatusAllocation.objects.count() == before
    assert not Notification.objects.filter(key__startswith="award-issued:").exists()
    made = client.post(url, {"recipient_email": "taro@example.org", "recipient_language": "ja"}, format="json")
    assert made.status_code == 201 and made.json()["recipient_language"] == "ja"
    assert award_mail(Award.objects.get()).subject.startswith("あなたのバッジ")


def test_a_batchs_language_column_sets_each_learners_mail():
    programme, _app, _cast, issuer = awarding_setup()
    rows = rows_from_csv("メールアドレス,氏名,言語\r\nhanako@example.org,花子,ja\r\ntaro@example.org,Taro,\r\n"
                         "jiro@example.org,Jiro,English\r\n".encode())
    assert [r.language for r in rows_validate(rows)] == ["ja", "", "en"]
    batch = award_batch_create(actor=issuer, programme=programme, rows=rows)
    award_batch_issue_chunk(batch.pk, 0, 3)
    subjects = {a.recipient_email: award_mail(a).subject for a in Award.objects.filter(batch=batch)}
    assert subjects["hanako@example.org"].startswith("あなたのバッジ")
    assert subjects["taro@example.org"].startswith("Your badge")
    assert subjects["jiro@example.org"].startswith("Your badge")


def test_a_batch_with_an_unknown_language_is_refused_by_line_and_issues_nothing():
    programme, _app, _cast, issuer = awarding_setup()
    rows = rows_from_csv(b"email,name,language\r\nhanako@example.org,Hanako,ja\r\ntaro@example.org,Taro,de\r\n")
    with pytest.raises(InvalidInput) as error:
        award_batch_create(actor=issuer, programme=programme, rows=rows)
    assert any("Unknown language" in m for m in error.value.field_errors["line 3.language"])
    assert Award.objects.count() == 0
    from badges.models import AwardBatch
    assert AwardBatch.objects.count() == 0
