"""The mail telling a pathway's organisation that a component credential no longer holds
(pathways.completion.completion_recheck) goes in each reader's language
(institutions.staff.staff_mail_groups): one outbox row per language, the problem itself said in that
language too; told once per problem in each."""

from __future__ import annotations

import pytest
from django.utils import translation

from badges.awards import award_revoke
from badges.status import status_list_publish
from endorsement.models import Notification
from institutions.models import Role, StaffMember
from pathways.completion import completions_recheck
from tests.factories import staff
from tests.pathways.test_completion_issue import completed  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db


def test_the_component_mail_goes_in_english_and_in_japanese(completed):  # noqa: F811
    setup, completion, (award_a, _b, _e) = completed
    organisation = setup.cast_a.organisation
    japanese = staff(organisation, Role.EDITOR, email="editor-ja@example.org")
    StaffMember.objects.filter(user=japanese).update(language="ja")
    award_revoke(actor=setup.issuer_a, award=award_a, reason="Assessment misconduct")
    status_list_publish(award_a.status.status_list_id)
    with translation.override("en"):
        assert completions_recheck() == 1
    rows = Notification.objects.filter(key__startswith=f"pathway-component-failed:{completion.public_id}")
    in_english, in_japanese = rows.order_by("pk")
    assert in_japanese.key == in_english.key + ":ja"
    assert in_japanese.recipients == [japanese.email]
    assert organisation.contact_email in in_english.recipients and japanese.email not in in_english.recipients
    assert "no longer holds" in in_english.subject and "Its issuer has revoked the credential" in in_english.body
    assert in_japanese.subject.startswith("パスウェイ・クレデンシャルの構成要素が有効でなくなりました：")
    assert "発行者がこのクレデンシャルを取り消しています：" in in_japanese.body
    assert "revoked" not in in_japanese.body and "no longer holds" not in in_japanese.body
    with translation.override("en"):
        completions_recheck()
    assert rows.count() == 2  # told once
