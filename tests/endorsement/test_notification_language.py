"""Mails to member staff and to the body's staff (endorsement.notifications) go in each reader's
language: their own choice on the portal's account page (/portal/account/), else the language of
their last sign-in, else the site's. An event whose readers read two languages sends one mail per
language, once each; an address that is nobody's login (an organisation's contact address) gets the
site's language. A bad choice is a 400 on the field and changes nothing."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from endorsement import services
from endorsement.models import ApplicationState as S
from endorsement.models import AuditEvent, Notification
from endorsement.notifications import notification_send
from institutions.models import Role, StaffMember
from tests.factories import PASSWORD, OrganisationFactory, UserFactory, application_in, manager, staff

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_counters():
    cache.clear()
    yield
    cache.clear()


def choose(user, language: str) -> None:
    member = StaffMember.objects.get(user=user)
    member.language = language
    member.save(update_fields=["language"])


def test_managers_each_get_the_submission_in_their_language(django_capture_on_commit_callbacks):
    application, cast = application_in(S.DRAFT)
    japanese = manager()
    choose(japanese, "ja")
    with django_capture_on_commit_callbacks(execute=True):
        services.application_submit(actor=cast.editor, application=application)
    assert len(mail.outbox) == 2
    english, in_japanese = mail.outbox  # the site's language first
    assert english.to == [cast.manager.email] and in_japanese.to == [japanese.email]
    assert english.subject.endswith("Application submitted") and "State: Draft → Submitted." in english.body
    assert in_japanese.subject.endswith("申請を提出")
    assert f"申請#{application.pk}" in in_japanese.subject
    assert "状態：下書き → 提出済み。" in in_japanese.body and "State:" not in in_japanese.body
    event = AuditEvent.objects.get(action="application.submitted")
    keys = sorted(Notification.objects.filter(key__startswith=f"audit:{event.seq}").values_list("key", flat=True))
    assert keys == [f"audit:{event.seq}", f"audit:{event.seq}:ja"]
    # The task may run again: nothing goes out twice.
    assert notification_send(event.pk) is False and len(mail.outbox) == 2


def test_the_organisation_s_editor_reads_japanese_and_its_contact_address_the_site_s_language(
        django_capture_on_commit_callbacks):
    application, cast = application_in(S.IN_REVIEW)
    choose(cast.editor, "ja")
    with django_capture_on_commit_callbacks(execute=True):
        services.application_request_changes(actor=cast.manager, application=application,
                                              message="Give the assessment weights.")
    by_reader = {tuple(m.to): m for m in mail.outbox}
    assert set(by_reader) == {(cast.organisation.contact_email,), (cast.editor.email,)}
    assert "修正を依頼" in by_reader[(cast.editor.email,)].subject
    assert "Give the assessment weights." in by_reader[(cast.editor.email,)].body
    assert by_reader[(cast.organisation.contact_email,)].subject.endswith("Changes requested")


def test_without_a_choice_the_language_of_the_last_sign_in_is_used(client, django_capture_on_commit_callbacks):
    application, cast = application_in(S.DRAFT)
    answer = client.post(reverse("login"), {"username": cast.manager.username, "password": PASSWORD},
                         REMOTE_ADDR="10.0.0.7", HTTP_ACCEPT_LANGUAGE="ja")
    assert answer.status_code == 302
    member = StaffMember.objects.get(user=cast.manager)
    assert member.sign_in_language == "ja" and member.language == "" and member.mail_language == "ja"
    with django_capture_on_commit_callbacks(execute=True):
        services.application_submit(actor=cast.editor, application=application)
    assert [m.to for m in mail.outbox] == [[cast.manager.email]] and "申請を提出" in mail.outbox[0].subject
    # The choice on the account page wins over the sign-in's language.
    choose(cast.manager, "en")
    assert StaffMember.objects.get(user=cast.manager).mail_language == "en"


def test_a_staff_member_chooses_on_the_account_page_and_a_bad_choice_is_refused(client):
    owner = staff(OrganisationFactory(), Role.OWNER)
    client.force_login(owner)
    page = client.get("/portal/account/")
    assert page.status_code == 200 and "Language of your mails" in page.content.decode()
    saved = client.post("/portal/account/", {"language": "ja"})
    assert saved.status_code == 302 and StaffMember.objects.get(user=owner).language == "ja"
    refused = client.post("/portal/account/", {"language": "fr"})
    assert refused.status_code == 400 and refused.context["form"].errors["language"]
    assert StaffMember.objects.get(user=owner).language == "ja"
    assert client.post("/portal/account/", {"language": ""}).status_code == 302
    assert StaffMember.objects.get(user=owner).language == ""
    japanese = client.get("/portal/account/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "メールの言語" in japanese


def test_the_body_s_staff_have_the_page_too_and_other_logins_do_not():
    body_manager = manager()
    client = Client()
    client.force_login(body_manager)
    assert client.post("/portal/account/", {"language": "ja"}).status_code == 302
    assert StaffMember.objects.get(user=body_manager).language == "ja"
    loose = Client()
    loose.force_login(UserFactory())
    assert loose.get("/portal/account/").status_code == 404
    assert loose.post("/portal/account/", {"language": "ja"}).status_code == 404
    assert Client().get("/portal/account/").status_code == 302  # to the login page
