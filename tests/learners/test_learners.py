"""The learner's side (learners, badges.claims): claiming a badge from its mail, signing in with a
mailed link, the account gathering every badge of its verified addresses across organisations,
a second address, hiding a badge's page, downloading all as a zip, deleting the account; learners
kept out of the portal and the admin; link requests throttled."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from badges.awards import award_issue
from badges.models import Award, StatusList
from badges.status import status_list_publish
from badges.verification import credential_verify
from learners.models import LearnerAccount, LearnerEmail, LearnerLink
from learners.session import SESSION_KEY
from tests.factories import awarding_setup

pytestmark = pytest.mark.django_db

CLAIM = re.compile(r"https?://[^\s]+/learner/claim/[^\s/]+/")
SIGN_IN = re.compile(r"https?://[^\s]+/learner/sign-in/[^\s/]+/")
ADDRESS = re.compile(r"https?://[^\s]+/learner/addresses/[^\s/]+/")


@pytest.fixture(autouse=True)
def fresh_throttle():
    cache.clear()
    yield
    cache.clear()


def path_of(url: str) -> str:
    return url.removeprefix(settings.SITE_URL)


def issue(email: str = "hanako@example.org", capture=None, **fields):
    programme, _app, _cast, issuer = awarding_setup(**fields)
    if capture is None:
        return award_issue(actor=issuer, programme=programme, recipient_email=email, recipient_name="Hanako Yamada")
    with capture(execute=True):
        return award_issue(actor=issuer, programme=programme, recipient_email=email, recipient_name="Hanako Yamada")


def claim_link(award: Award) -> str:
    for message in mail.outbox:
        if str(award.public_id) in message.body:
            return path_of(CLAIM.search(message.body).group(0))
    raise AssertionError("no mail for this award")


def signed_in_client(django_capture_on_commit_callbacks, email: str = "hanako@example.org"):
    award = issue(email, django_capture_on_commit_callbacks)
    client = Client()
    response = client.post(claim_link(award))
    assert response.status_code == 302 and response["Location"] == "/learner/"
    return client, award


# --- claiming -----------------------------------------------------------------------------------------
def test_the_badge_mail_carries_a_claim_link_whose_token_is_kept_only_as_a_digest(
        django_capture_on_commit_callbacks):
    award = issue(capture=django_capture_on_commit_callbacks)
    link = claim_link(award)
    token = link.rstrip("/").rsplit("/", 1)[1]
    award.refresh_from_db()
    assert token not in award.claim_token_sha256 and len(award.claim_token_sha256) == 64
    assert award.claim_expires_at - timezone.now() > timedelta(days=settings.CLAIM_LINK_DAYS - 1)


def test_opening_the_claim_link_changes_nothing_until_the_learner_confirms(django_capture_on_commit_callbacks):
    award = issue(capture=django_capture_on_commit_callbacks)
    response = Client().get(claim_link(award))
    assert response.status_code == 200
    assert "Claim the badge and open my account" in response.content.decode()
    award.refresh_from_db()
    assert award.claimed_at is None and LearnerAccount.objects.count() == 0


def test_claiming_opens_an_account_for_the_address_and_the_link_works_once(django_capture_on_commit_callbacks):
    client, award = signed_in_client(django_capture_on_commit_callbacks)
    account = LearnerAccount.objects.get()
    assert list(account.emails.values_list("email", flat=True)) == ["hanako@example.org"]
    assert client.session[SESSION_KEY] == str(account.public_id)
    page = client.get("/learner/").content.decode()
    assert award.programme.name_en in page
    again = Client().post(claim_link(award))
    assert again.status_code == 409
    assert "already been used" in again.content.decode()
    assert LearnerAccount.objects.count() == 1


def test_an_expired_claim_link_is_refused_and_changes_nothing(django_capture_on_commit_callbacks):
    award = issue(capture=django_capture_on_commit_callbacks)
    link = claim_link(award)
    with time_machine.travel(timezone.now() + timedelta(days=settings.CLAIM_LINK_DAYS + 1)):
        response = Client().post(link)
    assert response.status_code == 409 and "expired" in response.content.decode()
    award.refresh_from_db()
    assert award.claimed_at is None and LearnerAccount.objects.count() == 0


def test_a_made_up_claim_link_is_404_and_changes_nothing():
    issue()
    response = Client().post("/learner/claim/not-a-token/")
    assert response.status_code == 404 and "not valid" in response.content.decode()
    assert LearnerAccount.objects.count() == 0 and not Award.objects.filter(claimed_at__isnull=False).exists()


# --- the account gathers badges across organisations --------------------------------------------------
def test_the_account_gathers_every_badge_sent_to_its_addresses_across_organisations(
        django_capture_on_commit_callbacks):
    client, first = signed_in_client(django_capture_on_commit_callbacks)
    second = issue("Hanako@Example.org")  # another organisation, the address in other case
    stranger = issue("taro@example.org")
    page = client.get("/learner/").content.decode()
    assert f"/badges/{first.public_id}" in page and f"/badges/{second.public_id}" in page
    assert first.organisation.name in page and second.organisation.name in page
    assert f"/badges/{stranger.public_id}" not in page


def test_the_account_page_is_in_japanese_too(django_capture_on_commit_callbacks):
    client, award = signed_in_client(django_capture_on_commit_callbacks)
    client.cookies["django_language"] = "ja"
    page = client.get("/learner/").content.decode()
    assert award.programme.name_ja in page and "マイバッジ" in page


def test_a_second_address_is_added_only_once_its_link_is_opened(django_capture_on_commit_callbacks):
    client, _award = signed_in_client(django_capture_on_commit_callbacks)
    other = issue("hanako.work@example.org")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/learner/addresses/", {"email": "Hanako.Work@example.org"})
    assert response.status_code == 302
    assert f"/badges/{other.public_id}" not in client.get("/learner/").content.decode()
    assert mail.outbox[0].to == ["hanako.work@example.org"]
    link = path_of(ADDRESS.search(mail.outbox[0].body).group(0))
    assert Client().get(link).status_code == 200  # the confirm page changes nothing
    assert LearnerEmail.objects.count() == 1
    assert Client().post(link).status_code == 302
    assert sorted(LearnerEmail.objects.values_list("email", flat=True)) == [
        "hanako.work@example.org", "hanako@example.org"]
    assert f"/badges/{other.public_id}" in client.get("/learner/").content.decode()
    assert Client().post(link).status_code == 409  # once


def test_an_address_of_another_account_is_refused_and_changes_nothing(django_capture_on_commit_callbacks):
    client, _award = signed_in_client(django_capture_on_commit_callbacks)
    signed_in_client(django_capture_on_commit_callbacks, "taro@example.org")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/learner/addresses/", {"email": "taro@example.org"})
    link = path_of(ADDRESS.search(mail.outbox[0].body).group(0))
    response = Client().post(link)
    assert response.status_code == 409 and "another learner account" in response.content.decode()
    assert LearnerEmail.objects.get(email="taro@example.org").account.emails.count() == 1


def test_a_malformed_address_is_refused_with_its_field_message(django_capture_on_commit_callbacks):
    client, _award = signed_in_client(django_capture_on_commit_callbacks)
    response = client.post("/learner/addresses/", {"email": "not an address"})
    assert response.status_code == 400 and "Enter a valid e-mail address." in response.content.decode()
    assert LearnerLink.objects.count() == 0


# --- signing in -----------------------------------------------------------------------------------------
def test_sign_in_by_mailed_link_for_an_address_with_badges(django_capture_on_commit_callbacks):
    award = issue()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post("/learner/sign-in/", {"email": "hanako@example.org"})
    assert response.status_code == 200 and "Check your mail" in response.content.decode()
    link = path_of(SIGN_IN.search(mail.outbox[0].body).group(0))
    client = Client()
    assert client.get(link).status_code == 200 and LearnerAccount.objects.count() == 0
    assert client.post(link)["Location"] == "/learner/"
    assert f"/badges/{award.public_id}" in client.get("/learner/").content.decode()
    assert Client().post(link).status_code == 409


def test_an_address_without_badges_gets_the_same_answer_and_no_mail(django_capture_on_commit_callbacks):
    issue()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post("/learner/sign-in/", {"email": "nobody@example.org"})
    assert response.status_code == 200 and "Check your mail" in response.content.decode()
    assert mail.outbox == [] and LearnerLink.objects.count() == 0


def test_an_expired_sign_in_link_is_refused(django_capture_on_commit_callbacks):
    issue()
    with django_capture_on_commit_callbacks(execute=True):
        Client().post("/learner/sign-in/", {"email": "hanako@example.org"})
    link = path_of(SIGN_IN.search(mail.outbox[-1].body).group(0))
    with time_machine.travel(timezone.now() + timedelta(minutes=settings.LEARNER_LINK_MINUTES + 1)):
        response = Client().post(link)
    assert response.status_code == 409 and "expired" in response.content.decode()
    assert LearnerAccount.objects.count() == 0


def test_sign_in_link_requests_are_throttled_per_address(django_capture_on_commit_callbacks):
    issue()
    mail.outbox.clear()
    for _ in range(settings.LEARNER_LINK_LIMIT):
        with django_capture_on_commit_callbacks(execute=True):
            assert Client().post("/learner/sign-in/", {"email": "hanako@example.org"}).status_code == 200
    sent = len(mail.outbox)
    response = Client().post("/learner/sign-in/", {"email": "hanako@example.org"}, REMOTE_ADDR="10.0.0.9")
    assert response.status_code == 429 and "Too many links" in response.content.decode()
    assert len(mail.outbox) == sent == settings.LEARNER_LINK_LIMIT


def test_sign_in_link_requests_are_throttled_per_client():
    for number in range(settings.LEARNER_LINK_LIMIT):
        Client().post("/learner/sign-in/", {"email": f"n{number}@example.org"})
    response = Client().post("/learner/sign-in/", {"email": "other@example.org"})
    assert response.status_code == 429


# --- hiding, downloading, deleting ------------------------------------------------------------------------
def test_a_hidden_badge_answers_404_everywhere_public_yet_its_credential_verifies(
        django_capture_on_commit_callbacks):
    client, award = signed_in_client(django_capture_on_commit_callbacks)
    assert client.post(f"/learner/badges/{award.public_id}/visibility/", {"hidden": "yes"}).status_code == 302
    award.refresh_from_db()
    assert award.hidden_at is not None
    for suffix in ("", ".json", ".png", ".svg", "/certificate-en.pdf"):
        assert Client().get(f"/badges/{award.public_id}{suffix}").status_code == 404, suffix
    for status_list in StatusList.objects.all():  # the endorsement's list too, as the on-commit tasks do
        status_list_publish(status_list.pk)
    report = credential_verify(award.credential)
    assert report.verdict == "verified", [(c.id, c.message) for c in report.checks if not c.passed]
    assert "Its page is private." in client.get("/learner/").content.decode()
    client.post(f"/learner/badges/{award.public_id}/visibility/", {"hidden": "no"})
    assert Client().get(f"/badges/{award.public_id}").status_code == 200


def test_a_learner_cannot_hide_someone_elses_badge(django_capture_on_commit_callbacks):
    client, _award = signed_in_client(django_capture_on_commit_callbacks)
    other = issue("taro@example.org")
    response = client.post(f"/learner/badges/{other.public_id}/visibility/", {"hidden": "yes"})
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.hidden_at is None


def test_download_all_gives_each_badge_as_json_png_and_svg(django_capture_on_commit_callbacks):
    client, first = signed_in_client(django_capture_on_commit_callbacks)
    second = issue("hanako@example.org")
    response = client.get("/learner/badges.zip")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = set(archive.namelist())
    for award in (first, second):
        stem = f"badge-{award.public_id}"
        assert {f"{stem}.json", f"{stem}.png", f"{stem}.svg"} <= names
        assert json.loads(archive.read(f"{stem}.json")) == award.credential
        assert archive.read(f"{stem}.png").startswith(b"\x89PNG")
    assert len(names) == 6


def test_deleting_the_account_removes_it_and_keeps_the_badges(django_capture_on_commit_callbacks):
    client, award = signed_in_client(django_capture_on_commit_callbacks)
    assert client.get("/learner/delete/").status_code == 200
    assert LearnerAccount.objects.count() == 1  # the page only asks
    response = client.post("/learner/delete/", {"confirm": "yes"})
    assert response.status_code == 302
    assert LearnerAccount.objects.count() == 0 and LearnerEmail.objects.count() == 0
    assert Award.objects.filter(pk=award.pk).exists()
    assert client.get("/learner/")["Location"] == "/learner/sign-in/"


# --- learners are not staff ----------------------------------------------------------------------------------
def test_a_signed_in_learner_is_kept_out_of_the_portal_and_the_admin(django_capture_on_commit_callbacks):
    client, _award = signed_in_client(django_capture_on_commit_callbacks)
    portal = client.get("/portal/")
    assert portal.status_code == 302 and portal["Location"].startswith("/accounts/login/")
    admin = client.get("/admin/")
    assert admin.status_code == 302 and admin["Location"].startswith("/admin/login/")
    assert client.get("/api/v1/programmes").status_code in (401, 403)


def test_without_signing_in_the_account_pages_send_to_the_sign_in_page():
    for path in ("/learner/", "/learner/badges.zip", "/learner/delete/"):
        assert Client().get(path)["Location"] == "/learner/sign-in/"


def test_the_issuers_award_page_says_when_the_learner_claimed_and_hid_it(django_capture_on_commit_callbacks):
    from tests.factories import PASSWORD, login_request

    client, award = signed_in_client(django_capture_on_commit_callbacks)
    client.post(f"/learner/badges/{award.public_id}/visibility/", {"hidden": "yes"})
    staff = Client()
    assert staff.login(request=login_request(), username=award.issued_by.username, password=PASSWORD)
    page = staff.get(f"/portal/awards/{award.public_id}/").content.decode()
    assert "Claimed by the learner" in page and "Made private by the learner" in page
