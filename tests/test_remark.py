"""A remark after a label takes the active language's parentheses (config.phrases `remark`)."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.utils.translation import override

from config.phrases import remark

FIELD = Template('{% load i18n phrases %}<label>Name{% trans "required" as r %}{{ r|remark }}</label>')


def test_a_japanese_remark_has_full_width_parentheses_and_no_space():
    with override("ja"):
        assert remark("必須") == "（必須）"
        assert FIELD.render(Context()) == "<label>Name（必須）</label>"


def test_an_english_remark_has_a_space_and_ascii_parentheses():
    with override("en"):
        assert remark("required") == " (required)"
        assert FIELD.render(Context()) == "<label>Name (required)</label>"


@pytest.mark.django_db
def test_the_login_page_ends_its_membership_sentence_in_the_visitor_s_language(client):
    ja = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    en = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "会員資格を申請</a>。</p>" in ja and "</a>.</p>" not in ja
    assert "Apply for membership</a>.</p>" in en
    assert "（必須）" in ja and "(必須)" not in ja
    assert " (required)" in en
