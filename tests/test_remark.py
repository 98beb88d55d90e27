"""A remark after a label takes the active language's parentheses (config.phrases `remark`)."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.utils.translation import override

from config.phrases import japanese_parentheses, list_marks, remark, remark_in

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


LINKED = Template('{% load i18n phrases %}<p>Offered by X{% remarked %}<a href="/o/">about &amp; more</a>'
                  '{% endremarked %}</p>')
SENTENCES = Template("{% load phrases %}<p>One.{% space %}Two{% dash %}three</p>")


@pytest.mark.parametrize(("language", "expected"), [
    ("ja", '<p>Offered by X（<a href="/o/">about &amp; more</a>）</p>'),
    ("en", '<p>Offered by X (<a href="/o/">about &amp; more</a>)</p>'),
])
def test_a_remark_holding_a_link_takes_the_language_s_parentheses(language, expected):
    with override(language):
        assert LINKED.render(Context()) == expected


def test_a_remark_holding_markup_escapes_what_the_template_escapes():
    template = Template("{% load phrases %}{% remarked %}{{ word }}{% endremarked %}")
    with override("ja"):
        assert template.render(Context({"word": "<b>"})) == "（&lt;b&gt;）"


def test_sentences_and_descriptions_are_joined_without_spaces_in_japanese():
    with override("ja"):
        assert SENTENCES.render(Context()) == "<p>One.Two：three</p>"
    with override("en"):
        assert SENTENCES.render(Context()) == "<p>One. Two — three</p>"


def test_names_from_other_catalogues_take_full_width_parentheses_in_japanese():
    with override("ja"):
        assert japanese_parentheses("中央クルド語 (ソラニー語)") == "中央クルド語（ソラニー語）"
        assert japanese_parentheses("ココス (キーリング) 諸島") == "ココス（キーリング）諸島"
        assert japanese_parentheses("日本") == "日本"
    with override("en"):
        assert japanese_parentheses("Congo (DRC)") == "Congo (DRC)"


def test_the_programme_form_lists_languages_and_countries_in_japanese_parentheses():
    from badges.forms import country_choices, language_choices

    with override("ja"):
        names = [name for _code, name in [*language_choices(), *country_choices()]]
    assert "ゲール語（スコットランド）" in names and not [n for n in names if "(" in n or ")" in n]


PERIOD = Template('{% load phrases %}<td>{% period a b %}</td>')


def test_a_period_is_a_wave_dash_in_japanese_and_a_spaced_en_dash_in_english():
    with override("ja"):
        assert PERIOD.render(Context({"a": "2026年11月1日", "b": "<b>"})) == "<td>2026年11月1日〜&lt;b&gt;</td>"
    with override("en"):
        assert PERIOD.render(Context({"a": "1 Nov 2026", "b": "1 Dec 2026"})) == "<td>1 Nov 2026 – 1 Dec 2026</td>"


def test_a_remark_in_content_of_the_other_language_keeps_its_languages_parentheses():
    with override("ja"):
        assert remark_in("欧州資格枠組み") == "（欧州資格枠組み）"
        assert remark_in("EQF", ' lang="en"') == " (EQF)"
    with override("en"):
        assert remark_in("EQF") == " (EQF)" and remark_in("欧州資格枠組み", ' lang="ja"') == " (欧州資格枠組み)"


def test_markdown_items_take_the_japanese_list_mark_on_a_japanese_page_only():
    text = "次のルール。\n\n- すべて\n- 順に"
    with override("ja"):
        assert list_marks(text) == "次のルール。\n\n・すべて\n・順に"
        assert list_marks("- Pass the quiz", ' lang="en"') == "- Pass the quiz"
    with override("en"):
        assert list_marks(text) == text
