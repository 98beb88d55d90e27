"""The mail about evidence links that could not be retrieved for a batch (badges.evidence.evidence_notify)
goes in each reader's language (institutions.staff.staff_mail_groups): one mail per language, the site's
first; the organisation's contact address and staff who chose nothing read the site's language. Told
once: a second run sends nothing in either language."""

from __future__ import annotations

import pytest
from django.utils import translation

from badges.evidence import evidence_notify_batch
from badges.models import AwardBatch
from institutions.models import Role, StaffMember
from tests.badges.http_stand_in import serve
from tests.badges.test_batch_evidence_mail import batch_rows, post_batch
from tests.factories import awarding_setup, staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def server():
    with serve() as stand_in:
        yield stand_in


def evidence_mails(outbox):
    return [m for m in outbox if "Evidence links" in m.subject or "エビデンスリンク" in m.subject]


def test_the_evidence_mail_of_a_batch_goes_in_english_and_in_japanese(server, mailoutbox,
                                                                      django_capture_on_commit_callbacks):
    programme, _, cast, issuer = awarding_setup()
    japanese = staff(cast.organisation, Role.EDITOR, email="editor-ja@example.org")
    StaffMember.objects.filter(user=japanese).update(language="ja")
    cast.organisation.name_ja = "日本語の名前の組織"
    cast.organisation.save(update_fields=["name_ja"])
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        response = post_batch(issuer, programme, batch_rows(server, 2))
    assert response.status_code == 201
    mails = evidence_mails(mailoutbox)
    assert len(mails) == 2, [m.subject for m in mails]
    in_english, in_japanese = mails
    assert japanese.email not in in_english.to and cast.organisation.contact_email in in_english.to
    assert in_japanese.to == [japanese.email]
    assert in_english.subject.endswith("Evidence links of 2 new badge(s) could not be retrieved")
    assert "could not be retrieved when the badges were issued" in in_english.body
    assert in_japanese.subject.endswith("新しく発行したバッジ2件のエビデンスリンクを取得できませんでした")
    assert "日本語の名前の組織が発行した以下のバッジのエビデンスリンクは、発行時に取得できませんでした。" in (
        in_japanese.body)
    assert "（発行ID：" in in_japanese.body and "バッジの発行時（" in in_japanese.body
    assert "(award " not in in_japanese.body and "could not be retrieved" not in in_japanese.body
    assert "(award " in in_english.body
    assert evidence_notify_batch(AwardBatch.objects.get().pk) == 0 and evidence_mails(mailoutbox) == mails
