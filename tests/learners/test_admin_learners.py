"""The body's admin lists the learners' chosen mail languages (badges.RecipientLanguage) and their
consents to wallet applications (learners.WalletAccess): the body's reviewers and managers see and
search them, in English and Japanese; nobody changes, adds or deletes them there (each is the
learner's own choice); anyone else is kept out."""

from __future__ import annotations

import pytest
from django.test import Client
from oauth2_provider.models import Application

from badges.models import RecipientLanguage
from learners import wallets
from learners.models import LearnerAccount, LearnerEmail, WalletAccess
from tests.factories import PASSWORD, OrganisationFactory, login_request, manager, reviewer, staff

pytestmark = pytest.mark.django_db
LANGUAGES = "/admin/badges/recipientlanguage/"
ACCESS = "/admin/learners/walletaccess/"


def login(user) -> Client:
    client = Client()
    assert client.login(request=login_request(), username=user.username, password=PASSWORD)
    return client


def consent(email: str, app_name: str, scopes: list[str]) -> WalletAccess:
    account = LearnerAccount.objects.create()
    LearnerEmail.objects.create(account=account, email=email)
    application = Application.objects.create(
        name=app_name, client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE, redirect_uris="https://wallet.example/cb")
    return wallets.access_granted(account, application, scopes)


@pytest.fixture
def rows():
    RecipientLanguage.objects.create(email="hanako@example.org", language="ja")
    RecipientLanguage.objects.create(email="mary@example.org", language="en")
    consent("hanako@example.org", "Pocket Wallet", ["https://purl.imsglobal.org/spec/ob/v3p0/scope/credential.readonly"])
    consent("taro@example.org", "Campus Wallet", ["https://purl.imsglobal.org/spec/ob/v3p0/scope/profile.readonly"])


@pytest.mark.parametrize("who", [manager, reviewer])
def test_the_body_s_staff_list_and_search_the_languages(rows, who):
    client = login(who())
    listing = client.get(LANGUAGES).content.decode()
    assert "hanako@example.org" in listing and "mary@example.org" in listing
    found = client.get(LANGUAGES, {"q": "hanako"}).content.decode()
    assert "hanako@example.org" in found and "mary@example.org" not in found
    only_en = client.get(LANGUAGES, {"language__exact": "en"}).content.decode()
    assert "mary@example.org" in only_en and "hanako@example.org" not in only_en


@pytest.mark.parametrize("who", [manager, reviewer])
def test_the_body_s_staff_list_and_search_the_wallet_access(rows, who):
    client = login(who())
    listing = client.get(ACCESS).content.decode()
    assert "Pocket Wallet" in listing and "Campus Wallet" in listing and "taro@example.org" in listing
    by_email = client.get(ACCESS, {"q": "hanako@"}).content.decode()
    assert "Pocket Wallet" in by_email and "Campus Wallet" not in by_email
    by_app = client.get(ACCESS, {"q": "Campus"}).content.decode()
    assert "taro@example.org" in by_app and "hanako@example.org" not in by_app
    access = WalletAccess.objects.get(application__name="Pocket Wallet")
    page = client.get(f"{ACCESS}{access.pk}/change/")
    html = page.content.decode()
    assert page.status_code == 200 and access.application.client_id in html and "credential.readonly" in html
    assert 'name="_save"' not in html  # nothing to save: read-only


def test_nothing_is_changed_added_or_deleted_in_the_admin(rows):
    client = login(manager())
    choice = RecipientLanguage.objects.get(email="hanako@example.org")
    access = WalletAccess.objects.get(application__name="Pocket Wallet")
    assert 'name="_save"' not in client.get(f"{LANGUAGES}{choice.pk}/change/").content.decode()
    assert client.post(f"{LANGUAGES}{choice.pk}/change/", {"email": "x@example.org", "language": "en"}
                       ).status_code == 403
    assert client.get(f"{LANGUAGES}add/").status_code == 403
    assert client.post(f"{LANGUAGES}{choice.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.post(f"{ACCESS}{access.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.post(ACCESS, {"action": "delete_selected", "_selected_action": [access.pk], "post": "yes"}
                       ).status_code in (200, 302)
    choice.refresh_from_db()
    assert choice.email == "hanako@example.org" and choice.language == "ja"
    assert RecipientLanguage.objects.count() == 2 and WalletAccess.objects.count() == 2


def test_member_staff_and_anonymous_visitors_are_kept_out(rows):
    member = login(staff(OrganisationFactory(), "owner"))
    for url in (LANGUAGES, ACCESS):
        assert member.get(url).status_code == 302  # to the admin's login: no staff access
        assert Client().get(url).status_code == 302


def test_the_lists_in_japanese(rows):
    client = login(manager())
    languages = client.get(LANGUAGES, HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    access = client.get(ACCESS, HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "受領者の言語" in languages and "ウォレットのアクセス" in access
    assert "学修者のメールアドレス" in access and "ウォレットアプリ" in access
